"""The whole spatial heterogeneity analysis of one section, as the command line runs it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._progress import stage
from ithkit.spatial._graph import labels_of, spatial_neighbors
from ithkit.spatial._stats import (
    Infiltration,
    co_occurrence,
    compare_regions,
    gearys_c,
    global_diversity,
    infiltration,
    local_diversity,
    morans_i,
    nhood_enrichment,
    niches,
    ripley,
)

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

_TUMOUR = re.compile(r"tumou?r|malignant|cancer|carcinoma|epithelial|\bck\+?|keratin", re.I)
_IMMUNE = re.compile(
    r"immune|lympho|\bt[ _-]?cells?\b|\bb[ _-]?cells?\b|\bnk\b|cd[348]|macrophage|monocyte|"
    r"dendritic|neutrophil|plasma|myeloid|treg",
    re.I,
)


def guess_labels(labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Tumour and immune labels guessed from their names (``tumour``, ``CD8 T cell``...).

    Examples
    --------
    >>> guess_labels(["Tumor", "CD8 T cell", "Fibroblast", "Macrophage"])
    (['Tumor'], ['CD8 T cell', 'Macrophage'])
    """
    tumour = [str(x) for x in labels if _TUMOUR.search(str(x))]
    immune = [str(x) for x in labels if _IMMUNE.search(str(x)) and str(x) not in tumour]
    return tumour, immune


@dataclass(frozen=True)
class SpatialResult:
    """Spatial heterogeneity of one section.

    Attributes
    ----------
    summary
        ``metric, value`` (value a number, or text for ``infiltration_category``).
    enrichment
        ``label_a, label_b, observed, expected, zscore``.
    local_diversity
        ``cell_id, shannon, simpson, rao, niche``.
    ripley
        ``label, radius, K, L, L_minus_r``.
    co_occurrence
        ``label_a, label_b, distance_min, distance_max, ratio``.
    regions
        ``region, metric, value`` (empty without a region label).
    infiltration
        The :class:`Infiltration` (None without tumour and immune labels).
    adata
        The AnnData with every result stored in it.
    """

    summary: pd.DataFrame
    enrichment: pd.DataFrame
    local_diversity: pd.DataFrame
    ripley: pd.DataFrame
    co_occurrence: pd.DataFrame
    regions: pd.DataFrame
    infiltration: Infiltration | None
    adata: Any

    def metric(self, name: str) -> Any:
        """One value of the summary."""
        return self.summary.set_index("metric").loc[name, "value"]

    def write(self, out_dir: str | Path, *, h5ad_name: str = "spatial.h5ad") -> list[Path]:
        """Write the tables (TSV) and the AnnData into ``out_dir``; returns the paths."""
        from ithkit.io import write_table
        from ithkit.io._anndata import write_h5ad

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for name, frame in (
            ("summary.tsv", self.summary),
            ("neighbourhood_enrichment.tsv", self.enrichment),
            ("local_diversity.tsv", self.local_diversity),
            ("ripley.tsv", self.ripley),
            ("co_occurrence.tsv", self.co_occurrence),
            ("regions.tsv", self.regions),
        ):
            if name == "regions.tsv" and frame.empty:
                continue
            files.append(write_table(frame, out / name))
        files.append(write_h5ad(self.adata, out / h5ad_name))
        return files


#: cells from which the command line prints a memory estimate and the steps' progress
BIG_SECTION = 50_000


def estimate_memory_mb(n_cells: int, neighbours_per_cell: float, n_labels: int) -> float:
    """About how much memory :func:`heterogeneity` adds to the loaded section, MB.

    A linear model: ~160 MB of fixed cost (numba and its compiled kernels, scikit-learn for
    the niches) plus per cell ~64 bytes per neighbour (the graph's connectivities, distances
    and the k-d tree query), 40 per label (dense compositions) and 500 for the per-cell
    tables, scores and trees. Calibrated on the command line at 100,000 cells x 10
    neighbours (305 MB measured above the data, 286 MB estimated); an estimate, printed
    before big runs so that a section that will not fit is caught before it starts.

    Examples
    --------
    >>> round(estimate_memory_mb(1_000_000, 10, 8))
    1620
    """
    per_cell = 64.0 * neighbours_per_cell + 40.0 * n_labels + 500.0
    return 160.0 + n_cells * per_cell / 1e6


