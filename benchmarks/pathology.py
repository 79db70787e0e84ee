"""Speed and memory of reading a whole-slide cell-detection export and scoring it.

A synthetic QuPath export of N cells (``simulate_detections``: QuPath's column names, 9 columns,
four annotations) is written once; then, each in a fresh process (peak RSS is per process):

* ``ithkit``: ``read_detections`` + ``biomarker_scores`` (all region scores, the slide, the
  500 µm tile map and the hot spot), the work the issue bounds at <= 10 s and <= 2 GB for 10^6
  cells on a 2-core machine;
* ``pandas baseline``: the pandas a QuPath user writes for the same numbers (``read_csv`` with
  the default engine, ``pd.cut`` into classes, ``groupby`` over ``Parent`` and over tiles);
* ``ithkit + heterogeneity``: the above plus :func:`heterogeneity` with a cut-point (Moran's I
  of the tile map and the biopsy question at four core sizes, 500 cores each).

Both compute the same numbers: the script checks the per-region H-scores agree. Clocks start
after the imports (pandas, pyarrow, ithkit: about 1 s) in both.

Run:  .venv/bin/python benchmarks/pathology.py [--cells 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "Nucleus: DAB OD mean"

ITHKIT = """
import json, resource, sys, time
from ithkit.pathology import read_detections, biomarker_scores, heterogeneity
import ithkit.spatial  # heterogeneity's Moran's I: imported before the clock starts
t0 = time.perf_counter()
c0 = time.process_time()
cells = read_detections(sys.argv[1], "{marker}")
t_read = time.perf_counter() - t0
s = biomarker_scores(cells, thresholds=(0.2, 0.4, 0.6), tumour_class="Tumor")
t = time.perf_counter() - t0
cpu = time.process_time() - c0
extra = {{}}
if sys.argv[2] == "1":
    h = heterogeneity(cells, s, cutpoint=10, metric="percent_3plus")
    extra["discordance"] = h.value("single_core_discordance")
r = s.regions.set_index("region")["h_score"].to_dict()
print(json.dumps({{"read_s": t_read, "seconds": t, "total_s": time.perf_counter() - t0,
    "cpu_s": cpu, "total_cpu_s": time.process_time() - c0,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "h": r,
    "tiles": len(s.tiles), **extra}}))
"""

BASELINE = """
import json, resource, sys, time
import numpy as np, pandas as pd
t0 = time.perf_counter()
c0 = time.process_time()
df = pd.read_csv(sys.argv[1], sep="\\t")
df = df[df["Classification"].str.startswith("Tumor")]
v = df["{marker}"]
df["grade"] = pd.cut(v, [-np.inf, 0.2, 0.4, 0.6, np.inf], right=False, labels=[0, 1, 2, 3])
df = df[v.notna()]
df["grade"] = df["grade"].astype(int)

def score(g):
    n = len(g)
    c = g["grade"].value_counts().reindex([0, 1, 2, 3], fill_value=0)
    return pd.Series({{"n_cells": n, "percent_positive": 100 * (n - c[0]) / n,
                      "h_score": 100 * (c[1] + 2 * c[2] + 3 * c[3]) / n,
                      "mean_intensity": g["{marker}"].mean()}})

regions = df.groupby("Parent").apply(score, include_groups=False)
slide = score(df)
df["tile_x"] = (df["Centroid X µm"] // 500).astype(int)
df["tile_y"] = (df["Centroid Y µm"] // 500).astype(int)
tiles = df.groupby(["tile_x", "tile_y"]).apply(score, include_groups=False)
r = {{k.split("(")[1].rstrip(")"): v for k, v in regions["h_score"].items()}}
r["ALL"] = slide["h_score"]
print(json.dumps({{"seconds": time.perf_counter() - t0, "h": r, "tiles": len(tiles),
    "cpu_s": time.process_time() - c0,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _run(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=1_000_000)
    n = ap.parse_args().cells
    sys.path.insert(0, str(ROOT / "src"))
    from ithkit.pathology import simulate_detections

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = simulate_detections(n, seed=0).write(tmp)[0]
        mb = path.stat().st_size / 2**20
        print(f"{n} cells, {mb:.0f} MB export written in {time.perf_counter() - t0:.1f} s")
        ours = _run(ITHKIT.format(marker=MARKER), str(path), "0")
        base = _run(BASELINE.format(marker=MARKER), str(path))
        full = _run(ITHKIT.format(marker=MARKER), str(path), "1")
    for region, h in base["h"].items():
        assert abs(ours["h"][region] - h) < 1e-9, (region, ours["h"][region], h)
    assert ours["tiles"] == base["tiles"]
    print()
    print("| run | cells | wall s | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    print(f"| ithkit read only | {n} | {ours['read_s']:.2f} | | |")
    print(f"| ithkit read + region scores + tile map + hot spot | {n} | {ours['seconds']:.2f} | "
          f"{ours['cpu_s']:.2f} | {ours['rss_mb']:.0f} |")  # fmt: skip
    print(f"| pandas baseline (read_csv + groupby) | {n} | {base['seconds']:.2f} | "
          f"{base['cpu_s']:.2f} | {base['rss_mb']:.0f} |")  # fmt: skip
    print(f"| ithkit + heterogeneity (Moran's I, biopsy curve 4 x 500 cores) | {n} | "
          f"{full['total_s']:.2f} | {full['total_cpu_s']:.2f} | "
          f"{full['rss_mb']:.0f} |")  # fmt: skip
    print(f"\nspeed-up over the baseline: {base['seconds'] / ours['seconds']:.1f}x; "
          f"H-scores of {len(base['h'])} regions identical")  # fmt: skip


if __name__ == "__main__":
    main()
