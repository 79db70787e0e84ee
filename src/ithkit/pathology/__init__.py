"""Digital pathology: biomarker and morphologic heterogeneity from cell-detection exports.

Reads QuPath "Export measurements" tables (any QuPath generation's column names) or any cell
table through a column mapping, scores a biomarker per annotation, per tile and for the slide as
QuPath does (percent positive, H-score, Allred), and measures how much it varies: spread across
regions, Ki-67 hot spot, Moran's I of the tile map, and the biopsy question (how often one core
would call the tumour differently from the whole section). Also HER2 ISH heterogeneity and the
growth-pattern mix of lung adenocarcinoma (IASLC 2020 grade, observer agreement).

Examples
--------
>>> from ithkit import pathology
>>> sim = pathology.simulate_detections(4000, seed=0)
>>> cells = pathology.read_detections(sim.table, sim.marker)
>>> scores = pathology.biomarker_scores(cells, thresholds=sim.thresholds, tumour_class="Tumor")
>>> bool(abs(scores.slide()["h_score"] - sim.truth.iloc[-1]["h_score"]) < 1e-9)
True
"""

from __future__ import annotations

from ithkit.pathology._heterogeneity import (
    HeterogeneityResult,
    biopsy_curve,
    biopsy_discordance,
    heterogeneity,
    tile_weights,
    wilson_interval,
)
from ithkit.pathology._ish import IshResult, asco_cap_group, her2_ish
from ithkit.pathology._patterns import (
    PATTERNS,
    PatternResult,
    cohen_kappa,
    fleiss_kappa,
    iaslc_grade,
    patterns,
)
from ithkit.pathology._read import read_detections, to_anndata
from ithkit.pathology._scores import (
    REGION_COLUMNS,
    BiomarkerResult,
    biomarker_scores,
    check_thresholds,
    grade_cells,
)
from ithkit.pathology._simulate import SimulatedDetections, simulate_detections

__all__ = [
    "PATTERNS",
    "REGION_COLUMNS",
    "BiomarkerResult",
    "HeterogeneityResult",
    "IshResult",
    "PatternResult",
    "SimulatedDetections",
    "asco_cap_group",
    "biomarker_scores",
    "biopsy_curve",
    "biopsy_discordance",
    "check_thresholds",
    "cohen_kappa",
    "fleiss_kappa",
    "grade_cells",
    "her2_ish",
    "heterogeneity",
    "iaslc_grade",
    "patterns",
    "read_detections",
    "simulate_detections",
    "tile_weights",
    "to_anndata",
    "wilson_interval",
]
