"""`ithkit singlecell ...` commands and the patient analysis in `ithkit run`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ithkit.cli import main
from ithkit.singlecell import read_h5ad, simulate_scdna, simulate_scrna


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0)


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sc") / "tumour.h5ad"
    simulate_scrna(500, 1500, n_subclones=2, seed=4).write_h5ad(path)
    return path


def test_cnv_then_ith(h5ad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cnv.h5ad"
    code = _run(["singlecell", "cnv", str(h5ad), "--reference-key", "cell_type",
                 "--reference", "T cell,macrophage", "--out", str(out), "--window", "25",
                 "--step", "5"])  # fmt: skip
    assert code == 0
    assert "assumed raw counts" in capsys.readouterr().out
    a = read_h5ad(out)
    assert {"malignant", "subclone", "cnv_score"} <= set(a.obs.columns)
    assert "X_cnv" in a.obsm
    assert (a.obs["malignant"] == a.obs["true_malignant"]).mean() > 0.95
    metrics = tmp_path / "metrics.tsv"
    assert _run(["singlecell", "ith", str(out), "--out", str(metrics), "--n-sample", "150"]) == 0
    table = pd.read_csv(metrics, sep="\t")
    assert list(table.columns) == ["metric", "value"]
    assert table.set_index("metric").loc["n_subclones", "value"] == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--reference-key", "nope", "--reference", "T cell"], "no column 'nope'"),
        (["--reference-key", "cell_type", "--reference", "B cell"], "not in .obs"),
    ],
)
def test_cnv_bad_input_exit_2(
    h5ad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
    needle: str,
) -> None:  # fmt: skip
    code = _run(["singlecell", "cnv", str(h5ad), *args, "--out", str(tmp_path / "o.h5ad")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and "\n" not in err
    assert not (tmp_path / "o.h5ad").exists()


def test_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(["singlecell", "ith", str(tmp_path / "none.h5ad"), "--out", "m.tsv"])
    assert code == 2 and "file not found" in capsys.readouterr().err


def test_scdna_command(tmp_path: Path) -> None:
    sim = simulate_scdna(100, 5, seed=0)
    matrix = tmp_path / "genotypes.tsv"
    sim.observed.rename_axis("cell_id").to_csv(matrix, sep="\t", na_rep="NA")
    assert _run(["singlecell", "scdna", str(matrix), "--out", str(tmp_path / "o"),
                 "--iterations", "300"]) == 0  # fmt: skip
    clones = pd.read_csv(tmp_path / "o" / "clones.tsv", sep="\t")
    assert clones["n_cells"].sum() == 100
    assert set(pd.read_csv(tmp_path / "o" / "tree.tsv", sep="\t")["mutation_id"]) == set(
        sim.observed.columns
    )


def test_patient_run_shows_sections(tmp_path: Path, h5ad: Path) -> None:
    from ithkit.integrate import run_patient
    from ithkit.spatial import simulate_tissue

    simulate_tissue("immune_excluded", 600, seed=0).write_h5ad(tmp_path / "section.h5ad")
    (tmp_path / "sc.h5ad").write_bytes(h5ad.read_bytes())
    manifest = tmp_path / "patient.yaml"
    manifest.write_text(yaml.safe_dump(
        {"patient_id": "SC1", "singlecell": "sc.h5ad", "spatial": "section.h5ad"}))  # fmt: skip
    run = run_patient(manifest, tmp_path / "out")
    assert {"singlecell_subclones", "singlecell_metrics", "spatial_summary",
            "spatial_enrichment"} <= set(run.tables)  # fmt: skip
    page = run.report.read_text()
    assert "Single-cell heterogeneity" in page and "Spatial heterogeneity" in page
    assert "CNV heatmap" in page and "Neighbourhood enrichment" in page
    assert "Subclone tree" in page
    assert (tmp_path / "out" / "singlecell" / "subclones.tsv").exists()
    assert (tmp_path / "out" / "spatial" / "summary.tsv").exists()
