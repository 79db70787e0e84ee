"""The tabular contracts of ithkit and their validation.

Every table that enters ithkit (multi-region variants, copy-number segments, purity, lesion
measurements, ctDNA series, image manifests, patient manifests) is described here once: its
columns, their types, units and allowed values, its unique key and the checks across columns.
:func:`validate` turns a raw frame (all strings, as read from a file, or typed, as built in Python)
into a typed frame, or raises :class:`ithkit.InputError` naming the file, line, column and the fix.

Line numbers count the header as line 1, so the first data row is line 2, as in a text editor.

Examples
--------
>>> import pandas as pd
>>> from ithkit import schema
>>> raw = pd.DataFrame({"mutation_id": ["m1"], "sample_id": ["R1"], "ref_counts": ["90"],
...                     "alt_counts": ["10"], "major_cn": ["1"], "minor_cn": ["1"],
...                     "normal_cn": ["2"], "tumour_content": ["0.8"]})
>>> schema.validate(raw, schema.VARIANTS)["alt_counts"].tolist()
[10]
>>> raw.loc[0, "alt_counts"] = "-3"
>>> schema.validate(raw, schema.VARIANTS, source="v.tsv")
Traceback (most recent call last):
...
ithkit._errors.InputError: v.tsv: line 2, column alt_counts: value is -3 reads, below the ...
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ithkit._errors import IgnoredColumnsWarning, InputError

ColumnKind = Literal["id", "str", "int", "float", "bool", "date", "category"]

_ARROW_STR = pd.StringDtype("pyarrow")
_BLANK = {"", "na", "nan", "null", "none", "n/a"}
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f"}


@dataclass(frozen=True)
class Column:
    """One column of a contract.

    Parameters
    ----------
    name
        Column name as it appears in the header.
    kind
        ``id`` (string identifier, never parsed as a number), ``str``, ``int``, ``float``,
        ``bool`` (``true``/``false``), ``date`` (ISO 8601) or ``category`` (one of ``choices``).
    required
        The column must be present.
    nullable
        Blank cells are allowed (they become missing values).
    minimum, maximum
        Allowed range for numbers; ``minimum_exclusive`` makes the lower bound strict.
    choices
        Allowed values for ``category`` columns.
    unit
        Unit of the values (``"mm"``, ``"ml"``, ``"fraction 0..1"``, ...), for messages and docs.
    description
        What the column means.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    choices: tuple[str, ...] | None = None
    unit: str = ""
    description: str = ""


Check = Callable[[pd.DataFrame, str, pd.Series], None]


@dataclass(frozen=True)
class Contract:
    """A table contract: columns, unique key and cross-column checks.

    ``checks`` are functions ``check(frame, source, lines)`` run on the typed frame; ``lines``
    holds the file line number of each row. They raise :class:`InputError`.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default=())
    description: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# validation


def validate(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    source: str = "<table>",
    strict: bool = False,
    lines: pd.Series | None = None,
) -> pd.DataFrame:
    """Check ``frame`` against ``contract`` and return it typed.

    Parameters
    ----------
    frame
        The table; values may be strings (as read from a file) or already typed.
    contract
        One of the contracts of this module, e.g. :data:`VARIANTS`.
    source
        File name or parameter name used in error messages.
    strict
        If True, columns the contract does not know are an error; otherwise they are dropped
        with an :class:`ithkit.IgnoredColumnsWarning` (PyClone-VI files often carry extra columns).
    lines
        File line number of each row (defaults to row position + 2, the header being line 1).

    Returns
    -------
    pandas.DataFrame
        Columns of the contract in contract order, with dtypes: ``id``/``str``/``category`` as
        pandas strings, ``int`` as int64 (Int64 if nullable), ``float`` as float64, ``bool`` as
        bool (``boolean`` if nullable), ``date`` as datetime64.

    Raises
    ------
    ithkit.InputError
        On a missing or misspelt column, an empty table, a value of the wrong type or out of
        range, a duplicate key, or a failed cross-column check.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"expected a pandas DataFrame, got {type(frame).__name__}",
            source=source,
            fix=f"pass the {contract.name} table as a DataFrame",
        )
    frame = frame.rename(columns=lambda c: str(c).strip())
    # positions, not labels, identify rows (a concatenated frame may repeat labels)
    frame = frame.reset_index(drop=True)
    if lines is not None:
        lines = pd.Series(np.asarray(lines), index=frame.index)
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError(
            f"column {dup!r} appears twice in the header", source=source, fix="keep one of them"
        )
    _check_columns(frame, contract, source=source, strict=strict)
    if len(frame) == 0:
        raise InputError(
            f"the {contract.name} table has a header but no rows",
            source=source,
            fix="add at least one data row",
        )
    if lines is None:
        lines = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    out: dict[str, Any] = {}
    problems: list[InputError] = []
    for col in contract.columns:
        if col.name in frame.columns:
            try:
                out[col.name] = _convert(frame[col.name], col, source=source, lines=lines)
            except InputError as exc:
                # every wrong column is reported in one message, not one per run
                problems.append(exc)
    if problems:
        raise _combined(problems, source=source)
    typed = pd.DataFrame(out, index=frame.index)
    if contract.key:
        _check_unique(typed, contract.key, source=source, lines=lines)
    for check in contract.checks:
        check(typed, source, lines)
    return typed.reset_index(drop=True)


