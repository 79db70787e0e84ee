"""Synthetic tissue patterns give the expected sign and size of each statistic."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from sklearn.metrics import adjusted_rand_score

from ithkit.spatial import (
    co_occurrence,
    heterogeneity,
    local_diversity,
    nhood_enrichment,
    niches,
    ripley,
    simulate_tissue,
    spatial_neighbors,
)

_CACHE: dict[str, Any] = {}


def _result(pattern: str) -> Any:
    if pattern not in _CACHE:
        a = simulate_tissue(pattern, 2500, seed=0)  # type: ignore[arg-type]
        _CACHE[pattern] = heterogeneity(a, "cell_type", n_neighbors=10, n_perms=100, seed=0)
    return _CACHE[pattern]


def test_random_has_no_structure() -> None:
    r = _result("random")
    assert abs(r.metric("mean_self_enrichment_z")) < 2.5
    for label in ("tumour", "immune", "stroma"):
        assert abs(r.metric(f"morans_i:{label}")) < 0.05
    assert abs(r.metric("ripley_L_minus_r:all")) < 0.1 * r.ripley["radius"].median()
    # local neighbourhoods look like the whole section
    assert r.metric("local_to_global_shannon") > 0.85


def test_clustered_positions_raise_ripley_l() -> None:
    rand, clus = _result("random"), _result("clustered")
    assert clus.metric("ripley_L_minus_r:all") > 5 * abs(rand.metric("ripley_L_minus_r:all")) + 5
    assert abs(clus.metric("mean_self_enrichment_z")) < 3  # labels still independent


def test_segregated_labels() -> None:
    r = _result("segregated")
    assert r.metric("mean_self_enrichment_z") > 10
    cross = r.enrichment[r.enrichment["label_a"] != r.enrichment["label_b"]]
    assert (cross["zscore"] < -5).all()
    assert r.metric("morans_i:tumour") > 0.5
    assert r.metric("local_to_global_shannon") < 0.3
    assert r.metric("gearys_c_local_shannon") < 1


@pytest.mark.parametrize(
    ("pattern", "category"),
    [("immune_excluded", "excluded"), ("infiltrated", "infiltrated"), ("desert", "desert"),
     ("random", "infiltrated")],
)  # fmt: skip
def test_infiltration_category(pattern: str, category: str) -> None:
    r = _result(pattern)
    assert r.metric("infiltration_category") == category
    if category == "excluded":
        assert r.infiltration.score < 0.2
    if category == "infiltrated":
        assert r.infiltration.score > 0.8


def test_excluded_front_is_richer_than_core() -> None:
    r = _result("immune_excluded")
    reg = r.regions.set_index(["region", "metric"])["value"]
    assert reg[("front", "fraction:immune")] > 5 * reg[("core", "fraction:immune")]
    assert reg[("front", "shannon")] > reg[("core", "shannon")]


def test_enrichment_counts_and_determinism() -> None:
    a = spatial_neighbors(simulate_tissue("segregated", 800, seed=3), n_neighbors=6)
    one = nhood_enrichment(a, "cell_type", n_perms=120, seed=5, n_jobs=1)
    two = nhood_enrichment(a, "cell_type", n_perms=120, seed=5, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["observed"].sum() == a.obsp["spatial_connectivities"].nnz
    # expected counts under permutation: total edges times the label-pair probability
    assert one["expected"].sum() == pytest.approx(one["observed"].sum())
    z = a.uns["cell_type_nhood_enrichment"]["zscore"]
    assert z.shape == (3, 3) and np.allclose(np.diag(z), one.query("label_a == label_b")["zscore"])


def test_enrichment_on_100k_cells_with_two_threads() -> None:
    a = spatial_neighbors(simulate_tissue("random", 100_000, seed=1), n_neighbors=6)
    e = nhood_enrichment(a, "cell_type", n_perms=20, seed=0, n_jobs=2)
    assert len(e) == 9 and np.isfinite(e["zscore"]).all()


def test_local_diversity_by_hand() -> None:
    a = simulate_tissue("random", 200, seed=2)
    spatial_neighbors(a, radius=120.0)
    local_diversity(a, "cell_type", rao_distance="simpson")
    conn = a.obsp["spatial_connectivities"]
    labels = a.obs["cell_type"].astype(str).to_numpy()
    for i in (0, 17, 99):
        nb = [*conn[i].indices, i]
        p = pd.Series(labels[nb]).value_counts(normalize=True).to_numpy()
        assert a.obs["local_shannon"].iloc[i] == pytest.approx(-(p * np.log(p)).sum())
        assert a.obs["local_simpson"].iloc[i] == pytest.approx(1 - (p**2).sum())
    assert np.allclose(a.obs["local_rao"], a.obs["local_simpson"])


def test_ripley_and_cooccurrence_by_brute_force() -> None:
    a = simulate_tissue("segregated", 300, seed=4)
    xy = a.obsm["spatial"]
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    r = 100.0
    lo, hi = xy.min(0), xy.max(0)
    inner = np.all((xy - lo >= r) & (hi - xy >= r), axis=1)
    k = np.prod(hi - lo) * ((d[inner] < r).sum() - inner.sum()) / (inner.sum() * (len(xy) - 1))
    got = ripley(a, radii=[r]).query("label == 'all'")["K"].iloc[0]
    assert got == pytest.approx(k, rel=1e-9)
    c = co_occurrence(a, "cell_type", distances=[50.0, 150.0])
    lab = a.obs["cell_type"].astype(str).to_numpy()
    near = (d > 0) & (d <= 50.0)  # count_neighbors counts d <= r
    pa = (lab == "tumour").mean()
    cond = near[:, lab == "immune"][lab == "tumour"].sum() / near[:, lab == "immune"].sum()
    row = c.query("label_a == 'tumour' and label_b == 'immune' and distance_max == 50.0")
    assert row["ratio"].iloc[0] == pytest.approx(cond / pa)
    assert cKDTree(xy).count_neighbors(cKDTree(xy), 50.0) - len(xy) == near.sum()


def test_niches_follow_segregated_patches() -> None:
    a = spatial_neighbors(simulate_tissue("segregated", 900, seed=5), n_neighbors=8)
    niches(a, "cell_type", n_niches=3, seed=0)
    assert adjusted_rand_score(a.obs["cell_type"], a.obs["niche"]) > 0.7
    assert set(a.uns["niche"].columns) == {"tumour", "immune", "stroma"}
