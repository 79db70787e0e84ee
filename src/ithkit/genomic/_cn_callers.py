"""Copy number and purity from the files the standard callers write (ASCAT, FACETS, PURPLE,
Battenberg), read into one segment table; mutations get the state of the segment that holds them.

Every reader returns the same wide segment table (:data:`CN_COLUMNS`): ``sample_id, chrom,
start, end`` (1-based, inclusive; ``chrom`` without a ``chr`` prefix), the state used for the
mutations (``major_cn, minor_cn`` and ``ccf``, the fraction of cancer cells carrying it), a
second state where the caller reports one (Battenberg's subclonal segments: ``major_cn_2,
minor_cn_2, ccf_2``), the caller's unrounded values where it reports non-integer copy numbers
(PURPLE: ``major_cn_raw, minor_cn_raw``) and ``subclonal`` (the segment's state is carried by
fewer than ``clonal_ccf`` of the cancer cells).
"""

from __future__ import annotations

import csv
import io as _io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from ithkit import schema
from ithkit._errors import InputError

Caller = Literal["ascat", "facets", "purple", "battenberg", "ithkit"]
CALLERS: tuple[str, ...] = get_args(Caller)

CN_COLUMNS = (
    "sample_id", "chrom", "start", "end", "major_cn", "minor_cn", "ccf", "major_cn_2",
    "minor_cn_2", "ccf_2", "major_cn_raw", "minor_cn_raw", "subclonal",
)  # fmt: skip

# a segment's state is clonal when at least this fraction of the cancer cells carry it
# (TRACERx's threshold, as in ithkit.genomic.subclonal_genome_fraction)
CLONAL_CCF = 0.95

# file-name endings that carry the sample name before them
_SUFFIXES = (
    ".purple.cnv.somatic.tsv", ".purple.purity.tsv", "_subclones.txt", "_rho_and_psi.txt",
    "_cellularity_ploidy.txt", ".samplestatistics.txt", ".cncf.txt", ".cncf.tsv", "_cncf.txt",
    "_cncf.tsv", ".facets.out", "_purity.out", ".out",
)  # fmt: skip


@dataclass(frozen=True)
class CallerFile:
    """One caller output file: the caller, the path and (for single-sample files) the sample.

    Parameters
    ----------
    caller
        ``ascat``, ``facets``, ``purple``, ``battenberg`` or ``ithkit`` (the
        :data:`ithkit.schema.SEGMENTS` table).
    path
        The file.
    sample_id
        The sample the file describes, when the file does not say (FACETS without an ``ID``
        column, a PURPLE or Battenberg file whose name does not start with the sample).

    Examples
    --------
    >>> CallerFile.parse("facets:R2=R2.cncf.txt")
    CallerFile(caller='facets', path=PosixPath('R2.cncf.txt'), sample_id='R2')
    >>> CallerFile.parse("ascat:segments.txt").sample_id is None
    True
    """

    caller: str
    path: Path
    sample_id: str | None = None

    @classmethod
    def parse(cls, spec: str, *, source: str = "--cn") -> CallerFile:
        """Read ``CALLER:PATH`` or ``CALLER:SAMPLE=PATH`` (the command line's ``--cn``)."""
        caller, sep, rest = spec.partition(":")
        caller = caller.strip().lower()
        if not sep or caller not in CALLERS or not rest.strip():
            raise InputError(
                f"{spec!r} is not CALLER:PATH",
                source=source,
                fix=f"write e.g. ascat:segments.txt or facets:R1=R1.cncf.txt; callers: "
                f"{', '.join(CALLERS)}",
            )
        sample, path = _split_sample(rest)
        return cls(caller=caller, path=Path(path), sample_id=sample)


def _split_sample(text: str) -> tuple[str | None, str]:
    """``SAMPLE=PATH`` -> (SAMPLE, PATH); ``PATH`` -> (None, PATH)."""
    head, sep, tail = text.partition("=")
    if sep and head.strip() and "/" not in head and tail.strip():
        return head.strip(), tail.strip()
    return None, text.strip()


