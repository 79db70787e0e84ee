"""Benchmark of ithkit.epigenetic: read-level metrics on a synthetic Bismark CpG-context file.

Run: ``python benchmarks/epigenetic.py [--calls 10000000] [--keep DIR]``. Writes a synthetic file
(``--calls`` calls, reads of 4-16 CpGs on a 1-Mb CpG grid, gzip optional), then times
``read_heterogeneity`` on it and reports wall time and peak resident memory (the 10M-call target
is <= 30 s and <= 4 GB on a 2-core machine). With ``--metheor DIR`` (a folder with metheor's
test outputs next to the BAMs they came from) it prints ithkit's and metheor's values side by
side.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_calls(path: Path, n_calls: int, *, seed: int = 0, n_cpgs: int = 200_000) -> int:
    """Write a Bismark CpG-context file of about ``n_calls`` calls; returns the number written.

    Reads start at a random CpG of a grid of ``n_cpgs`` CpGs (every 25-75 bp on chr1/chr2) and
    cover 4-16 consecutive CpGs; each locus has a methylation level and reads are drawn from
    two epialleles with per-CpG noise (so the metrics are neither all 0 nor all 1).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
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


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="folder for the synthetic file")
    ap.add_argument("--metheor", type=Path, default=None, help="metheor test data folder")
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
    t0 = time.perf_counter()
    res = read_heterogeneity(path, sample_ids="synthetic")
    wall = time.perf_counter() - t0
    s = res.summary.iloc[0]
    print("| input | calls | reads | loci | wall s | peak RSS GB | median PDR | median epipoly |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| CpG-context txt | {s.n_calls} | {s.n_reads} | {s.n_loci} | {wall:.1f} | "
        f"{_peak_rss_gb():.2f} | {s.median_pdr:.3f} | {s.median_epipolymorphism:.3f} |"
    )
    if args.metheor is not None:
        from benchmarks_epigenetic_metheor import compare  # type: ignore[import-not-found]

        compare(args.metheor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
