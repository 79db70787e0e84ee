"""Cohort tables: the clinical table, the feature table (or the store's profiles) and their join.

ithkit validates and joins; lifelines and scikit-learn do the statistics. Every problem that
would change a number is either an :class:`ithkit.InputError` naming the file, line and column,
or a note saying what was dropped and how many rows.
"""

from __future__ import annotations

import io as _io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit import _names
from ithkit._errors import InputError

# the profile table of the patient integration (issue 11): long format, one score per row
PROFILES = getattr(_names, "PROFILES", "profiles")
PROFILE_COLUMNS = ("patient_id", "modality", "score", "value", "unit", "source")

_TRUE = {"1", "true", "yes", "dead", "deceased", "event"}
_FALSE = {"0", "false", "no", "alive", "living", "censored"}
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-inf", "inf", "+inf"}


@dataclass(frozen=True)
class Table:
    """A table read as text, with the file line of every row (for error messages)."""

    frame: pd.DataFrame
    lines: np.ndarray
    source: str
    id_column: str = "patient_id"

    def line_of(self, position: int) -> int:
        """File line (header = 1) of the row at ``position``."""
        return int(self.lines[position])


def read_text_table(
    path: str | Path, *, id_column: str = "patient_id", what: str = "table"
) -> Table:
    """Read a TSV/CSV as text with an identifier column; duplicate or empty ids are errors.

    The identifier column is renamed ``patient_id``. Blank lines are skipped; line numbers in
    messages refer to the file as it is.
    """
    from ithkit.io import read_text

    p = Path(path)
    text = read_text(p)
    header = next(line for line in text.splitlines() if line.strip())
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] == ".csv":
        sep = ","
    elif suffixes and suffixes[-1] in (".tsv", ".txt", ".tab"):
        sep = "\t"
    else:
        sep = "\t" if "\t" in header else ","
    try:
        frame = pd.read_csv(
            _io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            index_col=False,
        )
    except pd.errors.ParserError as exc:
        raise InputError(
            f"cannot parse the {what} ({' '.join(str(exc).split())})",
            source=p,
            fix="every row needs as many fields as the header",
        ) from None
    lines = frame.index.to_numpy() + 2
    blank = frame.apply(lambda c: c.str.strip().eq("")).all(axis=1).to_numpy()
    frame = frame.loc[~blank].reset_index(drop=True)
    lines = lines[~blank]
    frame.columns = [str(c).strip() for c in frame.columns]
    if id_column not in frame.columns and "patient_id" in frame.columns:
        id_column = "patient_id"  # e.g. a feature table written by ithkit
    if id_column not in frame.columns:
        raise InputError(
            f"no identifier column {id_column!r} (columns: {', '.join(frame.columns)})",
            source=p,
            row=1,
            fix="name the patient column 'patient_id' or pass --id-column",
        )
    ids = frame[id_column].str.strip()
    for i, value in enumerate(ids):
        if not value:
            raise InputError(
                "empty identifier",
                source=p,
                row=int(lines[i]),
                column=id_column,
                fix="every row needs a patient identifier",
            )
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"patient {ids.iloc[i]!r} appears twice",
            source=p,
            row=int(lines[i]),
            column=id_column,
            fix="one row per patient",
        )
    frame = frame.drop(columns=[id_column]).assign(patient_id=ids.to_numpy())
    frame = frame[["patient_id", *[c for c in frame.columns if c != "patient_id"]]]
    return Table(frame, lines, str(p), id_column)


def read_clinical(path: str | Path, *, id_column: str = "patient_id") -> Table:
    """Read a clinical table (one row per patient) as text.

    Parameters
    ----------
    path
        TSV/CSV with a patient identifier column and any clinical columns
        (e.g. ``os_days, os_event, age, stage, site``).
    id_column
        Name of the identifier column (renamed ``patient_id``).

    Returns
    -------
    Table
        The text frame with file line numbers; columns are typed when they are used.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "clinical.tsv"
    >>> _ = p.write_text("patient_id\\tos_days\\tos_event\\nP1\\t100\\t1\\n")
    >>> read_clinical(p).frame.columns.tolist()
    ['patient_id', 'os_days', 'os_event']
    """
    return read_text_table(path, id_column=id_column, what="clinical table")


def _to_number(value: str) -> float:
    v = value.strip()
    if v.lower() in _MISSING:
        return math.nan
    return float(v)


def _require_column(table: Table, column: str, *, fix: str) -> None:
    """A one-line error on the header line when ``column`` is not in the table."""
    if column not in table.frame.columns:
        raise InputError(
            f"no column {column!r} (columns: {', '.join(table.frame.columns)})",
            source=table.source,
            row=1,
            fix=fix,
        )


