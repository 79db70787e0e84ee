"""End to end on virtual patients: the inferred tree matches the true one; large inputs."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from ithkit.evolution import VirtualPatient, virtual_patient
from ithkit.genomic import analyze, cluster_mutations


def _true_ancestors(vp: VirtualPatient) -> dict[str, set[str]]:
    parent = {str(c): (None if pd.isna(p) else str(p))
              for c, p in zip(vp.clones["clone_id"], vp.clones["parent"], strict=True)}  # fmt: skip
    out: dict[str, set[str]] = {}
    for clone in parent:
        chain, node = set(), parent[clone]
        while node is not None:
            chain.add(node)
            node = parent[node]
        out[clone] = chain
    return out


@pytest.mark.parametrize("seed", [4, 5, 8])
def test_inferred_tree_matches_the_truth(seed: int) -> None:
    vp = virtual_patient(seed=seed, n_regions=10, depth=500, purity=0.8)
    result = analyze(vp.variants, seed=0)
    truth = vp.mutations.set_index("mutation_id")["clone_id"].astype(str)
    inferred = result.mutations.set_index("mutation_id")["clone_id"].astype(str)
    # each inferred clone stands for the true clone most of its mutations come from
    to_true = pd.crosstab(inferred, truth.loc[inferred.index]).idxmax(axis=1).to_dict()
    pairs = [
        (str(c), to_true[str(p)], to_true[str(c)])
        for c, p in zip(result.tree.tree["clone_id"], result.tree.tree["parent"], strict=True)
        if not pd.isna(p)
    ]
    # A few truncal mutations next to copy-number events can look subclonal and form a small
    # clone of their own below the trunk (an edge C1 -> C1). PyClone-VI 0.1.6 splits the same
    # 3 mutations off on seed 4 and 4 mutations into 3 clusters on seed 8 (benchmarks/genomic).
    # Allow at most one such clone, of at most 5% of the mutations.
    self_edges = [c for c, p, q in pairs if p == q]
    assert len(self_edges) <= 1
    assert inferred.isin(self_edges).mean() <= 0.05
    edges = {(p, q) for _, p, q in pairs if p != q}
    true_edges = {
        (str(p), str(c))
        for c, p in zip(vp.clones["clone_id"], vp.clones["parent"], strict=True)
        if not pd.isna(p)
    }
    assert edges == true_edges
    # every inferred parent is a true ancestor, and the tree is well supported
    ancestors = _true_ancestors(vp)
    assert all(p in ancestors[c] for p, c in edges)
    assert result.tree.n_consistent >= 1
    assert result.tree.edges["support"].between(0, 1).all()


def test_large_input_searches_on_a_subsample() -> None:
    vp = virtual_patient(seed=3, n_regions=3, n_mutations=900, depth=300, purity=0.7)
    full = cluster_mutations(vp.variants, seed=0, n_restarts=2, subsample=300)
    truth = vp.mutations.set_index("mutation_id")["clone_id"]
    pred = full.assignments.set_index("mutation_id")["clone_id"].reindex(truth.index)
    assert pred.notna().all()  # every mutation is assigned, not only the subsample
    assert adjusted_rand_score(truth, pred) >= 0.9
    assert full.clones["n_mutations"].groupby(full.clones["clone_id"]).first().sum() == 900
