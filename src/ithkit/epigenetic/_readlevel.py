"""Read-level methylation heterogeneity per locus: PDR, epipolymorphism, methylation entropy,
methylation haplotype load (MHL), FDRP and qFDRP.

A *locus* is a run of ``cpgs_per_locus`` consecutive CpGs called together on one read (a
sliding window over each read's CpGs, as methclone and metheor form their quartets); the reads
that cover exactly those CpGs make the locus's epiallele counts. Each read's pattern in a window
is an integer bit mask (first CpG = most significant bit), so one sort per chunk gives the
counts of every (locus, epiallele) pair and every metric is a vector operation on those counts.

With ``c_i`` the number of reads carrying epiallele ``i`` at a locus of ``k`` CpGs and
``N = sum(c_i)`` reads:

- PDR (Landau et al. 2014, Cancer Cell 26:813): fraction of reads whose CpGs are neither all
  methylated nor all unmethylated. Landau scores each CpG by the reads (>= 4 CpGs) covering
  it; here the read's CpGs are those of the window.
- Epipolymorphism (Landan et al. 2012, Nat Genet 44:1207): ``1 - sum (c_i / N)^2``.
- Methylation entropy (Xie et al. 2011, Nucleic Acids Res 39:4099):
  ``(1 / k) * sum -(c_i / N) log2(c_i / N)`` (0..1 for k CpGs).
- MHL (Guo et al. 2017, Nat Genet 49:635): ``sum_l w_l P(MH_l) / sum_l w_l`` with ``w_l = l``
  and ``P(MH_l)`` the fraction of the length-l substrings of the reads' patterns that are fully
  methylated, l = 1..k.
- FDRP and qFDRP (Scherer et al. 2020, Genome Biol 21:272): over all pairs of reads at the
  locus, the fraction of pairs whose patterns differ (FDRP) and the mean fraction of CpGs at
  which they differ (qFDRP, a normalised Hamming distance). Scherer compares reads over the
  CpGs they share around one CpG (and subsamples 40 reads); here every read of a locus shares
  its k CpGs and all pairs are counted exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.epigenetic._io import DEFAULT_CHUNK_BYTES, CallBatch, iter_calls

#: columns of ``loci.tsv`` (the interface)
LOCI_COLUMNS = (
    "sample_id", "chrom", "start", "end", "n_cpgs", "n_reads",
    "pdr", "epipolymorphism", "entropy", "mhl",
)  # fmt: skip
#: extra columns of ``loci_detail.tsv``
LOCI_DETAIL_COLUMNS = (*LOCI_COLUMNS, "fdrp", "qfdrp", "mean_methylation")
#: columns of ``summary.tsv``
SUMMARY_COLUMNS = (
    "sample_id", "n_loci", "n_reads", "n_calls", "median_pdr", "median_epipolymorphism",
    "median_entropy", "median_mhl", "median_fdrp", "median_qfdrp", "mean_methylation",
    "cpgs_per_locus", "min_reads",
)  # fmt: skip

_POS_BITS = 40  # positions < 2^40
_SPAN_BITS = 20  # a read spans < 1 Mb
_MID_BITS = 24
_PAT_BITS = 16  # k <= 16


@dataclass(frozen=True)
class ReadLevelResult:
    """Read-level heterogeneity of one or more samples.

    Attributes
    ----------
    loci
        One row per locus passing ``min_reads``: the :data:`LOCI_DETAIL_COLUMNS`.
    summary
        One row per sample: :data:`SUMMARY_COLUMNS` (medians over loci; the options used).
    cpgs
        Per-CpG counts pooled over reads, for region comparisons: ``sample_id, chrom,
        position, n_methylated, n_unmethylated``.
    cpgs_per_locus, min_reads
        The options used.
    """

    loci: pd.DataFrame
    summary: pd.DataFrame
    cpgs: pd.DataFrame
    cpgs_per_locus: int
    min_reads: int
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``loci.tsv`` (interface columns), ``loci_detail.tsv`` (+ FDRP, qFDRP, mean
        methylation) and ``summary.tsv`` to ``out_dir``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return {
            "loci": write_table(self.loci[list(LOCI_COLUMNS)], out / "loci.tsv"),
            "loci_detail": write_table(self.loci, out / "loci_detail.tsv"),
            "summary": write_table(self.summary, out / "summary.tsv"),
        }


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 2 <= k <= _PAT_BITS:
        raise InputError(
            f"cpgs_per_locus is {k!r}",
            source="cpgs_per_locus",
            fix=f"an integer from 2 to {_PAT_BITS} (4 is the usual epiallele window)",
        )


def windows(batch: CallBatch, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every k-CpG window of every read in ``batch`` as two int64 keys.

    ``key1`` packs the chromosome code and the first CpG position; ``key2`` packs the span to
    the last CpG, the sum of the inner CpGs' offsets (so reads that skip a CpG form their own
    locus) and the read's pattern (bit ``k-1-t`` set when CpG ``t`` is methylated).
    """
    n = batch.position.size
    if n < k:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(batch.read_start)
    ends = np.append(starts[1:], n)
    read_end = np.repeat(ends, np.diff(np.append(starts, n)))
    idx = np.flatnonzero(np.arange(n) + k <= read_end)
    pos = batch.position
    p1 = pos[idx]
    span = pos[idx + k - 1] - p1
    if span.size and span.max() >= (1 << _SPAN_BITS):
        i = int(np.argmax(span))
        raise InputError(
            f"{k} consecutive CpGs of one read span {int(span[i])} bp",
            source="calls",
            fix="a read spans less than 1 Mb; check that read ids are unique",
        )
    cs = np.concatenate(([0], np.cumsum(pos)))
    # sum of positions idx+1 .. idx+k-2, as offsets from p1
    mid = (cs[idx + k - 1] - cs[idx + 1]) - (k - 2) * p1
    pattern = np.zeros(idx.size, dtype=np.int64)
    for t in range(k):
        pattern |= batch.methylated[idx + t].astype(np.int64) << (k - 1 - t)
    key1 = (batch.chrom[idx].astype(np.int64) << _POS_BITS) | p1
    key2 = (span << (_MID_BITS + _PAT_BITS)) | ((mid & ((1 << _MID_BITS) - 1)) << _PAT_BITS)
    key2 |= pattern
    return key1, key2


