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
