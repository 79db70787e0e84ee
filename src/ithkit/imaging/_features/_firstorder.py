"""IBSI-1 local intensity, intensity statistics, intensity histogram, intensity-volume histogram."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

Feat = tuple[str, str, float]  # (name, IBSI code, value)


@numba.njit(cache=True, nogil=True)
def _sphere_counts(
    idx: NDArray[np.int64], shape: NDArray[np.int64], width: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Image voxels in the sphere around each voxel ``idx`` (n, 3): the sphere as rows along
    the last axis, ``width[i, j]`` the half-width of row (i, j) (-1: empty), each row clipped
    to the image."""
    h0, h1 = width.shape[0] // 2, width.shape[1] // 2
    h2 = 0
    for i in range(width.shape[0]):
        for j in range(width.shape[1]):
            h2 = max(h2, width[i, j])
    full = 0
    for i in range(width.shape[0]):
        for j in range(width.shape[1]):
            if width[i, j] >= 0:
                full += 2 * width[i, j] + 1
    out = np.empty(idx.shape[0])
    for v in range(idx.shape[0]):
        z, y, x = idx[v, 0], idx[v, 1], idx[v, 2]
        if h0 <= z < shape[0] - h0 and h1 <= y < shape[1] - h1 and h2 <= x < shape[2] - h2:
            out[v] = full  # the sphere lies inside the image
            continue
        c = 0
        for i in range(width.shape[0]):
            zz = z + i - h0
            if zz < 0 or zz >= shape[0]:
                continue
            for j in range(width.shape[1]):
                yy = y + j - h1
                w = width[i, j]
                if w < 0 or yy < 0 or yy >= shape[1]:
                    continue
                c += min(x + w, shape[2] - 1) - max(x - w, 0) + 1
        out[v] = c
    return out