def normalise_chrom(values: pd.Series) -> pd.Series:
    """Chromosome names without ``chr``, with ``23``/``24`` as ``X``/``Y`` and ``MT`` as ``M``.

    Examples
    --------
    >>> normalise_chrom(pd.Series(["chr1", "1", "chrX", "23", "MT"])).tolist()
    ['1', '1', 'X', 'X', 'M']
    """
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
    names = pd.Series(uniques, dtype=object).str.strip()
    names = names.str.replace(r"^(?i:chr)", "", regex=True).str.upper()
    names = names.replace({"23": "X", "24": "Y", "MT": "M"}).to_numpy(dtype=object)
    return pd.Series(names[codes], index=values.index, dtype=object)  # a few dozen names: map once


def sample_from_filename(path: Path) -> str | None:
    """The sample name a caller puts before its file-name ending, or None.

    Examples
    --------
    >>> sample_from_filename(Path("out/T1.purple.cnv.somatic.tsv"))
    'T1'
    >>> sample_from_filename(Path("segments.txt")) is None
    True
    """
    name = path.name.removesuffix(".gz")
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


# ---------------------------------------------------------------------------------------------
# reading the files


def _read_delimited(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """A caller's table as text columns (lower-cased names, ``#`` and quotes dropped) and the
    file line of each row. R's ``write.table`` row names (one header field fewer) are dropped."""
    from ithkit.io import read_text

    text = read_text(path)
    lines = text.splitlines()
    start = 0
    while start < len(lines) and (
        not lines[start].strip() or lines[start].startswith("##") or lines[start].startswith("# ")
    ):
        start += 1
    if start == len(lines):
        raise InputError("no header row", source=path, fix="the file needs a header and rows")
    header = lines[start].lstrip("#")
    sep = "\t" if "\t" in header else ("," if "," in header else r"\s+")
    body = "\n".join([header, *lines[start + 1 :]])
    try:
        frame = pd.read_csv(
            _io.StringIO(body), sep=sep, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL, engine="python" if sep == r"\s+" else "c",
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            f"cannot parse the table ({' '.join(str(exc).split())})",
            source=path,
            fix="every row needs as many fields as the header",
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):  # R's row names (one header field fewer)
        frame.insert(0, "_rowname", frame.index.astype(str))
        frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip().strip('"').lower() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip().str.strip('"'))
    line_numbers = np.arange(len(frame)) + start + 2
    return frame, line_numbers


def _column(
    frame: pd.DataFrame, names: tuple[str, ...], *, source: Path, caller: str
) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def _need(frame: pd.DataFrame, names: tuple[str, ...], *, source: Path, caller: str) -> str:
    found = _column(frame, names, source=source, caller=caller)
    if found is None:
        raise InputError(
            f"no column {names[0]!r} (a {caller} file needs it)",
            source=source,
            fix=f"give the {caller} file itself; columns seen: {', '.join(frame.columns[:12])}",
        )
    return found


def _numbers(
    frame: pd.DataFrame, column: str, lines: np.ndarray, *, source: Path, nullable: bool = False
) -> np.ndarray:
    text = frame[column]
    blank = text.str.upper().isin(["", "NA", "NAN", ".", "NULL"])
    values = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~blank.to_numpy()
    if not nullable:
        bad |= blank.to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"value {text.iloc[i]!r} is not a number",
            source=source,
            row=int(lines[i]),
            column=column,
            fix=f"{column} must be numeric",
        )
    return values