def numeric_column(
    table: Table, column: str, *, allow_missing: bool = True, what: str = "a number"
) -> pd.Series:
    """A column as floats (NaN = missing); a non-number is an error naming its line."""
    _require_column(table, column, fix="check the column name")
    out = np.empty(len(table.frame))
    for i, value in enumerate(table.frame[column]):
        try:
            out[i] = _to_number(value)
        except ValueError:
            raise InputError(
                f"{value!r} is not {what}",
                source=table.source,
                row=table.line_of(i),
                column=column,
                fix=f"{column} must be {what} (empty or NA for missing)",
            ) from None
        if math.isnan(out[i]) and not allow_missing:
            raise InputError(
                "value is missing",
                source=table.source,
                row=table.line_of(i),
                column=column,
                fix=f"{column} needs a value in every row",
            )
    return pd.Series(out, index=table.frame.index, name=column)


def time_column(table: Table, column: str) -> pd.Series:
    """Follow-up times in days: numbers >= 0 (missing, -Inf and Inf are missing)."""
    values = numeric_column(table, column, what="a time in days")
    negative = np.flatnonzero((values < 0).to_numpy())
    if negative.size:
        i = int(negative[0])
        raise InputError(
            f"time is {values.iloc[i]:g} days, below 0",
            source=table.source,
            row=table.line_of(i),
            column=column,
            fix="follow-up times are days from the start of follow-up (>= 0); leave it empty "
            "if unknown",
        )
    if values.notna().any() and values.max() <= 1.0 and values.nunique() > 2:
        raise InputError(
            f"every time is at most {values.max():g}: these do not look like days",
            source=table.source,
            column=column,
            fix="give follow-up in days (multiply years by 365.25)",
        )
    return values


def event_column(table: Table, column: str) -> pd.Series:
    """Event indicators: 1/0, true/false (also dead/alive); anything else is an error."""
    _require_column(table, column, fix="check the event column name")
    out = np.empty(len(table.frame))
    for i, value in enumerate(table.frame[column]):
        v = value.strip().lower()
        if v in _TRUE:
            out[i] = 1.0
        elif v in _FALSE:
            out[i] = 0.0
        elif v in _MISSING:
            out[i] = math.nan
        else:
            raise InputError(
                f"event code {value!r} is not 0 or 1",
                source=table.source,
                row=table.line_of(i),
                column=column,
                fix="code the event 1 (event, e.g. death) or 0 (censored); true/false also work",
            )
    return pd.Series(out, index=table.frame.index, name=column)


def read_features(path: str | Path, *, id_column: str = "patient_id") -> pd.DataFrame:
    """Read a feature table: ``patient_id`` plus numeric columns (0/1 for binary features).

    Parameters
    ----------
    path
        TSV/CSV; empty cells and ``NA`` are missing values (reported and dropped later, never
        silently).
    id_column
        Name of the identifier column (renamed ``patient_id``).

    Returns
    -------
    pandas.DataFrame
        ``patient_id`` (text) and one float column per feature.

    Raises
    ------
    ithkit.InputError
        A non-numeric value (named by line and column), no feature column, duplicate ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "features.tsv"
    >>> _ = p.write_text("patient_id\\tmath\\tDNMT3A\\nP1\\t31.5\\t1\\nP2\\t\\t0\\n")
    >>> read_features(p)["math"].isna().tolist()
    [False, True]
    """
    table = read_text_table(path, id_column=id_column, what="feature table")
    names = [c for c in table.frame.columns if c != "patient_id"]
    if not names:
        raise InputError(
            "no feature column",
            source=path,
            row=1,
            fix="add numeric columns after patient_id (0/1 for binary features)",
        )
    out = {"patient_id": table.frame["patient_id"]}
    for name in names:
        out[name] = numeric_column(table, name, what="a number")
    return pd.DataFrame(out)


