"""Benchmark: ithkit.singlecell CNV vs infercnvpy, ithkit.spatial vs squidpy (time, memory, r).

Both tools run on the same simulated data (``ithkit.singlecell.simulate_scrna`` and
``ithkit.spatial.simulate_tissue``) in separate processes, so peak memory (max RSS) is measured
per tool. The peers live in their own environment, never in ithkit's::

    python -m venv /tmp/bench_infercnvpy
    /tmp/bench_infercnvpy/bin/pip install infercnvpy squidpy

Run (from the repository root, with ithkit's environment)::

    python benchmarks/singlecell.py --sizes 10000 100000
    python benchmarks/singlecell.py --sizes 10000 --skip-peer     # ithkit only

Printed table: tool, task, cells, seconds, peak RSS (MB) and the agreement with the peer
(Pearson r of the CNV profiles on the common windows; r of the enrichment z-scores; Moran's I
of both tools on the same graph).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

PEER_PYTHON = "/tmp/bench_infercnvpy/bin/python"
REFERENCE = ["T cell", "macrophage"]


def _rss_mb(field: str = "VmHWM") -> float:
    """Peak (``VmHWM``) or current (``VmRSS``) resident memory of this process, MB.

    ``ru_maxrss`` would be wrong here: Linux carries it over from the parent across fork/exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _children_mb() -> float:
    """Peak RSS of the largest finished child process (infercnvpy's and squidpy's workers), MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# children (one process per tool and task)


def child_ithkit_cnv(data: Path, result: Path) -> dict[str, float]:
    import anndata as ad
    import scipy.sparse as sp
    import sklearn.mixture  # noqa: F401  (imported before the clock starts, like the peers)

    from ithkit.singlecell import infer_cnv

    adata = ad.read_h5ad(data)
    del adata.layers["counts"]  # the same single matrix as infercnvpy gets
    base = _rss_mb("VmRSS")
    t = time.perf_counter()
    infer_cnv(adata, reference_key="cell_type", reference=REFERENCE, window=100, step=10,
              min_cells_fraction=0.0)  # fmt: skip
    seconds = time.perf_counter() - t
    windows = adata.uns["cnv"]["windows"]
    sp.save_npz(result, sp.csr_matrix(adata.obsm["X_cnv"]))
    windows.to_csv(str(result) + ".windows.tsv", sep="\t", index=False)
    truth = adata.obs["true_malignant"].to_numpy()
    accuracy = float((adata.obs["malignant"].to_numpy() == truth).mean())
    return {"seconds": seconds, "peak_rss_mb": _rss_mb(), "workers_peak_mb": _children_mb(),
            "data_rss_mb": base,
            "malignant_accuracy": accuracy}  # fmt: skip


def child_infercnvpy(data: Path, result: Path) -> dict[str, float]:
    import anndata as ad
    import infercnvpy as cnv
    import numpy as np
    import scanpy as sc
    import scipy.sparse as sp

    adata = ad.read_h5ad(data)
    del adata.layers["counts"]
    base = _rss_mb("VmRSS")
    t = time.perf_counter()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    cnv.tl.infercnv(adata, reference_key="cell_type", reference_cat=REFERENCE, window_size=100,
                    step=10, n_jobs=1)  # fmt: skip
    seconds = time.perf_counter() - t
    sp.save_npz(result, sp.csr_matrix(adata.obsm["X_cnv"]))
    pos = adata.uns["cnv"]["chr_pos"]
    Path(str(result) + ".chr_pos.json").write_text(json.dumps({k: int(v) for k, v in pos.items()}))
    _ = np
    return {
        "seconds": seconds,
        "peak_rss_mb": _rss_mb(),
        "workers_peak_mb": _children_mb(),
        "data_rss_mb": base,
    }


def child_ithkit_spatial(data: Path, result: Path, n_jobs: int) -> dict[str, float]:
    import anndata as ad
    import numpy as np

    from ithkit.spatial import morans_i, nhood_enrichment, spatial_neighbors

    adata = ad.read_h5ad(data)
    base = _rss_mb("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    spatial_neighbors(adata, n_neighbors=6)
    e = nhood_enrichment(adata, "cell_type", n_perms=1000, seed=0, n_jobs=n_jobs)
    krt8 = np.asarray(adata[:, "KRT8"].X.todense()).ravel()
    mi = morans_i(krt8, adata.obsp["spatial_connectivities"]).statistic
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    e.to_csv(result, sep="\t", index=False)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _rss_mb(),
        "workers_peak_mb": _children_mb(),
        "data_rss_mb": base,
        "moran": mi,
    }


def child_squidpy(data: Path, result: Path, n_jobs: int) -> dict[str, float]:
    import anndata as ad
    import numpy as np
    import pandas as pd
    import squidpy as sq

    adata = ad.read_h5ad(data)
    base = _rss_mb("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    sq.gr.spatial_neighbors(adata, coord_type="generic", n_neighs=6)
    sq.gr.nhood_enrichment(adata, cluster_key="cell_type", n_perms=1000, seed=0, n_jobs=n_jobs,
                           show_progress_bar=False)  # fmt: skip
    sq.gr.spatial_autocorr(adata, mode="moran", genes=["KRT8"], n_perms=None, n_jobs=1)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    z = adata.uns["cell_type_nhood_enrichment"]["zscore"]
    cats = list(adata.obs["cell_type"].cat.categories)
    pd.DataFrame(
        {"label_a": np.repeat(cats, len(cats)), "label_b": np.tile(cats, len(cats)),
         "zscore": np.asarray(z).ravel()}
    ).to_csv(result, sep="\t", index=False)  # fmt: skip
    mi = float(adata.uns["moranI"].loc["KRT8", "I"])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _rss_mb(),
        "workers_peak_mb": _children_mb(),
        "data_rss_mb": base,
        "moran": mi,
    }


# ---------------------------------------------------------------------------------------------
# driver


def _child(python: str, task: str, data: Path, result: Path, jobs: int) -> dict[str, float]:
    cmd = [python, __file__, "--child", task, "--data", str(data), "--result", str(result),
           "--jobs", str(jobs)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"[:300]}  # type: ignore[dict-item]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cnv_correlation(ours: Path, theirs: Path) -> float:
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    a = sp.load_npz(ours).toarray()
    b = sp.load_npz(theirs).toarray()
    win = pd.read_csv(str(ours) + ".windows.tsv", sep="\t", dtype={"chromosome": str})
    pos = json.loads(Path(str(theirs) + ".chr_pos.json").read_text())
    order = sorted(pos, key=lambda c: pos[c])
    ends = {c: (pos[c], pos[order[i + 1]] if i + 1 < len(order) else b.shape[1])
            for i, c in enumerate(order)}  # fmt: skip
    cols_a, cols_b = [], []
    for chrom, (lo, hi) in ends.items():
        ours_idx = np.flatnonzero(win["chromosome"].to_numpy() == chrom.removeprefix("chr"))
        n = min(len(ours_idx), hi - lo)
        cols_a += list(ours_idx[:n])
        cols_b += list(range(lo, lo + n))
    return float(np.corrcoef(a[:, cols_a].ravel(), b[:, cols_b].ravel())[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--genes", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ithkit_bench_singlecell"))
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-cnv", action="store_true")
    parser.add_argument("--skip-spatial", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="n_jobs of the enrichment tests")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        funcs = {"ithkit-cnv": lambda: child_ithkit_cnv(args.data, args.result),
                 "infercnvpy": lambda: child_infercnvpy(args.data, args.result),
                 "ithkit-spatial": lambda: child_ithkit_spatial(args.data, args.result, args.jobs),
                 "squidpy": lambda: child_squidpy(args.data, args.result, args.jobs)}  # fmt: skip
        print(json.dumps(funcs[args.child]()))
        return

    import numpy as np
    import pandas as pd

    from ithkit.singlecell import simulate_scrna
    from ithkit.spatial import simulate_tissue

    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        if not args.skip_cnv:
            data = args.work / f"scrna_{n}_{args.genes}.h5ad"
            if not data.exists():
                a = simulate_scrna(n, args.genes, n_subclones=3, seed=0)
                keep = np.asarray((a.X > 0).mean(axis=0)).ravel() >= 0.01
                a[:, keep].copy().write_h5ad(data)
            ours = _child(sys.executable, "ithkit-cnv", data, args.work / f"ithkit_{n}.npz", 1)
            rows.append({"tool": "ithkit", "task": "cnv", "cells": n, **ours})
            if not args.skip_peer:
                peer = _child(args.peer_python, "infercnvpy", data,
                              args.work / f"infercnvpy_{n}.npz", 1)  # fmt: skip
                if "error" not in peer and "error" not in ours:
                    peer["cnv_r"] = _cnv_correlation(args.work / f"ithkit_{n}.npz",
                                                     args.work / f"infercnvpy_{n}.npz")  # fmt: skip
                rows.append({"tool": "infercnvpy", "task": "cnv", "cells": n, **peer})
        if not args.skip_spatial:
            data = args.work / f"tissue_{n}.h5ad"
            if not data.exists():
                simulate_tissue("immune_excluded", n, seed=0).write_h5ad(data)
            ours = _child(sys.executable, "ithkit-spatial", data, args.work / f"ith_z_{n}.tsv",
                          args.jobs)  # fmt: skip
            rows.append({"tool": "ithkit", "task": f"spatial (n_jobs={args.jobs})", "cells": n,
                         **ours})  # fmt: skip
            for jobs in dict.fromkeys([args.jobs, 1]) if not args.skip_peer else []:
                peer = _child(args.peer_python, "squidpy", data, args.work / f"sq_z_{n}.tsv",
                              jobs)  # fmt: skip
                if "error" not in peer and "error" not in ours:
                    za = pd.read_csv(args.work / f"ith_z_{n}.tsv", sep="\t")
                    zb = pd.read_csv(args.work / f"sq_z_{n}.tsv", sep="\t")
                    m = za.merge(zb, on=["label_a", "label_b"], suffixes=("", "_sq"))
                    peer["zscore_r"] = float(np.corrcoef(m["zscore"], m["zscore_sq"])[0, 1])
                rows.append({"tool": "squidpy", "task": f"spatial (n_jobs={jobs})",
                             "cells": n, **peer})  # fmt: skip
                if "error" not in peer:
                    break  # n_jobs=1 only as a fallback when n_jobs crashed
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print("\nfinal\n" + table.to_string(index=False))
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"{os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