def read_copy_number(
    path: str | Path,
    caller: Caller,
    *,
    sample_id: str | None = None,
    samples: Mapping[str, str] | None = None,
    purity: float | Mapping[str, float] | None = None,
    clonal_ccf: float = CLONAL_CCF,
) -> tuple[pd.DataFrame, list[str]]:
    """Read a copy-number caller's segment file into ithkit's wide segment table.

    ``ascat``: ASCAT's segments (``sample, chr, startpos, endpos, nMajor, nMinor``; R's
    ``write.table`` output with row names and quotes is fine); ASCAT's model is clonal.
    ``facets``: FACETS' ``cncf`` table (``chrom, start|loc.start, end|loc.end, tcn.em, lcn.em``,
    optional ``ID``/``sid`` and ``cf.em``); major = tcn - lcn; a missing ``lcn.em`` (too few
    heterozygous SNPs) is taken as balanced, and counted in the notes; ``cf.em`` (a fraction of
    all cells) becomes a CCF by dividing by the purity. ``purple``: ``*.purple.cnv.somatic.tsv``
    (``chromosome, start, end, majorAlleleCopyNumber, minorAlleleCopyNumber``): the allele copy
    numbers are rounded to integers, the raw values kept in ``*_raw`` and the rounding
    reported in the notes. ``battenberg``: ``subclones.txt`` (``chr, startpos, endpos,
    nMaj1_A, nMin1_A, frac1_A, nMaj2_A, nMin2_A, frac2_A``): a clonal segment has one state; a
    subclonal one keeps both with their fractions as ``ccf``/``ccf_2``, the state carried by
    more cancer cells first (the one mutations get). ``ithkit``: the
    :data:`ithkit.schema.SEGMENTS` table.

    Parameters
    ----------
    path
        The caller's file (``.gz`` allowed).
    caller
        Which caller wrote it.
    sample_id
        Sample of a single-sample file, when the file has no sample column and its name does
        not start with the sample (``T1.purple.cnv.somatic.tsv``, ``T1_subclones.txt``).
    samples
        Caller sample name -> region id (the VCF's ``--samples`` mapping), applied to the
        sample names found.
    purity
        Purity (fraction 0..1) of the sample, or per sample: FACETS only, to turn ``cf.em``
        into a CCF.
    clonal_ccf
        A state carried by fewer cancer cells than this is ``subclonal``.

    Returns
    -------
    (segments, notes)
        The wide segment table (:data:`CN_COLUMNS`) and what was assumed or rounded.

    Raises
    ------
    ithkit.InputError
        A missing column, a non-numeric value, segments of one sample that overlap, a file
        without its sample name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "ascat.segments.txt"
    >>> _ = f.write_text("sample\\tchr\\tstartpos\\tendpos\\tnMajor\\tnMinor\\n"
    ...                  "T1\\tchr1\\t1\\t1000\\t2\\t0\\n")
    >>> seg, notes = read_copy_number(f, "ascat", samples={"T1": "R1"})
    >>> seg[["sample_id", "chrom", "major_cn", "minor_cn", "subclonal"]].values.tolist()
    [['R1', '1', 2, 0, False]]
    """
    p = Path(path)
    name = str(caller).lower()
    if name not in CALLERS:
        raise InputError(
            f"unknown copy-number caller {caller!r}",
            source=p,
            fix=f"one of {', '.join(CALLERS)}",
        )
    notes: list[str] = []
    if name == "ithkit":
        from ithkit import io

        typed = io.read_segments(p)
        lines = np.arange(len(typed)) + 2
        frame = majority_state(typed, notes, source=p.name)
    else:
        raw, lines = _read_delimited(p)
        if raw.empty:
            raise InputError("the file has a header but no rows", source=p, fix="add segments")
        reader = {
            "ascat": _ascat, "facets": _facets, "purple": _purple, "battenberg": _battenberg,
        }[name]  # fmt: skip
        frame = reader(raw, lines, p, notes)
    frame = _attach_sample(frame, p, name, sample_id)
    if samples:
        frame["sample_id"] = frame["sample_id"].map(lambda s: samples.get(s, s))
    if name == "facets":
        frame = _facets_ccf(frame, purity, p, notes)
    frame["chrom"] = normalise_chrom(frame["chrom"])
    frame = _complete(frame)
    _check_segments(frame, lines, p)
    ccf = frame["ccf"].to_numpy(dtype=float)
    frame["subclonal"] = ~np.isnan(ccf) & (ccf < clonal_ccf)
    out = frame[list(CN_COLUMNS)].reset_index(drop=True)
    return out, notes


