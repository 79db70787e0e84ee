"""``ithkit run`` and ``ithkit demo`` write their ``--out`` folder atomically: bad input or a
kill -9 mid-analysis leaves the previous report and store (or nothing), never a half folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ithkit.store import CohortStore

from ._util import kill9, lesions_csv, one_error_line, run_cli, spawn_until


def _patient(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lesions_csv(folder / "les.csv", [(32.0, 25.0), (30.0, 20.0)])
    m = folder / "p.yaml"
    m.write_text("patient_id: P1\nlesions: les.csv\n")
    return m


def _snapshot(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix != ".duckdb" and not p.name.endswith(".wal")
    }


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_bad_input_in_a_second_run_keeps_the_first_report_and_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m, out = _patient(tmp_path / "in"), tmp_path / "out"
    code, _, err = run_cli(["run", m, "--out", out], capsys)
    assert code == 0, err
    before = _snapshot(out)
    assert "report.html" in before and any(k.startswith("response") for k in before)
    # second run: the diameters are now in cm (refused), after the store has been opened
    lesions_csv(m.parent / "les.csv", [(3.2, 2.5), (3.0, 2.0)])
    code, _, err = run_cli(["run", m, "--out", out], capsys)
    assert code == 2 and "cm" in one_error_line(err)
    assert _snapshot(out) == before
    assert CohortStore(out / "ithkit.duckdb", read_only=True).patients()["patient_id"].tolist() == [
        "P1"
    ]
    assert _hidden(tmp_path) == []  # the temporary folder is removed


def test_bad_input_in_a_first_run_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m, out = _patient(tmp_path / "in"), tmp_path / "out"
    lesions_csv(m.parent / "les.csv", [(3.2, 2.5), (3.0, 2.0)])
    code, _, err = run_cli(["run", m, "--out", out], capsys)
    assert code == 2 and "cm" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def _run_then_hang(m: Path, out: Path, ready: Path) -> subprocess.Popen[bytes]:
    """``ithkit run`` in a subprocess whose analyses are written, then hangs before the profile."""
    code = f"""
        import pathlib, time
        from ithkit.integrate import profile
        def hang(*args, **kwargs):
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
        profile.patient_profile = hang
        from ithkit.cli import main
        main(["run", {str(m)!r}, "--out", {str(out)!r}])
        """
    return spawn_until(code, ready, "ithkit run did not reach its analysis")


def test_kill9_of_ithkit_run_mid_analysis_leaves_no_half_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _patient(tmp_path / "in")
    # a first run killed mid-analysis: no output folder at all
    fresh = tmp_path / "fresh"
    proc = _run_then_hang(m, fresh, tmp_path / "ready1")
    hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".fresh.tmp-")]
    assert len(hidden) == 1 and (hidden[0] / "response").is_dir()  # it was writing there
    kill9(proc)
    assert not fresh.exists()
    # a second run killed mid-analysis: the first run's report and store are intact
    out = tmp_path / "out"
    code, _, err = run_cli(["run", m, "--out", out], capsys)
    assert code == 0, err
    before = _snapshot(out)
    kill9(_run_then_hang(m, out, tmp_path / "ready2"))
    assert _snapshot(out) == before
    store = CohortStore(out / "ithkit.duckdb", read_only=True)
    assert store.patients()["patient_id"].tolist() == ["P1"]
    # and the next run goes through, ignoring the killed run's temporary folders
    code, _, err = run_cli(["run", m, "--out", out], capsys)
    assert code == 0, err
    assert sorted(_snapshot(out)) == sorted(before)
