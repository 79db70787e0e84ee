"""Spatial statistics: diversity, autocorrelation, enrichment, Ripley, infiltration, niches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ithkit._diversity import row_diversity
from ithkit._errors import InputError
from ithkit.io._anndata import check_anndata, coordinates
from ithkit.spatial._graph import available_cores, composition, graph, labels_of

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData


# ---------------------------------------------------------------------------------------------
# diversity


def label_distances(adata: AnnData, label_key: str, *, source: str = "adata") -> pd.DataFrame:
    """Distances between labels for Rao's entropy: (1 - r) / 2, r the Pearson correlation of
    the labels' mean log expression.

    Falls back to 1 between every two labels (Rao = Gini-Simpson) when ``.X`` is not numeric
    or has fewer than 2 genes. Distances are in [0, 1].
    """
    cats = labels_of(adata, label_key, source=source)
    k = len(cats.categories)
    ones = 1.0 - np.eye(k)
    x = adata.X
    if x is None or adata.n_vars < 2 or not np.issubdtype(x.dtype, np.number):
        return pd.DataFrame(ones, index=cats.categories, columns=cats.categories)
    onehot = sp.csr_matrix(
        (np.ones(adata.n_obs), (cats.codes, np.arange(adata.n_obs))), shape=(k, adata.n_obs)
    )
    sums = np.asarray((onehot @ x).todense() if sp.issparse(x) else onehot @ x, dtype=float)
    means = np.log1p(sums / np.bincount(cats.codes, minlength=k)[:, None])
    with np.errstate(invalid="ignore"):
        r = np.corrcoef(means)
    d = np.clip(np.nan_to_num((1.0 - r) / 2.0, nan=1.0), 0.0, 1.0)
    np.fill_diagonal(d, 0.0)
    return pd.DataFrame(d, index=cats.categories, columns=cats.categories)


def local_diversity(
    adata: AnnData,
    label_key: str,
    *,
    rao_distance: pd.DataFrame | Literal["expression", "simpson"] = "expression",
    include_self: bool = True,
    key_added: str = "local",
    source: str = "adata",
) -> AnnData:
    """Shannon, Gini-Simpson and Rao's quadratic entropy of each cell's neighbourhood.

    Uses the graph of :func:`spatial_neighbors`. Rao's entropy ``sum_ab d_ab p_a p_b`` weighs
    label pairs by ``rao_distance`` (a labels x labels frame, ``"expression"`` for
    :func:`label_distances`, or ``"simpson"`` for 1 between any two labels).

    Results go to ``.obs['<key_added>_shannon' / '_simpson' / '_rao']``.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue, spatial_neighbors
    >>> a = spatial_neighbors(simulate_tissue("segregated", 300, seed=0), n_neighbors=6)
    >>> a = local_diversity(a, "cell_type", rao_distance="simpson")
    >>> bool((a.obs["local_rao"] - a.obs["local_simpson"]).abs().max() < 1e-12)
    True
    """
    cats = labels_of(adata, label_key, source=source)
    k = len(cats.categories)
    if isinstance(rao_distance, pd.DataFrame):
        missing = set(cats.categories) - set(rao_distance.index)
        if missing:
            raise InputError(
                f"rao_distance lacks labels {sorted(missing)[:5]}", source="rao_distance",
                fix="give a labels x labels distance table",
            )  # fmt: skip
        dist = rao_distance.loc[cats.categories, cats.categories].to_numpy(float)
    elif rao_distance == "simpson":
        dist = 1.0 - np.eye(k)
    else:
        dist = label_distances(adata, label_key, source=source).to_numpy()
    counts = composition(graph(adata, source=source), cats.codes, k, include_self=include_self)
    shannon, simpson, rao = row_diversity(counts, dist)
    adata.obs[f"{key_added}_shannon"] = shannon
    adata.obs[f"{key_added}_simpson"] = simpson
    adata.obs[f"{key_added}_rao"] = rao
    adata.uns[f"{key_added}_rao_distance"] = pd.DataFrame(
        dist, index=list(cats.categories), columns=list(cats.categories)
    )
    return adata


def global_diversity(labels: Sequence[str] | np.ndarray, dist: np.ndarray | None = None):
    """Shannon, Gini-Simpson and Rao's entropy of the whole sample's label fractions.

    Examples
    --------
    >>> [round(v, 3) for v in global_diversity(["a", "a", "b", "b"])]
    [0.693, 0.5, 0.5]
    """
    cat = pd.Categorical(np.asarray(labels).astype(str))
    counts = np.bincount(cat.codes, minlength=len(cat.categories)).astype(float)[None, :]
    k = counts.shape[1]
    d = 1.0 - np.eye(k) if dist is None else dist
    return tuple(float(v[0]) for v in row_diversity(counts, d))


# ---------------------------------------------------------------------------------------------
# autocorrelation


@dataclass(frozen=True)
class Autocorrelation:
    """A global spatial autocorrelation statistic with its normal-approximation test.

    Attributes
    ----------
    statistic
        Moran's I or Geary's C.
    expected
        Its expectation under no autocorrelation (-1/(n-1) for I, 1 for C).
    variance
        Its variance under the normality assumption (Cliff & Ord 1981).
    zscore, pvalue
        ``(statistic - expected) / sqrt(variance)`` and its two-sided p-value.
    """

    statistic: float
    expected: float
    variance: float
    zscore: float
    pvalue: float


def _weights(weights: sp.spmatrix | np.ndarray, n: int, row_standardise: bool) -> sp.csr_matrix:
    w = sp.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise InputError(
            f"weights are {w.shape}, values have {n} entries", source="weights",
            fix="pass an n x n weight matrix",
        )  # fmt: skip
    if w.diagonal().any() or not w.has_canonical_format:  # (setdiag also sorts the rows)
        w.setdiag(0)
    w.eliminate_zeros()
    if row_standardise:
        rs = np.asarray(w.sum(axis=1)).ravel()
        w = sp.diags(np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)) @ w
    return sp.csr_matrix(w)


def _s_terms(w: sp.csr_matrix) -> tuple[float, float, float]:
    s0 = float(w.sum())
    sym = w + w.T
    s1 = 0.5 * float(sym.multiply(sym).sum())
    s2 = float(((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum())
    return s0, s1, s2


def _values(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if not np.isfinite(x).all():
        raise InputError("values hold NaN or infinity", source="values", fix="drop those cells")
    if x.size < 3 or np.ptp(x) == 0:
        raise InputError(
            "values are constant or fewer than 3", source="values",
            fix="autocorrelation needs a score that varies between cells",
        )  # fmt: skip
    return x


def _normal_p(z: float) -> float:
    # scipy.stats.norm.sf(x) is ndtr(-x); scipy.special is loaded already (scipy.stats is not,
    # and importing it took 0.6 s of the first Moran's I)
    from scipy.special import ndtr

    return float(2 * ndtr(-abs(z)))


def morans_i(
    values: np.ndarray, weights: sp.spmatrix | np.ndarray, *, row_standardise: bool = True
) -> Autocorrelation:
    """Global Moran's I: ``n / S0 * z'Wz / z'z`` with z the centred values.

    Parameters
    ----------
    values
        One value per cell.
    weights
        n x n spatial weights (e.g. the connectivities of :func:`spatial_neighbors`); the
        diagonal is ignored.
    row_standardise
        Divide each row by its sum first (the usual choice, as in squidpy and PySAL).

    Examples
    --------
    >>> w = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> round(morans_i(np.array([1.0, 2, 3, 4]), w, row_standardise=False).statistic, 4)
    0.3333
    """
    x = _values(values)
    n = x.size
    w = _weights(weights, n, row_standardise)
    z = x - x.mean()
    s0, s1, s2 = _s_terms(w)
    stat = float(n / s0 * (z @ (w @ z)) / (z @ z))
    e = -1.0 / (n - 1)
    var = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - e**2
    zs = (stat - e) / np.sqrt(var)
    return Autocorrelation(stat, e, float(var), float(zs), _normal_p(zs))


def gearys_c(
    values: np.ndarray, weights: sp.spmatrix | np.ndarray, *, row_standardise: bool = True
) -> Autocorrelation:
    """Global Geary's C: ``(n-1) sum w_ij (x_i - x_j)^2 / (2 S0 sum z^2)``; < 1 means clustered.

    Examples
    --------
    >>> w = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> round(gearys_c(np.array([1.0, 2, 3, 4]), w, row_standardise=False).statistic, 4)
    0.3
    """
    x = _values(values)
    n = x.size
    w = _weights(weights, n, row_standardise).tocoo()
    z = x - x.mean()
    s0, s1, s2 = _s_terms(w.tocsr())
    num = float((w.data * (x[w.row] - x[w.col]) ** 2).sum())
    stat = (n - 1) * num / (2 * s0 * float(z @ z))
    var = ((2 * s1 + s2) * (n - 1) - 4 * s0**2) / (2 * (n + 1) * s0**2)
    zs = (stat - 1.0) / np.sqrt(var)
    return Autocorrelation(float(stat), 1.0, float(var), float(zs), _normal_p(zs))


def local_morans_i(
    values: np.ndarray, weights: sp.spmatrix | np.ndarray, *, row_standardise: bool = True
) -> np.ndarray:
    """Local Moran's I (Anselin 1995): ``z_i / m2 * sum_j w_ij z_j`` with ``m2 = sum z^2 / n``.

    Examples
    --------
    >>> w = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> local_morans_i(np.array([0.0, 0, 3]), w, row_standardise=False).tolist()
    [0.5, 0.5, 0.0]
    """
    x = _values(values)
    w = _weights(weights, x.size, row_standardise)
    z = x - x.mean()
    m2 = float(z @ z) / x.size
    return np.asarray(z / m2 * (w @ z))


def local_gearys_c(
    values: np.ndarray, weights: sp.spmatrix | np.ndarray, *, row_standardise: bool = True
) -> np.ndarray:
    """Local Geary's C (Anselin 1995): ``sum_j w_ij (z_i - z_j)^2 / m2``.

    Examples
    --------
    >>> w = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> local_gearys_c(np.array([0.0, 3.0, 3.0]), w, row_standardise=False).tolist()
    [4.5, 4.5, 0.0]
    """
    x = _values(values)
    w = _weights(weights, x.size, row_standardise).tocoo()
    z = x - x.mean()
    m2 = float(z @ z) / x.size
    contrib = w.data * (z[w.row] - z[w.col]) ** 2
    return np.bincount(w.row, weights=contrib, minlength=x.size) / m2


def spatial_autocorr(
    adata: AnnData,
    keys: Sequence[str],
    *,
    mode: Literal["moran", "geary"] = "moran",
    key_added: str | None = None,
    source: str = "adata",
) -> pd.DataFrame:
    """Global Moran's I or Geary's C of ``.obs`` columns (or genes) on the stored graph.

    Stores the table in ``.uns[key_added]`` (default ``"moranI"`` / ``"gearyC"``, squidpy's) and
    the local statistic of each key in ``.obs['local_<mode>_<key>']``.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue, spatial_neighbors
    >>> a = spatial_neighbors(simulate_tissue("segregated", 400, seed=1), n_neighbors=6)
    >>> a.obs["is_tumour"] = (a.obs["cell_type"] == "tumour").astype(float)
    >>> bool(spatial_autocorr(a, ["is_tumour"]).loc["is_tumour", "statistic"] > 0.5)
    True
    """
    w = graph(adata, source=source)
    rows = {}
    for key in keys:
        if key in adata.obs.columns:
            col = adata.obs[key]
            if not pd.api.types.is_numeric_dtype(col):
                raise InputError(
                    f".obs[{key!r}] is not numeric", source=source, column=key,
                    fix="autocorrelation needs a numeric score",
                )  # fmt: skip
            vals = col.to_numpy(dtype=float)
        elif key in adata.var_names:
            vals = np.asarray(adata[:, key].X.todense() if sp.issparse(adata.X)
                              else adata[:, key].X).ravel()  # fmt: skip
        else:
            raise InputError(
                f"{key!r} is neither an .obs column nor a gene", source=source, column=key,
                fix="name a numeric .obs column or a gene in .var_names",
            )  # fmt: skip
        res = (morans_i if mode == "moran" else gearys_c)(vals, w)
        local = (local_morans_i if mode == "moran" else local_gearys_c)(vals, w)
        adata.obs[f"local_{mode}_{key}"] = local
        rows[key] = res.__dict__
    table = pd.DataFrame.from_dict(rows, orient="index")
    adata.uns[key_added or ("moranI" if mode == "moran" else "gearyC")] = table
    return table


# ---------------------------------------------------------------------------------------------
# neighbourhood enrichment

_PERM_CHUNK = 50


def _label_dtype(k: int) -> type[np.unsignedinteger]:
    """The smallest unsigned type that holds label codes 0..k-1 (1 byte for up to 256)."""
    return np.uint8 if k <= 256 else np.uint16 if k <= 65536 else np.uint32


def _shuffle_labels(labels: np.ndarray, state: np.ndarray) -> None:  # pragma: no cover - numba
    """Fisher-Yates shuffle of ``labels`` in place; every order is equally likely.

    Random numbers: xoshiro256** (Blackman & Vigna 2021; ``state``, 4 uint64, is advanced);
    indices below ``i + 1`` by Lemire's multiply-and-reject (2019), without modulo bias.
    Compiled by numba; 0.3 ms per shuffle of 100,000 one-byte labels (numpy's
    ``Generator.shuffle`` of 8-byte labels: 1.1 ms).
    """
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    low32 = np.uint64(0xFFFFFFFF)
    two32 = np.uint64(0x100000000)
    for i in range(labels.shape[0] - 1, 0, -1):
        bound = np.uint64(i + 1)
        product = np.uint64(0)
        while True:
            out = s1 * np.uint64(5)
            out = ((out << np.uint64(7)) | (out >> np.uint64(57))) * np.uint64(9)
            t = s1 << np.uint64(17)
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
            product = (out >> np.uint64(32)) * bound
            low = product & low32
            if low >= bound or low >= (two32 - bound) % bound:
                break
        j = product >> np.uint64(32)
        swap = labels[i]
        labels[i] = labels[j]
        labels[j] = swap
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3


def _count_csr(
    labels: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    k: int,
    counts: np.ndarray,
    total: np.ndarray,
    total_sq: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba; tested against the numpy path
    """Count the label pairs of the graph's edges into ``counts`` (k x k, flat) and add them
    and their squares to ``total`` and ``total_sq``."""
    counts[:] = 0
    for i in range(indptr.shape[0] - 1):
        a = np.int64(labels[i]) * k
        for j in range(indptr[i], indptr[i + 1]):
            counts[a + np.int64(labels[indices[j]])] += 1
    for c in range(counts.shape[0]):
        value = float(counts[c])
        total[c] += value
        total_sq[c] += value * value


def _count_rows(
    labels: np.ndarray,
    neighbours: np.ndarray,
    k: int,
    counts: np.ndarray,
    total: np.ndarray,
    total_sq: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba; tested against the numpy path
    """:func:`_count_csr` for a graph whose rows all have d neighbours (k nearest
    neighbours), given as an (n, d) array: the fixed-length rows run 25% faster."""
    counts[:] = 0
    n, d = neighbours.shape
    for i in range(n):
        a = np.int64(labels[i]) * k
        for j in range(d):
            counts[a + np.int64(labels[neighbours[i, j]])] += 1
    for c in range(counts.shape[0]):
        value = float(counts[c])
        total[c] += value
        total_sq[c] += value * value


@dataclass(frozen=True)
class _Kernels:
    shuffle: Callable[..., None]
    count_csr: Callable[..., None]
    count_rows: Callable[..., None]


_KERNEL: list[_Kernels | None] = []


def _kernels() -> _Kernels | None:
    """The compiled kernels, or None without numba (numpy path)."""
    if not _KERNEL:
        import importlib.util

        if importlib.util.find_spec("numba") is None:  # pragma: no cover - numba installed
            _KERNEL.append(None)
        else:
            from ithkit._optional import optional_njit

            jit = optional_njit(nogil=True, cache=True)
            _KERNEL.append(_Kernels(jit(_shuffle_labels), jit(_count_csr), jit(_count_rows)))
    return _KERNEL[0]


@dataclass(frozen=True)
class _Graph:
    """The enrichment's view of the neighbour graph: CSR arrays, no copies."""

    indptr: np.ndarray
    indices: np.ndarray
    rows: np.ndarray | None  # (n, d) view of ``indices`` when every row has d > 0 neighbours

    @classmethod
    def of(cls, csr: sp.csr_matrix) -> _Graph:
        indptr, n = csr.indptr, csr.shape[0]
        d = int(indptr[1] - indptr[0]) if n else 0
        regular = (
            n > 0 and d > 0 and int(indptr[-1]) == n * d and bool((np.diff(indptr) == d).all())
        )
        return cls(indptr, csr.indices, csr.indices[: n * d].reshape(n, d) if regular else None)

    def count(self, kernels: _Kernels, labels: np.ndarray, k: int, counts: np.ndarray,
              total: np.ndarray, total_sq: np.ndarray) -> None:  # fmt: skip
        """One compiled counting pass (adds to ``total`` and ``total_sq``)."""
        if self.rows is not None:
            kernels.count_rows(labels, self.rows, k, counts, total, total_sq)
        else:
            kernels.count_csr(labels, self.indptr, self.indices, k, counts, total, total_sq)

    def coo(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        return rows, self.indices

    def permuted(self, order: np.ndarray) -> _Graph:
        """The same graph with the cells renumbered: new cell ``i`` is old cell ``order[i]``."""
        n = len(self.indptr) - 1
        new_id = np.empty(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)
        new_id[order] = np.arange(n, dtype=new_id.dtype)
        if self.rows is not None:
            rows = new_id[self.rows[order]]
            d = rows.shape[1]
            return _Graph(np.arange(0, n * d + 1, d, dtype=np.int64), rows.ravel(), rows)
        sizes = np.diff(self.indptr)[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        starts = np.repeat(self.indptr[order].astype(np.int64) - indptr[:-1], sizes)
        return _Graph(indptr, new_id[self.indices[starts + np.arange(indptr[-1])]], None)


#: from this many cells on, the permutations run on the cells renumbered in a k-d tree's leaf
#: order (neighbours get nearby numbers): their one-byte labels outgrow the L2 cache there,
#: and the counting pass at 1,000,000 cells takes 11 ms per permutation instead of 17-25 ms
_REORDER_CELLS = 262_144


def _spatial_order(adata: AnnData, n: int) -> np.ndarray | None:
    """Cells in the leaf order of a k-d tree of ``.obsm['spatial']`` (None without it)."""
    if "spatial" not in adata.obsm or n < _REORDER_CELLS:
        return None
    xy = np.asarray(adata.obsm["spatial"], dtype=float)
    if xy.ndim != 2 or len(xy) != n or not np.isfinite(xy).all():
        return None
    return np.asarray(cKDTree(xy[:, :2]).indices)


def _perm_counts(
    graph_: _Graph,
    codes: np.ndarray,
    k: int,
    n_perms: int,
    seed_seq: np.random.SeedSequence,
) -> tuple[np.ndarray, np.ndarray]:
    """Sums and sums of squares of the label-pair counts over ``n_perms`` permutations.

    With numba: each permutation is a Fisher-Yates shuffle of one-byte labels by
    :func:`_shuffle_labels` (its stream seeded from ``seed_seq``) and one compiled pass over
    the edges. Without numba: numpy's ``Generator.permutation`` (seeded from ``seed_seq``)
    and a gather + ``bincount``; the two streams differ, the statistics agree within
    Monte-Carlo error.
    """
    total = np.zeros(k * k)
    total_sq = np.zeros(k * k)
    kernels = _kernels()
    if kernels is not None:
        state = seed_seq.generate_state(4, np.uint64)
        if not state.any():  # pragma: no cover - xoshiro's one forbidden state
            state[0] = 1
        labels = codes.astype(_label_dtype(k))
        counts = np.zeros(k * k, dtype=np.int64)
        for _ in range(n_perms):
            kernels.shuffle(labels, state)
            graph_.count(kernels, labels, k, counts, total, total_sq)
        return total, total_sq
    rng = np.random.default_rng(seed_seq)
    # the smallest integer type that holds a * k + b: gathers and bincount run faster
    small = np.uint8 if k * k <= 256 else np.uint16 if k * k <= 65536 else np.int64
    labels = codes.astype(small)
    rows, cols = graph_.coo()
    r32, c32 = rows.astype(np.int32), cols.astype(np.int32)
    for _ in range(n_perms):
        perm = rng.permutation(labels)
        pair = perm[r32]
        pair *= small(k)
        pair += perm[c32]
        c = np.bincount(pair, minlength=k * k).astype(float)
        total += c
        total_sq += c * c
    return total, total_sq


def _observed_counts(graph_: _Graph, codes: np.ndarray, k: int) -> np.ndarray:
    """Label-pair counts of the graph's edges with the cells' own labels (k x k, flat)."""
    kernels = _kernels()
    if kernels is not None:
        counts = np.zeros(k * k, dtype=np.int64)
        total, total_sq = np.zeros(k * k), np.zeros(k * k)
        graph_.count(kernels, codes.astype(_label_dtype(k)), k, counts, total, total_sq)
        return total
    rows, cols = graph_.coo()
    c64 = codes.astype(np.int64)
    return np.bincount(c64[rows] * k + c64[cols], minlength=k * k).astype(float)


def nhood_enrichment(
    adata: AnnData,
    label_key: str,
    *,
    n_perms: int = 1000,
    seed: int | None = 0,
    n_jobs: int | None = None,
    show_progress: bool = False,
    source: str = "adata",
) -> pd.DataFrame:
    """Neighbourhood enrichment: neighbour pairs of labels against label permutations.

    ``observed`` counts graph edges from a cell of ``label_a`` to one of ``label_b``;
    ``expected`` and its spread come from ``n_perms`` random permutations of the labels over the
    cells; ``zscore = (observed - expected) / sd``. Permutations run in chunks of 50, each
    with its own random stream seeded from ``seed`` (:class:`numpy.random.SeedSequence`), so
    the result is the same for any ``n_jobs`` (threads sharing the graph: no process pool,
    no copies).

    With numba installed (``ithkit[evolution]``) the shuffles and counts are compiled
    (xoshiro256** Fisher-Yates shuffles of one-byte labels); without it numpy's permutations
    are used. The two random streams differ: the same ``seed`` gives the same ``observed``
    counts and ``expected`` / ``zscore`` that agree within Monte-Carlo error (about
    ``sd / sqrt(n_perms)``), not bit-identical ones.

    Parameters
    ----------
    adata
        Cells with a neighbour graph (:func:`spatial_neighbors`) and ``.obs[label_key]``.
    label_key
        Cell type or clone column.
    n_perms
        Label permutations (at least 2).
    seed
        Seed of the permutations.
    n_jobs
        Threads; None uses every core this process may run on (``os.sched_getaffinity``).
    show_progress
        Progress bar over permutation chunks (rich).
    source
        Name used in error messages (the file).

    Returns
    -------
    pandas.DataFrame
        ``label_a, label_b, observed, expected, zscore`` (edge counts). Also stored in
        ``.uns['<label_key>_nhood_enrichment']`` (``zscore``, ``count``, ``expected`` arrays;
        squidpy's key and layout).

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue, spatial_neighbors
    >>> a = spatial_neighbors(simulate_tissue("segregated", 400, seed=1), n_neighbors=6)
    >>> e = nhood_enrichment(a, "cell_type", n_perms=100)
    >>> bool(e.query("label_a == label_b")["zscore"].min() > 3)
    True
    """
    check_anndata(adata, source=source)
    cats = labels_of(adata, label_key, source=source)
    if n_perms < 2:
        raise InputError(f"n_perms is {n_perms}", source="n_perms", fix="use at least 2")
    if n_jobs is not None and n_jobs < 1:
        raise InputError(f"n_jobs is {n_jobs}", source="n_jobs", fix="use at least 1 (or None)")
    k = len(cats.categories)
    graph_ = _Graph.of(graph(adata, source=source).tocsr())
    codes = np.asarray(cats.codes)
    observed = _observed_counts(graph_, codes, k)
    order = _spatial_order(adata, len(codes))
    if order is not None:  # the same statistic on renumbered cells: faster look-ups
        graph_, codes = graph_.permuted(order), codes[order]
    sizes = [_PERM_CHUNK] * (n_perms // _PERM_CHUNK)
    if n_perms % _PERM_CHUNK:
        sizes.append(n_perms % _PERM_CHUNK)
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    total = np.zeros(k * k)
    total_sq = np.zeros(k * k)
    from ithkit._progress import progress

    threads = min(available_cores() if n_jobs is None else n_jobs, len(sizes))
    with progress(show_progress, "neighbourhood permutations", len(sizes)) as advance:
        if threads > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                futures = [
                    pool.submit(_perm_counts, graph_, codes, k, m, s)
                    for m, s in zip(sizes, seeds, strict=True)
                ]
                for f in futures:  # summed in chunk order: the same floats for any n_jobs
                    t, t2 = f.result()
                    total += t
                    total_sq += t2
                    advance()
        else:
            for m, s in zip(sizes, seeds, strict=True):
                t, t2 = _perm_counts(graph_, codes, k, m, s)
                total += t
                total_sq += t2
                advance()
    expected = total / n_perms
    sd = np.sqrt(np.maximum(total_sq / n_perms - expected**2, 0.0) * n_perms / (n_perms - 1))
    z = np.divide(observed - expected, sd, out=np.zeros_like(observed), where=sd > 0)
    labels = list(cats.categories)
    adata.uns[f"{label_key}_nhood_enrichment"] = {
        "zscore": z.reshape(k, k),
        "count": observed.reshape(k, k),
        "expected": expected.reshape(k, k),
        "labels": np.array(labels, dtype=object),
    }
    return pd.DataFrame(
        {
            "label_a": np.repeat(labels, k),
            "label_b": np.tile(labels, k),
            "observed": observed,
            "expected": expected,
            "zscore": z,
        }
    )


# ---------------------------------------------------------------------------------------------
# point patterns


def _window(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    area = float(np.prod(hi - lo))
    return lo, hi, area


def _spacing(xy: np.ndarray) -> float:
    """Median nearest-neighbour distance (of at most 5,000 cells)."""
    sample = xy[:: max(1, len(xy) // 5000)]
    d, _ = cKDTree(xy).query(sample, k=2)
    return float(np.median(d[:, 1])) or 1.0


def ripley(
    adata: AnnData,
    label_key: str | None = None,
    *,
    radii: Sequence[float] | None = None,
    spatial_key: str = "spatial",
    source: str = "adata",
) -> pd.DataFrame:
    """Ripley's K and L of all cells and of each label, with border correction.

    ``K(r) = A / (n_inner (n - 1)) * #{pairs i, j: d_ij < r, i inner}`` where inner cells lie at
    least ``r`` from the edge of the bounding box (area ``A``); ``L(r) = sqrt(K / pi)``.
    ``L - r`` is ~0 for complete spatial randomness, > 0 for clustering, < 0 for regularity.
    Default radii: 10 steps up to 10 median nearest-neighbour distances.

    Returns
    -------
    pandas.DataFrame
        ``label, radius, K, L, L_minus_r`` (label ``all`` for every cell).

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue
    >>> a = simulate_tissue("clustered", 800, seed=0)
    >>> r = ripley(a, radii=[30.0])
    >>> bool(r.loc[r["label"] == "all", "L_minus_r"].iloc[0] > 5)
    True
    """
    xy = coordinates(adata, key=spatial_key, source=source)
    lo, hi, area = _window(xy)
    if radii is None:
        radii = list(np.linspace(0, 10 * _spacing(xy), 11)[1:])
    groups: dict[str, np.ndarray] = {"all": np.ones(len(xy), bool)}
    if label_key is not None:
        cats = labels_of(adata, label_key, source=source)
        for c in cats.categories:
            groups[str(c)] = np.asarray(cats == c)
    rows = []
    for name, sel in groups.items():
        pts = xy[sel]
        n = len(pts)
        if n < 2:
            continue
        tree = cKDTree(pts)
        for r in radii:
            inner = np.all((pts - lo >= r) & (hi - pts >= r), axis=1)
            n_inner = int(inner.sum())
            if n_inner == 0:
                k_val = np.nan
            else:
                pairs = cKDTree(pts[inner]).count_neighbors(tree, r) - n_inner
                k_val = area * pairs / (n_inner * (n - 1))
            l_val = np.sqrt(k_val / np.pi)
            rows.append((name, float(r), k_val, l_val, l_val - r))
    return pd.DataFrame(rows, columns=["label", "radius", "K", "L", "L_minus_r"])


def co_occurrence(
    adata: AnnData,
    label_key: str,
    *,
    distances: Sequence[float] | None = None,
    spatial_key: str = "spatial",
    source: str = "adata",
) -> pd.DataFrame:
    """Co-occurrence ratio of labels by distance: ``P(a | b within the bin) / P(a)``.

    Bins are ``(d_{i-1}, d_i]`` of ``distances`` (the first starts at 0; default: 10 bins up to
    20 median nearest-neighbour distances). Pair counts come from
    dual-tree counting (:meth:`scipy.spatial.cKDTree.count_neighbors`), never from a cells x
    cells distance matrix. A ratio above 1 means ``a`` is found near ``b`` more than by chance.

    Returns
    -------
    pandas.DataFrame
        ``label_a, label_b, distance_min, distance_max, ratio``.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue
    >>> a = simulate_tissue("segregated", 600, seed=2)
    >>> c = co_occurrence(a, "cell_type", distances=[20.0, 400.0])
    >>> near = c[(c.label_a == c.label_b) & (c.distance_max == 20.0)]
    >>> bool(near["ratio"].min() > 1.2)
    True
    """
    xy = coordinates(adata, key=spatial_key, source=source)
    cats = labels_of(adata, label_key, source=source)
    if distances is None:
        distances = list(np.linspace(0, 20 * _spacing(xy), 11)[1:])
    d = np.asarray(sorted(float(v) for v in distances))
    labels = list(cats.categories)
    trees = {c: cKDTree(xy[np.asarray(cats == c)]) for c in labels}
    k = len(labels)
    cum = np.zeros((k, k, len(d)))
    for i, a in enumerate(labels):
        for j, b in enumerate(labels[i:], start=i):
            c = np.asarray(trees[a].count_neighbors(trees[b], d), dtype=float)
            if i == j:
                c = c - trees[a].n  # self pairs
            cum[i, j] = cum[j, i] = c
    per_bin = np.diff(np.concatenate([np.zeros((k, k, 1)), cum], axis=2), axis=2)
    p_a = np.bincount(cats.codes, minlength=k) / len(cats)
    col_tot = per_bin.sum(axis=0, keepdims=True)
    cond = np.divide(per_bin, col_tot, out=np.full_like(per_bin, np.nan), where=col_tot > 0)
    ratio = cond / p_a[:, None, None]
    edges = np.concatenate([[0.0], d])
    rows = [
        (labels[i], labels[j], edges[t], edges[t + 1], ratio[i, j, t])
        for i in range(k) for j in range(k) for t in range(len(d))
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["label_a", "label_b", "distance_min", "distance_max",
                                       "ratio"])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# immune infiltration, niches, regions


@dataclass(frozen=True)
class Infiltration:
    """Immune cells inside tumour regions vs at their margin.

    Attributes
    ----------
    score
        Immune density inside the tumour compartment over immune density at its margin
        (immune cells per cell of the compartment): ~1 when immune cells mix freely with
        tumour, near 0 when they stop at the margin (NaN without immune cells near tumour).
    category
        ``infiltrated`` (score >= threshold), ``excluded`` (below) or ``desert`` (fewer immune
        cells than ``desert_ratio`` per tumour cell).
    n_tumour, n_immune, n_intratumoral, n_margin
        Cell counts.
    immune_per_tumour
        Immune cells per tumour cell in the sample.
    """

    score: float
    category: str
    n_tumour: int
    n_immune: int
    n_intratumoral: int
    n_margin: int
    immune_per_tumour: float


def infiltration(
    adata: AnnData,
    label_key: str,
    *,
    tumour: Sequence[str],
    immune: Sequence[str],
    tumour_majority: float = 0.5,
    threshold: float = 0.5,
    desert_ratio: float = 0.02,
    key_added: str = "compartment",
    source: str = "adata",
) -> Infiltration:
    """Classify a sample as immune-infiltrated, -excluded or desert from its neighbour graph.

    A cell is in the *tumour compartment* when at least ``tumour_majority`` of its neighbours
    are tumour cells, at the *margin* when some but fewer are, and in the *stroma* otherwise
    (``.obs[key_added]``). The score is the immune density (immune cells per cell) inside the
    compartment over that at the margin; ``infiltrated`` when it reaches ``threshold``.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue, spatial_neighbors
    >>> a = spatial_neighbors(simulate_tissue("immune_excluded", 1500, seed=0), n_neighbors=8)
    >>> infiltration(a, "cell_type", tumour=["tumour"], immune=["immune"]).category
    'excluded'
    """
    cats = labels_of(adata, label_key, source=source)
    for name, group in (("tumour", tumour), ("immune", immune)):
        missing = [g for g in group if g not in set(cats.categories)]
        if not group or missing:
            raise InputError(
                f"{name} label(s) {missing or '(none)'} not in .obs[{label_key!r}]",
                source=source, column=label_key,
                fix=f"pass {name} labels among {list(cats.categories)[:8]}",
            )  # fmt: skip
    labels = np.asarray(cats.astype(str))
    is_t = np.isin(labels, list(tumour))
    is_i = np.isin(labels, list(immune))
    conn = graph(adata, source=source)
    n_nb = np.maximum(np.asarray(conn.sum(axis=1)).ravel(), 1)
    frac_t = np.asarray(conn @ is_t.astype(float)).ravel() / n_nb
    compartment = np.where(frac_t >= tumour_majority, "tumour",
                           np.where(frac_t > 0, "margin", "stroma"))  # fmt: skip
    adata.obs[key_added] = pd.Categorical(compartment, categories=["tumour", "margin", "stroma"])
    in_t, in_m = compartment == "tumour", compartment == "margin"
    n_it = int((is_i & in_t).sum())
    n_im = int((is_i & in_m).sum())
    n_t, n_i = int(is_t.sum()), int(is_i.sum())
    dens_t = n_it / max(int(in_t.sum()), 1)
    dens_m = n_im / max(int(in_m.sum()), 1)
    score = dens_t / dens_m if dens_m > 0 else (float("inf") if dens_t > 0 else float("nan"))
    ratio = n_i / n_t if n_t else float("nan")
    if n_t == 0 or ratio < desert_ratio or n_it + n_im == 0:
        category = "desert"
    else:
        category = "infiltrated" if score >= threshold else "excluded"
    return Infiltration(float(score), category, n_t, n_i, n_it, n_im, float(ratio))


def niches(
    adata: AnnData,
    label_key: str,
    *,
    n_niches: int | None = None,
    max_niches: int = 8,
    key_added: str = "niche",
    seed: int | None = 0,
    source: str = "adata",
) -> AnnData:
    """Niches: k-means clusters of neighbourhood compositions (``.obs[key_added]``).

    With ``n_niches`` None, k in 2..``max_niches`` is chosen by silhouette on a subsample of at
    most 5,000 cells. Niche names ``N1, N2...`` go by size; ``.uns[key_added]`` holds each
    niche's mean composition.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue, spatial_neighbors
    >>> a = spatial_neighbors(simulate_tissue("segregated", 500, seed=0), n_neighbors=8)
    >>> a = niches(a, "cell_type", n_niches=3)
    >>> sorted(a.obs["niche"].cat.categories)
    ['N1', 'N2', 'N3']
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from ithkit._clustering import choose_k_by_silhouette

    cats = labels_of(adata, label_key, source=source)
    k = len(cats.categories)
    counts = composition(graph(adata, source=source), cats.codes, k)
    props = counts / counts.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(props), size=min(len(props), 5000), replace=False)
    options = [n_niches] if n_niches else list(range(2, max_niches + 1))
    options = [c for c in options if c < len(sample)] or [1]
    models: dict[int, KMeans] = {}

    def labels_for(c: int) -> np.ndarray:
        with threadpool_limits(limits=1):
            models[c] = KMeans(n_clusters=c, n_init=3, random_state=seed).fit(props[sample])
        return np.asarray(models[c].labels_)

    if len(options) == 1:
        labels_for(options[0])
        chosen = options[0]
    else:  # a larger number of niches must gain 0.01 of silhouette
        pick = choose_k_by_silhouette(props[sample], options, labels_for, min_gain=0.01)
        chosen = pick.k if pick.k is not None else options[0]
    model = models[chosen]
    with threadpool_limits(limits=1):
        assign = model.predict(props)
    sizes = np.bincount(assign, minlength=model.n_clusters)
    order = np.argsort(-sizes, kind="stable")
    rename = {int(old): f"N{i + 1}" for i, old in enumerate(order)}
    names = np.array([rename[int(v)] for v in assign])
    adata.obs[key_added] = pd.Categorical(names, categories=[rename[int(o)] for o in order])
    adata.uns[key_added] = pd.DataFrame(props, columns=list(cats.categories)).groupby(names).mean()
    return adata


def compare_regions(
    adata: AnnData,
    label_key: str,
    region_key: str,
    *,
    diversity_key: str = "local_shannon",
    source: str = "adata",
) -> pd.DataFrame:
    """Heterogeneity per region (e.g. core vs invasive front): composition and diversity.

    Returns
    -------
    pandas.DataFrame
        ``region, metric, value``: ``n_cells``, ``shannon`` and ``simpson`` of the region's label
        fractions, ``mean_<diversity_key>`` when present, and ``fraction:<label>`` per label.

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue
    >>> a = simulate_tissue("immune_excluded", 600, seed=0)
    >>> t = compare_regions(a, "cell_type", "region")
    >>> sorted(t["region"].unique())
    ['core', 'front', 'stroma']
    """
    cats = labels_of(adata, label_key, source=source)
    regions = labels_of(adata, region_key, source=source)
    rows = []
    for reg in regions.categories:
        sel = np.asarray(regions == reg)
        sub = np.asarray(cats)[sel]
        sh, si, _ = global_diversity(sub)
        rows += [(reg, "n_cells", float(sel.sum())), (reg, "shannon", sh), (reg, "simpson", si)]
        if diversity_key in adata.obs.columns:
            rows.append((reg, f"mean_{diversity_key}",
                         float(adata.obs[diversity_key].to_numpy()[sel].mean())))  # fmt: skip
        frac = pd.Series(sub).value_counts(normalize=True)
        rows += [(reg, f"fraction:{c}", float(frac.get(c, 0.0))) for c in cats.categories]
    return pd.DataFrame(rows, columns=["region", "metric", "value"])