def majority_state(
    segments: pd.DataFrame, notes: list[str] | None = None, *, source: str = "segments"
) -> pd.DataFrame:
    """ithkit's one-state segments -> the wide table's state order.

    A :data:`ithkit.schema.SEGMENTS` row gives a state and the fraction of cancer cells that
    carry it; the other cells are taken to be 1+1. Where the state is carried by fewer than
    half of the cancer cells, 1+1 (fraction 1 - ccf) becomes the first state (the one
    mutations get) and the row's state the second.
    """
    frame = segments.copy()
    if "ccf" not in frame.columns:
        frame["ccf"] = np.nan
    ccf = frame["ccf"].to_numpy(dtype=float)
    minority = ~np.isnan(ccf) & (ccf < 0.5)
    for col in ("major_cn_2", "minor_cn_2", "ccf_2"):
        frame[col] = np.nan
    if minority.any():
        frame.loc[minority, "major_cn_2"] = frame.loc[minority, "major_cn"]
        frame.loc[minority, "minor_cn_2"] = frame.loc[minority, "minor_cn"]
        frame.loc[minority, "ccf_2"] = ccf[minority]
        frame.loc[minority, "major_cn"] = 1
        frame.loc[minority, "minor_cn"] = 1
        frame.loc[minority, "ccf"] = 1 - ccf[minority]
        if notes is not None:
            notes.append(
                f"{source}: {int(minority.sum())} segment state(s) carried by fewer than half "
                "of the cancer cells: mutations there get the 1+1 state of the other cells"
            )
    return frame


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("ccf", "major_cn_2", "minor_cn_2", "ccf_2", "major_cn_raw", "minor_cn_raw"):
        if col not in out.columns:
            out[col] = np.nan
    for col in ("major_cn_2", "minor_cn_2"):
        out[col] = pd.array(out[col], dtype="float64").astype("Int64")
    for col in ("start", "end", "major_cn", "minor_cn"):
        out[col] = np.asarray(out[col], dtype=np.int64)
    for col in ("ccf", "ccf_2", "major_cn_raw", "minor_cn_raw"):
        out[col] = np.asarray(out[col], dtype=float)
    out["sample_id"] = out["sample_id"].astype(str)
    return out


def _attach_sample(
    frame: pd.DataFrame, path: Path, caller: str, sample_id: str | None
) -> pd.DataFrame:
    if "sample_id" in frame.columns and frame["sample_id"].notna().all():
        if sample_id is not None:
            frame = frame[frame["sample_id"] == sample_id]
            if frame.empty:
                raise InputError(
                    f"no segments for sample {sample_id!r}",
                    source=path,
                    fix="check the sample name before '=' in --cn",
                )
        return frame
    name = sample_id or sample_from_filename(path)
    if name is None:
        raise InputError(
            f"the {caller} file does not say which sample it describes",
            source=path,
            fix=f"name it: --cn {caller}:SAMPLE={path.name}",
        )
    return frame.assign(sample_id=name)


def _check_segments(frame: pd.DataFrame, lines: np.ndarray, path: Path) -> None:
    """start <= end, minor <= major, copy numbers >= 0, no overlap within a sample."""
    line = pd.Series(np.asarray(lines)[: len(frame)], index=frame.index)
    checks = (
        (frame["start"] < 1, "start", "positions are 1-based"),
        (frame["end"] < frame["start"], "end", "segments need start <= end"),
        (frame["minor_cn"] < 0, "minor_cn", "copy numbers are >= 0"),
        (frame["minor_cn"] > frame["major_cn"], "minor_cn", "minor is the smaller allele"),
    )
    for bad, column, fix in checks:
        if bad.any():
            i = bad[bad].index[0]
            raise InputError(
                f"segment {frame.loc[i, 'chrom']}:{frame.loc[i, 'start']}-"
                f"{frame.loc[i, 'end']} has {column} out of range",
                source=path,
                row=int(line.loc[i]),
                fix=fix,
            )
    order = frame.sort_values(["sample_id", "chrom", "start"], kind="stable")
    same = (order["sample_id"].to_numpy()[1:] == order["sample_id"].to_numpy()[:-1]) & (
        order["chrom"].to_numpy()[1:] == order["chrom"].to_numpy()[:-1]
    )
    overlap = same & (order["start"].to_numpy()[1:] <= order["end"].to_numpy()[:-1])
    if overlap.any():
        k = int(np.flatnonzero(overlap)[0])
        a, b = order.index[k], order.index[k + 1]
        raise InputError(
            f"segments {frame.loc[a, 'chrom']}:{frame.loc[a, 'start']}-{frame.loc[a, 'end']} "
            f"(line {int(line.loc[a])}) and {frame.loc[b, 'start']}-{frame.loc[b, 'end']} of "
            f"sample {frame.loc[a, 'sample_id']} overlap",
            source=path,
            row=int(line.loc[b]),
            fix="give one copy-number state per position and sample (one caller run per "
            "sample, segments not repeated)",
        )


