"""The imaging patient analysis (ithkit run) and its report section."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit.imaging import synthetic_cohort
from ithkit.integrate._analyses import spec
from ithkit.integrate._analyses.imaging import analyze
from ithkit.integrate._types import PatientData, PatientResults
from ithkit.io import read_image_manifest
from ithkit.report import render_html


def test_registered_and_skipped_without_images() -> None:
    assert spec("imaging").needs == ("images",)
    assert not spec("imaging").applies(PatientData("P"))


def test_patient_with_images(tmp_path: Path) -> None:
    synthetic_cohort(
        tmp_path / "img", n_patients=1, lesions_per_patient=4, shape=(18, 18, 18), seed=5
    )
    manifest = read_image_manifest(tmp_path / "img" / "images.csv")
    # a second timepoint of the first lesion (same files) gives a volume-over-time line
    later = manifest.iloc[[0]].assign(timepoint=1)
    images = pd.concat([manifest, later], ignore_index=True)
    res = analyze(PatientData("P01", images=images), PatientResults(), tmp_path / "out", seed=0)
    assert set(res.tables) == {
        _names.IMAGING_FEATURES, _names.IMAGING_VOLUMES, _names.IMAGING_HABITATS,
        _names.IMAGING_PHENOTYPES, _names.IMAGING_DELTAS,
    }  # fmt: skip
    # the repeated scan (same files) changes nothing: every delta of that lesion is 0
    deltas = res.tables[_names.IMAGING_DELTAS]
    assert set(deltas["lesion_id"]) == {str(manifest.loc[0, "lesion_id"])}
    assert (deltas.loc[deltas["timepoint"] == 1, "delta"].abs() < 1e-9).all()
    vol = res.tables[_names.IMAGING_VOLUMES]
    assert len(vol) == 5 and (vol["volume_ml"] > 0.1).all()
    assert (tmp_path / "out" / "imaging" / "features.config.yaml").exists()
    html = render_html(res.sections, title="P01")
    assert "Imaging heterogeneity" in html and html.count("<svg") >= 6
    assert "feature trajectories" in html