MAX_PROBLEMS = 5


def _combined(problems: list[InputError], *, source: str) -> InputError:
    """One error for several problems of a table (the first :data:`MAX_PROBLEMS` spelt out)."""
    if len(problems) == 1:
        return problems[0]
    parts = []
    for exc in problems[:MAX_PROBLEMS]:
        loc = []
        if exc.row is not None:
            loc.append(f"line {exc.row}")
        if exc.column is not None:
            loc.append(f"column {exc.column}")
        where = ", ".join(loc)
        text = exc.problem + (f" ({exc.fix})" if exc.fix else "")
        parts.append(f"[{where}] {text}" if where else text)
    more = len(problems) - MAX_PROBLEMS
    tail = f" | and {more} more problem(s)" if more > 0 else ""
    first = problems[0]
    err = InputError(
        f"{len(problems)} problems: " + " | ".join(parts) + tail,
        source=source,
        fix="fix them all, then run again",
    )
    err.row, err.column = first.row, first.column
    return err


def _check_columns(frame: pd.DataFrame, contract: Contract, *, source: str, strict: bool) -> None:
    present = [str(c) for c in frame.columns]
    known = set(contract.names)
    unknown = [c for c in present if c not in known]
    missing = [c for c in contract.required if c not in present]
    absent = [c for c in contract.names if c not in present]
    for name in unknown:
        close = difflib.get_close_matches(name, absent, n=1, cutoff=0.75)
        if not close:
            close = [c for c in absent if c.lower() == name.lower()]
        if close:
            raise InputError(
                f"unknown column {name!r}",
                source=source,
                column=name,
                fix=f"did you mean {close[0]!r}? rename the column",
            )
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
            source=source,
            fix=f"the {contract.name} table needs the columns {', '.join(contract.required)}",
        )
    if unknown:
        if strict:
            raise InputError(
                f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
                source=source,
                column=unknown[0],
                fix=f"the {contract.name} table knows only {', '.join(contract.names)}",
            )
        warnings.warn(
            f"{source}: ignoring column(s) {', '.join(unknown)} "
            f"not in the {contract.name} contract",
            IgnoredColumnsWarning,
            stacklevel=3,
        )


