"""Intensity-volume histogram (IBSI 3.5): discretisation options and hand-computed values.

The CT-phantom configurations C (IVH: fixed bin size 2.5 HU) and E (IVH: 1000 bins) are checked
against IBSI's reference values by ``benchmarks/ibsi_ct.py``; here small examples are worked by
hand from the IBSI definitions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ithkit import InputError
from ithkit.imaging import FeatureConfig, roi_features


def ivh(values: list[float], **cfg: Any) -> dict[str, float]:
    img = np.asarray(values, dtype=float).reshape(1, 1, -1)
    t = roi_features(
        img,
        np.ones(img.shape, bool),
        (1.0, 1.0, 1.0),
        config=FeatureConfig.from_dict(cfg),
        families=("intensity_volume_histogram",),
    )
    return dict(zip(t["feature"], t["value"].astype(float), strict=True))


def test_fixed_bin_size_uses_bin_centres() -> None:
    # X_min = 0 (re-segmentation), w = 2.5: centres 1.25, 1.25, 3.75, 3.75, 6.25, 8.75;
    # G = [0 + 1.25, 10 - 1.25]; gamma = 0, 1/3, 2/3, 1 at 1.25, 3.75, 6.25, 8.75;
    # nu = 1, 4/6, 2/6, 1/6
    f = ivh(
        [0.5, 1, 3, 4, 6, 9],
        resegment_range=[0, 10],
        discretisation={"method": "fixed_bin_number", "value": 4},
        ivh_discretisation={"method": "fixed_bin_size", "value": 2.5},
    )
    assert f["volume_at_intensity_fraction_10"] == pytest.approx(4 / 6)
    assert f["volume_at_intensity_fraction_90"] == pytest.approx(1 / 6)
    assert f["intensity_at_volume_fraction_90"] == pytest.approx(3.75)
    # no intensity holds <= 10 % of the volume: the next bin centre after the last
    assert f["intensity_at_volume_fraction_10"] == pytest.approx(11.25)
    assert f["intensity_fraction_difference_10_90"] == pytest.approx(7.5)
    auc = (1 / 3) * ((1 + 4 / 6) / 2 + (4 / 6 + 2 / 6) / 2 + (2 / 6 + 1 / 6) / 2)
    assert f["area_under_ivh_curve"] == pytest.approx(auc)  # 19/36


def test_fixed_bin_size_without_resegmentation_starts_at_roi_minimum() -> None:
    # X_min = 2 (ROI minimum), X_max = 12, w = 5: centres 4.5, 4.5, 9.5, 14.5; G = [4.5, 9.5]
    f = ivh([2, 6, 8, 12], ivh_discretisation={"method": "fixed_bin_size", "value": 5})
    assert f["volume_at_intensity_fraction_10"] == pytest.approx(0.5)  # gamma(9.5) = 1
    assert f["volume_at_intensity_fraction_90"] == pytest.approx(0.5)
    assert f["intensity_at_volume_fraction_90"] == pytest.approx(9.5)
    assert f["intensity_at_volume_fraction_10"] == pytest.approx(19.5)  # 14.5 holds 25 %


def test_fixed_bin_number_ignores_resegmentation_range() -> None:
    # 4 bins over the ROI range [0, 10]: 1, 1, 3, 4, 4 (the maximum goes to the last bin);
    # G = [1, 4]; nu = 1, 3/5, 3/5, 2/5 at 1..4
    f = ivh(
        [0, 2, 5, 10, 10],
        resegment_range=[-100, 100],
        ivh_discretisation={"method": "fixed_bin_number", "value": 4},
    )
    assert f["volume_at_intensity_fraction_10"] == pytest.approx(3 / 5)
    assert f["volume_at_intensity_fraction_90"] == pytest.approx(2 / 5)
    assert f["intensity_at_volume_fraction_90"] == 2
    assert f["intensity_at_volume_fraction_10"] == 5
    auc = (1 / 3) * ((1 + 3 / 5) / 2 + 3 / 5 + (3 / 5 + 2 / 5) / 2)
    assert f["area_under_ivh_curve"] == pytest.approx(auc)


def test_none_uses_resegmentation_range_as_total_range() -> None:
    # G = [0, 10] in unit steps although the ROI spans 2..4: nu = 1 up to 2, then 2/3, 1/3, 0
    f = ivh([2, 3, 4], resegment_range=[0, 10], ivh_discretisation="none")
    assert f["volume_at_intensity_fraction_10"] == pytest.approx(1.0)  # gamma(1) = 0.1
    assert f["volume_at_intensity_fraction_90"] == 0.0  # nothing at >= 9
    assert f["intensity_at_volume_fraction_10"] == 5
    assert f["intensity_at_volume_fraction_90"] == 3
    nu = np.array([1, 1, 1, 2 / 3, 1 / 3, 0, 0, 0, 0, 0, 0])
    assert f["area_under_ivh_curve"] == pytest.approx(np.trapezoid(nu, np.linspace(0, 1, 11)))
    # a half-open range ends at the ROI maximum (IBSI): G = [0, 4]
    g = ivh([2, 3, 4], resegment_range=[0, None], ivh_discretisation="none")
    assert g["volume_at_intensity_fraction_90"] == pytest.approx(1 / 3)  # gamma(4) = 1


def test_texture_reuses_the_texture_discretisation() -> None:
    vals = [-40.0, -3, 7, 18, 30, 55, 81]
    disc = {"method": "fixed_bin_size", "value": 25}
    a = ivh(vals, resegment_range=[-50, 100], discretisation=disc)
    b = ivh(vals, resegment_range=[-50, 100], discretisation=disc, ivh_discretisation=disc)
    assert a == b
    assert a["intensity_at_volume_fraction_90"] == pytest.approx(-12.5)  # centre of [-25, 0)


def test_single_intensity() -> None:
    f = ivh([7, 7, 7], ivh_discretisation="none")
    assert f["volume_at_intensity_fraction_10"] == 1.0
    assert f["area_under_ivh_curve"] == 0.0
    assert f["intensity_at_volume_fraction_10"] == 8


@pytest.mark.parametrize(
    "value",
    [
        "fixed_bin_size",  # needs a value
        "bins",
        5,
        {"method": "fixed_bin_size"},
        {"method": "fixed_bin_size", "value": 0},
        {"method": "fixed_bin_size", "value": -2.5},
        {"method": "fixed_bin_size", "value": "2.5"},
        {"method": "fixed_bin_number", "value": 2.5},
        {"method": "fixed_bin_number", "value": 0},
        {"method": "fixed_bin_number", "value": True},
        {"method": "none", "value": 3},
        {"method": "fixed_bin_size", "width": 2.5},
        {"method": "equal_probability", "value": 10},
    ],
)
def test_bad_ivh_discretisation_is_input_error(value: Any) -> None:
    with pytest.raises(InputError, match="ivh_discretisation"):
        FeatureConfig.from_dict({"ivh_discretisation": value})


def test_ivh_config_forms_and_yaml(tmp_path: Path) -> None:
    assert FeatureConfig.from_dict({"ivh_discretisation": {"method": "none"}}) == (
        FeatureConfig.from_dict({"ivh_discretisation": "none"})
    )
    assert FeatureConfig.from_dict({}).ivh_settings() == ("fixed_bin_number", 32.0)
    (tmp_path / "c.yaml").write_text(
        "resegment_range: [-1000, 400]\n"
        "discretisation: {method: fixed_bin_size, value: 25}\n"
        "ivh_discretisation: {method: fixed_bin_size, value: 2.5}\n"
    )
    cfg = FeatureConfig.from_yaml(tmp_path / "c.yaml")
    assert cfg.ivh_settings() == ("fixed_bin_size", 2.5)
    cfg.write_yaml(tmp_path / "back.yaml")
    assert FeatureConfig.from_yaml(tmp_path / "back.yaml") == cfg
    e = FeatureConfig.from_dict(
        {"ivh_discretisation": {"method": "fixed_bin_number", "value": 1000}}
    )
    assert e.ivh_settings() == ("fixed_bin_number", 1000.0)
