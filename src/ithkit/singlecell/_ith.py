"""Single-cell ITH scores of one tumour: subclone and state diversity, expression distance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ithkit._diversity import shannon, simpson
from ithkit._errors import InputError
from ithkit.io._anndata import check_anndata, obs_column
from ithkit.singlecell._cnv import _lognorm_chunk
from ithkit.singlecell._data import expression_matrix

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData


def _pca(x: np.ndarray, n_pcs: int) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    centred = x - x.mean(axis=0)
    with threadpool_limits(limits=1):  # small matrix: threads only add contention
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
    k = min(n_pcs, len(s))
    return u[:, :k] * s[:k]


def _states(pcs: np.ndarray, max_states: int, seed: int | None) -> np.ndarray:
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from ithkit._clustering import choose_k_by_silhouette

    def labels_for(k: int) -> np.ndarray:
        with threadpool_limits(limits=1):
            return np.asarray(KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(pcs))

    # below a silhouette of 0.1 there is one state; a larger k must gain 0.01
    choice = choose_k_by_silhouette(
        pcs, range(2, min(max_states, len(pcs) - 1) + 1), labels_for, min_gain=0.01, floor=0.1
    )
    return choice.labels if choice.labels is not None else np.zeros(len(pcs), dtype=int)


def ith_scores(
    adata: AnnData,
    *,
    malignant_key: str = "malignant",
    subclone_key: str = "subclone",
    layer: str | None = None,
    n_sample: int = 2000,
    n_top_genes: int = 2000,
    n_pcs: int = 30,
    max_states: int = 8,
    rare_fraction: float = 0.05,
    key_added: str = "ith",
    seed: int | None = 0,
    source: str = "adata",
) -> pd.DataFrame:
    """Heterogeneity scores of the malignant cells of one tumour.

    Subclone metrics read ``.obs[subclone_key]`` (from :func:`infer_cnv`); expression metrics use
    a random subsample of at most ``n_sample`` malignant cells, so memory does not grow with the
    number of cells (no cells x cells matrix of all cells).

    Parameters
    ----------
    adata
        Cells x genes with counts (``layers['counts']`` or ``.X``) and the malignant call.
    malignant_key, subclone_key
        ``.obs`` columns of the malignant call (bool) and of the subclone.
    layer
        Expression layer to use instead of ``layers['counts']`` / ``.X``.
    n_sample
        Malignant cells subsampled for expression distances and states.
    n_top_genes, n_pcs
        Most variable genes kept, and principal components of the expression space.
    max_states
        Upper bound on transcriptional states (k-means, k chosen by silhouette).
    rare_fraction
        Subclones and states below this fraction of malignant cells are flagged as rare.
    key_added
        The metrics are also stored as a dict in ``adata.uns[key_added]``.
    seed
        Seed of the subsample and the clustering.
    source
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        ``metric, value``: ``n_cells, n_malignant, malignant_fraction, n_subclones,
        subclone_shannon, subclone_simpson, n_rare_subclones, ith_score`` (mean pairwise
        Euclidean distance among malignant cells in the first ``n_pcs`` principal components of
        log-normalised expression; Stewart et al. 2020), ``ith_correlation`` (mean 1 - Pearson
        correlation), ``n_states, state_shannon, state_simpson, n_rare_states`` and one row
        ``subclone_fraction:<id>`` / ``rare_subclone:<id>`` per subclone.

    Examples
    --------
    >>> from ithkit.singlecell import simulate_scrna
    >>> a = simulate_scrna(300, 400, n_subclones=2, seed=2)
    >>> a.obs["malignant"] = a.obs["true_malignant"]
    >>> a.obs["subclone"] = a.obs["true_subclone"]
    >>> m = ith_scores(a, n_sample=100).set_index("metric")["value"]
    >>> int(m["n_subclones"]), round(float(m["subclone_shannon"]), 1)
    (2, 0.7)
    """
    from scipy.spatial.distance import pdist

    check_anndata(adata, source=source)
    if malignant_key not in adata.obs.columns:
        raise InputError(
            f"no column {malignant_key!r} in .obs",
            source=source,
            column=malignant_key,
            fix="run `ithkit singlecell cnv` (or ithkit.singlecell.infer_cnv) first",
        )
    mal = obs_column(adata, malignant_key, source=source)
    if mal.dtype != bool:
        values = set(mal.astype(str).str.lower().unique())
        if not values <= {"true", "false", "1", "0"}:
            raise InputError(
                f".obs[{malignant_key!r}] must be boolean, has {sorted(values)[:5]}",
                source=source,
                column=malignant_key,
                fix="store True/False per cell",
            )
        mal = mal.astype(str).str.lower().isin(["true", "1"])
    malignant = mal.to_numpy(dtype=bool)
    rows: list[tuple[str, float]] = [
        ("n_cells", float(adata.n_obs)),
        ("n_malignant", float(malignant.sum())),
        ("malignant_fraction", float(malignant.mean())),
    ]
    if subclone_key in adata.obs.columns:
        sub = adata.obs[subclone_key].to_numpy()[malignant]
        sub = pd.Series(sub).dropna().astype(str)
        sub = sub[sub != ""]
        frac = sub.value_counts(normalize=True).sort_index()
        rows += [
            ("n_subclones", float(len(frac))),
            ("subclone_shannon", shannon(frac.to_numpy())),
            ("subclone_simpson", simpson(frac.to_numpy())),
            ("n_rare_subclones", float((frac < rare_fraction).sum())),
        ]
        rows += [(f"subclone_fraction:{k}", float(v)) for k, v in frac.items()]
        rows += [(f"rare_subclone:{k}", float(v)) for k, v in frac.items() if v < rare_fraction]
    idx = np.flatnonzero(malignant)
    if idx.size >= 3:
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(idx, size=min(n_sample, idx.size), replace=False))
        x, assumed = expression_matrix(adata, layer=layer, source=source)
        sub_x = _lognorm_chunk(x[pick], assumed.split(" from ")[0])
        mean = np.asarray(sub_x.mean(axis=0)).ravel()
        var = np.asarray(sub_x.multiply(sub_x).mean(axis=0)).ravel() - mean**2
        genes = np.argsort(-var)[: min(n_top_genes, int((var > 0).sum()) or 1)]
        dense = sub_x[:, np.sort(genes)].toarray().astype(np.float64)
        pcs = _pca(dense, n_pcs)
        rows.append(("ith_score", float(pdist(pcs).mean())))
        rows.append(("ith_correlation", float(pdist(dense, metric="correlation").mean())))
        states = _states(pcs, max_states, seed)
        sfrac = np.bincount(states) / len(states)
        rows += [
            ("n_states", float(len(sfrac))),
            ("state_shannon", shannon(sfrac)),
            ("state_simpson", simpson(sfrac)),
            ("n_rare_states", float((sfrac < rare_fraction).sum())),
        ]
    table = pd.DataFrame(rows, columns=["metric", "value"])
    adata.uns[key_added] = dict(zip(table["metric"], table["value"], strict=True))
    return table
