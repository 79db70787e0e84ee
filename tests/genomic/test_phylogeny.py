"""Tree search: exact counts on hand-made CCFs, the truth among the consistent trees."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ithkit.evolution import virtual_patient
from ithkit.genomic import fish_table, infer_tree, tree_to_newick


def clones_frame(ccf: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(cid, f"R{j + 1}", v) for cid, values in ccf.items() for j, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["clone_id", "sample_id", "ccf"])


def edges(frame: pd.DataFrame) -> set[tuple[str, str]]:
    part = frame[frame["parent"].notna()]
    return set(zip(part["parent"].astype(str), part["clone_id"].astype(str), strict=True))


def test_linear_chain_is_forced_by_the_sum_rule() -> None:
    # C2 + C3 = 1.3 > 1: C3 cannot be C2's sibling, so the only tree is C1 -> C2 -> C3
    result = infer_tree(clones_frame({"C1": [1.0], "C2": [0.7], "C3": [0.6]}))
    assert result.n_consistent == 1
    assert result.newick() == "((C3)C2)C1;"
    assert (result.edges["support"] == 1.0).all()


def test_branching_is_forced_by_two_samples() -> None:
    # C3 is present where C2 is absent: C3 cannot descend from C2
    result = infer_tree(clones_frame({"C1": [1, 1], "C2": [0.5, 0.0], "C3": [0.3, 0.4]}))
    assert result.n_consistent == 1
    assert edges(result.tree) == {("C1", "C2"), ("C1", "C3")}


def test_counts_every_consistent_tree() -> None:
    # one sample, three small clones under a clonal trunk: every labelled tree rooted at C1
    # with the small clones anywhere fits, except chains exceeding a parent's CCF.
    # C2=0.4, C3=0.3, C4=0.2: under C1 any; C3 under C2 (0.3 <= 0.4); C4 under C2 or C3;
    # C3 and C4 both under C2 needs 0.5 > 0.4 -> excluded.
    result = infer_tree(clones_frame({"C1": [1.0], "C2": [0.4], "C3": [0.3], "C4": [0.2]}))
    # parents of (C3, C4): C3 in {C1, C2}; C4 in {C1, C2, C3} minus (C3->C2, C4->C2)
    assert result.n_consistent == 2 * 3 - 1
    assert result.exhaustive
    assert result.shortlist["rank"].max() == 5


def test_tolerance_is_raised_when_nothing_fits() -> None:
    result = infer_tree(clones_frame({"C1": [1.0, 1.0], "C2": [0.7, 0.2], "C3": [0.5, 0.9]}),
                        tolerance=0.01)  # fmt: skip
    assert result.tolerance > 0.01
    assert result.n_consistent >= 1


def test_guided_search_above_the_exact_limit() -> None:
    ccf = {f"C{i + 1}": [max(1.0 - 0.06 * i, 0.05)] for i in range(15)}
    result = infer_tree(clones_frame(ccf), max_exact_clones=12)
    assert not result.exhaustive
    assert len(result.tree) == 15
    assert result.tree["parent"].isna().sum() == 1


@pytest.mark.parametrize("seed", range(8))
def test_true_tree_is_consistent_with_true_ccfs(seed: int) -> None:
    vp = virtual_patient(seed=seed, n_regions=6)
    result = infer_tree(vp.clone_ccf)
    true = edges(vp.clones)
    trees = [edges(part) for _, part in result.shortlist.groupby("rank")]
    assert true in trees or result.n_consistent > len(trees)
    shared = result.edges[result.edges["support"] == 1.0]
    # edges every consistent tree shares are true edges
    assert set(zip(shared["parent"], shared["clone_id"], strict=True)) <= true


def test_newick_json_and_fish_table() -> None:
    clones = clones_frame({"C1": [1, 1], "C2": [0.6, 0.1], "C3": [0.2, 0.7]})
    result = infer_tree(clones)
    doc = json.loads(result.to_json())
    assert doc["n_consistent_trees"] == result.n_consistent
    assert {n["clone_id"] for n in doc["nodes"]} == {"C1", "C2", "C3"}
    assert tree_to_newick(result.tree) == result.newick()
    fish = fish_table(result.tree, clones)
    per_sample = fish.groupby("sample_id")["fraction"].sum()
    assert per_sample.round(6).tolist() == [1.0, 1.0]  # prevalences partition the cells
