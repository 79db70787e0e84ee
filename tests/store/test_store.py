"""Cohort store: round trips, replacement, schema growth, atomicity under crashes, locking."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError, StoreBusyError
from ithkit.store import CohortStore


def metrics(n: int, value: float) -> pd.DataFrame:
    return pd.DataFrame({"sample_id": [f"R{i}" for i in range(n)], "math": [value] * n})


def test_round_trip(tmp_path: Path, small_patient) -> None:  # type: ignore[no-untyped-def]
    store = CohortStore(tmp_path / "c.duckdb")
    samples = small_patient.purity.rename(columns={"purity": "tumour_content"}).assign(
        modality="genomic"
    )
    store.write(
        small_patient.patient_id,
        {
            "genomic_variants": small_patient.variants,
            "response_measurements": small_patient.lesions,
        },
        attributes=small_patient.summary(),
        samples=samples,
        module="test",
        parameters={"seed": 11},
    )
    back = store.read("genomic_variants")
    assert len(back) == len(small_patient.variants)
    assert (back["patient_id"] == small_patient.patient_id).all()
    assert back["alt_counts"].sum() == small_patient.variants["alt_counts"].sum()
    lesions = store.read("response_measurements", patient_id=small_patient.patient_id)
    assert lesions["diameter_mm"].tolist() == small_patient.lesions["diameter_mm"].tolist()
    patients = store.patients()
    assert patients["patient_id"].tolist() == [small_patient.patient_id]
    assert patients.loc[0, "n_samples"] == 3
    assert patients.loc[0, "modules"] == "genomic,response"
    assert store.read("runs")["module"].tolist() == ["test"]


def test_rewriting_a_patient_replaces_its_rows(tmp_path: Path) -> None:
    store = CohortStore(tmp_path / "c.duckdb")
    store.write("P1", {"genomic_metrics": metrics(3, 1.0)})
    store.write("P2", {"genomic_metrics": metrics(2, 2.0)})
    store.write("P1", {"genomic_metrics": metrics(1, 5.0)})
    table = store.read("genomic_metrics").sort_values("patient_id")
    assert table["patient_id"].tolist() == ["P1", "P2", "P2"]
    assert table["math"].tolist() == [5.0, 2.0, 2.0]


def test_new_columns_are_added(tmp_path: Path) -> None:
    store = CohortStore(tmp_path / "c.duckdb")
    store.write("P1", {"genomic_metrics": metrics(1, 1.0)})
    store.write("P2", {"genomic_metrics": metrics(1, 2.0).assign(shannon=0.7)})
    table = store.read("genomic_metrics").set_index("patient_id")
    assert pd.isna(table.loc["P1", "shannon"])
    assert table.loc["P2", "shannon"] == 0.7


def test_failed_write_leaves_previous_state(tmp_path: Path) -> None:
    store = CohortStore(tmp_path / "c.duckdb")
    store.write("P1", {"genomic_metrics": metrics(2, 1.0)})
    bad = pd.DataFrame({"sample_id": ["R1"], "math": ["not a number"]})
    with pytest.raises(Exception):  # noqa: B017 - DuckDB's conversion error type varies
        store.write("P1", {"genomic_other": metrics(1, 3.0), "genomic_metrics": bad})
    assert store.read("genomic_metrics")["math"].tolist() == [1.0, 1.0]
    assert "genomic_other" not in store.tables()


CRASH = textwrap.dedent(
    """
    import os, sys
    import pandas as pd
    from ithkit.store import CohortStore, _duckdb

    original = CohortStore._replace_rows
    calls = []

    def dying(con, name, pid, frame):
        original(con, name, pid, frame)
        calls.append(name)
        if len(calls) == 2:
            os._exit(9)  # the process dies mid-transaction: no rollback, no close

    CohortStore._replace_rows = staticmethod(dying)
    store = CohortStore(sys.argv[1])
    tables = {
        "genomic_metrics": pd.DataFrame({"sample_id": ["R1"], "math": [99.0]}),
        "genomic_clones": pd.DataFrame({"clone_id": ["C1"], "ccf": [1.0]}),
        "genomic_more": pd.DataFrame({"x": [1]}),
    }
    store.write("P1", tables)
    """
)


def test_crash_during_a_write_keeps_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    store = CohortStore(path)
    store.write("P1", {"genomic_metrics": metrics(2, 1.0)}, attributes={"v": 1})
    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    done = subprocess.run([sys.executable, str(script), str(path)], capture_output=True)
    assert done.returncode == 9, done.stderr.decode()
    assert store.read("genomic_metrics")["math"].tolist() == [1.0, 1.0]
    assert "genomic_clones" not in store.tables()
    # and the store is writable again
    store.write("P1", {"genomic_metrics": metrics(1, 2.0)})
    assert store.read("genomic_metrics")["math"].tolist() == [2.0]


HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    time.sleep(30)
    """
)


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    CohortStore(path).write("P1", {"genomic_metrics": metrics(1, 1.0)})
    script = tmp_path / "hold.py"
    script.write_text(HOLD)
    holder = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"ready"
        with pytest.raises(StoreBusyError, match="being written by another process"):
            CohortStore(path).write("P2", {"genomic_metrics": metrics(1, 1.0)})
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    time.sleep(0.1)
    CohortStore(path).write("P2", {"genomic_metrics": metrics(1, 1.0)})


