"""Joining modalities: one patient's profile across data types, and the demo pipeline."""

from __future__ import annotations

from ithkit.integrate.demo import run_demo
from ithkit.integrate.patient import (
    AnalysisOutput,
    PatientData,
    PatientResult,
    PatientRun,
    analyze_patient,
    build_patient,
    input_tables,
    load_patient,
    report_sections,
    run_patient,
)

__all__ = [
    "AnalysisOutput",
    "PatientData",
    "PatientResult",
    "PatientRun",
    "analyze_patient",
    "build_patient",
    "input_tables",
    "load_patient",
    "report_sections",
    "run_demo",
    "run_patient",
]