def _ascat(raw: pd.DataFrame, lines: np.ndarray, path: Path, notes: list[str]) -> pd.DataFrame:
    kw: dict[str, Any] = {"source": path, "caller": "ascat"}
    sample = _column(raw, ("sample", "samplename", "sample_id", "id"), **kw)
    major = _numbers(raw, _need(raw, ("nmajor", "nmaj", "major_cn"), **kw), lines, source=path)
    minor = _numbers(raw, _need(raw, ("nminor", "nmin", "minor_cn"), **kw), lines, source=path)
    frame = pd.DataFrame(
        {
            "chrom": raw[_need(raw, ("chr", "chrom", "chromosome"), **kw)],
            "start": _numbers(raw, _need(raw, ("startpos", "start"), **kw), lines, source=path),
            "end": _numbers(raw, _need(raw, ("endpos", "end"), **kw), lines, source=path),
            "major_cn": major,
            "minor_cn": minor,
            "ccf": 1.0,
        }
    )
    if sample is not None:
        frame.insert(0, "sample_id", raw[sample].to_numpy())
    return frame


def _facets(raw: pd.DataFrame, lines: np.ndarray, path: Path, notes: list[str]) -> pd.DataFrame:
    kw: dict[str, Any] = {"source": path, "caller": "facets"}
    sample = _column(raw, ("sid", "id", "sample", "sample_id"), **kw)
    tcn = _numbers(raw, _need(raw, ("tcn.em", "tcn"), **kw), lines, source=path)
    lcn_col = _need(raw, ("lcn.em", "lcn"), **kw)
    lcn = _numbers(raw, lcn_col, lines, source=path, nullable=True)
    missing = np.isnan(lcn)
    if missing.any():
        notes.append(
            f"{path.name}: {int(missing.sum())} FACETS segment(s) without {lcn_col} "
            "(too few heterozygous SNPs): taken as balanced"
        )
        lcn = np.where(missing, np.floor(tcn / 2), lcn)
    swapped = lcn > tcn - lcn
    if swapped.any():  # emcncf can report the larger allele as lcn; major is the larger
        notes.append(
            f"{path.name}: {int(swapped.sum())} FACETS segment(s) with {lcn_col} above "
            "tcn - lcn: alleles swapped so that major >= minor"
        )
        lcn = np.where(swapped, tcn - lcn, lcn)
    cf_col = _column(raw, ("cf.em", "cf"), **kw)
    frame = pd.DataFrame(
        {
            "chrom": raw[_need(raw, ("chrom", "chr", "chromosome"), **kw)],
            "start": _numbers(raw, _need(raw, ("start", "loc.start"), **kw), lines, source=path),
            "end": _numbers(raw, _need(raw, ("end", "loc.end"), **kw), lines, source=path),
            "major_cn": tcn - lcn,
            "minor_cn": lcn,
            "_cf": np.nan if cf_col is None else _numbers(raw, cf_col, lines, source=path,
                                                          nullable=True),
        }
    )  # fmt: skip
    if sample is not None:
        frame.insert(0, "sample_id", raw[sample].to_numpy())
    return frame


def _facets_ccf(
    frame: pd.DataFrame, purity: float | Mapping[str, float] | None, path: Path, notes: list[str]
) -> pd.DataFrame:
    """FACETS' cf.em is the fraction of all cells with the state: CCF = cf / purity."""
    cf = frame.pop("_cf").to_numpy(dtype=float)
    normal = (frame["major_cn"].to_numpy() == 1) & (frame["minor_cn"].to_numpy() == 1)
    if purity is None:
        if (~np.isnan(cf) & ~normal).any():
            notes.append(f"{path.name}: no purity given, FACETS cf.em not turned into a CCF")
        frame["ccf"] = np.where(normal, 1.0, np.nan)
        return frame
    if isinstance(purity, Mapping):
        pur = frame["sample_id"].map(lambda s: purity.get(s, np.nan)).to_numpy(dtype=float)
    else:
        pur = np.full(len(frame), float(purity))
    frame["ccf"] = np.where(normal, 1.0, np.clip(cf / pur, 0.0, 1.0))
    return frame


