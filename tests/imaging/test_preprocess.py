"""IBSI preprocessing config, discretisation, re-segmentation and resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ithkit import InputError
from ithkit.imaging import (
    FeatureConfig,
    Volume,
    discretise,
    extract_features,
    resample,
    roi_features,
)
from ithkit.imaging._preprocess import intensity_mask

ID = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"resample_mm": [1, 0, 1]}, "resample_mm"),
        ({"interpolation": "cubic"}, "interpolation"),
        ({"resegment_range": [100, -100]}, "resegment_range"),
        ({"discretisation": {"method": "fixed_bin_count", "value": 4}}, "discretisation"),
        ({"discretisation": {"method": "fixed_bin_size", "value": 0}}, "value"),
        ({"aggregation": ["3d", "4d"]}, "aggregation"),
        ({"bins": 3}, "unknown key"),
    ],
)
def test_bad_config_is_input_error(data: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        FeatureConfig.from_dict(data)


def test_yaml_roundtrip(tmp_path: Path) -> None:
    text = (
        "resample_mm: [1, 1, 1]\ninterpolation: bspline\nresegment_range: [-100, 200]\n"
        "outlier_sigma: 3\ndiscretisation: {method: fixed_bin_size, value: 25}\n"
        "aggregation: [none, 3d_merged, 3d]\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    cfg = FeatureConfig.from_yaml(tmp_path / "c.yaml")
    cfg.write_yaml(tmp_path / "back.yaml")
    again = FeatureConfig.from_yaml(tmp_path / "back.yaml")
    assert again == cfg
    assert again.aggregations == ("none", "3d_merged", "3d")


def test_fixed_bin_size_starts_at_resegment_low() -> None:
    # IBSI 2.7: X_d = floor((X - X_low) / w) + 1
    img = np.array([[[-100.0, -76.0, -75.0, 0.0, 24.0]]])
    cfg = FeatureConfig(
        resegment_range=(-100.0, 200.0), discretisation={"method": "fixed_bin_size", "value": 25}
    )
    q, ng = discretise(img, np.ones(img.shape, bool), cfg)
    assert q.ravel().tolist() == [1, 1, 2, 5, 5]
    assert ng == 5


def test_resegmentation_and_outliers() -> None:
    img = np.array([[[0.0, 10, 11, 12, 13, 9, 10, 11, 500]]])
    roi = np.ones(img.shape, bool)
    m = intensity_mask(img, roi, FeatureConfig(resegment_range=(5.0, 100.0)))
    assert m.sum() == 7
    m = intensity_mask(img, roi, FeatureConfig(outlier_sigma=2.0))
    assert not m[0, 0, -1] and m[0, 0, 1]


def test_resampling_keeps_centre_and_volume() -> None:
    z, y, x = np.indices((20, 30, 30))
    ball = ((z - 9.5) * 2) ** 2 + (y - 14.5) ** 2 + (x - 14.5) ** 2 <= 10**2
    geo = ((1.0, 1.0, 2.0), (0.0, 0.0, 0.0), ID)
    img = Volume(np.where(ball, 100.0, 0.0), *geo)
    msk = Volume(ball.astype(np.uint8), *geo)
    _, rm = resample(img, msk, (1.0, 1.0, 1.0), "linear")
    assert rm.array.shape == (40, 30, 30)
    assert rm.spacing == (1.0, 1.0, 1.0)
    vol = 4 / 3 * np.pi * 10**3
    assert abs(rm.array.sum() - vol) / vol < 0.05
    t = extract_features(img, msk, config=FeatureConfig(resample_mm=(1.0, 1.0, 1.0)))
    mesh = float(t.loc[t.feature == "volume", "value"].iloc[0])
    assert abs(mesh - vol) / vol < 0.05


def test_gldzm_distance_uses_the_morphological_mask() -> None:
    # IBSI 3.9: distances to the ROI edge come from the morphological mask, so voxels removed
    # by re-segmentation do not create new edges (this decides IBSI CT-phantom configs A/D/E)
    img = np.full((5, 5, 5), 10.0)
    img[2, 2, 2] = 50.0  # a one-voxel zone at the centre: 3 steps from the edge
    img[2, 2, 1] = 1000.0  # re-segmented away, next to the centre
    cfg = FeatureConfig(
        resegment_range=(0.0, 100.0),
        discretisation={"method": "fixed_bin_number", "value": 2},
        aggregation=("3d",),
    )
    t = roi_features(img, np.ones(img.shape, bool), (1.0, 1.0, 1.0), config=cfg,
                     families=("gldzm",))  # fmt: skip
    lde = float(t.loc[t["feature"] == "large_distance_emphasis", "value"].iloc[0])
    # zones: the shell (distance 1) and the centre (distance 3): LDE = (1 + 9) / 2
    assert lde == pytest.approx(5.0)
