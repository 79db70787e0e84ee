"""Reading delimited text tables safely: existence, emptiness, encoding, delimiter, line numbers."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ithkit import schema
from ithkit._errors import InputError

DEFAULT_MAX_DECOMPRESSED_BYTES = 20 * 1024**3


def max_decompressed_bytes(compressed: int) -> int:
    """The most bytes a ``.gz`` input may decompress to.

    ``ITHKIT_MAX_DECOMPRESSED_BYTES`` (bytes) when set, else the smaller of 20 GiB and 100x
    the compressed size (with a 64 MiB floor, so small files are never refused).

    Examples
    --------
    >>> max_decompressed_bytes(1024) == 64 * 1024**2
    True
    """
    env = os.environ.get("ITHKIT_MAX_DECOMPRESSED_BYTES", "").strip()
    if env:
        try:
            return max(0, int(env))
        except ValueError:
            raise InputError(
                f"ITHKIT_MAX_DECOMPRESSED_BYTES is {env!r}",
                source="ITHKIT_MAX_DECOMPRESSED_BYTES",
                fix="give a number of bytes, e.g. 21474836480",
            ) from None
    return min(DEFAULT_MAX_DECOMPRESSED_BYTES, max(64 * 1024**2, 100 * compressed))


def _gunzip(data: bytes, p: Path) -> bytes:
    """Decompress in chunks, refusing output beyond :func:`max_decompressed_bytes` (zip bombs)."""
    limit = max_decompressed_bytes(len(data))
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            while chunk := fh.read(1 << 20):
                out.write(chunk)
                if out.tell() > limit:
                    raise InputError(
                        f"decompresses to more than {limit:,} bytes "
                        f"({len(data):,} bytes compressed)",
                        source=p,
                        fix="check the file (a zip bomb?), or raise the limit with "
                        "ITHKIT_MAX_DECOMPRESSED_BYTES=<bytes>",
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"not a valid gzip file ({exc})", source=p, fix="re-compress it or pass it unzipped"
        ) from None
    return out.getvalue()


def read_text(path: str | Path) -> str:
    """Read a (possibly gzipped) UTF-8 text file, with errors that name the file and line.

    Parameters
    ----------
    path
        File path; ``.gz`` files are decompressed.

    Raises
    ------
    ithkit.InputError
        If the file is missing, is a folder, is empty, or is not UTF-8 text.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p, fix="check the path")
    if p.is_dir():
        raise InputError("is a folder, not a file", source=p, fix="give the path of a table file")
    data = p.read_bytes()
    if p.suffix == ".gz":
        data = _gunzip(data, p)
    if not data.strip():
        raise InputError("file is empty", source=p, fix="the file needs a header row and data rows")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            source=p,
            row=line,
            fix="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None


def _delimiter(path: Path, header: str) -> str:
    """The delimiter: the one the file name promises when the header holds it, else sniffed.

    A ``.csv`` saved by a spreadsheet in a decimal-comma locale is ``;``-separated; a ``.tsv``
    without a tab in its header is sniffed, so that its columns are found (or named).
    """
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    expected = None
    if suffixes and suffixes[-1] in (".tsv", ".tab", ".txt", ".maf"):
        expected = "\t"
    elif suffixes and suffixes[-1] == ".csv":
        expected = ","
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    if expected is not None and counts[expected] >= max(counts.values()):
        return expected
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return expected or ","
    return best


_DECIMAL_COMMA = r"^\s*([-+]?\d*),(\d+)\s*$"


def _decimal_commas(frame: pd.DataFrame, contract: schema.Contract) -> pd.DataFrame:
    """``0,5`` -> ``0.5`` in the numeric columns of a ``;``-separated table."""
    for col in contract.columns:
        if col.kind in ("int", "float") and col.name in frame.columns:
            frame[col.name] = frame[col.name].str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True)
    return frame


def read_table(
    path: str | Path,
    contract: schema.Contract,
    *,
    strict: bool = False,
    sep: str | None = None,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a delimited table and validate it against ``contract``.

    Every cell is read as text first (identifiers are never parsed as numbers), then
    :func:`ithkit.schema.validate` types it. ``.tsv``/``.txt`` are tab-separated, ``.csv``
    comma-separated; other names are sniffed from the header. Blank lines are skipped but line
    numbers in error messages refer to the file as it is.

    Parameters
    ----------
    path
        The file (``.gz`` allowed).
    contract
        The contract, e.g. :data:`ithkit.schema.VARIANTS`.
    strict
        Reject columns the contract does not know, instead of dropping them with a warning.
    sep
        Force a delimiter.
    keep
        Columns outside the contract that the caller asked for (e.g. a batch column): kept as
        text, without the ignored-column warning; a missing one is an :class:`InputError`.
    """
    p = Path(path)
    text = read_text(p)
    # the line breaks pandas knows (str.splitlines also splits on \x1c, \x85, U+2028...)
    lines_of_text = re.split(r"\r\n|\r|\n", text)
    header_idx = next((i for i, line in enumerate(lines_of_text) if line.strip()), None)
    if header_idx is None:
        raise InputError("file is empty", source=p, fix="the file needs a header row and data rows")
    delimiter = sep or _delimiter(p, lines_of_text[header_idx])
    try:
        with warnings.catch_warnings():
            # a row longer than the header is an error, not a silent truncation
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                quoting=csv.QUOTE_MINIMAL,
                skiprows=header_idx,
                index_col=False,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"cannot parse the table ({' '.join(str(exc).split())})",
            source=p,
            fix="every row needs the same number of "
            + {"\t": "tabs", ";": "semicolons"}.get(delimiter, "commas")
            + " as the header",
        ) from None
    if delimiter == ";":
        frame = _decimal_commas(frame, contract)
    lines = pd.Series(frame.index.to_numpy() + header_idx + 2, index=frame.index)
    if len(frame.columns):
        arrow = pd.StringDtype("pyarrow")
        blank_rows = frame.apply(lambda col: col.astype(arrow).fillna("").str.strip().eq(""))
        blank_rows = blank_rows.all(axis=1)
        frame = frame.loc[~blank_rows]
        lines = lines.loc[~blank_rows]
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if unnamed:
        raise InputError(
            "the header has an empty column name",
            source=p,
            row=header_idx + 1,
            fix="name every column, or remove the trailing delimiter",
        )
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise InputError(
            f"no column {missing[0]!r}",
            source=p,
            column=missing[0],
            fix=f"add it, or name one of {', '.join(map(str, frame.columns))}",
        )
    kept = frame[list(keep)].astype("string") if keep else None
    frame = frame.drop(columns=list(keep))
    out = schema.validate(frame, contract, source=str(p), strict=strict, lines=lines)
    if kept is not None:
        for col in keep:
            out[col] = kept[col].to_numpy()
    return out