def local_intensity(
    image: NDArray[np.float64], roi: NDArray[np.bool_], spacing: tuple[float, float, float]
) -> list[Feat]:
    """Local and global intensity peak (mean intensity in a 1 cm^3 sphere, IBSI 3.2).

    The sphere (radius 6.2 mm) is centred on a voxel; every image voxel whose centre lies in it
    counts, inside the ROI or not. The sphere sums come from one FFT convolution, on a grid
    only as large as the image plus the part of the sphere that leaves it around ROI voxels (the
    circular wrap then never reaches them); where the image border cuts the sphere around an ROI
    voxel, its voxel count is counted directly, row by row of the sphere. The global peak is the
    largest mean over ROI voxels, the local peak the largest mean over the ROI voxels of maximum
    intensity (IBSI).
    """
    from scipy import fft

    radius = (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0
    half = [int(np.floor(radius / s)) for s in spacing]
    grids = np.meshgrid(
        *[np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)], indexing="ij"
    )
    kernel = (sum(g**2 for g in grids) <= radius**2).astype(float)
    on = [np.flatnonzero(roi.any(axis=tuple(b for b in range(3) if b != a))) for a in range(3)]
    lo, hi = np.array([ix[0] for ix in on]), np.array([ix[-1] for ix in on])
    # zero padding at the far end only: output voxel p reads p - h .. p + h (mod size), which
    # stays clear of the data's wrap-around when size >= n + h - lo and size > hi + h
    size = []
    for n, h, a, b in zip(image.shape, half, lo, hi, strict=True):
        m = fft.next_fast_len(max(n, n + h - a, b + h + 1, 2 * h + 1))
        while m % 2:  # even, for the DCT below
            m = fft.next_fast_len(m + 1)
        size.append(m)
    # the sphere is even in every axis: its spectrum is real, the type-1 DCT of one octant
    octant = np.zeros([m // 2 + 1 for m in size])
    octant[tuple(slice(0, h + 1) for h in half)] = kernel[tuple(slice(h, None) for h in half)]
    kf = fft.dctn(octant, type=1, overwrite_x=True)
    kf = np.concatenate([kf, kf[:, -2:0:-1]], axis=1)  # full length on the first two axes
    kf = np.concatenate([kf, kf[-2:0:-1]], axis=0)
    total = fft.irfftn(fft.rfftn(image.astype(float), size) * kf, size)
    n0, n1, n2 = image.shape
    sums = total[:n0, :n1, :n2][roi]  # ROI voxels in array order
    if (lo < half).any() or (hi >= np.array(image.shape) - np.array(half)).any():
        # image voxels per sphere, counted row by row of the sphere where the border cuts it
        width = np.where(kernel.any(axis=2), kernel.sum(axis=2) // 2, -1).astype(np.int64)
        count = _sphere_counts(np.argwhere(roi), np.asarray(image.shape, dtype=np.int64), width)
        mean = sums / count
    else:  # every sphere lies inside the image
        mean = sums / kernel.sum()
    vals = image[roi]
    return [
        ("local_intensity_peak", "VJGA", float(mean[vals == vals.max()].max())),
        ("global_intensity_peak", "0F91", float(mean.max())),
    ]


def _percentiles(s: NDArray[np.float64], q: tuple[float, ...]) -> list[float]:
    """``np.percentile(s, q)`` (linear method, the same rounding) of an already sorted ``s``."""
    n = s.size
    out = []
    for p in q:
        virtual = (n - 1) * (p / 100)
        lo = int(np.floor(virtual))
        hi = min(lo + 1, n - 1)
        t = virtual - lo
        a, b = s[lo], s[hi]
        diff = b - a
        out.append(float(b - diff * (1 - t) if t >= 0.5 else a + diff * t))
    return out


def _stats(x: NDArray[np.float64], prefix: str, codes: dict[str, str]) -> list[Feat]:
    s = np.sort(x)  # one sort for every order statistic
    mu = x.mean()
    dev = x - mu
    dev2 = dev * dev  # products, not powers: dev**3 and dev**4 are ~100x slower
    var = float(np.mean(dev2))
    sd = np.sqrt(var)
    p10, p25, med, p75, p90 = _percentiles(s, (10, 25, 50, 75, 90))
    inner = s[np.searchsorted(s, p10, "left") : np.searchsorted(s, p90, "right")]
    out = {
        "mean": mu,
        "variance": var,
        "skewness": np.mean(dev2 * dev) / sd**3 if sd > 0 else 0.0,
        "kurtosis": np.mean(dev2 * dev2) / var**2 - 3.0 if var > 0 else 0.0,
        "median": med,
        "minimum": s[0],
        "10th_percentile": p10,
        "90th_percentile": p90,
        "maximum": s[-1],
        "interquartile_range": p75 - p25,
        "range": s[-1] - s[0],
        "mean_absolute_deviation": np.mean(np.abs(dev)),
        "robust_mean_absolute_deviation": np.mean(np.abs(inner - inner.mean())),
        "median_absolute_deviation": np.mean(np.abs(x - med)),
        "coefficient_of_variation": sd / mu if mu != 0 else np.nan,
        "quartile_coefficient_of_dispersion": (p75 - p25) / (p75 + p25) if p75 + p25 else np.nan,
        "energy": np.sum(x * x),
        "root_mean_square": np.sqrt(np.mean(x * x)),
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


def ivh_levels(
    values: NDArray[np.float64],
    method: str,
    value: float | None,
    resegment_range: tuple[float, float] | None,
) -> tuple[NDArray[np.int64], float, float, float, float]:
    """Discretise ROI intensities for the intensity-volume histogram (IBSI 3.5).

    Returns ``(index, start, step, g_min, g_max)``: the discretised intensity of voxel ``k``
    is ``start + index[k] * step`` (``index >= 0``) and ``[g_min, g_max]`` is IBSI's total
    range G.

    * ``none`` (calibrated discrete intensities, e.g. CT): intensities rounded to integers,
      step 1, G = the re-segmentation range (a missing or infinite bound: the ROI minimum or
      maximum).
    * ``fixed_bin_size`` ``w`` (calibrated continuous, e.g. PET): bins of width ``w`` from
      ``X_min`` (the lower re-segmentation bound, else the ROI minimum), replaced by their
      centres ``X_min + (X_d - 0.5) w``; step ``w``; G = [X_min + w/2, X_max - w/2] with
      ``X_max`` the upper re-segmentation bound, else the ROI maximum.
    * ``fixed_bin_number`` ``n`` (arbitrary units, e.g. MR): ``n`` bins over the ROI minimum to
      maximum, bin numbers 1..n kept as intensities; step 1, G = [1, n].

    Examples
    --------
    >>> idx, start, step, lo, hi = ivh_levels(np.array([-1000.0, -998.0, 0.0]),
    ...                                       "fixed_bin_size", 2.5, (-1000.0, 400.0))
    >>> (start + idx * step).tolist(), lo, hi
    ([-998.75, -998.75, 1.25], -998.75, 398.75)
    """
    x = np.asarray(values, dtype=float)
    rlo, rhi = resegment_range if resegment_range is not None else (-np.inf, np.inf)
    lo = float(rlo) if np.isfinite(rlo) else float(x.min())
    hi = float(rhi) if np.isfinite(rhi) else float(x.max())
    if method == "none":
        r = np.round(x)
        start = min(float(np.ceil(lo - 1e-9)), float(r.min()))
        return (r - start).astype(np.int64), start, 1.0, lo, hi
    if value is None:
        raise ValueError(f"IVH discretisation {method} needs a value")
    if method == "fixed_bin_size":
        w = float(value)
        idx = np.maximum(np.floor((x - lo) / w), 0).astype(np.int64)
        return idx, lo + 0.5 * w, w, lo + 0.5 * w, hi - 0.5 * w
    if method == "fixed_bin_number":
        n = int(value)
        xmin, xmax = float(x.min()), float(x.max())
        if xmax == xmin:
            idx = np.zeros(x.shape, dtype=np.int64)
        else:
            idx = np.minimum(np.floor(n * (x - xmin) / (xmax - xmin)), n - 1).astype(np.int64)
        return idx, 1.0, 1.0, 1.0, float(n)
    raise ValueError(f"unknown IVH discretisation {method!r}")


def intensity_volume_histogram(
    index: NDArray[np.int64], *, start: float, step: float, g_min: float, g_max: float
) -> list[Feat]:
    """IBSI 3.5 intensity-volume histogram features (see :func:`ivh_levels` for the input).

    The IVH is evaluated at every discretised intensity ``i_k = start + k * step`` from
    ``start`` up to the end of G or the largest ROI intensity (present or not): volume fraction
    ``nu_k`` = fraction of voxels with intensity >= ``i_k``, intensity fraction
    ``gamma_k = (i_k - g_min) / (g_max - g_min)``. ``V_x`` is the largest ``nu`` with
    ``gamma >= x``; ``I_x`` the smallest ``i`` with ``nu <= x`` (the next intensity after the
    largest, ``i_max + step``, when there is none).

    The area under the IVH curve (IBSI code 9CMM) is the trapezoidal integral of ``nu`` over
    ``gamma`` in [0, 1] (``0`` when G holds a single intensity). IBSI gives **no reference
    value** for it (no consensus; the IBSI manual says it "should not be used"), so it is not
    validated against IBSI, only against hand-computed examples.

    Examples
    --------
    >>> feats = dict((n, v) for n, _, v in intensity_volume_histogram(
    ...     np.array([0, 0, 1, 3]), start=1.0, step=1.0, g_min=1.0, g_max=4.0))
    >>> feats["volume_at_intensity_fraction_10"], feats["intensity_at_volume_fraction_10"]
    (0.5, 5.0)
    >>> round(feats["area_under_ivh_curve"], 6)  # nu = 1, .5, .25, .25 at gamma 0, 1/3, 2/3, 1
    0.458333
    """
    idx = np.asarray(index, dtype=np.int64)
    n = idx.size
    top = int(idx.max())
    if g_max > g_min:  # evaluate up to the end of G even where no voxel is (nu = 0 there)
        top = max(top, int(np.ceil((g_max - start) / step - 1e-9)))
    counts = np.bincount(idx, minlength=top + 1).astype(float)
    below = np.concatenate(([0.0], np.cumsum(counts)[:-1]))
    nu = 1.0 - below / n  # nu_k for k = 0..top
    grey = start + np.arange(top + 1) * step
    span = g_max - g_min
    if span > 0:
        gamma = (grey - g_min) / span
        # a few 1e-12 of slack so that gamma exactly 0.1 (or 0.9) is not lost to rounding
        tol = 1e-9

        def v_at(f: float) -> float:
            ok = nu[gamma >= f - tol]
            return float(ok.max()) if ok.size else 0.0  # no intensity that high: no volume

        inside = (gamma >= -tol) & (gamma <= 1 + tol)
        if inside.sum() > 1:
            auc = float(np.trapezoid(nu[inside], gamma[inside]))
        else:
            auc = 0.0
    else:  # a single intensity in G

        def v_at(f: float) -> float:
            return 1.0

        auc = 0.0

    def i_at(f: float) -> float:
        ok = np.flatnonzero(nu <= f + 1e-12)
        return float(grey[ok[0]]) if ok.size else float(start + (top + 1) * step)

    v10, v90, i10, i90 = v_at(0.1), v_at(0.9), i_at(0.1), i_at(0.9)
    return [
        ("volume_at_intensity_fraction_10", "BC2M", v10),
        ("volume_at_intensity_fraction_90", "BC2M", v90),
        ("intensity_at_volume_fraction_10", "GBPN", i10),
        ("intensity_at_volume_fraction_90", "GBPN", i90),
        ("volume_fraction_difference_10_90", "DDTU", v10 - v90),
        ("intensity_fraction_difference_10_90", "CNV2", i10 - i90),
        ("area_under_ivh_curve", "9CMM", auc),
    ]
