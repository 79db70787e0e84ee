"""roi_features(families=...) computes only those families, with the same values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ithkit.imaging import FeatureConfig, roi_features
from ithkit.imaging._features import FAMILIES


@pytest.fixture(scope="module")
def case() -> tuple[np.ndarray, np.ndarray, FeatureConfig, pd.DataFrame]:
    rng = np.random.default_rng(3)
    image = np.round(rng.normal(40.0, 30.0, (12, 14, 16)))
    mask = np.zeros(image.shape, dtype=bool)
    mask[2:10, 3:12, 4:14] = rng.random((8, 9, 10)) < 0.8
    cfg = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 25})
    return image, mask, cfg, roi_features(image, mask, (2.0, 1.0, 1.0), config=cfg)


@pytest.mark.parametrize("families", [(f,) for f in FAMILIES] + [("glcm", "ngldm", "glszm")])
def test_subset_equals_full_table(case: tuple, families: tuple[str, ...]) -> None:
    image, mask, cfg, full = case
    sub = roi_features(image, mask, (2.0, 1.0, 1.0), config=cfg, families=families)
    assert set(sub["family"]) == set(families)
    ref = full[full["family"].isin(families)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub.reset_index(drop=True), ref)


def test_feature_subset_equals_full_table(case: tuple) -> None:
    # morphology without Moran's I / Geary's C, OMBB and MVEE (skipped, not computed)
    image, mask, cfg, full = case
    names = ["volume", "sphericity", "maximum_3d_diameter", "flatness", "mean", "contrast"]
    sub = roi_features(image, mask, (2.0, 1.0, 1.0), config=cfg, features=names)
    ref = full[full["feature"].isin(names)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub.reset_index(drop=True), ref)
    assert set(sub["feature"]) == set(names)


def test_extract_features_passes_families_and_features(case: tuple) -> None:
    from ithkit.imaging import Volume, extract_features

    image, mask, cfg, full = case
    img = Volume(image, (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    msk = Volume(mask.astype(np.uint8), img.spacing, img.origin, img.direction)
    sub = extract_features(img, msk, config=cfg, families=("morphology",), features=["volume"])
    assert sub["feature"].tolist() == ["volume"]
    ref = full.loc[full["feature"] == "volume", "value"].iloc[0]
    assert sub["value"].iloc[0] == pytest.approx(ref)
