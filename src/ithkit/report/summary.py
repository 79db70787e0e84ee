"""The report's first screen: the patient, what was measured, the findings, the concordance.

Everything shown comes from tables the analyses and :mod:`ithkit.integrate` computed
(``profile.tsv``, ``findings.tsv``, ``concordance.tsv``); nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd

from ithkit.report._render import Findings, KeyValues, Section, Table, Text


def first_screen(
    patient_id: str, profile: pd.DataFrame, findings: pd.DataFrame, concordance: pd.DataFrame
) -> Section:
    """The summary a tumour board reads: modalities measured or missing and the findings.

    Parameters
    ----------
    patient_id
        The manifest's pseudonymous identifier.
    profile, findings, concordance
        The tables written as ``profile.tsv``, ``findings.tsv`` and ``concordance.tsv``.
    """
    status = profile[profile["score"] == "status"]
    measured = [m for m in dict.fromkeys(profile["modality"]) if m not in set(status["modality"])]
    missing = {str(r.modality): str(r.note) for r in status.itertuples(index=False)}
    values: dict[str, str] = {
        "Patient": patient_id,
        "Measured": ", ".join(measured) if measured else "none",
    }
    if missing:
        values["Not measured"] = ", ".join(sorted(missing))
    items: list = [KeyValues("Patient", values)]
    if len(findings):
        rows = [
            (str(r.finding), str(r.section), "" if pd.isna(r.caveat) else str(r.caveat))
            for r in findings.itertuples(index=False)
        ]
        items.append(Findings("Findings", rows))
    else:
        items.append(Text("No finding: too few modalities measured for any rule to apply."))
    return Section("summary", "Summary", items)


def concordance_section(concordance: pd.DataFrame) -> Section | None:
    """The cross-modal concordance table (None when no two modalities overlap)."""
    if not len(concordance):
        return None
    shown = concordance[["check", "subject", "observation", "concordant"]].rename(
        columns={"check": "Check", "subject": "Subject", "observation": "Observation",
                 "concordant": "Concordant"}
    )  # fmt: skip
    return Section(
        "concordance",
        "Cross-modal concordance",
        [Table("What the modalities say about the same clones, lesions and dates", shown,
               "all rows in concordance.tsv", max_rows=15)],
    )  # fmt: skip
