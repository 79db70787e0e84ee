"""Synthetic single-cell data with known truth: scRNA with planted arm-level copy-number events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ithkit import _names
from ithkit.io._anndata import anndata_module
from ithkit.singlecell._data import HG38_CHROMOSOMES

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

# (arm, copy number) events; the trunk is shared by every malignant cell
TRUNK_EVENTS: tuple[tuple[str, int], ...] = (("7p", 3), ("7q", 3), ("10q", 1))
SUBCLONE_EVENTS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("1q", 3), ("3p", 1)),
    (("8q", 3), ("17p", 1)),
    (("13q", 1), ("20q", 3)),
    (("5p", 3), ("9p", 1)),
    (("12p", 3), ("4q", 1)),
)
NORMAL_TYPES = ("T cell", "macrophage", "fibroblast", "epithelial")


def genome_annotation(n_genes: int, *, seed: int | None = 0) -> pd.DataFrame:
    """Gene positions spread over the hg38 chromosomes (proportional to their length).

    Returns a frame indexed by gene name with ``chromosome, start, end, arm``.

    Examples
    --------
    >>> var = genome_annotation(500)
    >>> list(var.columns), var["chromosome"].iloc[0]
    (['chromosome', 'start', 'end', 'arm'], 'chr1')
    """
    rng = np.random.default_rng(seed)
    lengths = np.array([v[0] for v in HG38_CHROMOSOMES.values()])
    per = np.maximum(1, np.round(n_genes * lengths / lengths.sum()).astype(int))
    per[np.argmax(per)] += n_genes - per.sum()
    rows = []
    for (chrom, (length, cen)), n in zip(HG38_CHROMOSOMES.items(), per, strict=True):
        starts = np.sort(rng.uniform(0.5, length - 0.5, size=n)) * 1e6
        for s in starts:
            arm = "p" if s < cen * 1e6 else "q"
            rows.append((f"chr{chrom}", int(s), int(s) + 20_000, f"{chrom}{arm}"))
    var = pd.DataFrame(rows, columns=["chromosome", "start", "end", "arm"])
    var.index = pd.Index([f"G{i:05d}" for i in range(len(var))], name="gene")
    return var


def simulate_scrna(
    n_cells: int = 1500,
    n_genes: int = 2000,
    *,
    n_subclones: int = 3,
    malignant_fraction: float = 0.6,
    subclone_weights: Sequence[float] | None = None,
    library_size: float = 3000.0,
    seed: int | None = 0,
    chunk_size: int = 5000,
) -> AnnData:
    """Simulate scRNA-seq counts of a tumour with planted arm-level gains and losses.

    Malignant cells carry trunk events (+7, -10q) and the events of their subclone; normal cells
    are T cells and macrophages (the reference) and fibroblasts and normal epithelial cells (not
    in the reference, so they must be called too). Each cell type raises its own programme of
    scattered marker genes; counts are Poisson around ``library_size * p_gene * cn / 2``.

    Parameters
    ----------
    n_cells, n_genes
        Size of the matrix.
    n_subclones
        Malignant subclones (1-5), each with two arm-level events of its own.
    malignant_fraction
        Fraction of malignant cells (0..1).
    subclone_weights
        Relative subclone sizes (default equal).
    library_size
        Mean UMIs per cell.
    seed
        Random seed.
    chunk_size
        Cells simulated at a time (bounds memory).

    Returns
    -------
    AnnData
        Sparse integer counts in ``.X`` and ``layers['counts']``; ``.var`` has ``chromosome,
        start, end, arm``; ``.obs`` has ``cell_type``, ``true_malignant``, ``true_subclone``;
        ``.uns['simulation']`` lists the planted events and the reference categories.

    Examples
    --------
    >>> a = simulate_scrna(200, 400, seed=1)
    >>> a.shape, sorted(a.obs["true_subclone"].cat.categories)
    ((200, 400), ['S1', 'S2', 'S3'])
    """
    if not 1 <= n_subclones <= len(SUBCLONE_EVENTS):
        raise ValueError(f"n_subclones must be 1..{len(SUBCLONE_EVENTS)}")
    ad = anndata_module()
    rng = np.random.default_rng(seed)
    var = genome_annotation(n_genes, seed=None if seed is None else seed + 1)
    g = len(var)
    base = rng.lognormal(0.0, 1.3, size=g)
    base /= base.sum()
    types = ("malignant", *NORMAL_TYPES)
    programmes = {t: rng.choice(g, size=max(1, g // 20), replace=False) for t in types}
    programmes["malignant"] = programmes["epithelial"]  # tumour keeps its tissue programme

    n_mal = round(n_cells * malignant_fraction)
    normal = rng.choice(NORMAL_TYPES, size=n_cells - n_mal, p=[0.35, 0.25, 0.2, 0.2])
    cell_type = np.concatenate([np.repeat("malignant", n_mal), normal])
    w = np.ones(n_subclones) if subclone_weights is None else np.asarray(subclone_weights, float)
    sub_idx = rng.choice(n_subclones, size=n_mal, p=w / w.sum())
    subclone = np.concatenate(
        [np.array([f"S{i + 1}" for i in sub_idx]), np.repeat("", len(normal))]
    )
    order = rng.permutation(n_cells)
    cell_type, subclone = cell_type[order], subclone[order]

    arms = var["arm"].to_numpy()
    factor = {t: np.ones(g) for t in types}
    for t in types:
        factor[t][programmes[t]] = 4.0
    cn_by_clone: dict[str, np.ndarray] = {}
    for i in range(n_subclones):
        cn = np.full(g, 2.0)
        for arm, c in (*TRUNK_EVENTS, *SUBCLONE_EVENTS[i]):
            cn[arms == arm] = c
        cn_by_clone[f"S{i + 1}"] = cn
    blocks = []
    for lo in range(0, n_cells, chunk_size):
        hi = min(n_cells, lo + chunk_size)
        mean = np.empty((hi - lo, g))
        for j, (t, s) in enumerate(zip(cell_type[lo:hi], subclone[lo:hi], strict=True)):
            m = base * factor[t]
            if t == "malignant":
                m = m * cn_by_clone[s] / 2.0
            mean[j] = m / m.sum()
        lib = rng.lognormal(np.log(library_size), 0.3, size=hi - lo)
        counts = rng.poisson(mean * lib[:, None]).astype(np.float32)
        blocks.append(sp.csr_matrix(counts))
    x = sp.vstack(blocks, format="csr")
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(cell_type, categories=list(types)),
            "true_malignant": cell_type == "malignant",
            "true_subclone": pd.Categorical(
                pd.Series(subclone).replace("", None),
                categories=[f"S{i + 1}" for i in range(n_subclones)],
            ),
        },
        index=pd.Index([f"cell{i:06d}" for i in range(n_cells)], name="cell_id"),
    )
    adata = ad.AnnData(X=x, obs=obs, var=var)
    adata.layers["counts"] = x.copy()
    # where ithkit run reads the normal reference (not guessed from the category names)
    adata.uns[_names.UNS_ITHKIT] = {
        _names.UNS_REFERENCE_KEY: "cell_type",
        _names.UNS_REFERENCE: ["T cell", "macrophage"],
    }
    adata.uns["simulation"] = {
        "reference_key": "cell_type",
        "reference": ["T cell", "macrophage"],
        "trunk_events": [f"{'+' if c > 2 else '-'}{a}" for a, c in TRUNK_EVENTS],
        "subclone_events": {
            f"S{i + 1}": [f"{'+' if c > 2 else '-'}{a}" for a, c in SUBCLONE_EVENTS[i]]
            for i in range(n_subclones)
        },
    }
    return adata
