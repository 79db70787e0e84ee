"""`ithkit evolve SCENARIO.yaml` and `ithkit evolve compare`: the files of the issue's interface."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.evolution._scenario import EXAMPLE


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(EXAMPLE)
    return path


def test_evolve_writes_trajectory_and_summary(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run(["evolve", str(scenario), "--out", str(out)]) == 0
    traj = pd.read_csv(out / "trajectory.tsv", sep="\t")
    assert list(traj.columns) == ["time_days", "S", "R", "biomarker", "therapy"]
    assert set(traj["therapy"]) == {"A", "none"}
    summary = json.loads((out / "summary.json").read_text())
    for key in ("time_to_progression_days", "cumulative_dose", "n_switches", "extinct"):
        assert key in summary
    assert summary["n_switches"] == (traj["therapy"] != traj["therapy"].shift()).sum() - 1


def test_evolve_stochastic_replicates(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "sto"
    args = ["evolve", str(scenario), "--out", str(out), "--replicates", "3", "--seed", "2",
            "--engine", "stochastic"]  # fmt: skip
    assert _run(args) == 0
    reps = pd.read_csv(out / "replicates.tsv", sep="\t")
    assert len(reps) == 3 and json.loads((out / "summary.json").read_text())["replicates"] == 3


def test_evolve_compare(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["evolve", "compare", str(scenario), "--policies", "continuous,adaptive",
            "--out", str(out)]  # fmt: skip
    assert _run(args) == 0
    table = pd.read_csv(out / "comparison.tsv", sep="\t")
    assert list(table["policy"]) == ["continuous", "adaptive"]
    assert (out / "adaptive" / "trajectory.tsv").is_file()


def test_bad_scenario_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.replace("growth_rate: 0.03", "growth_rate: -0.03"))
    assert _run(["evolve", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "populations.S.growth_rate: -0.03 is out of range" in err
