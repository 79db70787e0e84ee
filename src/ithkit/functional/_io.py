"""Input tables of the functional module: dose responses and derivative lines."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit import schema
from ithkit._errors import IgnoredColumnsWarning, InputError
from ithkit.io import read_table

RESPONSE_MIN = -0.5
RESPONSE_MAX = 1.5
MIN_DOSES = 4


def _check_responses(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
    has_response = "response" in frame.columns and frame["response"].notna().any()
    has_counts = "count" in frame.columns and frame["count"].notna().any()
    if not has_response and not has_counts:
        raise InputError(
            "neither response nor count values",
            source=source,
            fix="give response (fraction of control) or count, count_ctrl, count_t0 (cells)",
        )
    if "response" in frame.columns:
        r = frame["response"]
        bad = r.notna() & ((r < RESPONSE_MIN) | (r > RESPONSE_MAX))
        if bad.any():
            i = bad.idxmax()
            hint = (
                "; values look like percentages: divide by 100"
                if float(np.nanmax(r.to_numpy(dtype=float))) > 10
                else ""
            )
            raise InputError(
                f"response {float(r[i]):g} is far outside 0..{RESPONSE_MAX:g}",
                source=source,
                row=int(lines[i]),
                column="response",
                fix="response is the fraction of the untreated control (1 = no effect)" + hint,
            )
    if "count" in frame.columns and "time_h" not in frame.columns:
        for col in ("count_ctrl", "count_t0"):
            if col not in frame.columns:
                raise InputError(
                    f"count is given without {col}",
                    source=source,
                    column=col,
                    fix="growth-rate metrics need count, count_ctrl and count_t0 "
                    "(or time_h for DIP rates)",
                )
    for (sample, drug), part in frame.groupby(["sample_id", "drug"], sort=False):
        doses = np.unique(part["concentration_um"].to_numpy(dtype=float))
        n_pos = int(np.sum(doses > 0))
        if n_pos < MIN_DOSES:
            i = part.index[0]
            raise InputError(
                f"sample {sample} drug {drug} has {n_pos} tested concentration(s)",
                source=source,
                row=int(lines[i]),
                column="concentration_um",
                fix=f"a dose-response fit needs at least {MIN_DOSES} concentrations above 0",
            )


RESPONSES = schema.Contract(
    name="dose responses",
    description="One row per well/replicate: a sample (organoid, PDX, cell line) under a drug "
    "at a concentration; response as a fraction of untreated control, or cell counts.",
    columns=(
        schema.Column("sample_id", "id"),
        schema.Column("drug", "id"),
        schema.Column(
            "concentration_um",
            "float",
            minimum=0,
            unit="µM",
            description="0 marks untreated-control rows",
        ),
        schema.Column(
            "response",
            "float",
            required=False,
            nullable=True,
            unit="fraction of control",
            description="viability / control",
        ),
        schema.Column(
            "count",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            unit="cells",
            description="cell count at the end of the assay",
        ),
        schema.Column(
            "count_ctrl",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            minimum_exclusive=True,
            unit="cells",
            description="untreated control count at the end of the assay",
        ),
        schema.Column(
            "count_t0",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            minimum_exclusive=True,
            unit="cells",
            description="count at the time of treatment",
        ),
        schema.Column(
            "time_h",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            unit="h",
            description="time since treatment (time courses, DIP rates)",
        ),
    ),
    checks=(_check_responses,),
)

DERIVATIVES = schema.Contract(
    name="derivative lines",
    description="Lines derived from a parent sample, e.g. made resistant to a drug.",
    columns=(
        schema.Column("sample_id", "id"),
        schema.Column("parent", "id"),
        schema.Column("selected_with", "id", description="the drug that selected the line"),
    ),
    key=("sample_id",),
)


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read and validate a dose-response table (TSV/CSV).

    Columns: ``sample_id, drug, concentration_um`` and ``response`` (fraction of untreated
    control) or ``count, count_ctrl, count_t0`` (cells); optional ``time_h``.

    Raises
    ------
    ithkit.InputError
        Negative concentrations, responses far outside 0..1.5, fewer than 4 doses, ...
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        frame = read_table(path, RESPONSES)
    return _present(frame)


def _present(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop optional columns that are entirely blank."""
    drop = [
        c
        for c in ("response", "count", "count_ctrl", "count_t0", "time_h")
        if c in frame.columns and frame[c].isna().all()
    ]
    return frame.drop(columns=drop)


def validate_responses(frame: pd.DataFrame, *, source: str = "responses") -> pd.DataFrame:
    """Validate an in-memory dose-response frame (as :func:`read_responses` does a file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        out = schema.validate(frame.reset_index(drop=True), RESPONSES, source=source)
    return _present(out)


def read_derivatives(path: str | Path) -> pd.DataFrame:
    """Read ``sample_id, parent, selected_with`` (derived lines and the drug that made them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        return read_table(path, DERIVATIVES)


FITS_REQUIRED = ("sample_id", "drug", "einf", "max_dose_um", "flat")


def read_fits(path: str | Path) -> pd.DataFrame:
    """Read a ``fits.tsv`` written by :meth:`ResponseFits.write` (for therapy design).

    Raises
    ------
    ithkit.InputError
        When the file is missing or lacks the columns of ``fits.tsv``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=p, fix="check the path")
    frame = pd.read_csv(p, sep="\t", dtype={"sample_id": str, "drug": str})
    missing = [c for c in FITS_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}",
            source=p,
            column=missing[0],
            fix="pass the fits.tsv written by ithkit functional fit",
        )
    flat = frame["flat"]
    if flat.dtype != bool:
        frame["flat"] = flat.astype(str).str.lower().eq("true")
    return frame
