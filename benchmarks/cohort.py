"""Cohort runs: serial vs Dask LocalCluster (1 and 2 workers) on a virtual cohort.

Prints wall time, peak memory of the process tree (driver + Dask workers, sampled every
0.2 s) and whether every store table is identical to the serial run's.

    python benchmarks/cohort.py                 # 200 patients (the issue's benchmark)
    python benchmarks/cohort.py --patients 12   # a quick check while developing
    python benchmarks/cohort.py --patients 1000 --workers 2 --no-serial   # size, not speed-up

``driver_peak_mib`` is the peak RSS of this process alone (the driver that loads the store);
with ``--no-serial`` the stores are not compared (there is no serial reference).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from ithkit.cohort import virtual_cohort
from ithkit.scale import run_cohort
from ithkit.store import CohortStore

VOLATILE = {"runs", "patients"}  # hold timestamps


def _watch(stop: threading.Event, peak: list[float], cpu: dict[int, float]) -> None:
    """Peak RSS (MiB) of this process and its children (``peak[0]``) and of this process alone
    (``peak[1]``); last CPU seconds seen per process."""
    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
                total += rss
                if p.pid == me.pid:
                    peak[1] = max(peak[1], rss / 2**20)
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except psutil.Error:
                continue
        peak[0] = max(peak[0], total / 2**20)
        time.sleep(0.2)


def _compare(tables: dict[str, pd.DataFrame], reference: dict[str, pd.DataFrame]) -> str:
    """'yes' (every cell equal), 'yes (float)' (numbers equal to 1e-9 relative), or the
    tables that differ."""
    import numpy as np

    if tables.keys() != reference.keys():
        return f"NO: tables {sorted(set(tables) ^ set(reference))}"
    exact, differ = True, []
    for name, frame in tables.items():
        ref = reference[name]
        if frame.equals(ref):
            continue
        exact = False
        if frame.shape != ref.shape or list(frame.columns) != list(ref.columns):
            differ.append(name)
            continue
        for col in frame.columns:
            a = pd.to_numeric(frame[col], errors="coerce")
            b = pd.to_numeric(ref[col], errors="coerce")
            numeric = a.notna() & b.notna()
            if not (frame.loc[~numeric, col] == ref.loc[~numeric, col]).all() or not np.allclose(
                a[numeric], b[numeric], rtol=1e-9, atol=0
            ):
                differ.append(f"{name}.{col}")
                break
    if differ:
        return "NO: " + ", ".join(differ[:4])
    return "yes" if exact else "yes (float, 1e-9)"


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    cohort = CohortStore(store, read_only=True)
    out = {}
    for name in cohort.tables():
        if name in VOLATILE:
            continue
        frame = cohort.read(name)
        keys = [c for c in frame.columns if frame[c].dtype == object] or list(frame.columns)
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True).astype(str)
        out[name] = frame
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="LocalCluster sizes to compare")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-serial", action="store_true", help="skip the serial run (and the store comparison)"
    )
    args = parser.parse_args()
    print(f"load average at start: {psutil.getloadavg()[0]:.1f}, cores: {psutil.cpu_count()}")
    root = Path(tempfile.mkdtemp(prefix="ithkit-bench-cohort-"))
    t0 = time.perf_counter()
    virtual_cohort(args.patients, root / "cohort", seed=args.seed, show_progress=False)
    print(f"virtual cohort of {args.patients} patients written in {time.perf_counter() - t0:.1f} s")
    runs: list[tuple[str, int, str | None]] = [] if args.no_serial else [("serial", 1, None)]
    runs += [(f"LocalCluster {w} worker(s)", w, "dask") for w in map(int, args.workers.split(","))]
    reference: dict[str, pd.DataFrame] | None = None
    rows = []
    for label, workers, mode in runs:
        out = root / label.replace(" ", "_").replace("(", "").replace(")", "")
        stop, peak, cpu = threading.Event(), [0.0, 0.0], {}
        me = psutil.Process()
        before = me.cpu_times().user + me.cpu_times().system
        watcher = threading.Thread(target=_watch, args=(stop, peak, cpu), daemon=True)
        watcher.start()
        t0 = time.perf_counter()
        listing = root / "cohort" / "manifests.csv"
        if mode is None:
            result = run_cohort(listing, out, show_progress=False)
        elif workers == 1:
            result = _one_worker(listing, out)
        else:
            result = run_cohort(listing, out, workers=workers, show_progress=False)
        wall = time.perf_counter() - t0
        stop.set()
        watcher.join()
        cpu[me.pid] = me.cpu_times().user + me.cpu_times().system - before
        stored = len(CohortStore(result.store, read_only=True).patients())
        if args.no_serial:
            tables, same = {}, "(not compared)"
        else:
            tables = _tables(result.store)
            if reference is None:
                reference, same = tables, "reference"
            else:
                same = _compare(tables, reference)
        cpu_s = sum(cpu.values())
        rows.append(
            {
                "run": label,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu_s, 1),
                "cpu_s_per_patient": round(cpu_s / args.patients, 2),
                "peak_rss_mib": round(peak[0]),
                "driver_peak_mib": round(peak[1]),
                "stored": stored,
                "failed": result.n_failed,
                "tables": len(tables),
                "identical_to_serial": same,
            }
        )
        print(f"{label}: {wall:.0f} s wall, load average {psutil.getloadavg()[0]:.1f}", flush=True)
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"(cores: {psutil.cpu_count()}, load average: {psutil.getloadavg()[0]:.1f})")


def _one_worker(manifests: Path, out: Path):  # type: ignore[no-untyped-def]
    """A LocalCluster of one worker process (run_cohort uses Dask only for workers > 1)."""
    import dask
    import distributed

    from ithkit.scale._cohort import _THREAD_VARS

    env = {var: "1" for var in _THREAD_VARS}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)  # fmt: skip
        try:
            return run_cohort(manifests, out, scheduler=cluster.scheduler_address,
                              show_progress=False)  # fmt: skip
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
