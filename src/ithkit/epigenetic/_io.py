"""Readers of methylation data: Bismark CpG-context calls (streamed), Bismark coverage /
bedGraph, array beta matrices and, through pysam, BAM files with Bismark ``XM`` tags.

Read-level calls are handed on as :class:`CallBatch` objects: numpy arrays of one chunk of the
file, every read complete inside its chunk, sorted checks already done. The metrics in
:mod:`ithkit.epigenetic._readlevel` consume them chunk by chunk, so a file of any size is read
in bounded memory.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError

#: columns of a Bismark methylation-extractor file (the second is the methylation state
#: ``+``/``-``, which Bismark's documentation calls so; some describe it as a strand)
CALL_COLUMNS = ("read_id", "state", "chrom", "position", "call")
#: in-memory read-level calls (what :func:`read_calls` returns and the metrics accept)
CALL_FRAME_COLUMNS = ("read_id", "chrom", "position", "methylated")
#: per-CpG summaries (what :func:`read_coverage` returns)
COVERAGE_COLUMNS = ("chrom", "position", "n_methylated", "n_unmethylated", "beta")

DEFAULT_CHUNK_BYTES = 32 << 20
#: chromosome codes share an int64 key with 40-bit positions and one more bit
MAX_CHROMOSOMES = 1 << 22


@dataclass(frozen=True)
class CallBatch:
    """One chunk of read-level CpG calls, every read complete and checked.

    Attributes
    ----------
    chrom
        Chromosome code per call (int32; names in ``chrom_names``).
    position
        1-based CpG position per call (int64), strictly increasing within a read.
    methylated
        1 for Z (methylated), 0 for z (unmethylated) (uint8).
    read_start
        True at the first call of each read.
    chrom_names
        Chromosome names, indexed by code (shared and growing across the chunks of a file).
    """

    chrom: np.ndarray
    position: np.ndarray
    methylated: np.ndarray
    read_start: np.ndarray
    chrom_names: list[str]

    @property
    def n_reads(self) -> int:
        return int(self.read_start.sum())


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", source=path, fix="check the path")
    if path.is_dir():
        raise InputError("is a folder, not a file", source=path, fix="give the path of a file")
    if path.stat().st_size == 0:
        raise InputError("file is empty", source=path, fix="give a file with methylation calls")


def _header_lines(path: Path) -> int:
    """Bismark writes one ``Bismark methylation extractor version ...`` line (unless
    ``--no_header``); count leading lines that are not 5-column calls."""
    try:
        with _open_text(path) as fh:
            first = fh.readline()
    except (OSError, EOFError) as exc:
        raise InputError(
            f"cannot read the file ({exc})", source=path, fix="re-compress it or pass it unzipped"
        ) from None
    if not first.strip():
        raise InputError("file is empty", source=path, fix="give a file with methylation calls")
    if first.startswith("Bismark") or first.split("\t")[0] == "read_id":
        return 1
    return 0


class _Chroms:
    """Chromosome names -> codes, shared by all chunks of one read."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.codes: dict[str, int] = {}

    def encode(self, values: Any) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        enc = pc.dictionary_encode(values)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        lookup = np.empty(len(enc.dictionary), dtype=np.int32)
        for i, name in enumerate(enc.dictionary.to_pylist()):
            if name not in self.codes:
                if len(self.names) >= MAX_CHROMOSOMES:
                    raise InputError(
                        f"more than {MAX_CHROMOSOMES} chromosomes/contigs",
                        source="calls",
                        fix="split the file by chromosome",
                    )
                self.codes[name] = len(self.names)
                self.names.append(name)
            lookup[i] = self.codes[name]
        return lookup[enc.indices.to_numpy(zero_copy_only=False)]


