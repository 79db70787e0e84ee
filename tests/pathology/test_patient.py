"""`ithkit run` with a `pathology:` manifest key: adapter, store tables, report, profile."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError, _names
from ithkit.integrate._analyses.pathology import settings
from ithkit.pathology import simulate_detections

MANIFEST = """patient_id: PATH-1
pathology:
  detections: sim/detections.tsv
  marker: "Nucleus: DAB OD mean"
  thresholds: [0.2, 0.4, 0.6]
  tumour_class: Tumor
  cutpoint: 10
  cutpoint_metric: percent_3plus
  hotspot_min_cells: 100
"""


def test_run_patient_with_pathology(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from ithkit.integrate import run_patient

    sim = simulate_detections(8000, seed=2)
    sim.write(tmp_path / "sim")
    (tmp_path / "patient.yaml").write_text(MANIFEST)
    run = run_patient(tmp_path / "patient.yaml", tmp_path / "out")
    assert _names.PATHOLOGY_REGIONS in run.tables
    profile = pd.read_csv(tmp_path / "out" / _names.PROFILE_TSV, sep="\t")
    path = profile[profile["modality"] == "pathology"].set_index("score")
    truth = sim.truth.set_index("region")
    assert float(path.loc["percent_positive", "value"]) == pytest.approx(
        truth.loc["ALL", "percent_positive"]
    )
    assert float(path.loc["regions_below_cutpoint_fraction", "value"]) == 0.5
    assert 0.2 < float(path.loc["single_core_discordance", "value"]) < 0.7
    assert float(path.loc["hscore_cv", "value"]) > 0.3
    report = (tmp_path / "out" / _names.REPORT_HTML).read_text()
    assert "Digital pathology" in report and "The biopsy question" in report
    assert (tmp_path / "out" / "pathology" / "regions.tsv").exists()


def test_manifest_settings_are_checked() -> None:
    with pytest.raises(InputError, match="unknown pathology setting 'markr'"):
        settings({"detections": Path("c.tsv"), "markr": "x"})
    with pytest.raises(InputError, match="must be a number"):
        settings({"detections": Path("c.tsv"), "cutpoint": "high"})
    with pytest.raises(InputError, match="not increasing"):
        settings({"detections": Path("c.tsv"), "thresholds": [0.6, 0.2, 0.4]})
    assert settings(Path("c.tsv")) == {"detections": Path("c.tsv")}


def test_virtual_patient_detections_follow_the_clone() -> None:
    from ithkit.evolution import virtual_patient
    from ithkit.pathology import biomarker_scores, read_detections

    vp = virtual_patient(seed=5, n_regions=3, n_mutations=60)
    sim = vp.detections(6000)
    ccf = vp.clone_ccf[vp.clone_ccf["clone_id"] == vp.resistant_clone].set_index("sample_id")
    scores = biomarker_scores(read_detections(sim.table, sim.marker), thresholds=sim.thresholds,
                              tumour_class="Tumor").regions.set_index("region")  # fmt: skip
    for s in vp.sample_ids:
        # planted: 3+ cells are the resistant clone's cells (binomial noise of ~1800 cells)
        assert scores.loc[f"region {s}", "percent_3plus"] == pytest.approx(
            100 * ccf.loc[s, "ccf"], abs=4
        )
