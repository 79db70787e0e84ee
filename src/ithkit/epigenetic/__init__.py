"""Epigenetic heterogeneity: read-level methylation diversity within a sample (PDR,
epipolymorphism, methylation entropy, MHL, FDRP/qFDRP) and methylation ITH across regions.
"""

from __future__ import annotations

from ithkit.epigenetic._io import (
    CallBatch,
    iter_bam_calls,
    iter_bismark_calls,
    iter_calls,
    read_beta_matrix,
    read_calls,
    read_coverage,
)
from ithkit.epigenetic._readlevel import (
    LOCI_COLUMNS,
    LOCI_DETAIL_COLUMNS,
    SUMMARY_COLUMNS,
    ReadLevelResult,
    locus_metrics,
    mhl_weights,
    read_heterogeneity,
)

__all__ = [
    "LOCI_COLUMNS",
    "LOCI_DETAIL_COLUMNS",
    "SUMMARY_COLUMNS",
    "CallBatch",
    "ReadLevelResult",
    "iter_bam_calls",
    "iter_bismark_calls",
    "iter_calls",
    "locus_metrics",
    "mhl_weights",
    "read_beta_matrix",
    "read_calls",
    "read_coverage",
    "read_heterogeneity",
]