def test_export_and_load_parquet(tmp_path: Path) -> None:
    store = CohortStore(tmp_path / "a.duckdb")
    store.write("P1", {"genomic_metrics": metrics(2, 1.0)}, attributes={"age": 61})
    files = store.export_parquet(tmp_path / "export")
    names = sorted(f.name for f in files)
    assert names == [
        "genomic_metrics.parquet",
        "patients.parquet",
        "runs.parquet",
        "samples.parquet",
    ]
    assert pd.read_parquet(tmp_path / "export" / "genomic_metrics.parquet")["math"].tolist() == [
        1.0,
        1.0,
    ]

    # workers write one folder per patient; the driver loads them in one transaction
    work = tmp_path / "work"
    for pid, value in (("P2", 3.0), ("P3", 4.0)):
        (work / pid).mkdir(parents=True)
        metrics(1, value).to_parquet(work / pid / "genomic_metrics.parquet")
    loaded = store.load_parquet(work)
    assert loaded == ["P2", "P3"]
    table = store.read("genomic_metrics").sort_values("patient_id")
    assert table["math"].tolist() == [1.0, 1.0, 3.0, 4.0]


@pytest.mark.parametrize("name", ["Bad Name", "patients", "1x", "drop;table"])
def test_table_names_are_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="is not allowed"):
        CohortStore(tmp_path / "c.duckdb").write("P1", {name: metrics(1, 1.0)})


def test_rows_of_another_patient_are_refused(tmp_path: Path) -> None:
    frame = metrics(1, 1.0).assign(patient_id="P9")
    with pytest.raises(InputError, match="rows of patient"):
        CohortStore(tmp_path / "c.duckdb").write("P1", {"genomic_metrics": frame})


def test_reading_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cohort store not found"):
        CohortStore(tmp_path / "none.duckdb").read("patients")
    with pytest.raises(InputError, match=r"not a DuckDB file|cannot open the store"):
        bad = tmp_path / "bad.duckdb"
        bad.write_text("hello")
        CohortStore(bad).read("patients")


def test_all_missing_column_accepts_values_later(tmp_path: Path) -> None:
    store = CohortStore(tmp_path / "c.duckdb")
    store.write("P1", {"response_x": pd.DataFrame({"status": [None, None], "d": [1.0, 2.0]})})
    store.write("P2", {"response_x": pd.DataFrame({"status": ["present"], "d": [3.0]})})
    table = store.read("response_x").sort_values("d")
    assert table["status"].tolist()[2] == "present"
