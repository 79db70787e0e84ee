"""Joining modalities: one patient's analyses, ITH profile, concordance, findings and report.

``integrate`` sits above the analysis packages: its adapters (``_analyses/<module>.py``) run
each module on a patient's data and hand results to later analyses in memory.
"""

from __future__ import annotations

from ithkit.integrate.demo import run_demo
from ithkit.integrate.patient import (
    AnalysisOutput,
    PatientData,
    PatientResult,
    PatientResults,
    PatientRun,
    ProfileScore,
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
    "PatientResults",
    "PatientRun",
    "ProfileScore",
    "analyze_patient",
    "build_patient",
    "input_tables",
    "load_patient",
    "report_sections",
    "run_demo",
    "run_patient",
]
