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
