"""analyze() and `ithkit genomic ...`: the files and columns of the interface."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.genomic import analyze

COLUMNS = {
    "mutations.tsv": ["mutation_id", "clone_id", "class"],
    "mutation_ccf.tsv": ["mutation_id", "sample_id", "vaf", "ccf", "ccf_low", "ccf_high",
                         "multiplicity", "is_clonal"],
    "clones.tsv": ["clone_id", "sample_id", "ccf", "ccf_low", "ccf_high", "n_mutations"],
    "metrics.tsv": ["sample_id", "math", "n_clones", "shannon", "simpson", "fraction_subclonal"],
}  # fmt: skip


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_cli_writes_the_interface_files(tmp_path: Path, small_patient, capsys) -> None:  # type: ignore[no-untyped-def]
    files = small_patient.to_files(tmp_path / "data")
    code, out, err = run(
        ["genomic", "analyze", str(files["variants"]), "--out", str(tmp_path / "g"),
         "--seed", "1"], capsys,
    )  # fmt: skip
    assert code == 0
    assert "clones" in out
    # the memory estimate before the work, then each step with its time, on stderr
    assert "GB of memory" in err.splitlines()[0]
    for step in ("validate", "clones", "CCF", "tree", "metrics", "adequacy"):
        assert f"{step}" in err and "done in" in err
    for name, columns in COLUMNS.items():
        table = pd.read_csv(tmp_path / "g" / name, sep="\t")
        assert list(table.columns) == columns
    tree = json.loads((tmp_path / "g" / "tree.json").read_text())
    assert tree["n_consistent_trees"] >= 1
    assert sum(node["parent"] is None for node in tree["nodes"]) == 1
    assert (tmp_path / "g" / "tree.nwk").read_text().strip().endswith(";")
    metrics = pd.read_csv(tmp_path / "g" / "metrics.tsv", sep="\t")
    assert metrics["sample_id"].tolist()[-1] == "ALL"
    # the same numbers from the Python API
    api = analyze(small_patient.variants, seed=1)
    pd.testing.assert_frame_equal(
        api.metrics.reset_index(drop=True).astype({"sample_id": object}),
        metrics, check_dtype=False, atol=1e-9,
    )  # fmt: skip


def test_cli_bad_input_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "v.tsv"
    bad.write_text("mutation_id\tsample_id\tref_counts\talt_counts\n")
    code, _, err = run(["genomic", "analyze", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_cli_refuses_input_beyond_the_memory_budget(
    tmp_path: Path, small_patient, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    files = small_patient.to_files(tmp_path / "data")
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", str(10**8))  # 0.1 GB: below the fixed 0.3 GB
    code, _, err = run(["genomic", "analyze", str(files["variants"]), "--out",
                        str(tmp_path / "o")], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "GB of memory" in err and not (tmp_path / "o").exists()


def test_missing_rows_are_reported_in_files(tmp_path: Path, small_patient) -> None:  # type: ignore[no-untyped-def]
    from ithkit.genomic import MissingMutationsWarning

    with pytest.warns(MissingMutationsWarning):
        result = analyze(small_patient.variants.iloc[2:], seed=0, n_restarts=2)
    result.write(tmp_path)
    missing = pd.read_csv(tmp_path / "missing.tsv", sep="\t")
    assert len(missing) == 2
    assert len(pd.read_csv(tmp_path / "mutation_ccf.tsv", sep="\t")) == len(small_patient.variants)


def test_cli_math_and_convert(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = ["Hugo_Symbol\tChromosome\tStart_Position\tTumor_Sample_Barcode\t"
            "Variant_Classification\tt_ref_count\tt_alt_count"]  # fmt: skip
    rows += [f"G{i}\t2\t{100 + i}\tS1\tMissense_Mutation\t{90 - 10 * i}\t{10 + 10 * i}"
             for i in range(6)]  # fmt: skip
    maf = tmp_path / "x.maf"
    maf.write_text("\n".join(rows) + "\n")
    code, _, _ = run(["genomic", "math", str(maf), "--out", str(tmp_path / "m.tsv")], capsys)
    assert code == 0
    assert pd.read_csv(tmp_path / "m.tsv", sep="\t").loc[0, "n_variants"] == 6
    purity = tmp_path / "purity.tsv"
    purity.write_text("sample_id\tpurity\nS1\t0.7\n")
    code, _, err = run(["genomic", "convert", str(maf), "--purity", str(purity), "--out",
                        str(tmp_path / "v.tsv")], capsys)  # fmt: skip
    assert code == 0
    assert "1+1 copies" in err
    assert len(pd.read_csv(tmp_path / "v.tsv", sep="\t")) == 6


def test_demo_report_has_the_genomic_section(demo_dir: Path) -> None:
    page = (demo_dir / "report.html").read_text()
    assert 'id="genomic"' in page
    assert (demo_dir / "genomic" / "tree.json").exists()
    from ithkit.store import CohortStore

    store = CohortStore(demo_dir / "ithkit.duckdb")
    assert {"genomic_clones", "genomic_metrics", "genomic_tree"} <= set(store.tables())
