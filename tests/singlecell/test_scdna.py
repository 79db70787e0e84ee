"""Single-cell DNA mutation trees (SCITE model) against simulated truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.singlecell import mutation_tree, simulate_scdna


@pytest.mark.parametrize("seed", [3, 4])
def test_tree_and_genotypes_recovered(seed: int) -> None:
    sim = simulate_scdna(250, 8, fp=0.01, fn=0.15, missing=0.1, seed=seed)
    tree = mutation_tree(sim.observed, fp=0.01, fn=0.15, n_iter=1500, seed=0)
    parent = [-1 if p is None else int(p[1:]) for p in tree.tree["parent"]]
    assert parent == sim.parent.tolist()
    agree = (tree.genotypes.to_numpy() == sim.genotypes.to_numpy()).mean()
    assert agree > 0.94  # attachment ambiguity: cells with dropouts at leaves
    assert tree.clones["n_cells"].sum() == 250
    assert tree.clones["fraction"].sum() == pytest.approx(1.0)


def test_missing_entries_coded_3() -> None:
    sim = simulate_scdna(80, 5, seed=1)
    coded = sim.observed.fillna(3)
    a = mutation_tree(sim.observed, n_iter=300, seed=0)
    b = mutation_tree(coded, n_iter=300, seed=0)
    assert a.log_likelihood == pytest.approx(b.log_likelihood)
    assert a.tree.equals(b.tree)


@pytest.mark.parametrize(
    ("matrix", "kw", "match"),
    [
        (pd.DataFrame({"m1": [0, 2]}, index=["c1", "c2"]), {}, "not 0, 1 or missing"),
        (pd.DataFrame({"m1": ["a", "b"]}), {}, "non-numeric"),
        (pd.DataFrame({"m1": [0, 1]}), {"fn": 0.7}, "outside"),
        (pd.DataFrame(), {}, "non-empty"),
    ],
)
def test_bad_genotypes(matrix: pd.DataFrame, kw: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        mutation_tree(matrix, **kw)


def test_clones_are_nested_genotypes() -> None:
    sim = simulate_scdna(120, 6, seed=2)
    tree = mutation_tree(sim.observed, n_iter=500, seed=1)
    parent = dict(zip(tree.tree["mutation_id"], tree.tree["parent"], strict=True))
    for _, row in tree.clones.iterrows():
        muts = set(filter(None, row["mutations"].split(",")))
        for m in muts:  # every mutation's ancestors are in the clone too
            p = parent[m]
            assert p is None or p in muts
    assert np.isfinite(tree.log_likelihood)
