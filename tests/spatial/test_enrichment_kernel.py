"""The compiled enrichment kernel: its shuffle is uniform, its counts are exact, its z-scores
agree with the previous implementation (numpy permutations) within Monte-Carlo error."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.stats import chisquare

import ithkit.spatial._stats as stats_module
from ithkit import InputError
from ithkit.spatial import neighbour_graph, nhood_enrichment, simulate_tissue, spatial_neighbors

# ithkit before the compiled shuffle (commit ebe787e: numpy ``Generator.permutation`` per
# permutation; numba and numpy paths gave identical numbers): simulate_tissue(kind, n, seed=4),
# 6 nearest neighbours, nhood_enrichment(n_perms=1000, seed=2). Pairs in the order
# immune/immune, immune/stroma, immune/tumour, stroma/..., tumour/tumour.
PREVIOUS = {
    ("segregated", 900): {
        "observed": [1304, 165, 31, 166, 1885, 55, 41, 52, 1701],
        "expected": [415.002, 585.936, 499.062, 585.572, 820.018, 700.41, 499.717, 700.286,
                     593.997],
        "zscore": [42.4997, -21.9382, -26.3471, -20.9364, 41.0852, -29.9496, -25.0107,
                   -31.1406, 45.9076],
    },
    ("random", 1500): {
        "observed": [478, 549, 1049, 561, 605, 1192, 1075, 1187, 2304],
        "expected": [477.781, 544.393, 1053.826, 543.514, 617.427, 1197.059, 1054.345,
                     1197.395, 2314.26],
        "zscore": [0.0091, 0.2247, -0.1999, 0.8991, -0.4898, -0.2025, 0.7595, -0.3586,
                   -0.2765],
    },
}  # fmt: skip
N_PERMS = 1000


def _enrichment(kind: str, n: int) -> pd.DataFrame:
    a = spatial_neighbors(simulate_tissue(kind, n, seed=4), n_neighbors=6)  # type: ignore[arg-type]
    return nhood_enrichment(a, "cell_type", n_perms=N_PERMS, seed=2, n_jobs=1)


@pytest.mark.parametrize("case", list(PREVIOUS))
def test_compiled_shuffle_agrees_with_the_previous_numbers(case: tuple[str, int]) -> None:
    old = {key: np.asarray(v, dtype=float) for key, v in PREVIOUS[case].items()}
    new = _enrichment(*case)
    assert new["observed"].tolist() == old["observed"].tolist()
    sd_old = (old["observed"] - old["expected"]) / old["zscore"]
    sd_new = (new["observed"] - new["expected"]).to_numpy() / new["zscore"].to_numpy()
    # two independent Monte-Carlo estimates of N_PERMS permutations each: the means differ by
    # sd * sqrt(2 / N_PERMS) (1 SE), the SDs by ~ sd / sqrt(N_PERMS); 4 SE allowed
    se_mean = sd_old * np.sqrt(2 / N_PERMS)
    assert np.all(np.abs(new["expected"].to_numpy() - old["expected"]) < 4 * se_mean)
    assert np.all(np.abs(sd_new / sd_old - 1) < 4 / np.sqrt(N_PERMS))
    se_z = np.sqrt(2 / N_PERMS) * np.sqrt(1 + old["zscore"] ** 2 / 2)
    assert np.all(np.abs(new["zscore"].to_numpy() - old["zscore"]) < 4 * se_z)
    assert not np.allclose(new["expected"], old["expected"], atol=1e-3)  # a new random stream


@pytest.mark.parametrize("case", list(PREVIOUS))
def test_numpy_path_is_the_previous_implementation(
    case: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_module, "_KERNEL", [None])  # as without numba
    new = _enrichment(*case)
    for key, values in PREVIOUS[case].items():
        assert np.allclose(new[key], values, atol=6e-4, rtol=0), key


def test_shuffle_gives_every_order_equally_often() -> None:
    kernels = stats_module._kernels()
    assert kernels is not None
    state = np.random.SeedSequence(7).generate_state(4, np.uint64)
    labels = np.arange(4, dtype=np.uint8)
    index = {p: i for i, p in enumerate(itertools.permutations(range(4)))}
    seen = np.zeros(24)
    for _ in range(24_000):
        kernels.shuffle(labels, state)
        seen[index[tuple(int(v) for v in labels)]] += 1
    assert chisquare(seen).pvalue > 1e-3
    # and each label lands at each position 1/4 of the time over a long array
    big = np.repeat(np.arange(4, dtype=np.uint8), 25_000)
    kernels.shuffle(big, state)
    assert np.abs(big.reshape(4, -1).mean(axis=1) - 1.5).max() < 0.03


def test_same_numbers_for_any_thread_count_and_graph_layout() -> None:
    a = spatial_neighbors(simulate_tissue("segregated", 700, seed=1), n_neighbors=5)
    runs = [nhood_enrichment(a, "cell_type", n_perms=230, seed=9, n_jobs=j) for j in (1, 3, None)]
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    pd.testing.assert_frame_equal(runs[0], runs[2], check_exact=True)
    # the fixed-degree kernel and the CSR kernel count the same pairs
    graph = stats_module._Graph.of(a.obsp["spatial_connectivities"].tocsr())
    assert graph.rows is not None
    as_csr = stats_module._Graph(graph.indptr, graph.indices, None)
    codes = np.asarray(a.obs["cell_type"].cat.codes)
    seed_seq = np.random.SeedSequence(3)
    one = stats_module._perm_counts(graph, codes, 3, 40, seed_seq)
    two = stats_module._perm_counts(as_csr, codes, 3, 40, seed_seq)
    assert all(np.array_equal(x, y) for x, y in zip(one, two, strict=True))


def test_irregular_graph_counts_every_edge() -> None:
    a = spatial_neighbors(simulate_tissue("random", 300, seed=2), radius=40.0)
    g = a.obsp["spatial_connectivities"]
    assert len(set(np.diff(g.indptr))) > 1
    e = nhood_enrichment(a, "cell_type", n_perms=50, seed=0)
    codes = pd.Categorical(a.obs["cell_type"].astype(str)).codes.astype(np.int64)  # sorted
    coo = sp.coo_matrix(g)
    truth = np.bincount(codes[coo.row] * 3 + codes[coo.col], minlength=9)
    assert e["observed"].tolist() == truth.tolist()
    assert e["expected"].sum() == pytest.approx(g.nnz)


def test_thread_count_must_be_positive() -> None:
    a = spatial_neighbors(simulate_tissue("random", 100, seed=0), n_neighbors=4)
    with pytest.raises(InputError, match="n_jobs"):
        nhood_enrichment(a, "cell_type", n_perms=10, n_jobs=0)


def _previous_knn(xy: np.ndarray, k: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    # the k-NN graph as ithkit built it before (commit ebe787e): COO triplets -> CSR
    n = len(xy)
    d, idx = cKDTree(xy).query(xy, k=k + 1)
    d, idx = d[:, 1:], idx[:, 1:]
    rows = np.repeat(np.arange(n), k)
    dist = sp.csr_matrix((d.ravel(), (rows, idx.ravel())), shape=(n, n))
    conn = sp.csr_matrix((np.ones(n * k, np.float32), (rows, idx.ravel())), shape=(n, n))
    return conn, dist


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_knn_graph_is_the_previous_one(n_jobs: int) -> None:
    xy = np.asarray(simulate_tissue("clustered", 3000, seed=5).obsm["spatial"], dtype=float)
    xy[10] = xy[11]  # coincident cells
    xy[12] = xy[11]
    for k in (1, 6, 15):
        conn, dist = neighbour_graph(xy, n_neighbors=k, n_jobs=n_jobs)
        old_conn, old_dist = _previous_knn(xy, k)
        for new, old in ((conn, old_conn), (dist, old_dist)):
            assert new.dtype == old.dtype and new.indices.dtype == old.indices.dtype
            assert np.array_equal(new.indptr, old.indptr)
            assert np.array_equal(new.indices, old.indices)
            assert np.array_equal(new.data, old.data)
            assert new.has_sorted_indices and new.has_canonical_format


def test_labels_of_a_categorical_are_those_of_its_strings() -> None:
    import anndata as ad

    from ithkit.spatial._graph import labels_of

    cases = [(["b", "a", "c", "a"], ["c", "b", "a", "z"]), ([3, 1, 2, 10], [3, 2, 1, 10])]
    for values, categories in cases:
        obs = pd.DataFrame({"l": pd.Categorical(values, categories=categories)},
                           index=[f"c{i}" for i in range(len(values))])  # fmt: skip
        fast = labels_of(ad.AnnData(obs=obs), "l")
        slow = pd.Categorical(obs["l"].astype(str)).remove_unused_categories()
        assert list(fast.categories) == list(slow.categories)  # "10" < "2": string order
        assert fast.codes.tolist() == slow.codes.tolist()


def test_renumbered_cells_give_the_same_counts_and_statistic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = spatial_neighbors(simulate_tissue("segregated", 1500, seed=6), n_neighbors=6)
    plain = nhood_enrichment(a, "cell_type", n_perms=N_PERMS, seed=1, n_jobs=1)
    monkeypatch.setattr(stats_module, "_REORDER_CELLS", 100)  # as for big sections
    order = stats_module._spatial_order(a, a.n_obs)
    assert order is not None and sorted(order) == list(range(a.n_obs))
    codes = np.asarray(a.obs["cell_type"].cat.codes)
    for g in (a.obsp["spatial_connectivities"],
              spatial_neighbors(a.copy(), radius=30.0).obsp["spatial_connectivities"]):  # fmt: skip
        graph = stats_module._Graph.of(g.tocsr())
        moved = graph.permuted(order)
        assert (moved.rows is None) == (graph.rows is None)
        rows, cols = graph.coo()
        new_rows, new_cols = moved.coo()
        old_edges = set(zip(rows.tolist(), cols.tolist(), strict=True))
        back = {(int(order[r]), int(order[c])) for r, c in zip(new_rows, new_cols, strict=True)}
        assert back == old_edges
        assert np.array_equal(stats_module._observed_counts(moved, codes[order], 3),
                              stats_module._observed_counts(graph, codes, 3))  # fmt: skip
    renumbered = nhood_enrichment(a, "cell_type", n_perms=N_PERMS, seed=1, n_jobs=2)
    assert renumbered["observed"].tolist() == plain["observed"].tolist()
    sd = ((plain["observed"] - plain["expected"]) / plain["zscore"]).to_numpy()
    diff = np.abs(renumbered["expected"] - plain["expected"]).to_numpy()
    assert np.all(diff < 4 * sd * np.sqrt(2 / N_PERMS))
    assert not np.array_equal(renumbered["expected"], plain["expected"])  # it did renumber
