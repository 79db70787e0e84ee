"""How ithkit's heavy steps grow with size: wall time, CPU time and peak memory, log-log plot.

Run (from the repository root, with ithkit's environment)::

    python benchmarks/performance.py                       # table + docs/performance.svg
    python benchmarks/performance.py --mutations 1000,10000 --cells 10000 --no-plot

Each measurement runs in its own process so that its peak resident memory (``ru_maxrss``) is
its own; the input is generated in that process before the clock starts and its memory is
reported separately (``input_mb``), so ``peak_mb - input_mb`` is what the step added.

- ``genomic``: :func:`ithkit.genomic.cluster_mutations` with its defaults (read model
  estimated from the data) on a virtual patient of N mutations x 10 regions at 200x with the
  virtual patients' default beta-binomial reads; ARI of the clone assignment.
- ``spatial``: :func:`ithkit.spatial.spatial_neighbors` (6 nearest neighbours) +
  :func:`ithkit.spatial.nhood_enrichment` (1,000 permutations) +
  :func:`ithkit.spatial.morans_i` + :func:`ithkit.spatial.local_diversity` on a simulated
  immune-excluded section of N cells, one thread (``--jobs 0``: every available core).
  squidpy beside it: ``benchmarks/singlecell.py``.
- ``maps``: :func:`ithkit.imaging.feature_maps` with every mappable feature (``all``: 101
  maps, every IBSI-1 texture family), 5x5x5 kernel, on a synthetic CT lesion (sphere of N
  voxels, three habitats, bin width 25 HU), timed after a warm-up call that compiles (or
  loads) the serial and threaded numba kernels (~5 s in a fresh process); PyRadiomics beside
  it: ``benchmarks/imaging.py --maps-large``.
- ``cnv`` (plot only): expression CNV rows measured by ``benchmarks/singlecell.py --large``
  and saved beside these (``performance_measured.tsv``).

CPU time is printed next to wall time because the benchmark machine is shared: on a loaded
machine the wall time grows, the CPU time much less. The 1-minute load average is printed.
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

import pandas as pd

PLOT = Path(__file__).resolve().parents[1] / "docs" / "performance.svg"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_genomic(n: int) -> dict[str, float]:
    import warnings

    from sklearn.metrics import adjusted_rand_score

    from ithkit.evolution import virtual_patient
    from ithkit.genomic import cluster_mutations

    vp = virtual_patient(seed=1, n_regions=10, n_mutations=n, depth=200)
    variants = vp.variants
    truth = vp.mutations.set_index("mutation_id")["clone_id"].astype(str)
    del vp
    base = _peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cluster_mutations(variants, seed=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    labels = result.assignments.set_index("mutation_id")["clone_id"]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "input_mb": base,
        "quality": float(adjusted_rand_score(truth.loc[labels.index], labels)),
        "precision": float("nan") if result.precision is None else result.precision,
    }


def child_spatial(n: int) -> dict[str, float]:
    import numpy as np

    from ithkit.spatial import (
        local_diversity,
        morans_i,
        nhood_enrichment,
        simulate_tissue,
        spatial_neighbors,
    )

    jobs = None if JOBS == 0 else JOBS
    adata = simulate_tissue("immune_excluded", n, seed=1)
    base = _peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    spatial_neighbors(adata, n_neighbors=6, n_jobs=jobs)
    nhood_enrichment(adata, "cell_type", n_perms=1000, seed=0, n_jobs=jobs)
    tumour = (adata.obs["cell_type"] == adata.obs["cell_type"].cat.categories[0]).to_numpy()
    moran = morans_i(tumour.astype(np.float64), adata.obsp["spatial_connectivities"])
    local_diversity(adata, "cell_type")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "input_mb": base,
        "quality": float(moran.statistic),
        "precision": float("nan"),
    }


def child_maps(n: int) -> dict[str, float]:
    import numpy as np

    from ithkit.imaging import Volume, feature_maps, synthetic_ct
    from ithkit.imaging._preprocess import FeatureConfig

    radius = (3.0 * n / (4.0 * np.pi)) ** (1.0 / 3.0)
    side = int(2 * radius) + 8
    les = synthetic_ct(shape=(side, side, side), radius_mm=radius, n_habitats=3, seed=3)
    image = Volume(les.image.array.astype(np.float64), les.image.spacing, les.image.origin,
                   les.image.direction)  # fmt: skip
    config = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 25})
    n_roi = int((les.mask.array > 0).sum())
    # compile (or load from numba's cache) the kernels first: the rows show the per-voxel cost
    # a ROI above 8,192 voxels, so that the threaded kernel is compiled too
    warm = synthetic_ct(shape=(30, 30, 30), radius_mm=13.0, n_habitats=1, seed=0)
    warm_image = Volume(warm.image.array.astype(np.float64), warm.image.spacing,
                        warm.image.origin, warm.image.direction)  # fmt: skip
    feature_maps(warm_image, warm.mask, features=["all"], kernel_voxels=5, config=config)
    base = _peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    maps = feature_maps(image, les.mask, features=["all"], kernel_voxels=5, config=config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "input_mb": base,
        "quality": float(len(maps)),  # maps made
        "precision": float(n_roi),  # ROI voxels (the x of the plot is the requested N)
    }


CHILDREN = {"genomic": child_genomic, "spatial": child_spatial, "maps": child_maps}
JOBS = 1  # threads of the spatial child (--jobs; 0: ithkit's default, every available core)


def run_child(task: str, n: int, timeout: float) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", task, "--n", str(n), "--jobs", str(JOBS)]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"wall_s": float("nan"), "note": f"timeout > {timeout:.0f} s"}  # type: ignore[dict-item]
    except subprocess.CalledProcessError as error:
        last = (error.stderr or "").strip().splitlines()[-1:] or ["failed"]
        return {"wall_s": float("nan"), "note": last[0]}  # type: ignore[dict-item]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    labels = {"genomic": "clone inference (mutations x 10 regions)",
              "spatial": "spatial graph + enrichment + Moran's I + diversity (cells)",
              "cnv": "expression CNV, 20,000 genes (cells)",
              "maps": "voxel maps, all 101, 5x5x5 kernel (ROI voxels)"}  # fmt: skip
    colours = {"genomic": "tab:blue", "spatial": "tab:orange", "cnv": "tab:green",
               "maps": "tab:red"}  # fmt: skip
    for (task, kind), part in table.groupby(["task", "kind"], sort=False):
        style = "-o" if kind == "wall" else "--s"
        col = "wall_s" if kind == "wall" else "cpu_s"
        ax.plot(part["n"], part[col], style, color=colours[task], markersize=4,
                label=f"{labels[task]}, {kind}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("size (mutations, cells or voxels)")
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", default="1000,10000,100000")
    parser.add_argument("--cells", default="10000,30000,100000")
    parser.add_argument("--voxels", default="", help="ROI voxels of the maps rows, e.g. 20000")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--save", type=Path, help="also write the table here (TSV)")
    parser.add_argument(
        "--replot", type=Path, nargs="+", help="only draw the plot from saved tables (TSV)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="threads of the spatial steps (0: ithkit's default, every core)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global JOBS
    JOBS = args.jobs
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.n)))
        return
    if args.replot:
        saved = pd.concat([pd.read_csv(p, sep="\t") for p in args.replot], ignore_index=True)
        saved = saved.sort_values(["task", "n"], kind="stable")
        plot(pd.concat([saved.assign(kind="wall"), saved.assign(kind="CPU")]), args.plot)
        print(f"plot: {args.plot}")
        return
    rows = []
    for task, sizes in (
        ("genomic", args.mutations),
        ("spatial", args.cells),
        ("maps", args.voxels),
    ):
        for n in [int(x) for x in sizes.split(",") if x]:
            load = os.getloadavg()[0]
            res = run_child(task, n, args.timeout)
            row = {"task": task, "n": n, "load_1min": round(load, 1)} | res
            rows.append(row)
            print(" | ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    print(f"\n{os.cpu_count()} cores; load = 1-minute load average before each run")
    print(table.round(3).to_string(index=False))
    if args.save:
        table.to_csv(args.save, sep="\t", index=False)
    if not args.no_plot:
        long = pd.concat([table.assign(kind="wall"), table.assign(kind="CPU")], ignore_index=True)
        plot(long, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
