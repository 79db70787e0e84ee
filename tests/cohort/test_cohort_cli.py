"""The cohort commands end to end: files written, bad input -> one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit.cli import main

pytest.importorskip("lifelines")


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def _tables(folder: Path, n: int = 50) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    t = rng.exponential(500 * np.exp(-0.8 * x))
    c = rng.uniform(200, 1500, size=n)
    ids = [f"P{i}" for i in range(n)]
    clinical = folder / "clinical.tsv"
    pd.DataFrame(
        {
            "patient_id": ids,
            "os_days": np.minimum(t, c).round(),
            "os_event": (t <= c).astype(int),
            "age": rng.integers(40, 80, n),
        }
    ).to_csv(clinical, sep="\t", index=False)
    features = folder / "features.tsv"
    pd.DataFrame({"patient_id": ids, "ith": x, "mutated": rng.integers(0, 2, n)}).to_csv(
        features, sep="\t", index=False
    )
    return clinical, features


def test_cohort_survival_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    clinical, features = _tables(tmp_path)
    code = _run(
        [
            "cohort",
            "survival",
            "--clinical",
            str(clinical),
            "--features",
            str(features),
            "--time",
            "os_days",
            "--event",
            "os_event",
            "--covariates",
            "age",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    out = tmp_path / "out"
    for name in ("cox.tsv", "logrank.tsv", "km.tsv", "km_at_risk.tsv", "ph.tsv", "report.html"):
        assert (out / name).exists(), name
    page = (out / "report.html").read_text()
    assert "<script" not in page and page.count("<svg") >= 3  # forest + two KM plots
    assert "at risk" in page
    assert "ith\tHR" in capsys.readouterr().out


def test_cohort_survival_cli_bad_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clinical, features = _tables(tmp_path, 10)
    text = clinical.read_text().splitlines()
    fields = text[2].split("\t")
    fields[2] = "dead?"
    text[2] = "\t".join(fields)
    clinical.write_text("\n".join(text) + "\n")
    code = _run(
        [
            "cohort",
            "survival",
            "--clinical",
            str(clinical),
            "--features",
            str(features),
            "--time",
            "os_days",
            "--event",
            "os_event",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "line 3, column os_event: event code 'dead?' is not 0 or 1" in err
    assert len(err.splitlines()) == 1


def test_cohort_predict_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from ithkit.cohort import draw_outcomes

    z = np.random.default_rng(0).normal(size=90)
    clinical, _ = draw_outcomes(z, seed=2, n_sites=3)
    clinical.to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    pd.DataFrame({"patient_id": clinical["patient_id"], "ith": z}).to_csv(
        tmp_path / "features.tsv", sep="\t", index=False
    )
    code = _run(
        [
            "cohort",
            "predict",
            "--clinical",
            str(tmp_path / "clinical.tsv"),
            "--features",
            str(tmp_path / "features.tsv"),
            "--outcome",
            "response",
            "--group",
            "site",
            "--folds",
            "3",
            "--bootstrap",
            "20",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "held_out_group\tauc" in out and "nested_cv\tbrier" in out
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Model card" in page and "<script" not in page and page.count("<svg") == 2


def test_demo_cohort_cli(tmp_path: Path) -> None:
    code = _run(
        ["demo", "--cohort", "4", "--sites", "2", "--seed", "3", "--out", str(tmp_path / "vc")]
    )
    assert code == 0
    clinical = pd.read_csv(tmp_path / "vc" / "clinical.tsv", sep="\t")
    assert list(clinical.columns) == [
        "patient_id",
        "site",
        "age",
        "stage",
        "os_days",
        "os_event",
        "pfs_days",
        "pfs_event",
        "response",
    ]
    assert set(clinical["site"]) == {"S1", "S2"}
    listing = pd.read_csv(tmp_path / "vc" / "manifests.csv")
    assert all((tmp_path / "vc" / m).exists() for m in listing["manifest"])
