"""The report's first screen: the patient, what was measured, the findings, the concordance.

Everything shown comes from tables the analyses and :mod:`ithkit.integrate` computed
(``profile.tsv``, ``findings.tsv``, ``concordance.tsv``); nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd

from ithkit.report._render import Findings, Item, KeyValues, Section, Table, Text, human_header


def _typed(value: object) -> object:
    """A profile value as written (text) back to a number where it is one, for display."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    try:
        return float(str(value))
    except ValueError:
        return str(value)


def _score_name(score: str) -> str:
    """A profile score's name in words, without the unit (the Unit column has it)."""
    name = human_header(score)
    return name[: name.rindex(" (")] if name.endswith(")") and " (" in name else name


def first_screen(
    patient_id: str, profile: pd.DataFrame, findings: pd.DataFrame, concordance: pd.DataFrame
) -> Section:
    """The summary a tumour board reads: the patient, modalities measured or missing, the
    findings with their caveats, then the patient ITH profile.

    Parameters
    ----------
    patient_id
        The manifest's pseudonymous identifier (never a name: see
        :func:`ithkit.report.sections.patient_section`).
    profile, findings, concordance
        The tables written as ``profile.tsv``, ``findings.tsv`` and ``concordance.tsv``.
    """
    status = profile[profile["score"] == "status"]
    missing_set = set(status["modality"])
    measured = [m for m in dict.fromkeys(profile["modality"]) if m not in missing_set]
    values: dict[str, str] = {
        "Patient": patient_id,
        "Measured": ", ".join(measured) if measured else "none",
    }
    if len(status):
        values["Not measured"] = "; ".join(
            f"{r.modality} ({r.note})" if isinstance(r.note, str) and r.note else str(r.modality)
            for r in status.itertuples(index=False)
        )
    items: list[Item] = [KeyValues("Patient", values)]
    if len(findings):
        rows = [
            (str(r.finding), str(r.section), "" if pd.isna(r.caveat) else str(r.caveat))
            for r in findings.itertuples(index=False)
        ]
        items.append(Findings("Findings", rows))
    else:
        items.append(Text("No finding: too few modalities measured for any rule to apply."))
    scores = profile[profile["score"] != "status"]
    if len(scores):
        shown = pd.DataFrame(
            {
                "Modality": scores["modality"].astype(str).to_numpy(),
                "Score": [_score_name(str(v)) for v in scores["score"]],
                "Value": [_typed(v) for v in scores["value"]],
                "Unit": scores["unit"].fillna("").astype(str).to_numpy(),
                "Note": scores["note"].fillna("").astype(str).to_numpy(),
            }
        )
        items.append(
            Table(
                "Patient ITH profile",
                shown,
                "Each value is read from the output table named in profile.tsv's source column.",
                max_rows=40,
                source="profile.tsv",
            )
        )
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
               source="concordance.tsv")],
    )  # fmt: skip