def _purple(raw: pd.DataFrame, lines: np.ndarray, path: Path, notes: list[str]) -> pd.DataFrame:
    kw: dict[str, Any] = {"source": path, "caller": "purple"}
    major_raw = _numbers(
        raw, _need(raw, ("majorallelecopynumber", "majoralleleploidy"), **kw), lines, source=path
    )
    minor_raw = _numbers(
        raw, _need(raw, ("minorallelecopynumber", "minoralleleploidy"), **kw), lines, source=path
    )
    major = np.clip(np.rint(major_raw), 0, None)
    minor = np.clip(np.rint(minor_raw), 0, None)
    swap = minor > major
    major, minor = np.where(swap, minor, major), np.where(swap, major, minor)
    shift = np.maximum(np.abs(major_raw - np.where(swap, minor, major)),
                       np.abs(minor_raw - np.where(swap, major, minor)))  # fmt: skip
    far = int((shift > 0.25).sum())
    notes.append(
        f"{path.name}: PURPLE allele copy numbers rounded to integers in {len(shift)} "
        f"segment(s): mean shift {float(np.mean(shift)):.2f}, largest {float(np.max(shift)):.2f} "
        f"copies; {far} segment(s) more than 0.25 copies from an integer (possibly subclonal)"
    )
    return pd.DataFrame(
        {
            "chrom": raw[_need(raw, ("chromosome", "chrom", "chr"), **kw)],
            "start": _numbers(raw, _need(raw, ("start",), **kw), lines, source=path),
            "end": _numbers(raw, _need(raw, ("end",), **kw), lines, source=path),
            "major_cn": major,
            "minor_cn": minor,
            "ccf": np.nan,
            "major_cn_raw": major_raw,
            "minor_cn_raw": minor_raw,
        }
    )


def _battenberg(raw: pd.DataFrame, lines: np.ndarray, path: Path, notes: list[str]) -> pd.DataFrame:
    kw: dict[str, Any] = {"source": path, "caller": "battenberg"}

    def num(name: str, nullable: bool = False) -> np.ndarray:
        return _numbers(raw, _need(raw, (name,), **kw), lines, source=path, nullable=nullable)

    maj1, min1, frac1 = num("nmaj1_a"), num("nmin1_a"), num("frac1_a")
    maj2, min2, frac2 = num("nmaj2_a", True), num("nmin2_a", True), num("frac2_a", True)
    two = ~np.isnan(frac2) & ~np.isnan(maj2) & (frac1 < 1)
    # the state carried by more cancer cells is the one mutations get
    first = ~two | (frac1 >= np.where(two, frac2, 0))
    if two.any():
        notes.append(
            f"{path.name}: {int(two.sum())} subclonal Battenberg segment(s): both states kept "
            "(ccf, ccf_2), mutations get the state of more cancer cells"
        )
    sample = _column(raw, ("sample", "samplename", "sample_id"), **kw)
    frame = pd.DataFrame(
        {
            "chrom": raw[_need(raw, ("chr", "chrom", "chromosome"), **kw)],
            "start": num("startpos"),
            "end": num("endpos"),
            "major_cn": np.where(first, maj1, maj2),
            "minor_cn": np.where(first, min1, min2),
            "ccf": np.where(first, frac1, frac2),
            "major_cn_2": np.where(two, np.where(first, maj2, maj1), np.nan),
            "minor_cn_2": np.where(two, np.where(first, min2, min1), np.nan),
            "ccf_2": np.where(two, np.where(first, frac2, frac1), np.nan),
        }
    )
    if sample is not None:
        frame.insert(0, "sample_id", raw[sample].to_numpy())
    return frame


# ---------------------------------------------------------------------------------------------
# purity