def heterogeneity(
    adata: AnnData,
    label_key: str,
    *,
    radius: float | None = None,
    n_neighbors: int | None = None,
    tumour: Sequence[str] | None = None,
    immune: Sequence[str] | None = None,
    region_key: str | None = None,
    n_perms: int = 500,
    n_niches: int | None = None,
    seed: int | None = 0,
    n_jobs: int | None = None,
    spatial_key: str = "spatial",
    show_progress: bool = False,
    source: str = "adata",
) -> SpatialResult:
    """Every spatial heterogeneity statistic of one section, stored in ``adata`` and returned.

    Builds the neighbour graph (``radius`` or ``n_neighbors``, default 10 nearest neighbours),
    then local diversity, niches, neighbourhood enrichment, Moran's I and Geary's C of the local
    Shannon diversity, Ripley's K/L, co-occurrence, the immune infiltration category (tumour and
    immune labels given, or guessed from the label names) and region comparisons (when
    ``region_key`` is given, or ``.obs['region']`` exists).

    Parameters
    ----------
    adata
        Cells with coordinates in ``.obsm[spatial_key]`` and a label in ``.obs[label_key]``.
    label_key
        Cell type or clone column.
    radius, n_neighbors
        Neighbourhood: cells within ``radius`` (coordinate units) or the k nearest.
    tumour, immune
        Labels of tumour and immune cells (default: guessed from the names).
    region_key
        Region column (e.g. core / invasive front).
    n_perms
        Permutations of the enrichment test.
    n_niches
        Number of niches (default: by silhouette).
    seed
        Seed of permutations and clustering.
    n_jobs
        Threads for the neighbour search and the permutations (None: every available core;
        the result does not depend on it).
    spatial_key
        ``.obsm`` key of the coordinates.
    show_progress
        Progress bar over permutation chunks; on sections of at least 50,000 cells also one
        line per step with its time (stderr).
    source
        Name used in error messages (the file).

    Returns
    -------
    SpatialResult

    Examples
    --------
    >>> from ithkit.spatial import simulate_tissue
    >>> r = heterogeneity(simulate_tissue("immune_excluded", 800, seed=0), "cell_type",
    ...                   n_perms=50)
    >>> r.metric("infiltration_category")
    'excluded'
    """
    if radius is None and n_neighbors is None:
        n_neighbors = 10
    cats = labels_of(adata, label_key, source=source)
    if len(cats.categories) < 2:
        raise InputError(
            f".obs[{label_key!r}] has a single label", source=source, column=label_key,
            fix="spatial heterogeneity needs at least two labels",
        )  # fmt: skip
    stages = show_progress and adata.n_obs >= BIG_SECTION  # one line per step on big sections
    with stage("graph", enabled=stages):
        spatial_neighbors(adata, radius=radius, n_neighbors=n_neighbors,
                          spatial_key=spatial_key, n_jobs=n_jobs, source=source)  # fmt: skip
    with stage("diversity", enabled=stages):
        local_diversity(adata, label_key, source=source)
    with stage("niches", enabled=stages):
        niches(adata, label_key, n_niches=n_niches, seed=seed, source=source)
    enrichment = nhood_enrichment(adata, label_key, n_perms=n_perms, seed=seed, n_jobs=n_jobs,
                                  show_progress=show_progress, source=source)  # fmt: skip
    conn = adata.obsp["spatial_connectivities"]
    labels = np.asarray(cats.astype(str))
    dist = adata.uns["local_rao_distance"].to_numpy()
    g_sh, g_si, g_rao = global_diversity(labels, dist)
    rows: list[tuple[str, Any]] = [
        ("n_cells", float(adata.n_obs)),
        ("n_labels", float(len(cats.categories))),
        ("mean_neighbours", float(conn.sum() / adata.n_obs)),
        ("global_shannon", g_sh),
        ("global_simpson", g_si),
        ("global_rao", g_rao),
        ("mean_local_shannon", float(adata.obs["local_shannon"].mean())),
        ("mean_local_simpson", float(adata.obs["local_simpson"].mean())),
        ("mean_local_rao", float(adata.obs["local_rao"].mean())),
        ("local_to_global_shannon", float(adata.obs["local_shannon"].mean()) / g_sh
         if g_sh > 0 else float("nan")),
    ]  # fmt: skip
    loc = adata.obs["local_shannon"].to_numpy()
    if np.ptp(loc) > 0:
        mi, gc = morans_i(loc, conn), gearys_c(loc, conn)
        rows += [
            ("morans_i_local_shannon", mi.statistic),
            ("morans_i_local_shannon_z", mi.zscore),
            ("gearys_c_local_shannon", gc.statistic),
        ]
    for c in cats.categories:
        ind = (labels == str(c)).astype(float)
        if np.ptp(ind) > 0:
            rows.append((f"morans_i:{c}", morans_i(ind, conn).statistic))
    same = enrichment[enrichment["label_a"] == enrichment["label_b"]]
    rows.append(("mean_self_enrichment_z", float(same["zscore"].mean())))
    rows.append(("n_niches", float(adata.obs["niche"].nunique())))
    with stage("ripley", enabled=stages):
        rip = ripley(adata, label_key, spatial_key=spatial_key, source=source)
    mid = rip["radius"].unique()[len(rip["radius"].unique()) // 2]
    for _, r in rip[rip["radius"] == mid].iterrows():
        rows.append((f"ripley_L_minus_r:{r['label']}", float(r["L_minus_r"])))
    with stage("co-occurrence", enabled=stages):
        cooc = co_occurrence(adata, label_key, spatial_key=spatial_key, source=source)
    if tumour is None or immune is None:
        g_t, g_i = guess_labels(list(cats.categories))
        tumour = g_t if tumour is None else tumour
        immune = g_i if immune is None else immune
    infil = None
    if tumour and immune:
        infil = infiltration(adata, label_key, tumour=tumour, immune=immune, source=source)
        rows += [
            ("infiltration_score", infil.score),
            ("infiltration_category", infil.category),
            ("immune_per_tumour_cell", infil.immune_per_tumour),
            ("tumour_immune_enrichment_z", _pair_enrichment_z(enrichment, tumour, immune)),
        ]
    if region_key is None and "region" in adata.obs.columns and region_key != label_key:
        region_key = "region"
    regions = (
        compare_regions(adata, label_key, region_key, source=source)
        if region_key is not None
        else pd.DataFrame(columns=["region", "metric", "value"])
    )
    summary = pd.DataFrame(rows, columns=["metric", "value"])
    local = pd.DataFrame(
        {
            "cell_id": adata.obs_names.astype(str),
            "shannon": adata.obs["local_shannon"].to_numpy(),
            "simpson": adata.obs["local_simpson"].to_numpy(),
            "rao": adata.obs["local_rao"].to_numpy(),
            "niche": adata.obs["niche"].astype(str).to_numpy(),
        }
    )
    adata.uns["spatial_heterogeneity"] = {
        "label_key": label_key,
        "summary": summary.astype({"value": str}),
        "ripley": rip,
        "co_occurrence": cooc,
        "tumour_labels": list(tumour or []),
        "immune_labels": list(immune or []),
    }
    return SpatialResult(summary, enrichment, local, rip, cooc, regions, infil, adata)


def _pair_enrichment_z(
    enrichment: pd.DataFrame, first: Sequence[str], second: Sequence[str]
) -> float:
    """Mean neighbourhood-enrichment z-score of the (first, second) label pairs: > 0 when the
    two groups are neighbours more often than by chance, < 0 when they avoid each other."""
    pick = enrichment["label_a"].astype(str).isin(list(first)) & enrichment["label_b"].astype(
        str
    ).isin(list(second))
    z = pd.to_numeric(enrichment.loc[pick, "zscore"], errors="coerce").dropna()
    return float(z.mean()) if len(z) else float("nan")
