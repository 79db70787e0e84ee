"""Functional heterogeneity: dose-response fits of the samples of one tumour (organoids, PDX,
cell lines), collateral sensitivity of derived lines, and therapy design from the measurements.

Examples
--------
>>> import numpy as np
>>> from ithkit.functional import fit_ll4
>>> x = np.array([0, 0.1, 0.3, 1, 3, 10, 30.0])
>>> round(fit_ll4(x, 0.2 + 0.8 / (1 + x)).ec50, 3)
1.0
"""

from __future__ import annotations

from ithkit.functional._collateral import (
    COLLATERAL_COLUMNS,
    Collateral,
    check_derivatives,
    collateral_sensitivity,
    double_bind_pairs,
)
from ithkit.functional._design import (
    POLICY_COLUMNS,
    DoubleBindFraction,
    ScenarioDesign,
    TherapyDesign,
    design_scenario,
    design_therapy,
    double_bind_fraction,
)
from ithkit.functional._fit import FITS_COLUMNS, ResponseFits, fit_responses, gr_values
from ithkit.functional._io import read_derivatives, read_fits, read_responses, validate_responses
from ithkit.functional._ll4 import LL4Fit, absolute_ic, bootstrap_refits, fit_ll4, ll4
from ithkit.functional._monitor import MONITORING_COLUMNS, Monitoring, simulate_monitoring
from ithkit.functional._steering import (
    SteeringResult,
    absorption_matrix,
    read_landscapes,
    sswm_matrix,
    steer,
)
from ithkit.functional._synthetic import (
    DEFAULT_TRUTH,
    EXAMPLE_LANDSCAPES,
    patient_responses,
    patient_truth,
    synthetic_responses,
    write_example,
)

__all__ = [
    "COLLATERAL_COLUMNS",
    "DEFAULT_TRUTH",
    "EXAMPLE_LANDSCAPES",
    "FITS_COLUMNS",
    "MONITORING_COLUMNS",
    "POLICY_COLUMNS",
    "Collateral",
    "DoubleBindFraction",
    "LL4Fit",
    "Monitoring",
    "ResponseFits",
    "ScenarioDesign",
    "SteeringResult",
    "TherapyDesign",
    "absolute_ic",
    "absorption_matrix",
    "bootstrap_refits",
    "check_derivatives",
    "collateral_sensitivity",
    "design_scenario",
    "design_therapy",
    "double_bind_fraction",
    "double_bind_pairs",
    "fit_ll4",
    "fit_responses",
    "gr_values",
    "ll4",
    "patient_responses",
    "patient_truth",
    "read_derivatives",
    "read_fits",
    "read_landscapes",
    "read_responses",
    "simulate_monitoring",
    "sswm_matrix",
    "steer",
    "synthetic_responses",
    "validate_responses",
    "write_example",
]