def _count_pairs(
    key1: np.ndarray, key2: np.ndarray, count: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (key1, key2) pairs and their (summed) counts."""
    if key1.size == 0:
        return key1, key2, np.empty(0, np.int64)
    order = np.lexsort((key2, key1))
    k1, k2 = key1[order], key2[order]
    new = np.ones(k1.size, dtype=bool)
    new[1:] = (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])
    first = np.flatnonzero(new)
    if count is None:
        cnt = np.diff(np.append(first, k1.size))
    else:
        cnt = np.add.reduceat(count[order], first)
    return k1[first], k2[first], cnt.astype(np.int64)


def _count_keys(keys: np.ndarray, count: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unique int64 keys and their (summed) counts."""
    if count is None:
        uniq, cnt = np.unique(keys, return_counts=True)
        return uniq, cnt.astype(np.int64)
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inv, weights=count, minlength=uniq.size).astype(np.int64)


def mhl_weights(k: int) -> np.ndarray:
    """Per epiallele (index = bit mask, first CpG most significant) its MHL contribution
    ``sum_l l * F_l / (k - l + 1) / sum_l l``, with ``F_l`` its fully methylated substrings of
    length l (Guo et al. 2017, Nat Genet 49:635, Methods: MHL).

    Examples
    --------
    >>> mhl_weights(4)[0b1111], mhl_weights(4)[0b0000]
    (np.float64(1.0), np.float64(0.0))
    """
    pats = np.arange(1 << k, dtype=np.int64)
    total = np.zeros(pats.size)
    for length in range(1, k + 1):
        mask = (1 << length) - 1
        full = np.zeros(pats.size)
        for s in range(k - length + 1):
            full += ((pats >> s) & mask) == mask
        total += length * full / (k - length + 1)
    return total / (k * (k + 1) / 2)


