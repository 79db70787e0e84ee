"""The command line: help, version, demo end to end, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.store import CohortStore

HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "duckdb", "anndata", "lifelines", "dask",
         "SimpleITK", "sklearn", "numba", "scanpy")  # fmt: skip


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, ithkit.cli\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(ithkit.cli.app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_help_lists_the_groups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    for group in ("demo", "run", "cohort"):
        assert group in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from ithkit import __version__

    code, out, _ = run_cli(["--version"], capsys)
    assert (code, out.strip()) == (0, f"ithkit {__version__}")


def test_demo_writes_report_store_and_data(demo_dir: Path) -> None:
    assert (demo_dir / "report.html").stat().st_size > 10_000
    for name in ("variants.tsv", "lesions.csv", "ctdna.csv", "patient.yaml"):
        assert (demo_dir / "data" / name).exists()
    store = CohortStore(demo_dir / "ithkit.duckdb")
    assert store.patients()["patient_id"].tolist() == ["DEMO-3"]
    assert {"genomic_variants", "response_measurements", "liquid_ctdna"} <= set(store.tables())


def test_cohort_ls_and_export(demo_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = str(demo_dir / "ithkit.duckdb")
    code, out, _ = run_cli(["cohort", "ls", "--store", store], capsys)
    assert code == 0
    assert out.splitlines()[0].split("\t") == ["patient_id", "n_samples", "modules", "updated_at"]
    assert out.splitlines()[1].startswith("DEMO-3\t")
    code, out, _ = run_cli(["cohort", "ls", "--store", store, "--tables"], capsys)
    assert "genomic_variants" in out.split()
    code, out, _ = run_cli(
        ["cohort", "export", "--store", store, "--out", str(tmp_path), "--tables", "patients"],
        capsys,
    )
    assert code == 0
    assert pd.read_parquet(tmp_path / "patients.parquet")["patient_id"].tolist() == ["DEMO-3"]


def test_run_on_a_manifest(small_patient, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    files = small_patient.to_files(tmp_path / "data")
    store = tmp_path / "cohort.duckdb"
    code, _, _ = run_cli(
        ["run", str(files["manifest"]), "--out", str(tmp_path / "o"), "--store", str(store)],
        capsys,
    )
    assert code == 0
    assert (tmp_path / "o" / "report.html").exists()
    assert CohortStore(store).patients()["patient_id"].tolist() == [small_patient.patient_id]


def test_bad_input_is_one_line_and_exit_2(demo_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_dir / "data", data)
    variants = data / "variants.tsv"
    lines = variants.read_text().splitlines()
    fields = lines[6].split("\t")
    fields[3] = "-3"  # alt_counts
    lines[6] = "\t".join(fields)
    variants.write_text("\n".join(lines) + "\n")
    store = tmp_path / "cohort.duckdb"
    CohortStore(store).write("EARLIER", {"genomic_metrics": pd.DataFrame({"math": [1.0]})})
    code, _, err = run_cli(
        ["run", str(data / "patient.yaml"), "--out", str(tmp_path / "o"), "--store", str(store)],
        capsys,
    )
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert "variants.tsv: line 7, column alt_counts: value is -3" in err
    assert "Traceback" not in err
    # nothing written before is lost, nothing half-written
    assert CohortStore(store).patients()["patient_id"].tolist() == ["EARLIER"]
    assert not (tmp_path / "o" / "report.html").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "nope.yaml", "--out", "x"],
        ["cohort", "ls", "--store", "missing.duckdb"],
        ["cohort", "export", "--store", "missing.duckdb", "--out", "x"],
        ["demo", "--regions", "0"],
        ["cohort", "load", "not-a-folder", "--store", "c.duckdb"],
    ],
)
def test_errors_exit_2(args: list[str], tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["run"], capsys)
    assert code == 2
    assert "Missing argument" in err
