"""The ctDNA analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Track the patient's ctDNA; with RECIST, the lead time of molecular over RECIST
    progression.

    Clones (and truncal mutations) come in memory from this run's genomic result when the
    ctDNA series has no ``clone_id``; RECIST timepoints from this run's response result.
    Files go to ``out_dir/liquid/``. ``seed`` is unused (nothing is random).
    """
    from ithkit.io import write_table
    from ithkit.liquid import lead_time, track_ctdna
    from ithkit.report.liquid import liquid_section

    assert data.ctdna is not None
    genomic = results.get("genomic")
    has_ids = "clone_id" in data.ctdna.columns and data.ctdna["clone_id"].notna().any()
    clones = None
    if genomic is not None and not has_ids:
        clones = genomic.mutations[["mutation_id", "clone_id", "class"]]
    result = track_ctdna(data.ctdna, clones=clones)
    out = Path(out_dir) / "liquid"
    result.write(out)
    tables = {
        _names.LIQUID_TIMEPOINTS: result.timepoints,
        _names.LIQUID_VARIANTS: result.variants,
        _names.LIQUID_PROGRESSION: result.progression,
    }
    if len(result.clones):
        tables[_names.LIQUID_CLONES] = result.clones
    lead = None
    events: dict[str, pd.Timestamp] = {}
    first = result.timepoints["date"].dropna()
    if len(first):
        events["therapy start"] = first.min()
    rec = results.get("response")
    if rec is not None:
        lead = lead_time(result, rec.timepoints)
        write_table(lead, out / "lead_time.tsv")
        tables[_names.LIQUID_LEAD_TIME] = lead
        if len(lead) and not pd.isna(lead["recist_progression_date"].iloc[0]):
            events["RECIST PD"] = lead["recist_progression_date"].iloc[0]
    m = result.progression["molecular_progression_date"].dropna()
    if len(m):
        events["molecular progression"] = m.iloc[0]
    e = pd.to_datetime(result.emerging["date"]).dropna()
    if len(e):
        events["emerging resistant variant"] = e.min()
    return AnalysisOutput(
        result=result,
        tables=tables,
        sections=[liquid_section(result, lead=lead, events=events)],
        profile=liquid_profile(result, lead),
    )


def liquid_profile(result: Any, lead: pd.DataFrame | None) -> list[ProfileScore]:
    """Molecular response at the last draw, emerging variants, and the lead time."""
    tps = result.timepoints.sort_values("timepoint")
    last = tps.iloc[-1]
    out = [
        ProfileScore("molecular_response", str(last["molecular_response"]), "category",
                     "liquid/timepoints.tsv", f"last draw, timepoint {int(last['timepoint'])}"),
        ProfileScore("n_emerging_variants", int(result.emerging["mutation_id"].nunique()),
                     "variants", "liquid/emerging.tsv",
                     "subclonal variants rising >= 2x from their nadir"),
    ]  # fmt: skip
    if lead is not None and len(lead):
        days = lead["lead_time_days"].iloc[0]
        early = lead["emerging_lead_time_days"].iloc[0]
        out += [
            ProfileScore("lead_time_days", float(days) if pd.notna(days) else float("nan"),
                         "days", "liquid/lead_time.tsv",
                         "molecular progression (tumour fraction rising) before RECIST"),
            ProfileScore("emerging_lead_time_days",
                         float(early) if pd.notna(early) else float("nan"), "days",
                         "liquid/lead_time.tsv", "first emerging resistant variant before RECIST"),
        ]  # fmt: skip
    return out
