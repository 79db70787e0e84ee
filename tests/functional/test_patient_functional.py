"""The manifest key ``functional:`` in a patient run: files, report section, profile scores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError
from ithkit.functional import write_example
from ithkit.integrate.patient import build_patient


@pytest.mark.requires_report
def test_patient_run_with_functional_data(tmp_path: Path) -> None:
    write_example(tmp_path, seed=3)
    manifest = tmp_path / "patient.yaml"
    manifest.write_text(
        "patient_id: F1\nfunctional:\n  responses: responses.tsv\n"
        "  derivatives: derivatives.tsv\n  exposure: {A: 3, B: 3}\n  bootstrap: 40\n"
        "  periods_days: [14]\n  horizon_days: 1000\n"
    )
    out = tmp_path / "out"
    build_patient(manifest, out, seed=0)
    profile = pd.read_csv(out / "profile.tsv", sep="\t")
    scores = profile[profile["modality"] == "functional"].set_index("score")["value"]
    assert int(float(scores["n_double_bind_pairs"])) == 1
    assert float(scores["best_policy_gain_days"]) > 0
    assert (out / "functional" / "design" / "policies.tsv").exists()
    html = (out / "report.html").read_text()
    assert "Functional heterogeneity" in html and "Recommended:" in html


def test_functional_manifest_needs_responses(tmp_path: Path) -> None:
    write_example(tmp_path)
    manifest = tmp_path / "patient.yaml"
    manifest.write_text("patient_id: F1\nfunctional:\n  derivatives: derivatives.tsv\n")
    with pytest.raises(InputError, match="responses"):
        build_patient(manifest, tmp_path / "out", seed=0)


@pytest.mark.requires_report
def test_ithkit_run_with_monitoring(tmp_path: Path) -> None:
    from ithkit.cli import main

    write_example(tmp_path, seed=3)
    manifest = tmp_path / "patient.yaml"
    manifest.write_text(
        "patient_id: F2\nfunctional:\n  responses: responses.tsv\n"
        "  derivatives: derivatives.tsv\n  exposure: {A: 3, B: 3}\n  bootstrap: 40\n"
        "  periods_days: [14]\n  horizon_days: 1000\n"
        "  monitor: {intervals: [7, 28], depths: [500, 5000]}\n"
    )
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["run", str(manifest), "--out", str(out)])
    assert done.value.code == 0
    table = pd.read_csv(out / "functional" / "monitoring" / "monitoring.tsv", sep="\t")
    assert sorted(zip(table["draw_interval_days"], table["depth"], strict=True)) == [
        (7, 500),
        (7, 5000),
        (28, 500),
        (28, 5000),
    ]
    html = (out / "report.html").read_text()
    assert "Monitoring the double bind" in html and "days between blood draws" in html


def test_functional_monitor_setting_is_checked(tmp_path: Path) -> None:
    write_example(tmp_path)
    manifest = tmp_path / "patient.yaml"
    manifest.write_text(
        "patient_id: F1\nfunctional:\n  responses: responses.tsv\n"
        "  derivatives: derivatives.tsv\n  monitor: {interval: [7]}\n"
    )
    with pytest.raises(InputError, match="monitor"):
        build_patient(manifest, tmp_path / "out", seed=0)
