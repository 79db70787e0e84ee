"""The response analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

from ithkit import _names
from ithkit.integrate.patient import AnalysisOutput, PatientData


def analyze_patient(data: PatientData, out_dir: Path, *, seed: int) -> AnalysisOutput | None:
    """RECIST 1.1 with confirmation on the patient's lesions (None without lesions).

    Files go to ``out_dir/response/``; selection-rule breaches are listed in the report
    rather than raised as warnings. ``seed`` is unused (nothing is random).
    """
    if data.lesions is None:
        return None
    from ithkit.report.response import response_section
    from ithkit.response import recist

    result = recist(data.lesions, confirm=True, on_violation="ignore")
    result.write(Path(out_dir) / "response")
    tables = {
        _names.RESPONSE_TIMEPOINTS: result.timepoints,
        _names.RESPONSE_BEST: result.best_response,
        _names.RESPONSE_LESIONS: result.lesions,
        _names.RESPONSE_MIXED: result.mixed,
    }
    if len(result.volumetric):
        tables[_names.RESPONSE_VOLUMETRIC] = result.volumetric
    return AnalysisOutput(tables=tables, sections=[response_section(result)])
