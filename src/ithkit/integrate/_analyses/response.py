"""The response analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """RECIST 1.1 with confirmation on the patient's lesions.

    Files go to ``out_dir/response/``; selection-rule breaches are listed in the report
    rather than raised as warnings. ``seed`` is unused (nothing is random).
    """
    from ithkit.report.response import response_section
    from ithkit.response import recist

    assert data.lesions is not None
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
    return AnalysisOutput(
        result=result,
        tables=tables,
        sections=[response_section(result)],
        profile=response_profile(result),
    )


def response_profile(result: object) -> list[ProfileScore]:
    """Best overall response, the last visit's response pattern and its heterogeneity index."""
    best = result.best_response.iloc[0]  # type: ignore[attr-defined]
    mixed = result.mixed  # type: ignore[attr-defined]
    out = [
        ProfileScore("best_overall_response", str(best["best_overall_response"]), "category",
                     "response/best_response.tsv",
                     "confirmed" if bool(best["confirmed"]) else "unconfirmed"),
    ]  # fmt: skip
    if len(mixed):
        last = mixed.sort_values("timepoint").iloc[-1]
        tp = int(last["timepoint"])
        out += [
            ProfileScore("response_pattern", str(last["pattern"]), "category",
                         "response/mixed.tsv", f"timepoint {tp}"),
            ProfileScore("response_heterogeneity_index", float(last["heterogeneity_index"]),
                         "percentage points", "response/mixed.tsv", f"timepoint {tp}"),
        ]  # fmt: skip
    return out