def _fail(
    values: pd.Series,
    bad: pd.Series,
    col: Column,
    *,
    source: str,
    lines: pd.Series,
    problem: Callable[[Any], str],
    fix: str,
) -> None:
    """Raise for the first row where ``bad`` is True, counting the others."""
    idx = bad[bad].index
    first = idx[0]
    more = len(idx) - 1
    suffix = f" (and {more} more row{'s' if more > 1 else ''})" if more else ""
    raise InputError(
        problem(values.loc[first]) + suffix,
        source=source,
        row=int(lines.loc[first]),
        column=col.name,
        fix=fix,
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Strings with whitespace stripped; missing values become ''."""
    # pyarrow-backed strings: vectorised strip, ~20x faster than Python objects
    return values.astype(_ARROW_STR).fillna("").str.strip().astype(object)


def _convert(values: pd.Series, col: Column, *, source: str, lines: pd.Series) -> pd.Series:
    unit = f" {col.unit}" if col.unit and not col.unit.startswith("fraction") else ""
    if col.kind in ("int", "float") and pd.api.types.is_numeric_dtype(values.dtype):
        if pd.api.types.is_bool_dtype(values.dtype):
            numbers = values.astype("float64")
        else:
            numbers = values.astype("float64")
        blank = numbers.isna()
    elif col.kind in ("int", "float"):
        text = _as_text(values)
        blank = text.str.lower().isin(_BLANK)
        numbers = pd.to_numeric(text.where(~blank, None), errors="coerce").astype("float64")
        not_number = numbers.isna() & ~blank
        if not_number.any():
            _fail(
                text,
                not_number,
                col,
                source=source,
                lines=lines,
                problem=lambda v: f"value {v!r} is not a number",
                fix=f"{col.name} must be {'a whole number' if col.kind == 'int' else 'numeric'}"
                + (f" ({col.unit})" if col.unit else "")
                + (
                    "; decimal commas? write 0.5, not 0,5 (or save the table as a ';'-separated "
                    "CSV, which ithkit reads with decimal commas)"
                    if text[not_number].str.fullmatch(r"[-+]?\d*,\d+").any()
                    else ""
                ),
            )
    else:
        numbers = None
        text = _as_text(values)
        blank = text.str.lower().isin(_BLANK) if col.kind != "id" else text.eq("")

    if blank.any() and not col.nullable:
        _fail(
            values,
            blank,
            col,
            source=source,
            lines=lines,
            problem=lambda v: "value is empty",
            fix=f"every row needs a {col.name}",
        )

    if numbers is not None:
        infinite = np.isinf(numbers) & ~blank
        if infinite.any():
            _fail(
                numbers,
                infinite,
                col,
                source=source,
                lines=lines,
                problem=lambda v: f"value is {v}",
                fix=f"{col.name} must be finite",
            )
        if col.kind == "int":
            frac = (numbers % 1 != 0) & ~blank
            if frac.any():
                _fail(
                    numbers,
                    frac,
                    col,
                    source=source,
                    lines=lines,
                    problem=lambda v: f"value {v:g} is not a whole number",
                    fix=f"{col.name} must be an integer",
                )
        if col.minimum is not None:
            low = (numbers <= col.minimum) if col.minimum_exclusive else (numbers < col.minimum)
            low &= ~blank
            if low.any():
                bound = "must be above" if col.minimum_exclusive else "below the minimum"
                _fail(
                    numbers,
                    low,
                    col,
                    source=source,
                    lines=lines,
                    problem=lambda v: (
                        f"value is {v:g}{unit}, "
                        + (
                            f"{bound} {col.minimum:g}"
                            if not col.minimum_exclusive
                            else f"it {bound} {col.minimum:g}"
                        )
                    ),
                    fix=_range_fix(col),
                )
        if col.maximum is not None:
            high = (numbers > col.maximum) & ~blank
            if high.any():
                _fail(
                    numbers,
                    high,
                    col,
                    source=source,
                    lines=lines,
                    problem=lambda v: f"value is {v:g}{unit}, above the maximum {col.maximum:g}",
                    fix=_range_fix(col, numbers),
                )
        if col.kind == "int":
            return numbers.astype("Int64") if col.nullable else numbers.astype("int64")
        return numbers

    if col.kind == "bool":
        lower = text.str.lower()
        bad = ~(lower.isin(_TRUE) | lower.isin(_FALSE) | blank)
        if bad.any():
            _fail(
                text,
                bad,
                col,
                source=source,
                lines=lines,
                problem=lambda v: f"value {v!r} is not a boolean",
                fix=f"write {col.name} as true or false",
            )
        result = lower.isin(_TRUE)
        if col.nullable:
            return result.astype("boolean").mask(blank)
        return result.astype(bool)

    if col.kind == "date":
        parsed = pd.to_datetime(text.where(~blank, None), format="ISO8601", errors="coerce")
        bad = parsed.isna() & ~blank
        if bad.any():
            _fail(
                text,
                bad,
                col,
                source=source,
                lines=lines,
                problem=lambda v: f"value {v!r} is not an ISO 8601 date",
                fix="write dates as YYYY-MM-DD",
            )
        return parsed

    if col.kind == "category":
        assert col.choices is not None
        bad = ~text.isin(col.choices) & ~blank
        if bad.any():
            _fail(
                text,
                bad,
                col,
                source=source,
                lines=lines,
                problem=lambda v: f"value {v!r} is not allowed",
                fix=f"{col.name} must be one of {', '.join(col.choices)}",
            )
    result_text = text.astype("string")
    return result_text.mask(blank)


def _range_fix(col: Column, values: pd.Series | None = None) -> str:
    low = "" if col.minimum is None else f"{'>' if col.minimum_exclusive else '>='} {col.minimum:g}"
    high = "" if col.maximum is None else f"<= {col.maximum:g}"
    rng = " and ".join(p for p in (low, high) if p)
    unit = f" ({col.unit})" if col.unit else ""
    fix = f"{col.name} must be {rng}{unit}"
    if (
        values is not None
        and col.unit.startswith("fraction")
        and col.maximum == 1
        and bool(((values > 1) & (values <= 100)).any())
        and bool((values.dropna() <= 100).all())
    ):
        # 80 for 0.8: a percentage where a fraction is expected
        fix += "; these look like percentages: divide by 100"
    return fix


def _check_unique(
    frame: pd.DataFrame, key: tuple[str, ...], *, source: str, lines: pd.Series
) -> None:
    present = [k for k in key if k in frame.columns]
    dup = frame.duplicated(subset=present, keep=False)
    if not dup.any():
        return
    later = frame.duplicated(subset=present, keep="first")
    second = later[later].index[0]
    values = tuple(frame.loc[second, k] for k in present)
    same = frame.index[dup & (frame[present] == frame.loc[second, present]).all(axis=1)]
    first = same[0]
    shown = ", ".join(f"{k}={v}" for k, v in zip(present, values, strict=True))
    raise InputError(
        f"duplicate row for ({shown}), first seen on line {int(lines.loc[first])}",
        source=source,
        row=int(lines.loc[second]),
        fix=f"keep one row per ({', '.join(present)})",
    )


# ---------------------------------------------------------------------------------------------
# cross-column checks


def _check_minor_le_major(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
    bad = frame["minor_cn"] > frame["major_cn"]
    if bad.any():
        first = bad[bad].index[0]
        raise InputError(
            f"minor_cn ({frame.loc[first, 'minor_cn']}) is larger than major_cn "
            f"({frame.loc[first, 'major_cn']})",
            source=source,
            row=int(lines.loc[first]),
            column="minor_cn",
            fix="major_cn is the larger allele copy number: swap the two values",
        )


def _check_one_purity_per_sample(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
    n = frame.groupby("sample_id")["tumour_content"].nunique()
    if (n > 1).any():
        sample = n[n > 1].index[0]
        rows = frame.index[frame["sample_id"] == sample]
        values = frame.loc[rows, "tumour_content"]
        second = rows[values.ne(values.iloc[0]).to_numpy()][0]
        raise InputError(
            f"sample {sample!r} has tumour_content {values.iloc[0]:g} and "
            f"{frame.loc[second, 'tumour_content']:g}",
            source=source,
            row=int(lines.loc[second]),
            column="tumour_content",
            fix="purity is one value per sample: use the same tumour_content on every row",
        )


def _check_alt_le_depth(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
    bad = frame["alt_counts"] > frame["depth"]
    if bad.any():
        first = bad[bad].index[0]
        raise InputError(
            f"alt_counts ({frame.loc[first, 'alt_counts']}) exceeds depth "
            f"({frame.loc[first, 'depth']})",
            source=source,
            row=int(lines.loc[first]),
            column="alt_counts",
            fix="depth is the total number of reads at the site, alt reads included",
        )


def _check_segment_bounds(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
    bad = frame["end"] < frame["start"]
    if bad.any():
        first = bad[bad].index[0]
        raise InputError(
            f"end ({frame.loc[first, 'end']}) is before start ({frame.loc[first, 'start']})",
            source=source,
            row=int(lines.loc[first]),
            column="end",
            fix="segments need start <= end (1-based, inclusive)",
        )
    _check_minor_le_major(frame, source, lines)


def _dates_in_order(group_cols: tuple[str, ...]) -> Check:
    """One date per (group, timepoint), and later timepoints never have earlier dates."""

    def check(frame: pd.DataFrame, source: str, lines: pd.Series) -> None:
        if "date" not in frame.columns or frame["date"].isna().all():
            return
        dated = frame[frame["date"].notna()]
        keys = [*group_cols, "timepoint"]
        n = dated.groupby(keys)["date"].nunique()
        if (n > 1).any():
            where = n[n > 1].index[0]
            rows = dated.index[(dated[keys] == pd.Series(where, index=keys)).all(axis=1)]
            raise InputError(
                f"timepoint {where[-1]} of {where[0]} has more than one date",
                source=source,
                row=int(lines.loc[rows[-1]]),
                column="date",
                fix="give every row of one assessment the same date",
            )
        for group, part in dated.groupby(list(group_cols)):
            per_tp = part.groupby("timepoint")["date"].first().sort_index()
            backwards = per_tp.diff().dt.days < 0
            if backwards.any():
                tp = per_tp.index[backwards.to_numpy()][0]
                row = part.index[part["timepoint"] == tp][0]
                name = group[0] if isinstance(group, tuple) else group
                raise InputError(
                    f"dates out of order for {name}: timepoint {tp} is dated "
                    f"{per_tp.loc[tp].date()}, before the previous timepoint",
                    source=source,
                    row=int(lines.loc[row]),
                    column="date",
                    fix="timepoints are numbered in date order (0 = baseline); fix the date "
                    "or the timepoint",
                )

    return check


# ---------------------------------------------------------------------------------------------
# the contracts

VARIANTS = Contract(
    name="multi-region variants",
    description="PyClone-VI input: one row per mutation x sample.",
    columns=(
        Column("mutation_id", "id", description="mutation identifier, e.g. chr7:140453136:A>T"),
        Column("sample_id", "id", description="sample (region) identifier"),
        Column("ref_counts", "int", minimum=0, unit="reads", description="reference reads"),
        Column("alt_counts", "int", minimum=0, unit="reads", description="variant reads"),
        Column("major_cn", "int", minimum=1, unit="copies", description="major allele copies"),
        Column("minor_cn", "int", minimum=0, unit="copies", description="minor allele copies"),
        Column("normal_cn", "int", minimum=1, unit="copies", description="copies in normal cells"),
        Column(
            "tumour_content",
            "float",
            minimum=0,
            minimum_exclusive=True,
            maximum=1,
            unit="fraction 0..1",
            description="purity of the sample",
        ),
        Column("gene", "str", required=False, nullable=True),
        Column("chrom", "id", required=False, nullable=True),
        Column("pos", "int", required=False, nullable=True, minimum=1, unit="bp"),
        Column(
            "error_rate",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            maximum=0.5,
            unit="fraction 0..1",
            description="sequencing error rate",
        ),
    ),
    key=("mutation_id", "sample_id"),
    checks=(_check_minor_le_major, _check_one_purity_per_sample),
)

SEGMENTS = Contract(
    name="copy-number segments",
    description="Allele-specific copy number per sample and segment (1-based, inclusive).",
    columns=(
        Column("sample_id", "id"),
        Column("chrom", "id"),
        Column("start", "int", minimum=1, unit="bp"),
        Column("end", "int", minimum=1, unit="bp"),
        Column("major_cn", "int", minimum=0, unit="copies"),
        Column("minor_cn", "int", minimum=0, unit="copies"),
        Column(
            "ccf",
            "float",
            required=False,
            nullable=True,
            minimum=0,
            maximum=1,
            unit="fraction 0..1",
            description="fraction of cancer cells carrying this state (1 = clonal)",
        ),
    ),
    key=("sample_id", "chrom", "start"),
    checks=(_check_segment_bounds,),
)

PURITY = Contract(
    name="purity",
    columns=(
        Column("sample_id", "id"),
        Column(
            "purity", "float", minimum=0, minimum_exclusive=True, maximum=1, unit="fraction 0..1"
        ),
        Column("ploidy", "float", required=False, nullable=True, minimum=0, unit="copies"),
    ),
    key=("sample_id",),
)

LESION_CLASSES = ("target", "non_target", "new")
LESION_STATUS = ("present", "absent", "unequivocal_progression")

LESIONS = Contract(
    name="lesion measurements",
    description="One row per lesion and assessment (timepoint 0 = baseline).",
    columns=(
        Column("patient_id", "id"),
        Column("lesion_id", "id"),
        Column("timepoint", "int", minimum=0, description="0 = baseline"),
        Column("date", "date", required=False, nullable=True),
        Column("organ", "str"),
        Column("lesion_class", "category", choices=LESION_CLASSES),
        Column("is_lymph_node", "bool"),
        Column(
            "diameter_mm",
            "float",
            nullable=True,
            minimum=0,
            unit="mm",
            description="longest diameter (short axis for lymph nodes); blank if not measured",
        ),
        Column("volume_ml", "float", required=False, nullable=True, minimum=0, unit="ml"),
        Column("status", "category", required=False, nullable=True, choices=LESION_STATUS),
    ),
    key=("patient_id", "lesion_id", "timepoint"),
    checks=(_dates_in_order(("patient_id",)),),
)

CTDNA = Contract(
    name="ctDNA series",
    description="One row per patient, blood draw (timepoint) and tracked mutation.",
    columns=(
        Column("patient_id", "id"),
        Column("timepoint", "int", minimum=0),
        Column("date", "date", required=False, nullable=True),
        Column("mutation_id", "id"),
        Column("gene", "str", nullable=True),
        Column("alt_counts", "int", minimum=0, unit="reads"),
        Column(
            "depth",
            "int",
            minimum=1,
            unit="reads",
            description="total reads at the site; 0 cannot give a VAF",
        ),
        Column("cfdna_ng_ml", "float", required=False, nullable=True, minimum=0, unit="ng/ml"),
        Column("clone_id", "id", required=False, nullable=True),
    ),
    key=("patient_id", "timepoint", "mutation_id"),
    checks=(_check_alt_le_depth, _dates_in_order(("patient_id",))),
)

IMAGES = Contract(
    name="image manifest",
    description="Image and mask paths (relative to the manifest) per lesion and timepoint.",
    columns=(
        Column("patient_id", "id"),
        Column("lesion_id", "id"),
        Column("timepoint", "int", minimum=0),
        Column("image", "str"),
        Column("mask", "str"),
        Column("label", "int", required=False, nullable=True, minimum=1),
    ),
    key=("patient_id", "lesion_id", "timepoint"),
)

CONTRACTS: Mapping[str, Contract] = {
    "variants": VARIANTS,
    "segments": SEGMENTS,
    "purity": PURITY,
    "lesions": LESIONS,
    "ctdna": CTDNA,
    "images": IMAGES,
}

# ---------------------------------------------------------------------------------------------
# plausibility beyond one cell

DIAMETER_UNITS = ("mm", "cm")


def check_diameter_units(
    frame: pd.DataFrame, *, source: str = "<lesions>", units: str = "mm", force: bool = False
) -> pd.DataFrame:
    """Convert lesion diameters to mm, refusing baselines that look like centimetres.

    RECIST 1.1 measures target lesions of at least 10 mm (15 mm short axis for nodes), so a
    patient whose baseline target diameters are all below 10 mm almost surely wrote cm.

    Parameters
    ----------
    frame
        A typed lesion table (:data:`LESIONS`).
    source
        File name for messages.
    units
        ``"mm"`` (the contract; checked) or ``"cm"`` (multiplied by 10, not checked).
    force
        Skip the check (small targets really measured in mm); callers record it in outputs.

    Returns
    -------
    pandas.DataFrame
        The table with ``diameter_mm`` in mm.

    Examples
    --------
    >>> f = pd.DataFrame({"patient_id": ["P1"], "lesion_id": ["L1"], "timepoint": [0],
    ...                   "lesion_class": ["target"], "diameter_mm": [3.2]})
    >>> check_diameter_units(f, units="cm")["diameter_mm"].tolist()
    [32.0]
    >>> check_diameter_units(f)
    Traceback (most recent call last):
    ...
    ithkit._errors.InputError: <lesions>: line 2, column diameter_mm: every baseline target ...
    """
    if units not in DIAMETER_UNITS:
        raise InputError(f"units {units!r} not known", source="--units", fix="give mm or cm")
    out = frame.copy()
    if units == "cm":
        out["diameter_mm"] = out["diameter_mm"] * 10.0
        return out
    need = {"patient_id", "timepoint", "lesion_class", "diameter_mm"}
    if force or not need <= set(out.columns):
        return out
    base = out[(out["timepoint"] == 0) & (out["lesion_class"] == "target")]
    base = base[base["diameter_mm"].notna()]
    for pid, part in base.groupby("patient_id", sort=True):
        if len(part) and bool((part["diameter_mm"] < 10).all()):
            first = part.index[0]
            values = ", ".join(f"{v:g}" for v in part["diameter_mm"].head(4))
            raise InputError(
                f"every baseline target diameter of patient {pid} is below 10 mm ({values}): "
                "are these cm?",
                source=source,
                row=int(first) + 2,
                column="diameter_mm",
                fix="multiply by 10, or pass --units cm (RECIST targets are >= 10 mm; "
                "--force keeps them as mm)",
            )
    return out


# ---------------------------------------------------------------------------------------------
# patient manifest (YAML)

MANIFEST_FILE_KEYS = (
    "variants",
    "segments",
    "purity",
    "lesions",
    "ctdna",
    "images",
    "singlecell",
    "spatial",
    "scenario",
)
# keys whose value is a mapping (settings of one modality): the sub-keys named here hold file
# paths (relative to the manifest; "*" = every sub-key is a path, e.g. one file per region).
# A new modality adds its line here and its analysis in ithkit.integrate._analyses.
MANIFEST_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "pathology": ("detections",),
    "functional": ("responses", "derivatives"),
    # one file per region (region id -> CpG-context calls, Bismark BAM, .cov or bedGraph), or
    # one path: a beta matrix with the regions as columns
    "methylation": ("*",),
    # region sample_id (variants) -> lesion_id (images): lesions both imaged and sequenced, for
    # the radiogenomics of ``ithkit run`` (a mapping with no paths)
    "lesion_regions": (),
}
# caller outputs that ``ithkit run`` converts to the variants table (ithkit.genomic.convert_vcf)
MANIFEST_CALLER_KEYS = ("vcf", "copy_number")
MANIFEST_KEYS = (
    "patient_id",
    "attributes",
    "seed",
    *MANIFEST_FILE_KEYS,
    *MANIFEST_SECTION_KEYS,
    *MANIFEST_CALLER_KEYS,
)
CN_CALLERS = ("ascat", "facets", "purple", "battenberg", "ithkit")


def validate_manifest(data: Any, *, source: str = "<manifest>") -> dict[str, Any]:
    """Check a parsed patient manifest and return it with unknown keys rejected.

    A manifest names the patient and the files of each modality it has (paths relative to the
    manifest); any modality may be absent.

    Examples
    --------
    >>> validate_manifest({"patient_id": "P1", "variants": "variants.tsv"})["patient_id"]
    'P1'
    """
    if not isinstance(data, dict):
        raise InputError(
            "the manifest is not a YAML mapping",
            source=source,
            fix="write 'patient_id: ...' and one 'modality: path' per line",
        )
    for key in data:
        if key not in MANIFEST_KEYS:
            close = difflib.get_close_matches(str(key), MANIFEST_KEYS, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"known keys: {', '.join(MANIFEST_KEYS)}"
            )
            raise InputError(f"unknown key {key!r}", source=source, column=str(key), fix=hint)
    pid = data.get("patient_id")
    if pid is None or str(pid).strip() == "":
        raise InputError(
            "patient_id is missing", source=source, fix="add a line 'patient_id: <identifier>'"
        )
    out = dict(data)
    out["patient_id"] = str(pid).strip()
    for key in MANIFEST_FILE_KEYS:
        if key in out and not isinstance(out[key], str):
            raise InputError(
                f"{key} must be a file path, got {type(out[key]).__name__}",
                source=source,
                column=key,
                fix=f"write '{key}: path/to/file' relative to the manifest",
            )
    data_keys = (*MANIFEST_FILE_KEYS, *(k for k, v in MANIFEST_SECTION_KEYS.items() if v), "vcf")
    if not any(k in out for k in data_keys):
        raise InputError(
            "the manifest names no data file",
            source=source,
            fix=f"add at least one of {', '.join(data_keys)}",
        )
    for key, paths in MANIFEST_SECTION_KEYS.items():
        value = out.get(key)
        if value is None or (paths and isinstance(value, str)):
            continue
        if not paths and not isinstance(value, dict):
            raise InputError(
                f"{key} must be a mapping, got {type(value).__name__}",
                source=source,
                column=key,
                fix=f"write '{key}:' with indented 'REGION: LESION' lines",
            )
        if not isinstance(value, dict):
            raise InputError(
                f"{key} must be a file path or a mapping, got {type(value).__name__}",
                source=source,
                column=key,
                fix=f"write '{key}: path/to/file' or '{key}:' with indented 'name: value' lines",
            )
        for sub, v in value.items():
            if ("*" in paths or sub in paths) and not isinstance(v, str):
                raise InputError(
                    f"{key}.{sub} must be a file path, got {type(v).__name__}",
                    source=source,
                    column=f"{key}.{sub}",
                    fix="paths are written relative to the manifest",
                )
    if "seed" in out:
        seed = out["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(
                f"seed must be an integer >= 0, got {seed!r}",
                source=source,
                column="seed",
                fix="write e.g. 'seed: 7' (or remove the line)",
            )
    _validate_caller_keys(out, source)
    attrs = out.get("attributes", {})
    if not isinstance(attrs, dict):
        raise InputError(
            "attributes must be a mapping",
            source=source,
            column="attributes",
            fix="e.g. 'attributes: {age: 61}'",
        )
    return out


def _validate_caller_keys(out: dict[str, Any], source: str) -> None:
    """Bring ``vcf`` and ``copy_number`` to one shape (paths still relative), or raise.

    ``vcf`` -> ``{"paths": [...], "normal": str | None, "samples": {VCFNAME: REGION},
    "pass_only": bool}``; ``copy_number`` -> ``{"files": [{"caller", "path", "sample_id"}],
    "purity": [{"path", "sample_id"}]}``.
    """
    if "copy_number" in out and "vcf" not in out:
        raise InputError(
            "copy_number without vcf",
            source=source,
            column="copy_number",
            fix="copy_number gives the copy number of the mutations of 'vcf': add the VCF",
        )
    if "vcf" not in out:
        return
    if "variants" in out:
        raise InputError(
            "both variants and vcf",
            source=source,
            column="vcf",
            fix="give the mutations once: the variants table or the caller's VCF",
        )
    vcf = out["vcf"]
    if isinstance(vcf, (str, list)):
        vcf = {"path": vcf}
    if not isinstance(vcf, dict):
        raise InputError(
            f"vcf must be a path or a mapping, got {type(vcf).__name__}",
            source=source,
            column="vcf",
            fix="write 'vcf: calls.vcf.gz' or 'vcf: {path: calls.vcf.gz, normal: NORMAL}'",
        )
    unknown = set(vcf) - {"path", "normal", "samples", "all_filters"}
    if unknown:
        raise InputError(
            f"unknown vcf key(s) {', '.join(sorted(map(str, unknown)))}",
            source=source,
            column="vcf",
            fix="vcf knows path, normal, samples (VCFNAME: REGION) and all_filters",
        )
    paths = vcf.get("path")
    paths = [paths] if isinstance(paths, str) else paths
    if not paths or not all(isinstance(p, str) for p in paths):
        raise InputError(
            "vcf has no path", source=source, column="vcf", fix="add 'path: calls.vcf.gz'"
        )
    samples = vcf.get("samples", {}) or {}
    if not isinstance(samples, dict):
        raise InputError(
            "vcf samples must be a mapping",
            source=source,
            column="vcf",
            fix="write 'samples: {TUMOR_A: R1, TUMOR_B: R2}'",
        )
    normal = vcf.get("normal")
    out["vcf"] = {
        "paths": list(paths),
        "normal": None if normal is None else str(normal),
        "samples": {str(k): str(v) for k, v in samples.items()},
        "pass_only": not bool(vcf.get("all_filters", False)),
    }
    files: list[dict[str, Any]] = []
    purity: list[dict[str, Any]] = []
    entries = out.get("copy_number", [])
    for entry in entries if isinstance(entries, list) else [entries]:
        _copy_number_entry(entry, files, purity, source)
    out["copy_number"] = {"files": files, "purity": purity}
    if not purity and "purity" not in out:
        raise InputError(
            "vcf without purity",
            source=source,
            column="vcf",
            fix="add 'purity: purity.tsv' (sample_id, purity) or a caller's purity file under "
            "copy_number",
        )


def _copy_number_entry(
    entry: Any, files: list[dict[str, Any]], purity: list[dict[str, Any]], source: str
) -> None:
    fix = (
        "write 'copy_number: ascat:segments.txt' or 'copy_number: {caller: battenberg, files: "
        "{R1: R1_subclones.txt}, purity: {R1: R1_rho_and_psi.txt}}'"
    )
    if isinstance(entry, str):
        caller, sep, rest = entry.partition(":")
        head, eq, tail = rest.partition("=")
        sample, path = (head.strip(), tail.strip()) if eq and "/" not in head else (None, rest)
        entry = {"caller": caller, "path": path.strip(), "sample": sample} if sep else None
    if not isinstance(entry, dict):
        raise InputError("copy_number entry not understood", source=source,
                         column="copy_number", fix=fix)  # fmt: skip
    unknown = set(entry) - {"caller", "path", "files", "sample", "purity"}
    if unknown:
        raise InputError(
            f"unknown copy_number key(s) {', '.join(sorted(map(str, unknown)))}",
            source=source,
            column="copy_number",
            fix=fix,
        )
    caller = str(entry.get("caller", "")).strip().lower()
    if caller not in CN_CALLERS:
        raise InputError(
            f"copy_number caller {entry.get('caller')!r} is not known",
            source=source,
            column="copy_number",
            fix=f"caller is one of {', '.join(CN_CALLERS)}",
        )
    given = entry.get("files", {})
    if not isinstance(given, dict):
        raise InputError("copy_number files must map sample: path", source=source,
                         column="copy_number", fix=fix)  # fmt: skip
    pairs: list[tuple[str | None, Any]] = [(str(k), v) for k, v in given.items()]
    if entry.get("path"):
        pairs.append((entry.get("sample"), entry["path"]))
    if not pairs or not all(isinstance(v, str) and v for _, v in pairs):
        raise InputError("copy_number has no file", source=source, column="copy_number", fix=fix)
    files += [{"caller": caller, "path": v, "sample_id": k} for k, v in pairs]
    pur = entry.get("purity")
    if isinstance(pur, str):
        purity.append({"path": pur, "sample_id": None})
    elif isinstance(pur, dict):
        purity += [{"path": str(v), "sample_id": str(k)} for k, v in pur.items()]
    elif pur is not None:
        raise InputError("copy_number purity must be a path or sample: path", source=source,
                         column="copy_number", fix=fix)  # fmt: skip


def describe(contract: Contract) -> pd.DataFrame:
    """A table documenting a contract (column, type, required, unit, allowed values, meaning).

    Examples
    --------
    >>> describe(VARIANTS).loc[0, "column"]
    'mutation_id'
    """
    rows = []
    for c in contract.columns:
        allowed = ""
        if c.choices:
            allowed = "|".join(c.choices)
        elif c.minimum is not None or c.maximum is not None:
            allowed = _range_fix(c).split(" must be ", 1)[1]
        rows.append(
            {
                "column": c.name,
                "type": c.kind,
                "required": c.required,
                "unit": c.unit,
                "allowed": allowed,
                "description": c.description,
            }
        )
    return pd.DataFrame(rows)


def contracts_markdown() -> str:
    """Markdown documentation of every contract (the text of ``docs/contracts.md``)."""
    parts = [
        "# Data contracts\n",
        "Generated from `ithkit.schema` by `python -m ithkit.schema > docs/contracts.md`; a test "
        "keeps this file in sync. Line numbers in error messages count the header as line 1.\n",
    ]
    for key, contract in CONTRACTS.items():
        parts.append(f"\n## {contract.name} (`{key}`)\n")
        if contract.description:
            parts.append(f"\n{contract.description}\n")
        if contract.key:
            parts.append(f"\nUnique key: `{', '.join(contract.key)}`.\n")
        table = describe(contract)
        parts.append("\n| column | type | required | unit | allowed | description |\n")
        parts.append("|---|---|---|---|---|---|\n")
        for row in table.itertuples(index=False):
            req = "yes" if row.required else "no"
            parts.append(
                f"| `{row.column}` | {row.type} | {req} | {row.unit} | {row.allowed} | "
                f"{row.description} |\n"
            )
    parts.append(
        "\n## patient manifest (YAML)\n\n"
        f"Keys: `patient_id` (required), `attributes` (mapping), and file paths relative to the "
        f"manifest for any of {', '.join(f'`{k}`' for k in MANIFEST_FILE_KEYS)}; "
        "`seed` (integer >= 0, the seed `ithkit run` uses unless `--seed` is given; "
        "`ithkit demo` writes it)"
        + "".join(
            (
                f"; `{k}` (a path or a mapping whose "
                + ("entries are paths" if "*" in v else f"{', '.join(v)} are paths")
                + ")"
                if v
                else f"; `{k}` (a mapping, no paths)"
            )
            for k, v in MANIFEST_SECTION_KEYS.items()
        )
        + ".\n"
        "\n`lesion_regions` maps each sequenced region (the variants' `sample_id`) to the imaged "
        "lesion it was taken from (the images' `lesion_id`), e.g. `{R1: L1, R2: L1, R3: L2}`; "
        "`ithkit run` then tests the lesions' imaging features against their clones' cancer cell "
        "fractions (`imaging/radiogenomics.tsv`).\n"
        "\nInstead of `variants`, the callers' outputs, converted by `ithkit.genomic` as "
        "`ithkit genomic convert` does: `vcf` (a path, or `{path, normal, samples: {VCFNAME: "
        "REGION}, all_filters}`) and `copy_number` (`CALLER:[SAMPLE=]PATH`, or "
        "`{caller, path | files: {SAMPLE: PATH}, purity: PATH | {SAMPLE: PATH}}`, or a list of "
        f"them; callers {', '.join(f'`{c}`' for c in CN_CALLERS)}); purity from `purity` or "
        "from the callers' purity files.\n"
        "\n## patient ITH profile (`profile.tsv`, store table `profiles`)\n\n"
        "Long format, one row per score: `patient_id, modality, score, value, unit, source, "
        "note`. `value` is text (a number or a category; `TRY_CAST(value AS DOUBLE)` in SQL); "
        "`source` is the output table it was read from, relative to the run folder. A "
        "modality without data has one row `score = status`, `value = not_measured`, the "
        "reason in `note`.\n"
    )
    return "".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(contracts_markdown(), end="")