def features_from_store(
    store: str | Path,
    *,
    modalities: Sequence[str] | None = None,
    scores: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Wide feature table from the store's ``profiles`` table (one column per numeric score).

    Columns are named ``<modality>.<score>``; non-numeric scores (e.g. a best response) and
    ``status`` rows are left out and named in the notes. ``scores`` keeps only the named
    columns (``modality.score``), in that order. A patient whose modality was not
    measured has a missing value there.

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``patient_id`` + feature columns, and notes.
    """
    from ithkit.store import CohortStore

    cohort = CohortStore(store, read_only=True)
    if not Path(store).exists():
        raise InputError("cohort store not found", source=store, fix="check --store")
    if PROFILES not in cohort.tables():
        raise InputError(
            f"the store has no {PROFILES!r} table",
            source=store,
            fix="run the cohort with 'ithkit run MANIFESTS --out DIR' (it writes the ITH "
            "profile of every patient), or give --features",
        )
    long = cohort.read(PROFILES)
    missing = [c for c in ("patient_id", "modality", "score", "value") if c not in long.columns]
    if missing:
        raise InputError(
            f"the {PROFILES!r} table lacks column(s) {missing}",
            source=store,
            fix="rebuild the store with this version of ithkit",
        )
    long = long.assign(
        patient_id=long["patient_id"].astype(str),
        modality=long["modality"].astype(str),
        score=long["score"].astype(str),
    )
    if modalities is not None:
        long = long[long["modality"].isin(list(modalities))]
    notes: list[str] = []
    status = long["score"] == "status"
    long = long[~status]
    numeric = pd.to_numeric(long["value"], errors="coerce")
    text = long[numeric.isna() & long["value"].notna() & (long["value"].astype(str) != "")]
    if len(text):
        skipped = sorted(set(text["modality"] + "." + text["score"]))
        notes.append(f"non-numeric profile scores left out: {', '.join(skipped)}")
    long = long.assign(value=numeric, feature=long["modality"] + "." + long["score"])
    long = long[long["feature"].isin(set(long.loc[long["value"].notna(), "feature"]))]
    wide = long.pivot_table(
        index="patient_id", columns="feature", values="value", aggfunc="first", dropna=False
    )
    patients = sorted(set(cohort.read(PROFILES)["patient_id"].astype(str)))
    wide = wide.reindex(patients)
    wide.columns.name = None
    wide = wide.reset_index().rename(columns={"index": "patient_id"})
    if scores:
        unknown = [c for c in scores if c not in wide.columns]
        if unknown:
            available = ", ".join(c for c in wide.columns if c != "patient_id")
            raise InputError(
                f"no numeric profile score {unknown[0]!r} in the store",
                source=store,
                fix=f"choose among: {available}",
            )
        wide = wide[["patient_id", *scores]]
    if wide.shape[1] == 1:
        raise InputError(
            f"the {PROFILES!r} table has no numeric score",
            source=store,
            fix="run the analyses first, or give --features",
        )
    return wide, notes


@dataclass(frozen=True)
class Joined:
    """Clinical outcome + covariates + features of the patients in both tables."""

    data: pd.DataFrame
    features: list[str]
    covariates: list[str]
    binary: list[str]
    notes: list[str] = field(default_factory=list)


def load_inputs(
    clinical: str | Path | Table,
    *,
    features: str | Path | pd.DataFrame | None,
    store: str | Path | None,
    scores: Sequence[str] | None = None,
    id_column: str = "patient_id",
) -> tuple[Table, pd.DataFrame, str, list[str]]:
    """The clinical table and the features (a table, a frame or a store's profile scores).

    Shared by survival and prediction: exactly one of ``features`` and ``store``.

    Returns
    -------
    tuple
        ``(clinical table, features frame, where the features came from, notes)``.
    """
    if (features is None) == (store is None):
        raise InputError(
            "give exactly one of features and store",
            source="features",
            fix="--features TABLE or --store COHORT.duckdb",
        )
    table = (
        clinical if isinstance(clinical, Table) else read_clinical(clinical, id_column=id_column)
    )
    notes: list[str] = []
    if store is not None:
        frame, notes = features_from_store(store, scores=scores)
        source = str(store)
    elif isinstance(features, pd.DataFrame):
        frame, source = features, "features"
    else:
        assert features is not None
        frame, source = read_features(features, id_column=id_column), str(features)
    return table, frame, source, notes


def covariate_frame(table: Table, covariates: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Covariates as numbers; a text covariate becomes 0/1 columns ``name=level`` (first level
    is the reference)."""
    frame = pd.DataFrame(index=table.frame.index)
    names: list[str] = []
    for cov in covariates:
        if cov not in table.frame.columns:
            raise InputError(
                f"no covariate column {cov!r} (columns: {', '.join(table.frame.columns)})",
                source=table.source,
                row=1,
                fix="check --covariates",
            )
        raw = table.frame[cov].str.strip()
        missing = raw.str.lower().isin(_MISSING)
        as_num = pd.to_numeric(raw.where(~missing), errors="coerce")
        if as_num[~missing].notna().all():
            frame[cov] = as_num
            names.append(cov)
            continue
        levels = sorted(raw[~missing].unique())
        for level in levels[1:]:
            name = f"{cov}={level}"
            frame[name] = np.where(missing, np.nan, (raw == level).astype(float))
            names.append(name)
    return frame, names


def join(
    clinical: Table,
    features: pd.DataFrame,
    *,
    time: str | None = None,
    event: str | None = None,
    outcome: str | None = None,
    covariates: Sequence[str] = (),
    keep: Sequence[str] = (),
    drop_unmatched: bool = False,
    features_source: str = "features",
) -> Joined:
    """Join the clinical table and the features on ``patient_id``, validating as it goes.

    Patients present in one table only are an error naming them (or, with
    ``drop_unmatched``, dropped with a note). Rows with a missing time, event or outcome are
    dropped with a count. Missing feature values stay missing (each analysis drops them for
    the features it uses and says how many).
    """
    if features["patient_id"].duplicated().any():
        pid = features.loc[features["patient_id"].duplicated(), "patient_id"].iloc[0]
        raise InputError(
            f"patient {pid!r} appears twice",
            source=features_source,
            column="patient_id",
            fix="one row per patient",
        )
    notes: list[str] = []
    cl_ids = set(clinical.frame["patient_id"])
    ft_ids = set(features["patient_id"])
    only_cl = sorted(cl_ids - ft_ids)
    only_ft = sorted(ft_ids - cl_ids)
    for only, where, other, col in (
        (only_cl, clinical.source, features_source, clinical.id_column),
        (only_ft, features_source, clinical.source, "patient_id"),
    ):
        if not only:
            continue
        shown = ", ".join(only[:5]) + (f" and {len(only) - 5} more" if len(only) > 5 else "")
        if not drop_unmatched:
            raise InputError(
                f"{len(only)} patient(s) only in this table, not in {other}: {shown}",
                source=where,
                column=col,
                fix="check the identifiers (same spelling in both tables), or pass "
                "--drop-unmatched to analyse the patients present in both",
            )
        notes.append(f"{len(only)} patient(s) in {where} only, dropped: {shown}")
    data = pd.DataFrame({"patient_id": clinical.frame["patient_id"]})
    outcome_cols: list[str] = []
    if time is not None and event is not None:
        data["time"] = time_column(clinical, time)
        data["event"] = event_column(clinical, event)
        outcome_cols = ["time", "event"]
    if outcome is not None:
        data["outcome"] = event_column(clinical, outcome)
        outcome_cols.append("outcome")
    cov_frame, cov_names = covariate_frame(clinical, covariates)
    data = pd.concat([data, cov_frame], axis=1)
    for col in keep:
        if col not in clinical.frame.columns:
            raise InputError(
                f"no column {col!r} (columns: {', '.join(clinical.frame.columns)})",
                source=clinical.source,
                row=1,
                fix="check the column name",
            )
        data[col] = clinical.frame[col].str.strip().to_numpy()
    feature_names = [c for c in features.columns if c != "patient_id"]
    clash = [c for c in feature_names if c in data.columns]
    if clash:
        raise InputError(
            f"feature {clash[0]!r} is also a clinical column",
            source=features_source,
            column=clash[0],
            fix="rename one of them",
        )
    data = data.merge(features, on="patient_id", how="inner")
    lost = data[outcome_cols].isna().any(axis=1) if outcome_cols else pd.Series(False, data.index)
    if lost.any():
        which = ", ".join(data.loc[lost, "patient_id"].head(5))
        more = f" and {int(lost.sum()) - 5} more" if lost.sum() > 5 else ""
        notes.append(
            f"{int(lost.sum())} patient(s) with a missing "
            f"{' or '.join(c for c in (time, event, outcome) if c)} dropped: {which}{more}"
        )
        data = data.loc[~lost]
    cov_missing = data[cov_names].isna().any(axis=1) if cov_names else None
    if cov_missing is not None and cov_missing.any():
        notes.append(
            f"{int(cov_missing.sum())} patient(s) with a missing covariate dropped "
            f"({', '.join(cov_names)})"
        )
        data = data.loc[~cov_missing]
    data = data.reset_index(drop=True)
    if data.empty:
        raise InputError(
            "no patient left after joining the tables",
            source=clinical.source,
            fix="check the identifiers and the outcome columns",
        )
    binary = [
        f
        for f in feature_names
        if data[f].dropna().isin([0.0, 1.0]).all() and data[f].notna().any()
    ]
    return Joined(data, feature_names, cov_names, binary, notes)