def locus_metrics(
    locus: np.ndarray, pattern: np.ndarray, count: np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """All metrics from (locus index, epiallele bit mask, read count) triples.

    ``locus`` must be sorted (rows of a locus together). Returns arrays per locus:
    ``n_reads, pdr, epipolymorphism, entropy, mhl, fdrp, qfdrp, mean_methylation``.

    Examples
    --------
    Sixteen reads, one of each 4-CpG epiallele:

    >>> import numpy as np
    >>> m = locus_metrics(np.zeros(16, int), np.arange(16), np.ones(16, int), 4)
    >>> float(m["pdr"][0]), float(m["epipolymorphism"][0]), float(m["entropy"][0])
    (0.875, 0.9375, 1.0)
    """
    if locus.size == 0:
        empty = np.empty(0)
        names = ("n_reads", "pdr", "epipolymorphism", "entropy", "mhl", "fdrp", "qfdrp")
        return {n: empty for n in (*names, "mean_methylation")}
    first = np.flatnonzero(np.r_[True, locus[1:] != locus[:-1]])
    c = count.astype(np.float64)
    n = np.add.reduceat(c, first)
    full = (1 << k) - 1
    concordant = np.add.reduceat(np.where((pattern == 0) | (pattern == full), c, 0.0), first)
    sum_sq = np.add.reduceat(c * c, first)
    p_row = c / np.repeat(n, np.diff(np.append(first, c.size)))
    plogp = np.add.reduceat(p_row * np.log2(p_row), first)
    mhl = np.add.reduceat(c * mhl_weights(k)[pattern], first) / n
    meth_pairs = np.zeros(n.size)  # sum_j m_j (N - m_j): pairs differing at CpG j
    meth_total = np.zeros(n.size)
    for j in range(k):
        m_j = np.add.reduceat(np.where((pattern >> j) & 1, c, 0.0), first)
        meth_pairs += m_j * (n - m_j)
        meth_total += m_j
    pairs = n * (n - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        fdrp = np.where(pairs > 0, 1.0 - (sum_sq - n) / (2 * pairs), np.nan)
        qfdrp = np.where(pairs > 0, meth_pairs / (k * pairs), np.nan)
    return {
        "n_reads": n.astype(np.int64),
        "pdr": 1.0 - concordant / n,
        "epipolymorphism": 1.0 - sum_sq / (n * n),
        "entropy": np.maximum(-plogp / k, 0.0),
        "mhl": mhl,
        "fdrp": fdrp,
        "qfdrp": qfdrp,
        "mean_methylation": meth_total / (k * n),
    }


def _sample_id(source: str | Path | pd.DataFrame) -> str:
    if isinstance(source, pd.DataFrame):
        return "sample"
    name = Path(source).name
    suffixes = (".gz", ".txt", ".tsv", ".bam", ".sam", ".cram", ".cov", ".bedGraph",
                ".bedgraph", ".bg", ".bismark")  # fmt: skip
    stripped = True
    while stripped:
        stripped = False
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, stripped = name[: -len(suffix)], True
    return name.removeprefix("CpG_context_") or "sample"


def read_heterogeneity(
    calls: str | Path | pd.DataFrame | Iterable[str | Path | pd.DataFrame],
    *,
    sample_ids: str | Iterable[str] | None = None,
    cpgs_per_locus: int = 4,
    min_reads: int = 10,
    min_mapq: int = 10,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    show_progress: bool = False,
) -> ReadLevelResult:
    """Read-level methylation heterogeneity per locus and per sample.

    Parameters
    ----------
    calls
        One sample or a list of samples: Bismark CpG-context files (plain or ``.gz``), Bismark
        BAMs (``.bam``, needs the ``[methylation]`` extra) or DataFrames ``read_id, chrom,
        position, methylated``. Files are streamed in chunks.
    sample_ids
        One id per sample; by default the file name without ``CpG_context_`` and extensions.
    cpgs_per_locus
        CpGs per locus (window over each read's consecutive CpGs), 2..16; 4 as in Landau 2014
        and Landan 2012.
    min_reads
        Loci covered by fewer reads are left out (reads covering all the locus's CpGs).
    min_mapq
        BAM input only: reads with a lower mapping quality are skipped.
    chunk_bytes
        Text bytes parsed per chunk (memory bound).
    show_progress
        Progress bar over the chunks.

    Returns
    -------
    ReadLevelResult
        ``loci`` (one row per locus), ``summary`` (one row per sample: medians and the options),
        ``cpgs`` (pooled per-CpG counts).

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"read_id": [f"r{i // 4}" for i in range(40)],
    ...                       "chrom": "chr1", "position": [10, 20, 30, 40] * 10,
    ...                       "methylated": [True, False, True, True] * 10})
    >>> res = read_heterogeneity(calls, sample_ids="s1")
    >>> res.loci[["n_reads", "pdr", "epipolymorphism"]].to_dict("records")
    [{'n_reads': 10, 'pdr': 1.0, 'epipolymorphism': 0.0}]
    """
    _check_k(cpgs_per_locus)
    if isinstance(min_reads, bool) or not isinstance(min_reads, (int, np.integer)) or min_reads < 1:
        raise InputError(
            f"min_reads is {min_reads!r}", source="min_reads", fix="an integer >= 1 (e.g. 10)"
        )
    sources: list[str | Path | pd.DataFrame]
    if isinstance(calls, (str, Path, pd.DataFrame)):
        sources = [calls]
    else:
        sources = list(calls)
    if isinstance(sample_ids, str):
        ids = [sample_ids]
    elif sample_ids is None:
        ids = [_sample_id(s) for s in sources]
    else:
        ids = [str(s) for s in sample_ids]
    if len(ids) != len(sources):
        raise InputError(
            f"{len(ids)} sample ids for {len(sources)} inputs",
            source="sample_ids",
            fix="give one id per input",
        )
    if len(set(ids)) != len(ids):
        raise InputError(
            "sample ids are not unique", source="sample_ids", fix="give each input its own id"
        )
    loci, summaries, cpgs = [], [], []
    for sid, src in zip(ids, sources, strict=True):
        lf, sm, cp = _one_sample(
            src, sid, cpgs_per_locus, int(min_reads), chunk_bytes, show_progress, min_mapq
        )
        loci.append(lf)
        summaries.append(sm)
        cpgs.append(cp)
    return ReadLevelResult(
        loci=pd.concat(loci, ignore_index=True),
        summary=pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS)),
        cpgs=pd.concat(cpgs, ignore_index=True),
        cpgs_per_locus=int(cpgs_per_locus),
        min_reads=int(min_reads),
    )


