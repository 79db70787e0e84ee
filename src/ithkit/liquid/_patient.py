"""The ctDNA analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit.integrate.patient import AnalysisOutput, PatientData


def analyze_patient(data: PatientData, out_dir: Path, *, seed: int) -> AnalysisOutput | None:
    """Track the patient's ctDNA (None without ctDNA); with lesions, the lead time of
    molecular over RECIST progression.

    Clones (and the truncal mutations) come from the genomic analysis of the same run when it
    wrote ``out_dir/genomic/mutations.tsv`` and the ctDNA series has no ``clone_id``. Files go
    to ``out_dir/liquid/``. ``seed`` is unused (nothing is random).
    """
    if data.ctdna is None:
        return None
    from ithkit.io import write_table
    from ithkit.liquid import lead_time, read_clones, track_ctdna
    from ithkit.report.liquid import liquid_section

    clones = None
    genomic = Path(out_dir) / "genomic" / "mutations.tsv"
    has_ids = "clone_id" in data.ctdna.columns and data.ctdna["clone_id"].notna().any()
    if genomic.exists() and not has_ids:
        from ithkit._errors import InputError

        try:
            clones = read_clones(genomic)
        except InputError:  # the genomic module's own output: track without clones then
            clones = None
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
    if data.lesions is not None:
        from ithkit.response import recist

        rec = recist(data.lesions, on_violation="ignore")
        lead = lead_time(result, rec.timepoints)
        write_table(lead, out / "lead_time.tsv")
        tables[_names.LIQUID_LEAD_TIME] = lead
        if len(lead) and not pd.isna(lead["recist_progression_date"].iloc[0]):
            events["RECIST PD"] = lead["recist_progression_date"].iloc[0]
    m = result.progression["molecular_progression_date"].dropna()
    if len(m):
        events["molecular progression"] = m.iloc[0]
    return AnalysisOutput(
        tables=tables, sections=[liquid_section(result, lead=lead, events=events)]
    )
