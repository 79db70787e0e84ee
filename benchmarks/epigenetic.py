"""Benchmark of ithkit.epigenetic: read-level metrics on a synthetic Bismark CpG-context file.

Run: ``python benchmarks/epigenetic.py [--calls 10000000] [--keep DIR]``. Writes a synthetic file
(``--calls`` calls, reads of 4-16 CpGs on a 1-Mb CpG grid, gzip optional), then times
``read_heterogeneity`` on it and reports wall time and peak resident memory (the 10M-call target
is <= 30 s and <= 4 GB on a 2-core machine). With ``--metheor DIR`` (the ``tests`` folder of
https://github.com/dohlee/metheor, whose ``test1.bam`` ... ``test5.bam`` are tiny Bismark BAMs)
it prints ithkit's values next to the values metheor's own unit tests assert on those BAMs.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_calls(path: Path, n_calls: int, *, seed: int = 0) -> int:
    """Write a Bismark CpG-context file of about ``n_calls`` calls; returns the number written.

    Reads start at a random CpG of a grid of ``n_calls / 50`` CpGs (every 25-75 bp) and
    cover 4-16 consecutive CpGs; each locus has a methylation level and reads are drawn from
    two epialleles with per-CpG noise (so the metrics are neither all 0 nor all 1).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    n_cpgs = max(1000, n_calls // 50)
    grid = np.cumsum(rng.integers(25, 76, size=n_cpgs)).astype(np.int64)
    level = rng.beta(0.5, 0.5, size=n_cpgs)
    written = 0
    read_no = 0
    with pa.OSFile(str(path), "wb") as sink:
        sink.write(b"Bismark methylation extractor version v0.24.2\n")
        while written < n_calls:
            n_reads = min(200_000, (n_calls - written) // 10 + 1)
            length = rng.integers(4, 17, size=n_reads)
            start = rng.integers(0, n_cpgs - 17, size=n_reads)
            read_of = np.repeat(np.arange(n_reads), length)
            offset = np.arange(read_of.size) - np.repeat(np.cumsum(length) - length, length)
            site = start[read_of] + offset
            # each read carries its locus's epiallele (all methylated with p = level) + noise
            high = rng.random(n_reads) < level[start]
            meth = np.where(rng.random(site.size) < 0.1, ~high[read_of], high[read_of])
            chrom = np.where(start[read_of] < n_cpgs // 2, "chr1", "chr2")
            table = pa.table(
                {
                    "id": pa.array(np.char.add("read", (read_of + read_no).astype(str))),
                    "state": pa.array(np.where(meth, "+", "-")),
                    "chrom": pa.array(chrom),
                    "pos": pa.array(grid[site]),
                    "call": pa.array(np.where(meth, "Z", "z")),
                }
            )
            pacsv.write_csv(
                table,
                sink,
                write_options=pacsv.WriteOptions(
                    include_header=False, delimiter="\t", quoting_style="none"
                ),
            )
            written += site.size
            read_no += n_reads
    return written


# Values asserted by metheor's unit tests (dohlee/metheor, src/pm.rs, me.rs, mhl.rs, pdr.rs,
# fdrp.rs, qfdrp.rs; commit 33248b1) on its test BAMs: per quartet (PM, ME), per CpG stretch
# (MHL), per CpG (PDR, FDRP, qFDRP). test4 has two quartets, test5 no read of mapping quality
# >= 10. test3's 16 reads include 14 of mapping quality 0: 2 reads (0000, 1111) remain.
METHEOR = {
    "test1.bam": {"n_loci": 1, "epipolymorphism": 1 - 16 / 256, "entropy": 1.0,
                  "mhl": 0.1625, "pdr": 14 / 16, "fdrp": 1.0, "qfdrp": 8 / 15},
    "test2.bam": {"n_loci": 1, "epipolymorphism": 1 - 2 * 0.25, "entropy": 0.25,
                  "mhl": 0.5, "pdr": 0.0, "fdrp": 1 - 56 / 120, "qfdrp": 8 / 15},
    "test3.bam": {"n_loci": 1, "epipolymorphism": 0.5, "entropy": 0.25,
                  "mhl": 0.5, "pdr": 0.0, "fdrp": 1.0, "qfdrp": 1.0},
    "test4.bam": {"n_loci": 2, "epipolymorphism": 1 - 16 / 256, "entropy": 1.0,
                  "mhl": 0.1625, "pdr": 14 / 16, "fdrp": 1.0, "qfdrp": 8 / 15},
    "test5.bam": {"n_loci": 0},
}  # fmt: skip


def compare_metheor(folder: Path) -> None:
    """ithkit on metheor's test BAMs next to the values metheor's unit tests assert."""
    from ithkit.epigenetic import read_heterogeneity

    print()
    print("| BAM | metric | metheor (unit test) | ithkit | equal |")
    print("|---|---|---|---|---|")
    for name, expected in METHEOR.items():
        path = folder / name
        if not path.exists():
            print(f"| {name} | missing | | | |")
            continue
        res = read_heterogeneity(path, sample_ids=name, min_reads=1, min_mapq=10)
        for metric, value in expected.items():
            if metric == "n_loci":
                got = float(len(res.loci))
            else:
                vals = res.loci[metric].to_numpy(dtype=float)
                got = float(vals[0]) if vals.size and np.allclose(vals, vals[0]) else float("nan")
            ok = abs(got - value) < 1e-9
            print(f"| {name} | {metric} | {value:.6g} | {got:.6g} | {'yes' if ok else 'NO'} |")


def synthetic_bam(path: Path, n_reads: int, *, seed: int = 0, read_length: int = 150) -> int:
    """Write a Bismark-like BAM (XM tags, CpGs every 6-14 bp); returns the number of CpG calls."""
    import pysam

    rng = np.random.default_rng(seed)
    length = 5_000_000
    cpg = np.zeros(length, dtype=bool)
    sites = np.cumsum(rng.integers(6, 15, size=length // 6))
    cpg[sites[sites < length]] = True
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": length}]}
    starts = np.sort(rng.integers(0, length - read_length, size=n_reads))
    n_calls = 0
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for i, s0 in enumerate(starts.tolist()):
            window = cpg[s0 : s0 + read_length]
            meth = rng.random(read_length) < 0.6
            xm = np.full(read_length, ord("."), dtype=np.uint8)
            xm[window & meth] = ord("Z")
            xm[window & ~meth] = ord("z")
            n_calls += int(window.sum())
            a = pysam.AlignedSegment()
            a.query_name = f"read{i}"
            a.reference_id = 0
            a.reference_start = s0
            a.query_sequence = "A" * read_length
            a.cigartuples = [(0, read_length)]
            a.mapping_quality = 40
            a.set_tag("XM", xm.tobytes().decode("ascii"))
            out.write(a)
    return n_calls


def _cpu_s() -> float:
    """User + system CPU seconds of this process (all threads): a timing the other jobs on a
    shared machine do not inflate the way they inflate wall time."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="folder for the synthetic file")
    ap.add_argument("--metheor", type=Path, default=None, help="metheor test data folder")
    ap.add_argument("--bam-reads", type=int, default=0, help="also time a BAM of N reads")
    args = ap.parse_args(argv)

    from ithkit.epigenetic import read_heterogeneity

    folder = args.keep or Path(tempfile.mkdtemp(prefix="ithkit_epi_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"CpG_context_synthetic_{args.calls}.txt"
    if not path.exists():
        t0 = time.perf_counter()
        n = synthetic_calls(path, args.calls)
        print(f"wrote {n} calls ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    t0, c0 = time.perf_counter(), _cpu_s()
    res = read_heterogeneity(path, sample_ids="synthetic")
    wall = text_wall = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    s = res.summary.iloc[0]
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    cols = ("input", "calls", "reads", "loci", "wall s", "CPU s", "peak RSS GB", "median PDR",
            "median epipoly")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| CpG-context txt | {s.n_calls} | {s.n_reads} | {s.n_loci} | {wall:.1f} | {cpu:.1f} | "
        f"{_peak_rss_gb():.2f} | {s.median_pdr:.3f} | {s.median_epipolymorphism:.3f} |"
    )
    if args.bam_reads:
        bam = folder / f"synthetic_{args.bam_reads}.bam"
        if not bam.exists():
            synthetic_bam(bam, args.bam_reads)
        t0, c0 = time.perf_counter(), _cpu_s()
        rb = read_heterogeneity(bam, sample_ids="bam")
        wall = time.perf_counter() - t0
        cpu = _cpu_s() - c0
        b = rb.summary.iloc[0]
        print(
            f"| Bismark BAM (pysam) | {b.n_calls} | {b.n_reads} | {b.n_loci} | {wall:.1f} | "
            f"{cpu:.1f} | {_peak_rss_gb():.2f} | {b.median_pdr:.3f} | "
            f"{b.median_epipolymorphism:.3f} |"
        )
        print(f"\nper read: text {1e6 * text_wall / s.n_reads:.1f} us, "
              f"BAM {1e6 * wall / b.n_reads:.1f} us")  # fmt: skip
    if args.metheor is not None:
        compare_metheor(args.metheor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
