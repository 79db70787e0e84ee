"""Liquid biopsy: ctDNA VAFs with intervals, detection against the per-site error rate,
tumour fraction, molecular response, emerging resistance, clone tracking and the lead time
of molecular over RECIST progression.

Examples
--------
>>> from ithkit.evolution import virtual_patient
>>> from ithkit.liquid import track_ctdna
>>> res = track_ctdna(virtual_patient(seed=1).ctdna)
>>> sorted(res.variants["status"].unique())[:2]
['cleared', 'detected']
"""

from __future__ import annotations

from ithkit.liquid._io import read_clones, read_error_rates
from ithkit.liquid._track import (
    CHIP_GENES,
    MOLECULAR,
    STATUSES,
    LiquidResult,
    detection_p,
    lead_time,
    limit_of_detection,
    track_ctdna,
    vaf_interval,
)

__all__ = [
    "CHIP_GENES",
    "MOLECULAR",
    "STATUSES",
    "LiquidResult",
    "detection_p",
    "lead_time",
    "limit_of_detection",
    "read_clones",
    "read_error_rates",
    "track_ctdna",
    "vaf_interval",
]
