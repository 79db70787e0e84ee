"""Moran's I / Geary's C (IBSI N365 / NPT7): the FFT evaluation equals the all-pairs sums."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging._features._morph import _moran_geary


def _all_pairs(
    image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float, float]
) -> tuple[float, float]:
    # IBSI's definitions, pair by pair (inverse Euclidean distance in mm, i != j)
    c = np.argwhere(mask) * np.asarray(spacing)
    x = image[mask].astype(float)
    n, dev = x.size, x - x.mean()
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    w = 1.0 / d
    moran = n / w.sum() * (dev @ w @ dev) / (dev @ dev)
    geary = (n - 1) / (2 * w.sum()) * (w * (x[:, None] - x[None, :]) ** 2).sum() / (dev @ dev)
    return float(moran), float(geary)


@pytest.mark.parametrize("seed", range(12))
def test_fft_equals_all_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 15, 3))
    image = rng.normal(40, 20, shape) + seed % 3 * 5.0 * np.arange(shape[2])  # some trend
    mask = rng.random(shape) < rng.uniform(0.2, 1.0)
    mask.flat[:2] = True
    spacing = tuple(float(s) for s in rng.uniform(0.5, 3.0, 3))
    ours = _moran_geary(image, mask, spacing)
    ref = _all_pairs(image, mask, spacing)
    assert ours == pytest.approx(ref, rel=1e-10)


def test_large_roi_is_exact_too() -> None:
    # no voxel subset or distance cut-off above any size: a 3,000-voxel ROI in a 40^3 box
    rng = np.random.default_rng(7)
    mask = np.zeros((40, 40, 40), dtype=bool)
    mask[rng.integers(0, 40, 3000), rng.integers(0, 40, 3000), rng.integers(0, 40, 3000)] = True
    image = rng.normal(0.0, 1.0, mask.shape) + np.arange(40)[:, None, None] / 10
    spacing = (2.0, 0.8, 0.8)
    assert _moran_geary(image, mask, spacing) == pytest.approx(
        _all_pairs(image, mask, spacing), rel=1e-10
    )


def test_constant_roi_is_nan() -> None:
    out = _moran_geary(np.ones((3, 3, 3)), np.ones((3, 3, 3), dtype=bool), (1.0, 1.0, 1.0))
    assert np.isnan(out).all()
