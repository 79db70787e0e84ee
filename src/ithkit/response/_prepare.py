"""Checks of lesion tables beyond the contract, and exact measurements (fractions of mm)."""

from __future__ import annotations

import warnings
from fractions import Fraction
from typing import Literal

import pandas as pd

from ithkit import schema
from ithkit._errors import InputError

OnViolation = Literal["warn", "error", "ignore"]


class RecistWarning(UserWarning):
    """The input breaks a RECIST 1.1 selection rule (kept as given, not guessed away)."""


def exact(value: float) -> Fraction:
    """A decimal measurement as an exact fraction (``25.2`` -> ``126/5``).

    Floats are read back through their shortest decimal representation, which is what was
    written in the file, so ``21/30`` and ``25.2/21`` compare exactly against thresholds.

    Examples
    --------
    >>> exact(25.2)
    Fraction(126, 5)
    >>> 10 * exact(21.0) <= 7 * exact(30.0)
    True
    """
    return Fraction(repr(float(value)))


def prepare_lesions(lesions: pd.DataFrame, *, source: str = "lesions") -> pd.DataFrame:
    """Validate a lesion table (:data:`ithkit.schema.LESIONS`) and the response rules on it.

    Beyond the contract (types, duplicates, dates out of order): every patient has a baseline
    (timepoint 0); every target and non-target lesion is present at baseline; a lesion keeps
    its class; no lesion is ``new`` at baseline; target lesions have a diameter above 0 at
    baseline.

    Raises
    ------
    ithkit.InputError
        Naming the patient, lesion and timepoint, and the fix.
    """
    if isinstance(lesions, pd.DataFrame):
        lesions = lesions.reset_index(drop=True)  # concatenated frames may repeat index labels
    frame = schema.validate(lesions, schema.LESIONS, source=source)
    frame = frame.sort_values(["patient_id", "timepoint", "lesion_id"], kind="stable")
    frame = frame.reset_index(drop=True)
    for pid, part in frame.groupby("patient_id", sort=False):
        if not (part["timepoint"] == 0).any():
            raise InputError(
                f"patient {pid} has no baseline assessment (timepoint 0)",
                source=source,
                column="timepoint",
                fix="number assessments from 0 (baseline) in date order",
            )
        classes = part.groupby("lesion_id")["lesion_class"].nunique()
        if (classes > 1).any():
            lid = classes[classes > 1].index[0]
            raise InputError(
                f"lesion {lid} of patient {pid} changes lesion_class over time",
                source=source,
                column="lesion_class",
                fix="a lesion keeps its class (target, non_target or new) at every assessment",
            )
        first = part.groupby("lesion_id")[["timepoint", "lesion_class"]].first()
        late = first[(first["timepoint"] > 0) & (first["lesion_class"] != "new")]
        if len(late):
            lid = late.index[0]
            raise InputError(
                f"{late.loc[lid, 'lesion_class']} lesion {lid} of patient {pid} is missing at "
                f"baseline (first seen at timepoint {late.loc[lid, 'timepoint']})",
                source=source,
                column="lesion_id",
                fix="target and non-target lesions are chosen at baseline; a lesion that "
                "appears later has lesion_class 'new'",
            )
        new0 = part[(part["timepoint"] == 0) & (part["lesion_class"] == "new")]
        if len(new0):
            raise InputError(
                f"lesion {new0['lesion_id'].iloc[0]} of patient {pid} is 'new' at baseline",
                source=source,
                column="lesion_class",
                fix="lesions present at baseline are target or non_target",
            )
        base_t = part[(part["timepoint"] == 0) & (part["lesion_class"] == "target")]
        bad = base_t[base_t["diameter_mm"].isna() | (base_t["diameter_mm"] <= 0)]
        if len(bad):
            raise InputError(
                f"target lesion {bad['lesion_id'].iloc[0]} of patient {pid} has no diameter "
                "above 0 mm at baseline",
                source=source,
                column="diameter_mm",
                fix="measure every target lesion at baseline, or make it non_target",
            )
    return frame


def selection_notes(
    frame: pd.DataFrame,
    *,
    max_targets: int,
    max_per_organ: int,
    min_measurable_mm: float,
    min_node_mm: float,
    on_violation: OnViolation,
    source: str,
) -> list[str]:
    """RECIST 1.1 target selection rules broken at baseline (section 3.2 of Eisenhauer 2009).

    Lesions are kept as given (the reader decides, ithkit does not re-select); each breach
    becomes a note, a :class:`RecistWarning` or an :class:`ithkit.InputError`.
    """
    notes: list[str] = []
    base = frame[(frame["timepoint"] == 0) & (frame["lesion_class"] == "target")]
    for pid, part in base.groupby("patient_id", sort=False):
        if len(part) > max_targets:
            notes.append(
                f"patient {pid}: {len(part)} target lesions, RECIST 1.1 allows {max_targets}"
            )
        # all lymph nodes count as one organ
        organ = part["organ"].astype(str).where(~part["is_lymph_node"], "lymph node")
        counts = organ.value_counts()
        for name, n in counts[counts > max_per_organ].items():
            notes.append(
                f"patient {pid}: {n} target lesions in {name}, RECIST 1.1 allows {max_per_organ}"
            )
        for row in part.itertuples():
            d = float(row.diameter_mm)
            if row.is_lymph_node and d < min_node_mm:
                notes.append(
                    f"patient {pid}: target node {row.lesion_id} has short axis {d:g} mm at "
                    f"baseline, below {min_node_mm:g} mm (not measurable)"
                )
            elif not row.is_lymph_node and d < min_measurable_mm:
                notes.append(
                    f"patient {pid}: target lesion {row.lesion_id} is {d:g} mm at baseline, "
                    f"below {min_measurable_mm:g} mm (not measurable)"
                )
    if notes and on_violation == "error":
        raise InputError(
            notes[0] + (f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""),
            source=source,
            fix="re-select target lesions by RECIST 1.1, or pass on_violation='warn'",
        )
    if on_violation == "warn":
        for note in notes:
            warnings.warn(f"{source}: {note}", RecistWarning, stacklevel=3)
    return notes
