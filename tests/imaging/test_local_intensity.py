"""Local / global intensity peak (IBSI VJGA / 0F91) against a voxel-by-voxel sphere mean."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging._features._firstorder import local_intensity


def _direct(image: np.ndarray, roi: np.ndarray, spacing: tuple[float, ...]) -> tuple[float, float]:
    radius = (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0
    grid = np.indices(image.shape).reshape(3, -1).T * np.asarray(spacing)
    flat = image.ravel()
    means = {}
    for v in map(tuple, np.argwhere(roi)):
        inside = ((grid - np.asarray(v) * np.asarray(spacing)) ** 2).sum(axis=1) <= radius**2
        means[v] = flat[inside].mean()
    top = image[roi].max()
    local = max(m for v, m in means.items() if image[v] == top)
    return float(local), float(max(means.values()))


@pytest.mark.parametrize("seed", range(6))
def test_peaks_equal_direct_sphere_means(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(3, 18, 3))
    image = np.round(rng.normal(0.0, 20.0, shape))
    roi = rng.random(shape) < 0.2
    if seed % 2:  # ROI away from the border: no sphere is cut by it
        roi[:4], roi[-4:], roi[:, :4], roi[:, -4:], roi[:, :, :4], roi[:, :, -4:] = (False,) * 6
    roi.flat[image.size // 2] = True
    spacing = (2.0, 1.0, 1.0) if seed % 2 else tuple(float(s) for s in rng.uniform(0.7, 3.0, 3))
    ours = [v for _, _, v in local_intensity(image, roi, spacing)]
    assert ours == pytest.approx(_direct(image, roi, spacing), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_sphere_counts_equal_brute_force(seed: int) -> None:
    # image voxels in each ROI voxel's sphere, the image border cutting it (thin images too)
    from ithkit.imaging._features._firstorder import _sphere_counts

    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 16, 3))
    spacing = np.array([float(s) for s in rng.uniform(0.6, 3.0, 3)])
    radius = (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0
    half = [int(np.floor(radius / s)) for s in spacing]
    grids = np.meshgrid(
        *[np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)], indexing="ij"
    )
    kernel = sum(g**2 for g in grids) <= radius**2
    width = np.where(kernel.any(axis=2), kernel.sum(axis=2) // 2, -1).astype(np.int64)
    idx = np.argwhere(rng.random(shape) < 0.5)
    got = _sphere_counts(idx, np.asarray(shape, dtype=np.int64), width)
    pos = np.indices(shape).reshape(3, -1).T * spacing
    want = [(((pos - v * spacing) ** 2).sum(axis=1) <= radius**2).sum() for v in idx]
    np.testing.assert_array_equal(got, want)