def _check_batch(
    table: Any, chroms: _Chroms, first_line: int, source: Path | str
) -> tuple[CallBatch, int]:
    """Check and convert one chunk (a pyarrow table of complete reads); returns the batch and
    the number of reads."""
    import pyarrow.compute as pc

    n = table.num_rows
    ids = table.column("read_id")
    call = table.column("call")
    ok = pc.is_in(call, value_set=_ZZ()).to_numpy(zero_copy_only=False)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(
            f"methylation call {call[i].as_py()!r} is not a CpG call (Z or z)",
            source=source,
            row=first_line + i,
            column="call",
            fix="give Bismark's CpG_context file (CHG/CHH calls X/x/H/h belong to other files)",
        )
    meth = pc.equal(call, "Z").to_numpy(zero_copy_only=False).astype(np.uint8)
    pos_col = table.column("position")
    if pos_col.null_count:
        i = int(np.flatnonzero(pc.is_null(pos_col).to_numpy(zero_copy_only=False))[0])
        raise InputError(
            "position is missing", source=source, row=first_line + i, column="position",
            fix="every call needs a 1-based position",
        )  # fmt: skip
    pos = pos_col.to_numpy().astype(np.int64, copy=False)
    if n and pos.min() < 1:
        i = int(np.argmin(pos))
        raise InputError(
            f"position is {pos[i]}", source=source, row=first_line + i, column="position",
            fix="positions are 1-based integers >= 1",
        )  # fmt: skip
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    n_reads = int(start.sum())
    if n_reads != pc.count_distinct(ids).as_py():
        runs = ids.filter(start)
        seen: set[str] = set()
        for j, rid in enumerate(runs.to_pylist()):
            if rid in seen:
                i = int(np.flatnonzero(start)[j])
                raise InputError(
                    f"the calls of read {rid!r} are not together",
                    source=source,
                    row=first_line + i,
                    column="read_id",
                    fix="keep each read's calls on consecutive lines "
                    "(sort -k1,1 -k4,4n as Bismark writes them)",
                )
            seen.add(rid)
    chrom = chroms.encode(table.column("chrom"))
    same = ~start[1:]
    bad_chrom = same & (chrom[1:] != chrom[:-1])
    if bad_chrom.any():
        i = int(np.flatnonzero(bad_chrom)[0]) + 1
        raise InputError(
            f"read {ids[i].as_py()!r} spans two chromosomes "
            f"({chroms.names[chrom[i - 1]]} and {chroms.names[chrom[i]]})",
            source=source,
            row=first_line + i,
            column="chrom",
            fix="a read lies on one chromosome; check the read ids are unique",
        )
    bad_order = same & (pos[1:] <= pos[:-1])
    if bad_order.any():
        i = int(np.flatnonzero(bad_order)[0]) + 1
        raise InputError(
            f"positions of read {ids[i].as_py()!r} are out of order ({pos[i - 1]} then {pos[i]})",
            source=source,
            row=first_line + i,
            column="position",
            fix="sort each read's calls by position (sort -k1,1 -k4,4n); "
            "overlapping mates need Bismark's --no_overlap",
        )
    return CallBatch(chrom, pos, meth, start, chroms.names), n_reads


def _ZZ() -> Any:
    import pyarrow as pa

    return pa.array(["Z", "z"])