def _one_sample(
    source: str | Path | pd.DataFrame,
    sample_id: str,
    k: int,
    min_reads: int,
    chunk_bytes: int,
    show_progress: bool,
    min_mapq: int = 10,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    from ithkit._progress import progress

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cpg_parts: list[tuple[np.ndarray, np.ndarray]] = []
    n_reads = n_calls = 0
    names: list[str] = []
    total = None
    if not isinstance(source, pd.DataFrame) and Path(source).exists():
        total = max(1, Path(source).stat().st_size // max(chunk_bytes, 1) + 1)
    with progress(show_progress, f"read-level {sample_id}", total or 1) as advance:
        for batch in iter_calls(source, chunk_bytes=chunk_bytes, min_mapq=min_mapq):
            names = batch.chrom_names
            n_reads += batch.n_reads
            n_calls += batch.position.size
            parts.append(_count_pairs(*windows(batch, k)))
            site = (batch.chrom.astype(np.int64) << _POS_BITS) | batch.position
            # (site, methylated) pairs packed in one key (chromosome codes < 2^22) and counted
            cpg_parts.append(_count_keys((site << 1) | batch.methylated))
            advance()
    if parts:
        k1, k2, cnt = _count_pairs(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
    else:
        k1 = k2 = cnt = np.empty(0, np.int64)
    loc2 = k2 >> _PAT_BITS
    pattern = k2 & ((1 << _PAT_BITS) - 1)
    new = np.r_[True, (k1[1:] != k1[:-1]) | (loc2[1:] != loc2[:-1])] if k1.size else k1 > 0
    locus = np.cumsum(new) - 1
    metrics = locus_metrics(locus, pattern, cnt, k)
    first = np.flatnonzero(new)
    keep = metrics["n_reads"] >= min_reads
    lk1, lk2 = k1[first][keep], loc2[first][keep]
    chrom_names = np.asarray(names, dtype=object)
    start = lk1 & ((1 << _POS_BITS) - 1)
    loci = pd.DataFrame(
        {
            "sample_id": sample_id,
            "chrom": chrom_names[lk1 >> _POS_BITS] if lk1.size else np.empty(0, dtype=object),
            "start": start,
            "end": start + (lk2 >> _MID_BITS),
            "n_cpgs": np.full(start.size, k, dtype=np.int64),
            **{name: vals[keep] for name, vals in metrics.items()},
        }
    )[list(LOCI_DETAIL_COLUMNS)]
    # per-CpG counts
    if cpg_parts:
        keys, c_all = _count_keys(
            np.concatenate([p[0] for p in cpg_parts]), np.concatenate([p[1] for p in cpg_parts])
        )
    else:
        keys = c_all = np.empty(0, np.int64)
    sites, inv = np.unique(keys >> 1, return_inverse=True)
    n_meth = np.bincount(inv, weights=np.where(keys & 1, c_all, 0), minlength=sites.size)
    n_tot = np.bincount(inv, weights=c_all, minlength=sites.size)
    cpgs = pd.DataFrame(
        {
            "sample_id": sample_id,
            "chrom": chrom_names[sites >> _POS_BITS] if sites.size else np.empty(0, dtype=object),
            "position": sites & ((1 << _POS_BITS) - 1),
            "n_methylated": n_meth.astype(np.int64),
            "n_unmethylated": (n_tot - n_meth).astype(np.int64),
        }
    )

    def med(col: str) -> float:
        v = loci[col].to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        return float(np.median(v)) if v.size else float("nan")

    summary = {
        "sample_id": sample_id,
        "n_loci": len(loci),
        "n_reads": int(n_reads),
        "n_calls": int(n_calls),
        "median_pdr": med("pdr"),
        "median_epipolymorphism": med("epipolymorphism"),
        "median_entropy": med("entropy"),
        "median_mhl": med("mhl"),
        "median_fdrp": med("fdrp"),
        "median_qfdrp": med("qfdrp"),
        "mean_methylation": float(n_meth.sum() / n_tot.sum()) if n_tot.sum() else float("nan"),
        "cpgs_per_locus": int(k),
        "min_reads": int(min_reads),
    }
    return loci, summary, cpgs
