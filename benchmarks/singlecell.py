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

Atlas-scale CNV (``--large 500000 --large-genes 20000``): sparse counts (~1,500 detected genes
per cell) are simulated block by block straight into an ``.h5ad`` (the generator never holds
the matrix), ithkit reads it backed (``anndata.read_h5ad(path, backed="r")``), infercnvpy gets
the first ``--peer-cells`` cells of the same file in memory (its defaults, ``n_jobs=1``).
Every child is watched: a run whose process tree passes ``--memory-cap-gb`` is killed and
reported as such. Profiles are compared on the first 5,000 cells (a random sample)::

    python benchmarks/singlecell.py --large 500000 --large-genes 20000 \
        --peer-python /tmp/bench_infercnv/bin/python --peer-cells 50000 100000 --ithkit-all-sizes

Spatial (issue 16's rows), ithkit vs squidpy 1.8.2 at 100,000 cells and ithkit at 1,000,000::

    python benchmarks/singlecell.py --skip-cnv --sizes 100000 1000000 \
        --peer-python /tmp/bench_squidpy/bin/python --peer-max-cells 100000

Each tool runs in a fresh process that reads the ``.h5ad`` first; then ``data_rss_mb`` is
taken, the peak-RSS counter is reset, and the tool is imported (``import_s``) and run
(``seconds`` / ``cpu_seconds``: wall and CPU of the step, after the import). ``added_mb`` is
the peak RSS from there on minus ``data_rss_mb``: what the tool adds, its import included
(squidpy imports numba with itself, ithkit at the first compiled call). ithkit runs with
``n_jobs=1`` and with its default (every available core), squidpy with ``n_jobs=1``. A child
is stopped past ``--max-rss-mb`` or (squidpy) ``--peer-timeout`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def _reset_peak() -> None:
    """Start a new peak-RSS measurement (``VmHWM`` := current RSS; Linux >= 4.0)."""
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")


def _spatial_row(base: float, imported: tuple[float, float], step: tuple[float, float],
                 moran: float) -> dict[str, float]:  # fmt: skip
    peak = _rss_mb()
    return {"import_s": imported[0], "import_cpu_s": imported[1], "seconds": step[0],
            "cpu_seconds": step[1], "peak_rss_mb": peak, "data_rss_mb": base,
            "added_mb": peak - base, "moran": moran}  # fmt: skip


def child_ithkit_spatial(data: Path, result: Path, n_jobs: int) -> dict[str, float]:
    """Graph (6 nearest neighbours) + enrichment (1,000 permutations) + Moran's I (KRT8) +
    local diversity (Shannon, Simpson, Rao); ``n_jobs`` 0: ithkit's default (every core)."""
    import anndata as ad
    import numpy as np

    adata = ad.read_h5ad(data)
    base = _rss_mb("VmRSS")  # python + numpy + anndata + the data, before the tool's import
    _reset_peak()
    t, cpu = time.perf_counter(), time.process_time()
    from ithkit.spatial import local_diversity, morans_i, nhood_enrichment, spatial_neighbors

    imported = (time.perf_counter() - t, time.process_time() - cpu)
    jobs = None if n_jobs == 0 else n_jobs
    t, cpu = time.perf_counter(), time.process_time()
    spatial_neighbors(adata, n_neighbors=6, n_jobs=jobs)
    e = nhood_enrichment(adata, "cell_type", n_perms=1000, seed=0, n_jobs=jobs)
    krt8 = np.asarray(adata[:, "KRT8"].X.todense()).ravel()
    mi = morans_i(krt8, adata.obsp["spatial_connectivities"]).statistic
    local_diversity(adata, "cell_type")
    step = (time.perf_counter() - t, time.process_time() - cpu)
    e.to_csv(result, sep="\t", index=False)
    return _spatial_row(base, imported, step, mi)


def child_squidpy(data: Path, result: Path, n_jobs: int) -> dict[str, float]:
    """squidpy's graph + enrichment + Moran's I, the same parameters (no local diversity)."""
    import anndata as ad
    import numpy as np
    import pandas as pd

    adata = ad.read_h5ad(data)
    base = _rss_mb("VmRSS")
    _reset_peak()
    t, cpu = time.perf_counter(), time.process_time()
    import squidpy as sq

    imported = (time.perf_counter() - t, time.process_time() - cpu)
    t, cpu = time.perf_counter(), time.process_time()
    sq.gr.spatial_neighbors(adata, coord_type="generic", n_neighs=6)
    sq.gr.nhood_enrichment(adata, cluster_key="cell_type", n_perms=1000, seed=0, n_jobs=n_jobs,
                           show_progress_bar=False)  # fmt: skip
    sq.gr.spatial_autocorr(adata, mode="moran", genes=["KRT8"], n_perms=None, n_jobs=1)
    step = (time.perf_counter() - t, time.process_time() - cpu)
    z = adata.uns["cell_type_nhood_enrichment"]["zscore"]
    cats = list(adata.obs["cell_type"].cat.categories)
    pd.DataFrame(
        {"label_a": np.repeat(cats, len(cats)), "label_b": np.tile(cats, len(cats)),
         "zscore": np.asarray(z).ravel()}
    ).to_csv(result, sep="\t", index=False)  # fmt: skip
    return _spatial_row(base, imported, step, float(adata.uns["moranI"].loc["KRT8", "I"]))


# ---------------------------------------------------------------------------------------------
# atlas-scale CNV: a sparse .h5ad written block by block, ithkit backed, infercnvpy in memory


def write_large_scrna(
    path: Path,
    n_cells: int,
    n_genes: int,
    *,
    seed: int = 0,
    library_size: float = 2000.0,
    block: int = 5000,
) -> float:
    """Simulate sparse counts (the model of ``simulate_scrna``) block by block into ``path``.

    Returns the mean number of detected genes per cell. Memory: one block of Poisson means.
    """
    import anndata as ad
    import h5py
    import numpy as np
    import pandas as pd

    from ithkit.singlecell._simulate import (
        NORMAL_TYPES,
        SUBCLONE_EVENTS,
        TRUNK_EVENTS,
        genome_annotation,
    )

    rng = np.random.default_rng(seed)
    var = genome_annotation(n_genes, seed=seed + 1)
    g = len(var)
    base = rng.lognormal(0.0, 1.3, size=g)
    base /= base.sum()
    types = ("malignant", *NORMAL_TYPES)
    programmes = {t: rng.choice(g, size=max(1, g // 20), replace=False) for t in types}
    programmes["malignant"] = programmes["epithelial"]
    n_mal = round(n_cells * 0.6)
    normal = rng.choice(NORMAL_TYPES, size=n_cells - n_mal, p=[0.35, 0.25, 0.2, 0.2])
    cell_type = np.concatenate([np.repeat("malignant", n_mal), normal])
    sub_idx = rng.choice(3, size=n_mal)
    subclone = np.concatenate([np.array([f"S{i + 1}" for i in sub_idx]),
                               np.repeat("", len(normal))])  # fmt: skip
    order = rng.permutation(n_cells)
    cell_type, subclone = cell_type[order], subclone[order]
    arms = var["arm"].to_numpy()
    profiles = {}
    for t in NORMAL_TYPES:
        f = np.ones(g)
        f[programmes[t]] = 4.0
        profiles[(t, "")] = base * f
    for i in range(3):
        f = np.ones(g)
        f[programmes["malignant"]] = 4.0
        cn = np.full(g, 2.0)
        for arm, c in (*TRUNK_EVENTS, *SUBCLONE_EVENTS[i]):
            cn[arms == arm] = c
        profiles[("malignant", f"S{i + 1}")] = base * f * cn / 2.0
    probs = {k: (v / v.sum()).astype(np.float32) for k, v in profiles.items()}
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(cell_type, categories=list(types)),
         "true_malignant": cell_type == "malignant",
         "true_subclone": pd.Categorical(pd.Series(subclone).replace("", None),
                                         categories=["S1", "S2", "S3"])},
        index=pd.Index([f"cell{i:07d}" for i in range(n_cells)], name="cell_id"),
    )  # fmt: skip
    ad.AnnData(obs=obs, var=var).write_h5ad(path)
    detected = 0
    with h5py.File(path, "a") as f:
        grp = f.create_group("X")
        grp.attrs["encoding-type"] = "csr_matrix"
        grp.attrs["encoding-version"] = "0.1.0"
        grp.attrs["shape"] = np.array([n_cells, g])
        data = grp.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32,
                                  chunks=(1 << 20,))  # fmt: skip
        indices = grp.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32,
                                     chunks=(1 << 20,))  # fmt: skip
        indptr = np.zeros(n_cells + 1, dtype=np.int64)
        keys = list(zip(cell_type, subclone, strict=True))
        # per cell: its UMIs (Poisson around a log-normal library size), then the gene of every
        # UMI drawn from the cell's expression profile: multinomial = Poisson given the total
        cdf = {k: np.cumsum(v.astype(np.float64)) for k, v in probs.items()}
        key_code = {k: i for i, k in enumerate(cdf)}
        codes_all = np.array([key_code[k] for k in keys])
        for lo in range(0, n_cells, block):
            hi = min(n_cells, lo + block)
            lib = rng.poisson(rng.lognormal(np.log(library_size), 0.3, size=hi - lo))
            # sorted uniforms per cell (normalised cumulative exponentials), so each cell's genes
            # come out sorted and equal draws are runs: counts without a sort
            tot = lib + 1
            cs = np.cumsum(rng.standard_exponential(int(tot.sum())))
            ends = np.cumsum(tot) - 1
            before = np.concatenate([[0.0], cs[ends[:-1]]])
            u = (cs - np.repeat(before, tot)) / np.repeat(cs[ends] - before, tot)
            keep = np.ones(u.size, dtype=bool)
            keep[ends] = False
            u = u[keep]
            cell_of = np.repeat(np.arange(hi - lo, dtype=np.int64), lib)
            code_of = np.repeat(codes_all[lo:hi], lib)
            gene_of = np.empty(u.size, dtype=np.int64)
            for k, i in key_code.items():
                sel = np.flatnonzero(code_of == i)
                gene_of[sel] = np.searchsorted(cdf[k], u[sel] * cdf[k][-1], side="right")
            np.minimum(gene_of, g - 1, out=gene_of)
            flat = cell_of * g + gene_of
            first = np.flatnonzero(np.concatenate([[True], flat[1:] != flat[:-1]]))
            counts = np.diff(np.append(first, flat.size))
            flat = flat[first]
            r, c = flat // g, flat % g
            vals = counts.astype(np.float32)
            n0 = data.shape[0]
            data.resize((n0 + vals.size,))
            indices.resize((n0 + vals.size,))
            data[n0:] = vals
            indices[n0:] = c.astype(np.int32)
            indptr[lo + 1 : hi + 1] = n0 + np.cumsum(np.bincount(r, minlength=hi - lo))
            detected += vals.size
        grp.create_dataset("indptr", data=indptr)
    return detected / n_cells


def _sampled_rows(n: int) -> Any:
    import numpy as np

    return np.arange(min(n, 5000))  # cells are in random order: the first 5,000 are a sample


def child_ithkit_cnv_backed(data: Path, result: Path, n_cells: int) -> dict[str, float]:
    import anndata as ad
    import scipy.sparse as sp
    import sklearn.mixture  # noqa: F401  (imported before the clock starts, like the peers)

    from ithkit.singlecell import infer_cnv

    adata = ad.read_h5ad(data, backed="r")
    if n_cells and n_cells < adata.n_obs:
        adata = adata[:n_cells].to_memory()
    base = _rss_mb("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    infer_cnv(adata, reference_key="cell_type", reference=REFERENCE, window=100, step=10,
              min_cells_fraction=0.0, show_progress=False)  # fmt: skip
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    x = adata.obsm["X_cnv"]
    rows = _sampled_rows(adata.n_obs)
    sp.save_npz(result, sp.csr_matrix(x[rows]))
    adata.uns["cnv"]["windows"].to_csv(str(result) + ".windows.tsv", sep="\t", index=False)
    truth = adata.obs["true_malignant"].to_numpy()
    accuracy = float((adata.obs["malignant"].to_numpy() == truth).mean())
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _rss_mb(),
            "data_rss_mb": base, "x_cnv_density": float(x.nnz / max(1, x.shape[0] * x.shape[1])),
            "malignant_accuracy": accuracy,
            "n_subclones": float(len(adata.uns["cnv"]["subclones"]))}  # fmt: skip


def child_infercnvpy_large(data: Path, result: Path, n_cells: int, n_jobs: int) -> dict[str, float]:
    import anndata as ad
    import infercnvpy as cnv
    import scanpy as sc
    import scipy.sparse as sp

    adata = ad.read_h5ad(data, backed="r")
    adata = adata[: n_cells or adata.n_obs].to_memory()
    base = _rss_mb("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    cnv.tl.infercnv(adata, reference_key="cell_type", reference_cat=REFERENCE, window_size=100,
                    step=10, n_jobs=n_jobs)  # fmt: skip
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = _sampled_rows(adata.n_obs)
    sp.save_npz(result, sp.csr_matrix(adata.obsm["X_cnv"][rows]))
    pos = adata.uns["cnv"]["chr_pos"]
    Path(str(result) + ".chr_pos.json").write_text(json.dumps({k: int(v) for k, v in pos.items()}))
    # cpu of the worker processes (process_map) comes from the children's rusage
    child_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += child_cpu.ru_utime + child_cpu.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _rss_mb(),
            "workers_peak_mb": _children_mb(), "data_rss_mb": base}  # fmt: skip


def _pss(proc: Any) -> float:
    """Proportional set size of a process, bytes: a forked worker's pages shared with its parent
    count once over the two (RSS would count them twice)."""
    import psutil

    try:
        return float(proc.memory_full_info().pss)
    except (psutil.Error, AttributeError):
        return float(proc.memory_info().rss)


def _watched_child(python: str, args: list[str], cap_gb: float) -> dict[str, Any]:
    """Run a child; kill its process tree if its total memory (PSS) passes ``cap_gb``.

    ``tree_peak_gb`` is the largest total PSS of the child and its workers seen (every 0.5 s).
    """
    import psutil

    cmd = [python, __file__, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = 0.0
    killed = False
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [ps, *ps.children(recursive=True)]
            rss = sum(_pss(p) for p in tree) / 1e9
        except psutil.Error:
            rss = 0.0
        peak_tree = max(peak_tree, rss)
        if rss > cap_gb:
            for p in reversed(tree):
                with contextlib.suppress(psutil.Error):
                    p.kill()
            killed = True
            break
        time.sleep(0.5)
    out, err = proc.communicate()
    if killed:
        return {"error": f"killed: process tree passed {cap_gb:g} GB", "tree_peak_gb": peak_tree}
    if proc.returncode != 0:
        tail = (err or out).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"[:300]}
    res: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    res["tree_peak_gb"] = peak_tree
    return res


def run_large(args: argparse.Namespace) -> None:
    import pandas as pd

    n, genes = args.large, args.large_genes
    data = args.work / f"scrna_large_{n}_{genes}.h5ad"
    if not data.exists():
        t = time.perf_counter()
        per_cell = write_large_scrna(data, n, genes, seed=0)
        took = time.perf_counter() - t
        size_gb = data.stat().st_size / 1e9
        print(f"simulated {data} in {took:.0f} s: {per_cell:.0f} detected genes per cell, "
              f"{size_gb:.1f} GB on disk", flush=True)  # fmt: skip
    rows = []
    # ithkit first (the full size, backed, and the peer's sizes in memory), then the peer
    ours_sizes = sorted({*args.peer_cells, n}) if args.ithkit_all_sizes else [n]
    for cells in sorted(ours_sizes, key=lambda c: c != n):
        ours_npz = args.work / f"ithkit_large_{cells}.npz"
        ours = _watched_child(sys.executable, ["--child", "ithkit-cnv-backed", "--data",
                              str(data), "--result", str(ours_npz), "--cells", str(cells)],
                              args.memory_cap_gb)  # fmt: skip
        rows.append({"tool": "ithkit (backed)" if cells == n else "ithkit (in memory)",
                     "cells": cells, "genes": genes, **ours})  # fmt: skip
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    for cells in [] if args.skip_peer else sorted(args.peer_cells):
        theirs_npz = args.work / f"infercnvpy_large_{cells}.npz"
        peer = _watched_child(args.peer_python, ["--child", "infercnvpy-large", "--data",
                              str(data), "--result", str(theirs_npz), "--cells", str(cells),
                              "--jobs", str(args.peer_jobs)], args.memory_cap_gb)  # fmt: skip
        ours_npz = args.work / f"ithkit_large_{cells}.npz"
        if "error" not in peer and ours_npz.exists():
            peer["cnv_r"] = _cnv_correlation(ours_npz, theirs_npz)
        rows.append({"tool": f"infercnvpy (n_jobs={args.peer_jobs})", "cells": cells,
                     "genes": genes, **peer})  # fmt: skip
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print("\nfinal\n" + table.to_string(index=False))
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"{os.cpu_count()} cores")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# driver


def _child(python: str, task: str, data: Path, result: Path, jobs: int, *,
           timeout_s: float = 3600.0, max_rss_mb: float = 6000.0) -> dict[str, float]:  # fmt: skip
    """Run one child; stop it past ``timeout_s`` or ``max_rss_mb`` of resident memory."""
    cmd = [python, __file__, "--child", task, "--data", str(data), "--result", str(result),
           "--jobs", str(jobs)]  # fmt: skip
    start = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        status, stopped, watermark = Path(f"/proc/{proc.pid}/status"), "", 0.0
        while proc.poll() is None:
            try:
                rss = next(int(line.split()[1]) / 1024 for line in status.read_text().splitlines()
                           if line.startswith("VmRSS:"))  # fmt: skip
            except (OSError, StopIteration):
                rss = 0.0
            watermark = max(watermark, rss)
            if rss > max_rss_mb or time.perf_counter() - start > timeout_s:
                stopped = (f"stopped at {rss:.0f} MB > {max_rss_mb:.0f} MB" if rss > max_rss_mb
                           else f"stopped after {timeout_s:.0f} s")  # fmt: skip
                proc.kill()
                break
            time.sleep(0.25)
        out, err = proc.communicate()
    if stopped:
        return {"error": f"{stopped} (RSS seen up to {watermark:.0f} MB)"}  # type: ignore[dict-item]
    if proc.returncode != 0:
        tail = (err or out).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"[:300]}  # type: ignore[dict-item]
    return json.loads(out.strip().splitlines()[-1])


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


def _spatial_comparison(work: Path, n: int, jobs: list[int], peer_jobs: int,
                        rows: list[dict]) -> None:  # fmt: skip
    """Add the z-score correlation with squidpy and print ithkit / squidpy ratios."""
    import numpy as np
    import pandas as pd

    mine = {r["task"]: r for r in rows if r["tool"] == "ithkit" and r["cells"] == n
            and r["task"].startswith("spatial") and "error" not in r}  # fmt: skip
    peer = next((r for r in rows if r["tool"] == "squidpy" and r["cells"] == n
                 and "error" not in r), None)  # fmt: skip
    if peer is None:
        return
    zb = pd.read_csv(work / f"squidpy_z_{n}_{peer_jobs}.tsv", sep="\t")
    for j in jobs:
        label = "default" if j == 0 else str(j)
        ours = mine.get(f"spatial (n_jobs={label})")
        if ours is None:
            continue
        za = pd.read_csv(work / f"ithkit_z_{n}_{j}.tsv", sep="\t")
        m = za.merge(zb, on=["label_a", "label_b"], suffixes=("", "_sq"))
        ours["zscore_r"] = float(np.corrcoef(m["zscore"], m["zscore_sq"])[0, 1])
        both = (peer["seconds"] + peer["import_s"]) / (ours["seconds"] + ours["import_s"])
        print(f"{n} cells, ithkit n_jobs={label} vs squidpy n_jobs={peer_jobs}: "
              f"wall {peer['seconds'] / ours['seconds']:.2f}x faster, "
              f"CPU {peer['cpu_seconds'] / ours['cpu_seconds']:.2f}x less, "
              f"import + step wall {both:.2f}x, "
              f"added memory {ours['added_mb']:.0f} / {peer['added_mb']:.0f} MB = "
              f"{ours['added_mb'] / peer['added_mb']:.2f}, whole-process peak "
              f"{ours['peak_rss_mb']:.0f} / {peer['peak_rss_mb']:.0f} MB; z-score r = "
              f"{ours['zscore_r']:.5f}; Moran's I {ours['moran']:.6f} / {peer['moran']:.6f}",
              flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--genes", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ithkit_bench_singlecell"))
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-cnv", action="store_true")
    parser.add_argument("--skip-spatial", action="store_true")
    parser.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=[1, 0],
        help="ithkit's n_jobs for the spatial runs (0: its default, every core)",
    )
    parser.add_argument(
        "--large",
        type=int,
        default=0,
        help="atlas-scale CNV case: cells (e.g. 500000); only this case runs",
    )
    parser.add_argument("--large-genes", type=int, default=20_000)
    parser.add_argument(
        "--peer-cells",
        type=int,
        nargs="*",
        default=[50_000, 100_000],
        help="cells given to infercnvpy in the large case",
    )
    parser.add_argument(
        "--peer-jobs", type=int, default=1,
        help="the peer's n_jobs (squidpy crashes with 2; infercnvpy in the large case)",
    )  # fmt: skip
    parser.add_argument(
        "--ithkit-all-sizes",
        action="store_true",
        help="large case: run ithkit at the peer sizes too (in memory)",
    )
    parser.add_argument("--memory-cap-gb", type=float, default=14.0)
    parser.add_argument(
        "--peer-max-cells", type=int, default=1_000_000, help="run squidpy up to this many cells"
    )
    parser.add_argument("--peer-timeout", type=float, default=600.0, help="seconds")
    parser.add_argument(
        "--max-rss-mb", type=float, default=6000.0, help="stop a child past this resident memory"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cells", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        funcs = {"ithkit-cnv": lambda: child_ithkit_cnv(args.data, args.result),
                 "infercnvpy": lambda: child_infercnvpy(args.data, args.result),
                 "ithkit-spatial": lambda: child_ithkit_spatial(args.data, args.result,
                                                                args.jobs[0]),
                 "squidpy": lambda: child_squidpy(args.data, args.result, args.jobs[0]),
                 "ithkit-cnv-backed": lambda: child_ithkit_cnv_backed(
                     args.data, args.result, args.cells),
                 "infercnvpy-large": lambda: child_infercnvpy_large(
                     args.data, args.result, args.cells, args.jobs[0])}  # fmt: skip
        print(json.dumps(funcs[args.child]()))
        return
    if args.large:
        args.work.mkdir(parents=True, exist_ok=True)
        run_large(args)
        return

    import numpy as np
    import pandas as pd

    from ithkit.singlecell import simulate_scrna
    from ithkit.spatial import simulate_tissue

    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    spatial_rows: list[dict] = []
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
            runs = [("ithkit", sys.executable, "ithkit-spatial", j) for j in args.jobs]
            if not args.skip_peer and n <= args.peer_max_cells:
                runs.append(("squidpy", args.peer_python, "squidpy", args.peer_jobs))
            for tool, python, task, jobs in runs:
                load = os.getloadavg()[0]
                out = args.work / f"{tool}_z_{n}_{jobs}.tsv"
                limit = args.peer_timeout if tool == "squidpy" else 3600.0
                res = _child(python, task, data, out, jobs, max_rss_mb=args.max_rss_mb,
                             timeout_s=limit)  # fmt: skip
                label = "default" if jobs == 0 else str(jobs)
                rows.append({"tool": tool, "task": f"spatial (n_jobs={label})", "cells": n,
                             "load_1min": round(load, 1), **res})  # fmt: skip
                print(" | ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
            spatial_rows.extend(r for r in rows if r["task"].startswith("spatial")
                                and r["cells"] == n)  # fmt: skip
            _spatial_comparison(args.work, n, args.jobs, args.peer_jobs, rows)
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print("\nfinal\n" + table.to_string(index=False))
    if spatial_rows:
        print(
            "\nspatial: graph + enrichment (1,000 permutations) + Moran's I (+ local diversity,"
            " ithkit only); seconds and CPU seconds of the step after the import; added MB ="
            " peak RSS of the step (with the import) - RSS with the data read"
        )
        cols = [
            "tool",
            "task",
            "cells",
            "load_1min",
            "import_s",
            "seconds",
            "cpu_seconds",
            "added_mb",
            "peak_rss_mb",
            "data_rss_mb",
            "moran",
            "zscore_r",
            "error",
        ]
        sp_table = pd.DataFrame(spatial_rows)
        print(sp_table[[c for c in cols if c in sp_table]].round(3).to_string(index=False))
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"{os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
