"""`ithkit pathology ...`: the files written and one-line errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.pathology import REGION_COLUMNS

from .conftest import MARKER


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0)


def test_biomarker_command(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    code = _run(["pathology", "biomarker", str(data / "qupath_v05.tsv"), "--marker", MARKER,
                 "--out", str(out), "--thresholds", "0.2,0.4,0.6", "--tumour-class", "Tumor",
                 "--tile-um", "500", "--cutpoint", "50", "--hotspot-min-cells", "3"])  # fmt: skip
    assert code == 0
    regions = pd.read_csv(out / "regions.tsv", sep="\t")
    assert list(regions.columns) == list(REGION_COLUMNS)
    assert regions["region"].tolist() == ["invasive margin", "tumor core", "ALL"]
    assert regions["h_score"].iloc[-1] == pytest.approx(1500 / 13)
    for name in ("tiles.tsv", "hotspot.tsv", "heterogeneity.tsv", "biopsy.tsv"):
        assert (out / name).exists()
    printed = capsys.readouterr().out
    assert "1 without a value" in printed


def test_simulate_then_biomarker(tmp_path: Path) -> None:
    assert _run(["pathology", "simulate", "--out", str(tmp_path), "--cells", "3000"]) == 0
    code = _run(["pathology", "biomarker", str(tmp_path / "detections.tsv"), "--marker",
                 "DAB: Nucleus: Mean", "--out", str(tmp_path / "o"), "--thresholds",
                 "0.2,0.4,0.6", "--tumour-class", "Tumor", "--cutpoint", "10",
                 "--cutpoint-metric", "percent_3plus", "--core-um", "600"])  # fmt: skip
    assert code == 0
    truth = pd.read_csv(tmp_path / "truth.tsv", sep="\t").set_index("region")
    got = pd.read_csv(tmp_path / "o" / "regions.tsv", sep="\t").set_index("region")
    assert (got.loc[truth.index, "n_positive"] == truth["n_positive"]).all()


@pytest.mark.parametrize(
    ("file", "args", "message"),
    [
        ("qupath_px.tsv", ["--thresholds", "0.2,0.4,0.6"], "--pixel-size"),
        ("qupath_v05.tsv", ["--thresholds", "0.6,0.4,0.2"], "not increasing"),
        ("qupath_v05.tsv", ["--marker", "Nucleus: DAB OD max"], "near names"),
        ("qupath_v05.tsv", ["--thresholds", "0.2", "--tumour-class", "Tumour"], "no cell has"),
    ],
)
def test_bad_input_is_one_line(
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    file: str,
    args: list[str],
    message: str,
) -> None:
    argv = ["pathology", "biomarker", str(data / file), "--out", str(tmp_path)]
    if "--marker" not in args:
        argv += ["--marker", MARKER]
    assert _run(argv + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_ish_and_patterns_commands(data: Path, tmp_path: Path) -> None:
    code = _run(["pathology", "ish", str(data / "ish.tsv"), "--out", str(tmp_path),
                 "--columns", "her2=HER2 signals,cep17=CEP17 signals"])  # fmt: skip
    assert code == 0
    assert pd.read_csv(tmp_path / "ish.tsv", sep="\t")["region"].tolist() == ["A", "B", "ALL"]
    assert _run(["pathology", "patterns", str(data / "patterns.tsv"), "--out", str(tmp_path)]) == 0
    agreement = pd.read_csv(tmp_path / "agreement.tsv", sep="\t")
    assert agreement["method"].tolist() == ["cohen", "fleiss"]


def test_boundary_writes_compartments(data: Path, tmp_path: Path) -> None:
    code = _run(["pathology", "biomarker", str(data / "qupath_boundary.tsv"), "--marker", MARKER,
                 "--out", str(tmp_path), "--thresholds", "0.2,0.4,0.6", "--boundary", "Tumor",
                 "--margin-um", "500"])  # fmt: skip
    assert code == 0
    comp = pd.read_csv(tmp_path / "compartments.tsv", sep="\t")
    assert list(comp.columns) == list(REGION_COLUMNS)
    het = pd.read_csv(tmp_path / "heterogeneity.tsv", sep="\t")
    diff = het[het["metric"] == "core_minus_margin_percent_positive"]["value"].iloc[0]
    assert diff == pytest.approx(200 / 3 - 50)


def test_scripted_export_says_coordinates_are_needed(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = _run(["pathology", "biomarker", str(data / "scripted.tsv"), "--marker", MARKER,
                 "--out", str(tmp_path), "--thresholds", "0.2", "--cutpoint", "50"])  # fmt: skip
    assert code == 0
    assert "need coordinates" in capsys.readouterr().out
    assert (tmp_path / "regions.tsv").exists() and not (tmp_path / "tiles.tsv").exists()
