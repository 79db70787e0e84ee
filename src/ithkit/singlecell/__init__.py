"""Single-cell ITH: expression CNV subclones, single-cell ITH scores, single-cell DNA trees.

Works on AnnData the scverse way: functions take an AnnData and store their results in
``.obs`` / ``.obsm`` / ``.uns`` under ``key_added``. anndata (and scikit-learn) are the
``[singlecell]`` extra.

Examples
--------
>>> from ithkit import singlecell
>>> a = singlecell.simulate_scrna(600, 1200, n_subclones=2, seed=4)
>>> a = singlecell.infer_cnv(a, reference_key="cell_type", reference=["T cell", "macrophage"],
...                          window=25, step=5)
>>> len(a.uns["cnv"]["subclones"])
2
"""

from __future__ import annotations

from ithkit.io._anndata import read_h5ad
from ithkit.singlecell._chunked import CnvMemory, CnvPlan, cnv_memory, plan_cnv
from ithkit.singlecell._cnv import (
    CnvResult,
    cnv_result,
    gene_order,
    gene_positions_from_gtf,
    infer_cnv,
    smoothing_matrix,
    subclone_tree,
)
from ithkit.singlecell._ith import ith_scores, shannon, simpson
from ithkit.singlecell._scdna import MutationTree, ScdnaSimulation, mutation_tree, simulate_scdna
from ithkit.singlecell._simulate import genome_annotation, simulate_scrna

__all__ = [
    "CnvMemory",
    "CnvPlan",
    "CnvResult",
    "MutationTree",
    "ScdnaSimulation",
    "cnv_memory",
    "cnv_result",
    "gene_order",
    "gene_positions_from_gtf",
    "genome_annotation",
    "infer_cnv",
    "ith_scores",
    "mutation_tree",
    "plan_cnv",
    "read_h5ad",
    "shannon",
    "simpson",
    "simulate_scdna",
    "simulate_scrna",
    "smoothing_matrix",
    "subclone_tree",
]
