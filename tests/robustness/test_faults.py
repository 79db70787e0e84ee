"""Faults: a process killed mid-write leaves the previous output and store; atomic folders;
the store lock is found before any analysis."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from ithkit._atomic import atomic_dir
from ithkit.store import CohortStore

from ._util import kill9, spawn_until


def _spawn(code: str, ready: Path) -> subprocess.Popen[bytes]:
    return spawn_until(code, ready, "the writer did not reach its mid-write point")


def test_atomic_dir_keeps_the_previous_output_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.tsv").write_text("v1")
    (out / "mine.txt").write_text("kept")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "a.tsv").write_text("half")
        raise RuntimeError("crash")
    assert (out / "a.tsv").read_text() == "v1"
    with atomic_dir(out) as tmp:
        (tmp / "a.tsv").write_text("v2")
    assert (out / "a.tsv").read_text() == "v2" and (out / "mine.txt").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_kill9_mid_write_leaves_output_folder_intact(tmp_path: Path) -> None:
    out, ready = tmp_path / "out", tmp_path / "ready"
    with atomic_dir(out) as tmp:
        (tmp / "result.tsv").write_text("previous")
    proc = _spawn(
        f"""
        import time, pathlib
        from ithkit._atomic import atomic_dir
        with atomic_dir({str(out)!r}) as tmp:
            (tmp / "result.tsv").write_text("half written")
            (tmp / "more.tsv").write_text("x")
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
        """,
        ready,
    )
    kill9(proc)
    assert sorted(p.name for p in out.iterdir()) == ["result.tsv"]
    assert (out / "result.tsv").read_text() == "previous"


def test_kill9_mid_transaction_leaves_store_intact(tmp_path: Path) -> None:
    store, ready = tmp_path / "s.duckdb", tmp_path / "ready"
    CohortStore(store).write("P0", {"genomic_metrics": pd.DataFrame({"v": [1.0]})})
    proc = _spawn(
        f"""
        import time, pathlib
        import pandas as pd
        from ithkit.store import CohortStore
        from ithkit.store import _duckdb
        slow = _duckdb.CohortStore._replace_rows
        def replace_then_hang(con, name, pid, frame):
            slow(con, name, pid, frame)
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
        _duckdb.CohortStore._replace_rows = staticmethod(replace_then_hang)
        CohortStore({str(store)!r}).write(
            "P1", {{"genomic_metrics": pd.DataFrame({{"v": [2.0] * 1000}})}}
        )
        """,
        ready,
    )
    kill9(proc)
    cohort = CohortStore(store, read_only=True)
    assert cohort.patients()["patient_id"].tolist() == ["P0"]
    assert cohort.read("genomic_metrics")["v"].tolist() == [1.0]
    # and the store takes the next writer
    CohortStore(store).write("P2", {"genomic_metrics": pd.DataFrame({"v": [3.0]})})
    assert CohortStore(store, read_only=True).patients()["patient_id"].tolist() == ["P0", "P2"]


def test_locked_store_is_found_before_the_analysis(tmp_path: Path, capsys) -> None:
    from ._util import lesions_csv, one_error_line, run_cli

    store, ready = tmp_path / "s.duckdb", tmp_path / "ready"
    CohortStore(store).write("P0", {"genomic_metrics": pd.DataFrame({"v": [1.0]})})
    proc = _spawn(
        f"""
        import time, pathlib, duckdb
        con = duckdb.connect({str(store)!r})
        pathlib.Path({str(ready)!r}).touch()
        time.sleep(60)
        """,
        ready,
    )
    try:
        lesions_csv(tmp_path / "les.csv", [(32.0, 25.0), (30.0, 20.0)])
        m = tmp_path / "p.yaml"
        m.write_text("patient_id: P1\nlesions: les.csv\n")
        t0 = time.monotonic()
        code, _, err = run_cli(["run", m, "--out", tmp_path / "o", "--store", store], capsys)
        assert code == 4 and "lock" in one_error_line(err).lower()
        assert time.monotonic() - t0 < 10
        assert not (tmp_path / "o" / "response").exists()  # nothing analysed
    finally:
        kill9(proc)
