"""Tumour evolution under therapy: scenarios, ODE and stochastic engines, policies, fitting.

Virtual patients with known truth (the demo and test data generator) live here too.
"""

from __future__ import annotations

from ithkit.evolution._fit import FitResult, fit, fit_many, fit_series_file
from ithkit.evolution._lesion import lesion_scenario
from ithkit.evolution._scenario import Scenario, load_scenario
from ithkit.evolution._simulate import Comparison, Simulation, compare, simulate
from ithkit.evolution.virtual_patient import VirtualPatient, virtual_patient

__all__ = [
    "Comparison",
    "FitResult",
    "Scenario",
    "Simulation",
    "VirtualPatient",
    "compare",
    "fit",
    "fit_many",
    "fit_series_file",
    "lesion_scenario",
    "load_scenario",
    "simulate",
    "virtual_patient",
]
