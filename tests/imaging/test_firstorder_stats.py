"""Intensity statistics: one sort for all order statistics, products instead of powers."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging._features._firstorder import _percentiles, intensity_statistics


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_equal_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 50, int(rng.integers(1, 500)))
    if seed % 2:
        x = np.round(x / 10)  # many ties
    q = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 100.0, *rng.uniform(0, 100, 5))
    assert _percentiles(np.sort(x), q) == [float(v) for v in np.percentile(x, q)]


def test_statistics_equal_textbook_definitions() -> None:
    x = np.random.default_rng(1).gamma(2.0, 10.0, 2001)
    f = {name: v for name, _, v in intensity_statistics(x)}
    dev = x - x.mean()
    p10, p90, med = np.percentile(x, [10, 90, 50])
    inner = x[(x >= p10) & (x <= p90)]
    ref = {
        "skewness": np.mean(dev**3) / np.mean(dev**2) ** 1.5,
        "kurtosis": np.mean(dev**4) / np.mean(dev**2) ** 2 - 3,
        "robust_mean_absolute_deviation": np.mean(np.abs(inner - inner.mean())),
        "median_absolute_deviation": np.mean(np.abs(x - med)),
        "median": med,
    }
    for name, value in ref.items():
        assert f[name] == pytest.approx(value, rel=1e-12), name