def iter_bismark_calls(
    path: str | Path, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[CallBatch]:
    """Stream a Bismark CpG-context methylation-extractor file chunk by chunk.

    Parameters
    ----------
    path
        ``CpG_context_*.txt`` (or ``.txt.gz``): tab-separated ``read_id, state, chrom,
        position, call`` with ``call`` Z (methylated) or z (unmethylated); Bismark's version
        line, if present, is skipped. The calls of one read must be on consecutive lines,
        positions increasing (as Bismark writes them).
    chunk_bytes
        Bytes of text parsed per chunk (memory per chunk is a few times this).

    Yields
    ------
    CallBatch
        Complete reads (a read cut by a chunk boundary is carried into the next chunk).

    Raises
    ------
    ithkit.InputError
        Calls other than Z/z, positions out of order within a read, a read on two
        chromosomes, a read's calls on non-consecutive lines, malformed lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "CpG_context_s1.txt"
    >>> _ = p.write_text("r1\\t+\\tchr1\\t10\\tZ\\nr1\\t-\\tchr1\\t15\\tz\\n")
    >>> [b.n_reads for b in iter_bismark_calls(p)]
    [1]
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    p = Path(path)
    _check_file(p)
    skip = _header_lines(p)
    read_opts = pacsv.ReadOptions(
        column_names=list(CALL_COLUMNS), skip_rows=skip, block_size=int(chunk_bytes)
    )
    parse_opts = pacsv.ParseOptions(delimiter="\t", quote_char=False)
    convert_opts = pacsv.ConvertOptions(
        column_types={
            "read_id": pa.string(),
            "state": pa.string(),
            "chrom": pa.string(),
            "position": pa.int64(),
            "call": pa.string(),
        },
        strings_can_be_null=False,
    )
    chroms = _Chroms()
    try:
        reader = pacsv.open_csv(
            p, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise _parse_error(p, exc) from None
    carry = None
    line = skip + 1  # 1-based line number of the first row of the next table
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            raise _parse_error(p, exc) from None
        table = pa.Table.from_batches([batch])
        if carry is not None:
            table = pa.concat_tables([carry, table])
        table = table.combine_chunks()
        n = table.num_rows
        if n == 0:
            continue
        ids = table.column("read_id")
        last = ids[n - 1]
        # rows of the last read may continue in the next chunk: carry them over
        tail = n - 1
        while tail > 0 and ids[tail - 1] == last:
            tail -= 1
        if tail == 0:
            carry = table
            continue
        out, n_rows = table.slice(0, tail), tail
        carry = table.slice(tail)
        batch_out, _ = _check_batch(out, chroms, line, p)
        line += n_rows
        yield batch_out
    if carry is not None and carry.num_rows:
        batch_out, _ = _check_batch(carry, chroms, line, p)
        yield batch_out


def _parse_error(path: Path, exc: Exception) -> InputError:
    msg = " ".join(str(exc).split())
    return InputError(
        f"not a Bismark CpG-context file ({msg[:200]})",
        source=path,
        fix="give the methylation extractor's 5 tab-separated columns "
        "read_id, state, chrom, position, call",
    )


def read_calls(path: str | Path) -> pd.DataFrame:
    """Read a whole Bismark CpG-context file (or a BAM with ``XM`` tags) into memory.

    Parameters
    ----------
    path
        CpG-context file (plain or ``.gz``) or ``.bam``.

    Returns
    -------
    pandas.DataFrame
        ``read_id`` (int, reads numbered in file order), ``chrom, position`` (1-based),
        ``methylated`` (bool).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "calls.txt"
    >>> _ = p.write_text("r1\\t+\\tchr1\\t10\\tZ\\nr1\\t-\\tchr1\\t15\\tz\\n")
    >>> read_calls(p)["methylated"].tolist()
    [True, False]
    """
    frames = []
    offset = 0
    for b in iter_calls(path):
        rid = np.cumsum(b.read_start) - 1 + offset
        offset += b.n_reads
        frames.append(
            pd.DataFrame(
                {
                    "read_id": rid,
                    "chrom": np.asarray(b.chrom_names, dtype=object)[b.chrom],
                    "position": b.position,
                    "methylated": b.methylated.astype(bool),
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: [] for c in CALL_FRAME_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def calls_from_frame(calls: pd.DataFrame, *, source: str = "calls") -> Iterator[CallBatch]:
    """Check an in-memory call table (``read_id, chrom, position, methylated``) and hand it
    on as one :class:`CallBatch` (rows of a read consecutive, positions increasing)."""
    import pyarrow as pa

    missing = [c for c in CALL_FRAME_COLUMNS if c not in calls.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}",
            source=source,
            fix="calls need read_id, chrom, position, methylated",
        )
    meth = calls["methylated"]
    if meth.dtype == object:
        vals = set(meth.unique().tolist())
        if not vals <= {"Z", "z", True, False}:
            bad = sorted(map(str, vals - {"Z", "z", True, False}))[0]
            raise InputError(
                f"methylation call {bad!r} is not Z/z or true/false",
                source=source,
                column="methylated",
                fix="CpG calls are Z (methylated) or z (unmethylated)",
            )
        meth = meth.isin(["Z", True])
    table = pa.table(
        {
            "read_id": pa.array(calls["read_id"].astype(str).to_numpy()),
            "chrom": pa.array(calls["chrom"].astype(str).to_numpy()),
            "position": pa.array(calls["position"].to_numpy(dtype=np.int64)),
            "call": pa.array(np.where(np.asarray(meth, dtype=bool), "Z", "z")),
        }
    )
    batch, _ = _check_batch(table, _Chroms(), 2, source)
    yield batch


def iter_calls(
    source: str | Path | pd.DataFrame,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    min_mapq: int = 10,
) -> Iterator[CallBatch]:
    """Chunks of checked read-level calls from a CpG-context file, a BAM (reads with mapping
    quality >= ``min_mapq``) or a DataFrame."""
    if isinstance(source, pd.DataFrame):
        yield from calls_from_frame(source)
        return
    p = Path(source)
    if p.suffix.lower() in (".bam", ".sam", ".cram"):
        yield from iter_bam_calls(p, min_mapq=min_mapq)
    else:
        yield from iter_bismark_calls(p, chunk_bytes=chunk_bytes)


def iter_bam_calls(
    path: str | Path, *, min_mapq: int = 10, reads_per_chunk: int = 200_000
) -> Iterator[CallBatch]:
    """Stream CpG calls from a Bismark BAM (``XM`` tag per read), through pysam.

    Parameters
    ----------
    path
        BAM/SAM written by Bismark. Each mate of a pair is read on its own; unmapped,
        secondary, supplementary and QC-failed reads are skipped.
    min_mapq
        Reads with a lower mapping quality are skipped (10, as metheor's default).
    reads_per_chunk
        Reads per yielded chunk.

    Yields
    ------
    CallBatch
        Z/z calls at their 1-based reference positions (the C of the CpG on the read's strand,
        as Bismark's methylation extractor reports them).

    Raises
    ------
    ithkit.InputError
        A mapped read without an ``XM`` tag or whose tag length differs from the read's.
    """
    from ithkit._optional import import_optional

    pysam = import_optional("pysam", extra="methylation")
    p = Path(path)
    _check_file(p)
    mode = "r" if p.suffix.lower() == ".sam" else "rb"
    try:
        bam = pysam.AlignmentFile(str(p), mode, check_sq=False)
    except (ValueError, OSError) as exc:
        raise InputError(
            f"cannot open as BAM ({exc})", source=p, fix="give a Bismark BAM file"
        ) from None
    names = [str(n) for n in bam.references]
    if len(names) > MAX_CHROMOSOMES:
        raise InputError(
            f"{len(names)} reference sequences (at most {MAX_CHROMOSOMES})",
            source=p,
            fix="split the BAM by chromosome",
        )
    with bam:
        # per chunk: XM strings, reference starts and chromosomes; reads whose CIGAR is not
        # one match block also keep their per-base reference positions
        xms: list[bytes] = []
        starts: list[int] = []
        chroms: list[int] = []
        spliced: dict[int, list[int | None]] = {}
        for k, read in enumerate(bam.fetch(until_eof=True)):
            if (
                read.is_unmapped
                or read.is_secondary
                or read.is_qcfail
                or read.is_supplementary
                or read.mapping_quality < min_mapq
            ):
                continue
            try:
                xm = read.get_tag("XM")
            except KeyError:
                raise InputError(
                    f"read {read.query_name!r} has no XM tag",
                    source=p,
                    row=k + 1,
                    column="XM",
                    fix="give the BAM written by Bismark (methylation calls in XM)",
                ) from None
            cigar = read.cigartuples or []
            if len(xm) != read.query_length:
                raise InputError(
                    f"read {read.query_name!r}: XM tag length {len(xm)} differs from the "
                    f"read length {read.query_length}",
                    source=p,
                    row=k + 1,
                    column="XM",
                    fix="give the BAM written by Bismark (hard-clipped reads are not supported)",
                )
            if not (len(cigar) == 1 and cigar[0][0] in (0, 7, 8)):
                spliced[len(xms)] = read.get_reference_positions(full_length=True)
            xms.append(xm.encode("ascii"))
            starts.append(read.reference_start)
            chroms.append(read.reference_id)
            if len(xms) >= reads_per_chunk:
                yield _bam_batch(xms, starts, chroms, spliced, names)
                xms, starts, chroms, spliced = [], [], [], {}
        if xms:
            yield _bam_batch(xms, starts, chroms, spliced, names)


def _bam_batch(
    xms: list[bytes],
    starts: list[int],
    chroms: list[int],
    spliced: dict[int, list[int | None]],
    names: list[str],
) -> CallBatch:
    """Vectorised: all reads' XM strings concatenated, calls found and placed at once."""
    lens = np.fromiter((len(x) for x in xms), dtype=np.int64, count=len(xms))
    xm = np.frombuffer(b"".join(xms), dtype=np.uint8)
    offsets = np.concatenate(([0], np.cumsum(lens)))
    idx = np.flatnonzero((xm == ord("Z")) | (xm == ord("z")))
    rid = np.searchsorted(offsets, idx, side="right") - 1
    # 0-based reference position: read start + offset in the read (one match block)
    refpos = np.asarray(starts, dtype=np.int64)[rid] + (idx - offsets[rid])
    if spliced:
        for i, positions in spliced.items():
            sel = np.flatnonzero(rid == i)
            refpos[sel] = [
                -1 if positions[j] is None else positions[j]
                for j in (idx[sel] - offsets[i]).tolist()
            ]
        keep = refpos >= 0  # calls in insertions have no reference position
        idx, rid, refpos = idx[keep], rid[keep], refpos[keep]
    first = np.ones(idx.size, dtype=bool)
    first[1:] = rid[1:] != rid[:-1]
    return CallBatch(
        chrom=np.asarray(chroms, dtype=np.int32)[rid],
        position=refpos + 1,
        methylated=(xm[idx] == ord("Z")).astype(np.uint8),
        read_start=first,
        chrom_names=names,
    )


def read_coverage(path: str | Path) -> pd.DataFrame:
    """Read per-CpG methylation: a Bismark coverage file or a bedGraph.

    Parameters
    ----------
    path
        Bismark ``.bismark.cov(.gz)``: ``chrom, start, end, percent, count_methylated,
        count_unmethylated`` (no header; ``start`` 1-based), or a bedGraph ``chrom, start, end,
        percent`` (a ``track`` line is skipped; ``start`` 0-based, so 1 is added).

    Returns
    -------
    pandas.DataFrame
        ``chrom, position, n_methylated, n_unmethylated, beta`` (beta = fraction methylated,
        0..1; counts missing for a bedGraph).

    Raises
    ------
    ithkit.InputError
        Percentages outside 0..100, negative counts, counts that disagree with the percentage.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.bismark.cov"
    >>> _ = p.write_text("chr1\\t10\\t10\\t75\\t3\\t1\\n")
    >>> read_coverage(p)["beta"].tolist()
    [0.75]
    """
    p = Path(path)
    _check_file(p)
    with _open_text(p) as fh:
        lines = [fh.readline() for _ in range(3)]
    skip = 0
    for ln in lines:
        if ln.startswith(("track", "browser", "#")):
            skip += 1
        else:
            break
    try:
        frame = pd.read_csv(p, sep="\t", header=None, skiprows=skip, dtype={0: str}, comment=None)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"cannot read as a coverage table ({' '.join(str(exc).split())[:160]})",
            source=p,
            fix="give Bismark's .cov file or a bedGraph (tab-separated, no header)",
        ) from None
    ncol = frame.shape[1]
    if ncol not in (4, 6):
        raise InputError(
            f"{ncol} columns", source=p,
            fix="a Bismark .cov file has 6 columns, a bedGraph 4",
        )  # fmt: skip
    for j in range(1, ncol):
        if not pd.api.types.is_numeric_dtype(frame[j]):
            raise InputError(
                "non-numeric value", source=p, column=f"{j + 1}",
                fix="columns 2..n are numbers",
            )  # fmt: skip
    pct = frame[3].to_numpy(dtype=float)
    bad = ~((pct >= 0) & (pct <= 100))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"percent methylation is {pct[i]}",
            source=p,
            row=skip + i + 1,
            column="percent",
            fix="percentages lie in 0..100",
        )
    if ncol == 6:
        nm = frame[4].to_numpy(dtype=float)
        nu = frame[5].to_numpy(dtype=float)
        bad = (nm < 0) | (nu < 0) | (nm != np.round(nm)) | (nu != np.round(nu))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"counts {nm[i]:g}, {nu[i]:g}",
                source=p,
                row=skip + i + 1,
                column="count_methylated",
                fix="counts are integers >= 0",
            )
        tot = nm + nu
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = np.where(tot > 0, nm / np.where(tot > 0, tot, 1), np.nan)
        off = (tot > 0) & (np.abs(beta * 100 - pct) > 1.0)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise InputError(
                f"percent {pct[i]:g} disagrees with the counts {nm[i]:g}/{tot[i]:g}",
                source=p,
                row=skip + i + 1,
                column="percent",
                fix="give Bismark's coverage columns in order: chrom, start, end, percent, "
                "count_methylated, count_unmethylated",
            )
        out = pd.DataFrame(
            {
                "chrom": frame[0].astype(str),
                "position": frame[1].astype(np.int64),
                "n_methylated": nm.astype(np.int64),
                "n_unmethylated": nu.astype(np.int64),
                "beta": beta,
            }
        )
    else:
        out = pd.DataFrame(
            {
                "chrom": frame[0].astype(str),
                "position": frame[1].astype(np.int64) + 1,
                "n_methylated": pd.array([pd.NA] * len(frame), dtype="Int64"),
                "n_unmethylated": pd.array([pd.NA] * len(frame), dtype="Int64"),
                "beta": pct / 100.0,
            }
        )
    return out


