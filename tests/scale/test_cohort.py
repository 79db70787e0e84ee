"""Cohort runs: serial and on Dask give the same store; a bad patient does not stop the cohort."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError
from ithkit.evolution import virtual_patient
from ithkit.scale import find_manifests, run_cohort
from ithkit.store import CohortStore


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cohort")
    for seed in (1, 2, 3):
        vp = virtual_patient(seed=seed, n_regions=2, n_mutations=40, n_clones=3)
        files = vp.to_files(root / vp.patient_id)
        # one manifest per patient at the cohort's top level, pointing into its folder
        text = files["manifest"].read_text()
        for name in ("variants.tsv", "segments.tsv", "purity.tsv", "lesions.csv", "ctdna.csv",
                     "scenario.yaml"):  # fmt: skip
            text = text.replace(f": {name}", f": {vp.patient_id}/{name}")
        (root / f"{vp.patient_id}.yaml").write_text(text)
    return root


def store_rows(path: Path, table: str) -> pd.DataFrame:
    frame = CohortStore(path).read(table)
    return frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)


def test_find_manifests(cohort_dir: Path, tmp_path: Path) -> None:
    assert [p.name for p in find_manifests(cohort_dir)] == ["VP1.yaml", "VP2.yaml", "VP3.yaml"]
    listing = tmp_path / "cohort.csv"
    listing.write_text(f"manifest\n{cohort_dir / 'VP2.yaml'}\n")
    assert find_manifests(listing) == [cohort_dir / "VP2.yaml"]
    listing.write_text("manifest\nmissing.yaml\n")
    with pytest.raises(InputError, match=r"line 2, column manifest: manifest 'missing.yaml' not"):
        find_manifests(listing)
    with pytest.raises(InputError, match=r"no \*.yaml manifest"):
        find_manifests(tmp_path)


def test_serial_and_dask_runs_agree(cohort_dir: Path, tmp_path: Path) -> None:
    serial = run_cohort(cohort_dir, tmp_path / "serial", show_progress=False)
    assert serial.n_failed == 0
    assert serial.patients["patient_id"].tolist() == ["VP1", "VP2", "VP3"]
    for pid in ("VP1", "VP2", "VP3"):
        assert (tmp_path / "serial" / pid / "report.html").exists()
    # the Dask path is about scheduling and the one-writer hand-off: inputs only, to stay quick
    serial_inputs = run_cohort(cohort_dir, tmp_path / "s0", analyses=[], show_progress=False)
    environ = dict(os.environ)
    parallel = run_cohort(
        cohort_dir, tmp_path / "dask", workers=2, analyses=[], show_progress=False
    )
    assert parallel.n_failed == 0
    # the workers' thread limits (NUMBA_NUM_THREADS=1, ...) must not stay in the driver
    assert dict(os.environ) == environ
    for table in ("genomic_variants", "liquid_ctdna", "samples"):
        pd.testing.assert_frame_equal(
            store_rows(serial_inputs.store, table), store_rows(parallel.store, table)
        )
    assert "genomic_clones" in CohortStore(serial.store).tables()  # analyses went through
    patients = CohortStore(serial.store).patients()
    assert patients["patient_id"].tolist() == ["VP1", "VP2", "VP3"]
    assert (patients["n_samples"] > 0).all()


def test_a_bad_patient_is_reported_and_the_rest_stored(cohort_dir: Path, tmp_path: Path) -> None:
    import shutil

    work = tmp_path / "cohort"
    shutil.copytree(cohort_dir, work)
    ctdna = work / "VP2" / "ctdna.csv"
    lines = ctdna.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 2)[0] + ",0,5.0"  # depth 0
    ctdna.write_text("\n".join(lines) + "\n")
    result = run_cohort(work, tmp_path / "out", analyses=[], show_progress=False)
    assert result.n_failed == 1
    failed = result.patients.set_index("manifest").loc[str(work / "VP2.yaml")]
    assert "ctdna.csv: line 4, column depth: value is 0 reads" in failed["error"]
    assert CohortStore(result.store).patients()["patient_id"].tolist() == ["VP1", "VP3"]
    summary = pd.read_csv(tmp_path / "out" / "patients.tsv", sep="\t")
    assert summary["status"].tolist() == ["ok", "failed", "ok"]


def test_cli_cohort_exit_code(cohort_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from ithkit.cli import main

    with pytest.raises(SystemExit) as info:
        main(["run", str(cohort_dir), "--out", str(tmp_path / "o")])
    assert info.value.code == 0
    assert "patients  3 of 3 run" in capsys.readouterr().out


def test_resume_skips_unchanged_patients(cohort_dir: Path, tmp_path: Path) -> None:
    """A second run skips patients whose inputs did not change; a changed file or --force
    reruns them; the store is the same either way."""
    import shutil

    work = tmp_path / "cohort"
    shutil.copytree(cohort_dir, work)
    out = tmp_path / "out"
    first = run_cohort(work, out, analyses=[], show_progress=False)
    assert first.patients["status"].tolist() == ["ok", "ok", "ok"]
    before = store_rows(first.store, "genomic_variants")
    again = run_cohort(work, out, analyses=[], show_progress=False)
    assert again.patients["status"].tolist() == ["unchanged"] * 3
    pd.testing.assert_frame_equal(before, store_rows(again.store, "genomic_variants"))
    lesions = work / "VP2" / "lesions.csv"
    lesions.write_text(lesions.read_text().replace("target", "target", 1) + "\n")
    changed = run_cohort(work, out, analyses=[], show_progress=False)
    assert changed.patients["status"].tolist() == ["unchanged", "ok", "unchanged"]
    forced = run_cohort(work, out, analyses=[], show_progress=False, force=True)
    assert forced.patients["status"].tolist() == ["ok", "ok", "ok"]
    pd.testing.assert_frame_equal(before, store_rows(forced.store, "genomic_variants"))
    # a different seed is a different run
    reseeded = run_cohort(work, out, analyses=[], show_progress=False, seed=1)
    assert reseeded.patients["status"].tolist() == ["ok", "ok", "ok"]