_PURITY_KEYS = ("purity", "rho", "aberrantcellfraction", "cellularity", "tumour_content")
_PLOIDY_KEYS = ("ploidy", "psi")
# ``_rowname``: R's write.table row names (ascat.metrics names its rows by sample)
_SAMPLE_KEYS = ("sample_id", "sample", "samplename", "id", "tumour", "tumor", "_rowname")
_KEY_VALUE = re.compile(r"^\s*#?\s*([A-Za-z_.]+)\s*(?:=|\s|:)\s*([-+0-9.eE]+)\s*$")


def read_caller_purity(
    path: str | Path,
    *,
    sample_id: str | None = None,
    samples: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read purity (and ploidy) from a caller's file, or from ithkit's purity table.

    Understood: ithkit's ``sample_id, purity[, ploidy]`` table; any table with a sample column
    and a ``purity``/``rho``/``aberrantcellfraction``/``cellularity`` column (ASCAT's
    ``ascat.metrics``, a FACETS fit table); single-sample tables (PURPLE's
    ``*.purple.purity.tsv``, Battenberg's ``*_cellularity_ploidy.txt`` and
    ``*_rho_and_psi.txt``, whose ``FRAC_GENOME`` row is used); ``key value`` files (ascatNgs'
    ``*.samplestatistics.txt`` ``rho``/``Ploidy``, FACETS' ``# Purity = 0.53``). The sample of
    a single-sample file is ``sample_id`` or the start of its file name.

    Parameters
    ----------
    path
        The file.
    sample_id
        Sample of a single-sample file.
    samples
        Caller sample name -> region id, applied to the sample names found.

    Returns
    -------
    pandas.DataFrame
        :data:`ithkit.schema.PURITY` (``sample_id, purity, ploidy``), purity a fraction 0..1.

    Raises
    ------
    ithkit.InputError
        No purity column or key, purity given in percent (above 1), purity 0 or negative.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "T1.purple.purity.tsv"
    >>> _ = f.write_text("purity\\tnormFactor\\tploidy\\n0.62\\t1.01\\t3.1\\n")
    >>> read_caller_purity(f).values.tolist()
    [['T1', 0.62, 3.1]]
    """
    p = Path(path)
    from ithkit.io import read_text

    text = read_text(p)
    pairs = _key_values(text)
    if pairs is not None:
        purity = next((pairs[k] for k in _PURITY_KEYS if k in pairs), None)
        if purity is None:
            raise InputError(
                "no purity in the file",
                source=p,
                fix=f"a key-value purity file needs one of {', '.join(_PURITY_KEYS)}",
            )
        ploidy = next((pairs[k] for k in _PLOIDY_KEYS if k in pairs), np.nan)
        name = sample_id or sample_from_filename(p)
        frame = pd.DataFrame({"sample_id": [name], "purity": [purity], "ploidy": [ploidy]})
        lines = np.array([2])
    else:
        raw, lines = _read_delimited(p)
        first = raw.columns[0]
        if raw[first].isin(["FRAC_GENOME"]).any():  # Battenberg rho_and_psi: row names
            keep = (raw[first] == "FRAC_GENOME").to_numpy()
            raw, lines = raw.loc[keep].drop(columns=first).reset_index(drop=True), lines[keep]
        pcol = next((c for c in _PURITY_KEYS if c in raw.columns), None)
        if pcol is None:
            raise InputError(
                "no purity column",
                source=p,
                fix=f"a purity table needs a column {' or '.join(_PURITY_KEYS)}",
            )
        scol = next((c for c in _SAMPLE_KEYS if c in raw.columns), None)
        if scol is None:
            name = sample_id or sample_from_filename(p)
            if len(raw) != 1:
                raise InputError(
                    f"{len(raw)} purity rows but no sample column",
                    source=p,
                    fix="add a sample_id column, one row per sample",
                )
            names = pd.Series([name])
        else:
            names = raw[scol]
            if sample_id is not None:
                keep = (names == sample_id).to_numpy()
                if not keep.any():
                    raise InputError(
                        f"no purity row for sample {sample_id!r}",
                        source=p,
                        fix="check the sample name before '=' in --purity",
                    )
                raw, lines, names = raw.loc[keep], lines[keep], names[keep]
        lcol = next((c for c in _PLOIDY_KEYS if c in raw.columns), None)
        frame = pd.DataFrame(
            {
                "sample_id": names.to_numpy(),
                "purity": _numbers(raw, pcol, lines, source=p),
                "ploidy": np.nan if lcol is None else _numbers(raw, lcol, lines, source=p,
                                                               nullable=True),
            }
        )  # fmt: skip
    if frame["sample_id"].isna().any():
        raise InputError(
            "the purity file does not say which sample it describes",
            source=p,
            fix=f"name it: --purity SAMPLE={p.name}",
        )
    pur = frame["purity"].to_numpy(dtype=float)
    percent = (pur > 1) & (pur <= 100)
    if percent.any():
        i = int(np.flatnonzero(percent)[0])
        raise InputError(
            f"purity {pur[i]:g} of sample {frame['sample_id'].iloc[i]} looks like a percentage",
            source=p,
            row=int(lines[i]),
            fix=f"purity is a fraction 0..1: write {pur[i] / 100:g}",
        )
    if samples:
        frame["sample_id"] = frame["sample_id"].map(lambda s: samples.get(s, s))
    return schema.validate(
        frame, schema.PURITY, source=str(p), lines=pd.Series(lines[: len(frame)])
    )


def _key_values(text: str) -> dict[str, float] | None:
    """``key value`` / ``# Key = value`` lines -> {key: value}; None if the file is a table."""
    pairs: dict[str, float] = {}
    rows = [line for line in text.splitlines() if line.strip()]
    for line in rows:
        m = _KEY_VALUE.match(line)
        if m is not None:
            pairs[m.group(1).lower()] = float(m.group(2))
    enough = len(pairs) >= len([r for r in rows if not r.lstrip().startswith("#")]) / 2
    if pairs and enough and any(k in pairs for k in _PURITY_KEYS):
        return pairs
    return None


# ---------------------------------------------------------------------------------------------
# mutations -> segments


def locate(
    segments: pd.DataFrame, sample_id: pd.Series, chrom: pd.Series, pos: np.ndarray
) -> np.ndarray:
    """Row of ``segments`` holding each mutation (same sample, chromosome, start <= pos <= end),
    or -1. ``chr1`` and ``1`` match. Segments must not overlap (the readers check).

    Examples
    --------
    >>> seg = pd.DataFrame({"sample_id": ["R1", "R1"], "chrom": ["1", "1"],
    ...                     "start": [1, 101], "end": [100, 200]})
    >>> locate(seg, pd.Series(["R1", "R1", "R2"]), pd.Series(["chr1", "1", "1"]),
    ...        np.array([150, 300, 5])).tolist()
    [1, -1, -1]
    """
    out = np.full(len(pos), -1, dtype=np.int64)
    if len(segments) == 0 or len(pos) == 0:
        return out
    seg_chrom = normalise_chrom(segments["chrom"]).to_numpy()
    seg_sample = segments["sample_id"].astype(str).to_numpy()
    starts = segments["start"].to_numpy(dtype=np.int64)
    ends = segments["end"].to_numpy(dtype=np.int64)
    mut_keys = pd.DataFrame(
        {"s": sample_id.astype(str).to_numpy(), "c": normalise_chrom(chrom).to_numpy()}
    )
    seg_groups = pd.DataFrame({"s": seg_sample, "c": seg_chrom}).groupby(["s", "c"]).indices
    pos = np.asarray(pos, dtype=np.int64)
    for key, rows in mut_keys.groupby(["s", "c"]).indices.items():
        seg_rows = seg_groups.get(key)
        if seg_rows is None:
            continue
        order = seg_rows[np.argsort(starts[seg_rows], kind="stable")]
        k = np.searchsorted(starts[order], pos[rows], side="right") - 1
        ok = k >= 0
        hit = np.full(len(rows), -1, dtype=np.int64)
        hit[ok] = order[k[ok]]
        inside = ok.copy()
        inside[ok] = pos[rows][ok] <= ends[hit[ok]]
        out[rows[inside]] = hit[inside]
    return out