def read_beta_matrix(path: str | Path) -> pd.DataFrame:
    """Read methylation-array beta values: probes x samples (e.g. EPIC), first column the probe.

    Parameters
    ----------
    path
        TSV/CSV with a header row: probe id column, then one column per sample/region.
        Empty cells and ``NA`` are missing values.

    Returns
    -------
    pandas.DataFrame
        Probes as the (string) index, one float column per sample, values in 0..1.

    Raises
    ------
    ithkit.InputError
        Beta values outside [0, 1] (M-values or percentages), non-numeric cells, duplicate
        probes or samples.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "betas.tsv"
    >>> _ = p.write_text("probe\\tR1\\tR2\\ncg1\\t0.1\\t0.9\\n")
    >>> read_beta_matrix(p).loc["cg1", "R2"]
    np.float64(0.9)
    """
    p = Path(path)
    _check_file(p)
    sep = "," if p.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
    try:
        frame = pd.read_csv(p, sep=sep, index_col=0, dtype={0: str})
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"cannot read as a beta matrix ({' '.join(str(exc).split())[:160]})",
            source=p,
            fix="probes in rows, samples in columns, a header row",
        ) from None
    frame.index = frame.index.astype(str)
    if frame.shape[1] == 0:
        raise InputError("no sample columns", source=p, fix="one column per sample")
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError(f"sample {dup!r} twice", source=p, column=str(dup), fix="unique names")
    if frame.index.duplicated().any():
        dup = frame.index[frame.index.duplicated()][0]
        i = int(np.flatnonzero(frame.index == dup)[1])
        raise InputError(f"probe {dup!r} twice", source=p, row=i + 2, fix="one row per probe")
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            vals = pd.to_numeric(frame[col], errors="coerce")
            i = int(np.flatnonzero(vals.isna() & frame[col].notna())[0])
            raise InputError(
                f"value {frame[col].iloc[i]!r} is not a number",
                source=p,
                row=i + 2,
                column=str(col),
                fix="beta values are numbers in [0, 1]; leave missing cells empty",
            )
    values = frame.to_numpy(dtype=float)
    check_beta(values, source=p, columns=[str(c) for c in frame.columns])
    return frame.astype(float)


def check_beta(values: np.ndarray, *, source: str | Path, columns: list[str]) -> None:
    """Refuse beta values outside [0, 1], naming M-values or percentages when they look so."""
    bad = ~np.isnan(values) & ((values < 0) | (values > 1))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        v = values[i, j]
        finite = values[~np.isnan(values)]
        if finite.max() > 1 and finite.min() >= 0 and finite.max() <= 100:
            hint = "these look like percentages: divide by 100"
        elif finite.min() < 0:
            hint = "these look like M-values: convert with beta = 2^M / (2^M + 1)"
        else:
            hint = "beta values are fractions methylated in [0, 1]"
        raise InputError(
            f"beta value {v:g} outside [0, 1]", source=source, row=i + 2, column=columns[j],
            fix=hint,
        )  # fmt: skip
