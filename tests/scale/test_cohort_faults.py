"""Cohort runs on Dask with a worker that dies mid-patient: the patient is retried once, then
reported as failed in patients.tsv; the others finish; the next run finishes the rest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit.evolution import virtual_patient
from ithkit.scale import run_cohort
from ithkit.store import CohortStore


def _cohort(root: Path) -> Path:
    for seed in (1, 2, 3):
        vp = virtual_patient(seed=seed, n_regions=2, n_mutations=30, n_clones=2)
        files = vp.to_files(root / vp.patient_id)
        text = files["manifest"].read_text()
        for name in ("variants.tsv", "segments.tsv", "purity.tsv", "lesions.csv", "ctdna.csv",
                     "scenario.yaml"):  # fmt: skip
            text = text.replace(f": {name}", f": {vp.patient_id}/{name}")
        (root / f"{vp.patient_id}.yaml").write_text(text)
    return root


def test_dead_worker_is_retried_once_reported_and_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort, out, log = _cohort(tmp_path / "cohort"), tmp_path / "out", tmp_path / "crashes.log"
    monkeypatch.setenv("ITHKIT_TEST_CRASH_PATIENT", "VP2")  # its worker calls os._exit
    monkeypatch.setenv("ITHKIT_TEST_CRASH_LOG", str(log))
    first = run_cohort(cohort, out, workers=2, analyses=[], show_progress=False)
    status = dict(zip(first.patients["manifest"].map(lambda m: Path(m).stem),
                      first.patients["status"], strict=True))  # fmt: skip
    assert status == {"VP1": "ok", "VP2": "failed", "VP3": "ok"}
    assert len(log.read_text().split()) == 2  # the first try and exactly one retry
    written = pd.read_csv(out / "patients.tsv", sep="\t")
    error = written.loc[written["status"] == "failed", "error"].item()
    assert "worker process died" in error and "retry" in error
    assert sorted(CohortStore(first.store, read_only=True).patients()["patient_id"]) == [
        "VP1",
        "VP3",
    ]
    # the next run (the fault gone) skips the finished patients and finishes the rest
    monkeypatch.delenv("ITHKIT_TEST_CRASH_PATIENT")
    again = run_cohort(cohort, out, workers=2, analyses=[], show_progress=False)
    assert again.patients["status"].tolist() == ["unchanged", "ok", "unchanged"]
    assert sorted(CohortStore(again.store, read_only=True).patients()["patient_id"]) == [
        "VP1",
        "VP2",
        "VP3",
    ]
    assert len(log.read_text().split()) == 2  # VP2 was not crashed again


def test_a_killed_cohort_run_is_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver killed (SIGKILL) while the third patient runs: the next run does not redo
    the two patients it had finished, runs the third and stores all three."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    from ithkit.scale import _cohort as cohort_module

    cohort, out, ready = _cohort(tmp_path / "cohort"), tmp_path / "out", tmp_path / "ready"
    code = f"""
        import pathlib, time
        from ithkit.scale import _cohort, run_cohort
        real = _cohort.process_patient
        def hang_on_vp3(manifest, *args):
            if pathlib.Path(manifest).stem == "VP3":
                pathlib.Path({str(ready)!r}).touch()
                time.sleep(60)
            return real(manifest, *args)
        _cohort.process_patient = hang_on_vp3
        run_cohort({str(cohort)!r}, {str(out)!r}, analyses=[], show_progress=False)
        """
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, "PYTHONPATH": src}
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the cohort run did not reach VP3 (rc {proc.returncode})")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert not (out / "ithkit.duckdb").exists()  # nothing was stored by the killed run
    ran: list[str] = []
    real = cohort_module.process_patient

    def counted(manifest: str, *args: object) -> dict[str, object]:
        ran.append(Path(manifest).stem)
        return real(manifest, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cohort_module, "process_patient", counted)
    again = run_cohort(cohort, out, analyses=[], show_progress=False)
    assert ran == ["VP3"]
    assert again.patients["status"].tolist() == ["ok", "ok", "ok"]
    assert sorted(CohortStore(again.store, read_only=True).patients()["patient_id"]) == [
        "VP1",
        "VP2",
        "VP3",
    ]
    assert not (out / ".ithkit-work").exists()
    # and then every patient is unchanged
    ran.clear()
    third = run_cohort(cohort, out, analyses=[], show_progress=False)
    assert ran == [] and third.patients["status"].tolist() == ["unchanged"] * 3
