"""Evolutionary steering reproduces Nichol et al. 2015 on the published E. coli landscapes.

The fitness landscapes below are those of Mira et al. (2015) "Rational design of antibiotic
treatment plans: a treatment strategy for managing evolution and reversing resistance",
PLoS ONE 10:e0122283 (CC BY), as typed in the results.py of the code of Nichol et al. (2015)
"Exploiting evolutionary non-commutativity to prevent the emergence of bacterial antibiotic
resistance", Nat Commun 6:10097, https://github.com/TheoryDivision/EvolutionarySteering,
which is distributed under this licence:

    The MIT License (MIT)

    Copyright (c) 2015 Daniel Nichol

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.functional import absorption_matrix, read_landscapes, sswm_matrix, steer

MIRA = {
    "AMP": [1.851, 2.082, 1.948, 2.434, 2.024, 2.198, 2.033, 0.034, 1.57, 2.165, 0.051, 0.083,
            2.186, 2.322, 0.088, 2.821],
    "AM": [1.778, 1.782, 2.042, 1.752, 1.448, 1.544, 1.184, 0.063, 1.72, 2.008, 1.799, 2.005,
           1.557, 2.247, 1.768, 2.047],
    "CEC": [2.258, 1.996, 2.151, 2.648, 2.396, 1.846, 2.23, 0.214, 0.234, 0.172, 2.242, 0.093,
            2.15, 0.095, 2.64, 0.516],
    "CTX": [0.16, 0.085, 1.936, 2.348, 1.653, 0.138, 2.295, 2.269, 0.185, 0.14, 1.969, 0.203,
            0.225, 0.092, 0.119, 2.412],
    "ZOX": [0.993, 0.805, 2.069, 2.683, 1.698, 2.01, 2.138, 2.688, 1.106, 1.171, 1.894, 0.681,
            1.116, 1.105, 1.103, 2.591],
    "CXM": [1.748, 1.7, 2.07, 1.938, 2.94, 2.173, 2.918, 3.272, 0.423, 1.578, 1.911, 2.754,
            2.024, 1.678, 1.591, 2.923],
    "CRO": [1.092, 0.287, 2.554, 3.042, 2.88, 0.656, 2.732, 0.436, 0.83, 0.54, 3.173, 1.153,
            1.407, 0.751, 2.74, 3.227],
    "AMC": [1.435, 1.573, 1.061, 1.457, 1.672, 1.625, 0.073, 0.068, 1.417, 1.351, 1.538, 1.59,
            1.377, 1.914, 1.307, 1.728],
    "CAZ": [2.134, 2.656, 2.618, 2.688, 2.042, 2.756, 2.924, 0.251, 0.288, 0.576, 1.604, 1.378,
            2.63, 2.677, 2.893, 2.563],
    "CTT": [2.125, 1.922, 2.804, 0.588, 3.291, 2.888, 3.082, 3.508, 3.238, 2.966, 2.883, 0.89,
            0.546, 3.181, 3.193, 2.543],
    "SAM": [1.879, 2.533, 0.133, 0.094, 2.456, 2.437, 0.083, 0.094, 2.198, 2.57, 2.308, 2.886,
            2.504, 3.002, 2.528, 3.453],
    "CPR": [1.743, 1.662, 1.763, 1.785, 2.018, 2.05, 2.042, 0.218, 1.553, 0.256, 0.165, 0.221,
            0.223, 0.239, 1.811, 0.288],
    "CPD": [0.595, 0.245, 2.604, 3.043, 1.761, 1.471, 2.91, 3.096, 0.432, 0.388, 2.651, 1.103,
            0.638, 0.986, 0.963, 3.268],
    "TZP": [2.679, 2.906, 2.427, 0.141, 3.038, 3.309, 2.528, 0.143, 2.709, 2.5, 0.172, 0.093,
            2.453, 2.739, 0.609, 0.171],
    "FEP": [2.59, 2.572, 2.393, 2.832, 2.44, 2.808, 2.652, 0.611, 2.067, 2.446, 2.957, 2.633,
            2.735, 2.863, 2.796, 3.203],
}  # fmt: skip


def test_probability_of_the_highest_peak_as_published() -> None:
    # Nichol et al. 2015, Table 1 (uniform start, r = 0): AMP 0.6227, CTX 0.1667, SAM 1.0
    res = steer(MIRA, "AMP", max_steps=0)
    p = res.p_highest.set_index("drug")["p_highest"]
    assert p["AMP"] == pytest.approx(0.6227, abs=5e-5)
    assert p["CTX"] == pytest.approx(0.1667, abs=5e-5)
    assert p["SAM"] == pytest.approx(1.0)


def test_steering_never_does_worse_with_more_drugs() -> None:
    res = steer(MIRA, "AMP", max_steps=2)
    p = res.sequences["p_highest"].to_numpy()
    assert p[0] == pytest.approx(0.6227, abs=5e-5)
    assert np.all(np.diff(p) <= 1e-12) and p[1] < p[0]
    ends = res.endpoint[res.endpoint["n_steps"] == 2]["probability"]
    assert ends.sum() == pytest.approx(1.0)


def test_chain_is_absorbing_at_peaks() -> None:
    p = sswm_matrix(MIRA["CTX"])
    assert np.allclose(p.sum(axis=1), 1.0)
    limit = absorption_matrix(p)
    assert np.allclose(limit @ p, limit)  # nothing moves any more


def test_landscape_file_and_cli(tmp_path: Path) -> None:
    rows = [{"drug": d, "genotype": format(g, "04b"), "fitness": f}
            for d in ("AMP", "CTX") for g, f in enumerate(MIRA[d])]  # fmt: skip
    path = tmp_path / "land.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    assert read_landscapes(path)["CTX"] == MIRA["CTX"]
    with pytest.raises(SystemExit) as info:
        main(["functional", "steer", str(path), "--target", "AMP", "--out", str(tmp_path / "o")])
    assert info.value.code in (0, None)
    assert (tmp_path / "o" / "steering.tsv").exists()
    path.write_text("drug\tgenotype\tfitness\nAMP\t01x1\t1.0\n")
    with pytest.raises(InputError, match="line 2, column genotype"):
        read_landscapes(path)
