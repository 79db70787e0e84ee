"""``ithkit run --scheduler``: a cohort on a Dask cluster of separate processes (a scheduler and
two workers started as ``dask scheduler`` / ``dask worker`` would be on other machines) gives
the serial run's store, uses both workers, and reaches no network beyond the scheduler."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import ithkit
from ithkit.evolution import virtual_patient
from ithkit.scale import run_cohort
from ithkit.store import CohortStore

distributed = pytest.importorskip("distributed")  # the [scale] extra

HERE = Path(__file__).parent
SRC = Path(ithkit.__file__).resolve().parents[1]
VOLATILE = {"runs", "patients"}  # time stamps


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"  # one task per idle thread
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    return env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-thread workers, separate processes on loopback; always
    stopped (terminate, then kill) whatever the test does."""
    root = tmp_path_factory.mktemp("cluster")
    address = f"tcp://127.0.0.1:{_free_port()}"
    py = [sys.executable, "-m"]
    port = address.rsplit(":", 1)[1]
    commands = [
        [*py, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", port,
         "--no-dashboard"],
        *[[*py, "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
           "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}",
           "--local-directory", str(root / f"w{i}")] for i in (1, 2)],
    ]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for i, cmd in enumerate(commands):
            logs.append(log := open(root / f"proc{i}.log", "wb"))  # noqa: SIM115
            cwd = root / f"cwd{i}"  # not the driver's folder: paths must travel absolute
            cwd.mkdir()
            procs.append(subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=log, stderr=log))
            if i == 0:
                time.sleep(1.0)
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small patients (genomic inputs: the clone fit is seeded), a manifests.csv."""
    root = tmp_path_factory.mktemp("small") / "cohort"
    rows = []
    for seed in (11, 12, 13):
        vp = virtual_patient(seed=seed, n_regions=2, n_mutations=30, n_clones=3)
        files = vp.to_files(root / vp.patient_id)
        manifest = files["manifest"].parent / "small.yaml"
        manifest.write_text(
            f"patient_id: {vp.patient_id}\nvariants: variants.tsv\nsegments: segments.tsv\n"
            "purity: purity.tsv\n"
        )
        rows.append(f"{vp.patient_id}/small.yaml")
    (root / "manifests.csv").write_text("manifest\n" + "\n".join(rows) + "\n")
    return root


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    cohort = CohortStore(store, read_only=True)
    out = {}
    for name in cohort.tables():
        if name in VOLATILE:
            continue
        frame = cohort.read(name)
        frame = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
        out[name] = frame
    return out


def test_scheduler_run_equals_serial_and_uses_both_workers(
    cluster: str, small_cohort: Path, tmp_path: Path
) -> None:
    serial = run_cohort(small_cohort / "manifests.csv", tmp_path / "serial", show_progress=False)
    assert serial.n_failed == 0
    log = tmp_path / "connections.jsonl"
    # relative paths from the driver's folder: ithkit must hand the workers absolute ones
    rel = os.path.relpath(small_cohort / "manifests.csv", tmp_path)
    cli = [sys.executable, str(HERE / "_guarded_cli.py"), str(log),
           "run", rel, "--out", "on_cluster", "--scheduler", cluster]  # fmt: skip
    done = subprocess.run(cli, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "patients  3 of 3 run" in done.stdout

    ref, got = _tables(serial.store), _tables(tmp_path / "on_cluster" / "ithkit.duckdb")
    assert sorted(got) == sorted(ref)
    assert {"genomic_clones", "genomic_mutation_ccf"} <= set(got)
    for name, frame in ref.items():
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)
    patients = pd.read_csv(tmp_path / "on_cluster" / "patients.tsv", sep="\t")
    assert (patients["status"] == "ok").all()
    for report in patients["report"]:
        assert (tmp_path / "on_cluster" / Path(report).parent.name / "report.html").is_file()

    # both workers ran patients: each worker's own log of finished tasks
    def task_log(dask_worker):  # type: ignore[no-untyped-def]  # runs on each worker
        return sorted({str(e[0]) for e in dask_worker.state.log
                       if "process_patient" in str(e[0]) and "memory" in e})  # fmt: skip

    with distributed.Client(cluster, timeout=30) as client:
        per_worker = client.run(task_log)
    ran = [keys for keys in per_worker.values()]
    assert len(ran) == 2 and all(ran), per_worker
    assert sum(len(keys) for keys in ran) == 3

    # the driver reached only the scheduler; anything else was refused
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    port = int(cluster.rsplit(":", 1)[1])
    reached = [e for e in entries if e.get("allowed")]
    refused = [e for e in entries if e.get("allowed") is False]
    assert reached and all(e["address"] == ["127.0.0.1", port] for e in reached), reached
    assert refused == [{"address": ["192.0.2.1", 9], "allowed": False}]
    assert entries[-1] == {"probe": "blocked"}
