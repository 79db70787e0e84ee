"""Cohorts: ITH against outcome. Virtual cohorts with known truth, survival, validated prediction.

The package sits above the analysis packages: it reads a clinical table and ITH features (a
feature table, or the ``profiles`` table of a cohort store), validates and joins them, and hands
the statistics to lifelines and scikit-learn. Figures are drawn by :mod:`ithkit.report.cohort`.
"""

from __future__ import annotations

from ithkit.cohort._maf import maf_features
from ithkit.cohort._overview import CohortOverview, failed_patients, overview
from ithkit.cohort._predict import PredictionResult, predict
from ithkit.cohort._survival import SurvivalResult, survival
from ithkit.cohort._tables import features_from_store, read_clinical, read_features
from ithkit.cohort._virtual import OUTCOME_MODEL, VirtualCohort, draw_outcomes, virtual_cohort

__all__ = [
    "OUTCOME_MODEL",
    "CohortOverview",
    "PredictionResult",
    "SurvivalResult",
    "VirtualCohort",
    "draw_outcomes",
    "failed_patients",
    "features_from_store",
    "maf_features",
    "overview",
    "predict",
    "read_clinical",
    "read_features",
    "survival",
    "virtual_cohort",
]
