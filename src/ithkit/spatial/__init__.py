"""Spatial ITH: local diversity, autocorrelation, neighbourhood enrichment, infiltration, niches.

Works on AnnData with coordinates in ``.obsm['spatial']`` and a cell type or clone label in an
``.obs`` column; results go to ``.obs`` / ``.obsp`` / ``.uns`` under squidpy's key names where
squidpy has one. anndata is the ``[singlecell]`` extra.

Examples
--------
>>> from ithkit import spatial
>>> a = spatial.simulate_tissue("segregated", 400, seed=0)
>>> r = spatial.heterogeneity(a, "cell_type", n_neighbors=8, n_perms=50)
>>> bool(r.metric("mean_self_enrichment_z") > 3)
True
"""

from __future__ import annotations

from ithkit.spatial._analyze import (
    SpatialResult,
    estimate_memory_mb,
    guess_labels,
    heterogeneity,
)
from ithkit.spatial._graph import neighbour_graph, spatial_neighbors
from ithkit.spatial._simulate import simulate_tissue
from ithkit.spatial._stats import (
    Autocorrelation,
    Infiltration,
    co_occurrence,
    compare_regions,
    gearys_c,
    global_diversity,
    infiltration,
    label_distances,
    local_diversity,
    local_gearys_c,
    local_morans_i,
    morans_i,
    nhood_enrichment,
    niches,
    ripley,
    spatial_autocorr,
)

__all__ = [
    "Autocorrelation",
    "Infiltration",
    "SpatialResult",
    "co_occurrence",
    "compare_regions",
    "estimate_memory_mb",
    "gearys_c",
    "global_diversity",
    "guess_labels",
    "heterogeneity",
    "infiltration",
    "label_distances",
    "local_diversity",
    "local_gearys_c",
    "local_morans_i",
    "morans_i",
    "neighbour_graph",
    "nhood_enrichment",
    "niches",
    "ripley",
    "simulate_tissue",
    "spatial_autocorr",
    "spatial_neighbors",
]
