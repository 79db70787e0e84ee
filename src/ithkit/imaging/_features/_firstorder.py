"""IBSI-1 local intensity, intensity statistics, intensity histogram, intensity-volume histogram."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Feat = tuple[str, str, float]  # (name, IBSI code, value)


def local_intensity(
    image: NDArray[np.float64], roi: NDArray[np.bool_], spacing: tuple[float, float, float]
) -> list[Feat]:
    """Local and global intensity peak (mean intensity in a 1 cm^3 sphere, IBSI 3.2).

    The sphere (radius 6.2 mm) is centred on a voxel; every image voxel whose centre lies in it
    counts, inside the ROI or not.
    """
    from scipy.signal import fftconvolve

    radius = (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0
    half = [int(np.floor(radius / s)) for s in spacing]
    grids = np.meshgrid(
        *[np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)], indexing="ij"
    )
    kernel = (sum(g**2 for g in grids) <= radius**2).astype(float)
    total = fftconvolve(image.astype(float), kernel, mode="same")
    count = np.rint(fftconvolve(np.ones_like(image, dtype=float), kernel, mode="same"))
    mean = total / count
    vals = image[roi]
    top = roi & (image == vals.max())
    return [
        ("local_intensity_peak", "VJGA", float(mean[top].max())),
        ("global_intensity_peak", "0F91", float(mean[roi].max())),
    ]


def _stats(x: NDArray[np.float64], prefix: str, codes: dict[str, str]) -> list[Feat]:
    mu = x.mean()
    dev = x - mu
    var = float(np.mean(dev**2))
    sd = np.sqrt(var)
    p10, p25, med, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    inner = x[(x >= p10) & (x <= p90)]
    out = {
        "mean": mu,
        "variance": var,
        "skewness": np.mean(dev**3) / sd**3 if sd > 0 else 0.0,
        "kurtosis": np.mean(dev**4) / var**2 - 3.0 if var > 0 else 0.0,
        "median": med,
        "minimum": x.min(),
        "10th_percentile": p10,
        "90th_percentile": p90,
        "maximum": x.max(),
        "interquartile_range": p75 - p25,
        "range": x.max() - x.min(),
        "mean_absolute_deviation": np.mean(np.abs(dev)),
        "robust_mean_absolute_deviation": np.mean(np.abs(inner - inner.mean())),
        "median_absolute_deviation": np.mean(np.abs(x - med)),
        "coefficient_of_variation": sd / mu if mu != 0 else np.nan,
        "quartile_coefficient_of_dispersion": (p75 - p25) / (p75 + p25) if p75 + p25 else np.nan,
        "energy": np.sum(x**2),
        "root_mean_square": np.sqrt(np.mean(x**2)),
    }
    return [(f"{prefix}{k}", codes[k], float(v)) for k, v in out.items() if k in codes]


_STAT_CODES = {
    "mean": "Q4LE", "variance": "ECT3", "skewness": "KE2A", "kurtosis": "IPH6",
    "median": "Y12H", "minimum": "1GSF", "10th_percentile": "QG58", "90th_percentile": "8DWT",
    "maximum": "84IY", "interquartile_range": "SALO", "range": "2OJQ",
    "mean_absolute_deviation": "4FUA", "robust_mean_absolute_deviation": "1128",
    "median_absolute_deviation": "N72L", "coefficient_of_variation": "7TET",
    "quartile_coefficient_of_dispersion": "9S40", "energy": "N8CA", "root_mean_square": "5ZWQ",
}  # fmt: skip

_IH_CODES = {
    "mean": "X6K6", "variance": "CH89", "skewness": "88K1", "kurtosis": "C3I7",
    "median": "WIFQ", "minimum": "1PR8", "10th_percentile": "GPMT", "90th_percentile": "OZ0C",
    "maximum": "3NCY", "interquartile_range": "WR0O", "range": "5Z3W",
    "mean_absolute_deviation": "D2ZX", "robust_mean_absolute_deviation": "WRZB",
    "median_absolute_deviation": "4RNL", "coefficient_of_variation": "CWYJ",
    "quartile_coefficient_of_dispersion": "SLWD",
}  # fmt: skip


def intensity_statistics(values: NDArray[np.float64]) -> list[Feat]:
    """IBSI 3.3 intensity statistics of the ROI intensities (kurtosis is *excess* kurtosis)."""
    return _stats(values.astype(float), "", _STAT_CODES)


def intensity_histogram(levels: NDArray[np.int64], n_levels: int) -> list[Feat]:
    """IBSI 3.4 intensity-histogram features of discretised levels ``1..n_levels``."""
    x = levels.astype(float)
    feats = _stats(x, "", _IH_CODES)
    counts = np.bincount(levels, minlength=n_levels + 1)[1:].astype(float)
    p = counts / counts.sum()
    nz = p[p > 0]
    grad = np.gradient(counts) if n_levels > 1 else np.zeros(1)
    feats += [
        ("mode", "AMMC", float(np.argmax(counts) + 1)),
        ("entropy", "TLU2", float(-np.sum(nz * np.log2(nz)))),
        ("uniformity", "BJ5W", float(np.sum(p**2))),
        ("maximum_histogram_gradient", "12CE", float(grad.max())),
        ("maximum_histogram_gradient_grey_level", "8E6O", float(np.argmax(grad) + 1)),
        ("minimum_histogram_gradient", "VQB3", float(grad.min())),
        ("minimum_histogram_gradient_grey_level", "RHQZ", float(np.argmin(grad) + 1)),
    ]
    return feats


def intensity_volume_histogram(
    values: NDArray[Any], *, low: float | None = None, high: float | None = None
) -> list[Feat]:
    """IBSI 3.5 intensity-volume histogram on discrete intensities ``values`` (unit steps).

    ``low``/``high`` are the intensity range (the re-segmentation range when one was set),
    else the ROI minimum and maximum. The area under the IVH curve is not computed (IBSI gives
    no reference value for it).
    """
    x = np.sort(values.astype(float))
    lo = float(x[0]) if low is None else float(low)
    hi = float(x[-1]) if high is None else float(high)
    grey = np.arange(np.floor(lo), np.floor(hi) + 1.0)  # every level of the range, unit step
    n = x.size
    # volume fraction of voxels with intensity >= each grey level
    frac = 1.0 - np.searchsorted(x, grey, side="left") / n

    def v_at(f: float) -> float:
        above = x >= lo + f * (hi - lo)
        return float(above.mean())

    def i_at(f: float) -> float:
        ok = grey[frac <= f]
        return float(ok.min()) if ok.size else float(hi + 1)

    v10, v90, i10, i90 = v_at(0.1), v_at(0.9), i_at(0.1), i_at(0.9)
    return [
        ("volume_at_intensity_fraction_10", "BC2M", v10),
        ("volume_at_intensity_fraction_90", "BC2M", v90),
        ("intensity_at_volume_fraction_10", "GBPN", i10),
        ("intensity_at_volume_fraction_90", "GBPN", i90),
        ("volume_fraction_difference_10_90", "DDTU", v10 - v90),
        ("intensity_fraction_difference_10_90", "CNV2", i10 - i90),
    ]
