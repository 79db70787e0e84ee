"""HER2 ISH and growth patterns against values computed by hand and published examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.pathology import (
    asco_cap_group,
    cohen_kappa,
    fleiss_kappa,
    her2_ish,
    iaslc_grade,
    patterns,
    read_detections,
)

ISH_COLUMNS = "her2=HER2 signals,cep17=CEP17 signals"


def test_her2_ish_by_hand(data: Path) -> None:
    cells = read_detections(data / "ish.tsv", columns=ISH_COLUMNS)
    t = her2_ish(cells).table.set_index("region")
    # A: 10 cells 2/2 -> ratio 1, group 5; B: 6 x 3/2 and 4 x 10/2 -> HER2 5.8, ratio 2.9,
    # group 1, 40 % amplified (ratio 5 > 2.2); slide: HER2 3.9, ratio 1.95 -> group 5, 20 %
    assert t.loc["A", "asco_cap_group"] == 5 and t.loc["A", "percent_amplified_cells"] == 0
    assert t.loc["B", "mean_her2_copies"] == pytest.approx(5.8)
    assert t.loc["B", "her2_cep17_ratio"] == pytest.approx(2.9)
    assert t.loc["B", "asco_cap_group"] == 1 and t.loc["B", "percent_amplified_cells"] == 40
    assert t.loc["ALL", "her2_cep17_ratio"] == pytest.approx(1.95)
    assert t.loc["ALL", "asco_cap_group"] == 5
    assert t.loc["ALL", "percent_amplified_cells"] == 20 and t.loc["ALL", "heterogeneous"]
    assert not t.loc["A", "heterogeneous"]


def test_asco_cap_boundaries() -> None:
    # ASCO/CAP 2018: ratio >= 2.0 and HER2 >= 4.0 is group 1; HER2 >= 6.0 with ratio < 2 group 3
    assert asco_cap_group(2.0, 4.0) == 1
    assert asco_cap_group(1.99, 6.0) == 3
    assert asco_cap_group(1.99, 5.99) == 4
    assert asco_cap_group(2.0, 3.99) == 2


def test_her2_ish_bad_counts() -> None:
    with pytest.raises(InputError, match="line 3, column cep17"):
        her2_ish(pd.DataFrame({"her2": [2, 3], "cep17": [2, -1]}))


def test_patterns_by_hand(data: Path) -> None:
    res = patterns(data / "patterns.tsv")
    s = res.summary.set_index("observer")
    # A: acinar 40, lepidic 20, papillary 15, solid 15, micropapillary 10 -> 25 % high grade
    assert s.loc["A", "predominant_pattern"] == "acinar"
    assert s.loc["A", "high_grade_percent"] == 25 and s.loc["A", "iaslc_grade"] == 3
    p = np.array([0.4, 0.2, 0.15, 0.15, 0.1])
    assert s.loc["A", "shannon"] == pytest.approx(-(p * np.log(p)).sum())
    assert s.loc["A", "simpson"] == pytest.approx(1 - (p**2).sum())
    a = res.agreement.set_index("method")
    # main patterns agree on 3 of 5 regions; chance (Cohen) 0.2 -> 0.5; Fleiss (2 raters):
    # Pe = .3² + .2² + .3² + .1² + .1² = .24 -> (0.6 - 0.24) / 0.76
    assert a.loc["cohen", "kappa"] == pytest.approx(0.5)
    assert a.loc["fleiss", "kappa"] == pytest.approx(0.36 / 0.76)


def test_cohen_matches_scikit_learn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    a = rng.choice(["acinar", "solid", "lepidic"], 60)
    b = np.where(rng.random(60) < 0.6, a, rng.choice(["acinar", "solid", "lepidic"], 60))
    assert cohen_kappa(a, b) == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b))


def test_fleiss_published_example() -> None:
    # Fleiss (1971) data as worked in Wikipedia's "Fleiss' kappa": kappa = 0.210
    t = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(t) == pytest.approx(0.20993, abs=1e-5)


def test_iaslc_grades() -> None:
    assert iaslc_grade({"lepidic": 80, "acinar": 15, "solid": 5}) == 1
    assert iaslc_grade({"acinar": 70, "papillary": 15, "cribriform": 15}) == 2
    assert iaslc_grade({"papillary": 60, "lepidic": 20, "micropapillary": 20}) == 3
    assert iaslc_grade({"solid": 100}) == 3


def test_patterns_bad_input() -> None:
    t = pd.DataFrame({"region_id": ["r1", "r2"], "pattern": ["acinar", "solld"],
                      "area_mm2": [1.0, 1.0]})  # fmt: skip
    with pytest.raises(InputError, match=r"line 3.*did you mean 'solid'"):
        patterns(t)
    t = pd.DataFrame({"region_id": ["r1"], "pattern": ["acinar"], "area_mm2": [250000.0]})
    with pytest.raises(InputError, match="not µm²"):
        patterns(t)
