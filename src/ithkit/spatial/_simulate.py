"""Synthetic tissue sections with known spatial patterns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ithkit import _names
from ithkit.io._anndata import anndata_module

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

Pattern = Literal["random", "clustered", "segregated", "immune_excluded", "infiltrated", "desert"]
CELL_TYPES = ("tumour", "immune", "stroma")
# mean counts of a 6-marker panel per cell type (two markers each)
_PANEL = np.array([[8.0, 6, 0.5, 0.5, 1, 1], [0.5, 0.5, 8, 6, 1, 1], [1, 1, 0.5, 0.5, 8, 6]])


def _nests(rng: np.random.Generator, size: float, n: int) -> tuple[np.ndarray, float]:
    centres = rng.uniform(0.2 * size, 0.8 * size, size=(n, 2))
    return centres, 0.14 * size


def simulate_tissue(
    pattern: Pattern = "random",
    n_cells: int = 2000,
    *,
    size_um: float = 1000.0,
    seed: int | None = 0,
) -> AnnData:
    """Simulate cells on a square section with a known spatial pattern.

    Patterns:

    - ``random``: uniform positions, labels drawn independently (50% tumour, 25% immune,
      25% stroma): no enrichment, Ripley ``L - r`` ~ 0.
    - ``clustered``: positions from a Thomas cluster process (clusters of sd 15 um), labels
      independent: ``L - r`` > 0, no label enrichment.
    - ``segregated``: uniform positions, each cell labelled by its patch (random Voronoi
      patches of one type each): strong self-enrichment, low local diversity.
    - ``immune_excluded``: tumour nests in stroma; immune cells sit in a band just outside the
      nests (the margin) and hardly inside: infiltration category ``excluded``.
    - ``infiltrated``: the same nests with immune cells spread inside them: ``infiltrated``.
    - ``desert``: the same nests, immune cells almost absent: ``desert``.

    Parameters
    ----------
    pattern
        One of the patterns above.
    n_cells
        Number of cells.
    size_um
        Side of the square section (um).
    seed
        Random seed.

    Returns
    -------
    AnnData
        Sparse counts of a 6-marker panel in ``.X``, coordinates (um) in ``.obsm['spatial']``,
        ``.obs['cell_type']`` (tumour / immune / stroma) and ``.obs['region']`` (``core`` /
        ``front`` / ``stroma`` for nest patterns, ``left`` / ``right`` otherwise).

    Examples
    --------
    >>> a = simulate_tissue("immune_excluded", 300, seed=0)
    >>> a.obsm["spatial"].shape, sorted(a.obs["cell_type"].cat.categories)
    ((300, 2), ['immune', 'stroma', 'tumour'])
    """
    ad = anndata_module()
    rng = np.random.default_rng(seed)
    size = float(size_um)
    if pattern == "clustered":
        n_parents = max(1, n_cells // 40)
        parents = rng.uniform(0, size, size=(n_parents, 2))
        xy = parents[rng.integers(n_parents, size=n_cells)] + rng.normal(0, 15.0, (n_cells, 2))
        xy = np.clip(xy, 0, size)
    else:
        xy = rng.uniform(0, size, size=(n_cells, 2))
    region = np.where(xy[:, 0] < size / 2, "left", "right").astype(object)
    if pattern in ("random", "clustered"):
        labels = rng.choice(CELL_TYPES, size=n_cells, p=[0.5, 0.25, 0.25])
    elif pattern == "segregated":
        seeds = rng.uniform(0, size, size=(12, 2))
        patch_type = np.array(CELL_TYPES)[np.arange(12) % 3]
        nearest = np.argmin(((xy[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
        labels = patch_type[nearest]
    elif pattern in ("immune_excluded", "infiltrated", "desert"):
        centres, radius = _nests(rng, size, 4)
        # signed distance to the nearest nest edge (negative inside)
        depth = np.min(np.linalg.norm(xy[:, None, :] - centres[None], axis=2), axis=1) - radius
        inside = depth < 0
        band = (depth >= 0) & (depth < 0.05 * size)
        u = rng.random(n_cells)
        labels = np.full(n_cells, "stroma", dtype=object)
        if pattern == "immune_excluded":
            labels[inside] = np.where(u[inside] < 0.01, "immune", "tumour")
            labels[band] = np.where(u[band] < 0.6, "immune", "stroma")
            far = ~inside & ~band
            labels[far] = np.where(u[far] < 0.03, "immune", "stroma")
        elif pattern == "infiltrated":
            labels[inside] = np.where(u[inside] < 0.3, "immune", "tumour")
            out = ~inside
            labels[out] = np.where(u[out] < 0.1, "immune", "stroma")
        else:
            labels[inside] = "tumour"
            out = ~inside
            labels[out] = np.where(u[out] < 0.002, "immune", "stroma")
        region = np.full(n_cells, "stroma", dtype=object)
        region[depth < 0.05 * size] = "front"
        region[depth < -0.05 * size] = "core"
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    codes = pd.Categorical(labels, categories=list(CELL_TYPES)).codes
    counts = rng.poisson(_PANEL[codes]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(labels, categories=list(CELL_TYPES)),
            "region": pd.Categorical(region),
        },
        index=pd.Index([f"c{i:06d}" for i in range(n_cells)], name="cell_id"),
    )
    var = pd.DataFrame(index=["KRT8", "EPCAM", "PTPRC", "CD3E", "COL1A1", "ACTA2"])
    adata = ad.AnnData(X=sp.csr_matrix(counts), obs=obs, var=var)
    adata.obsm["spatial"] = xy
    adata.uns["simulation"] = {"pattern": pattern, "size_um": size}
    adata.uns[_names.UNS_ITHKIT] = {_names.UNS_LABEL_KEY: "cell_type"}
    return adata
