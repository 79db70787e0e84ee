"""Voxel-wise feature maps: features of a sliding cubic kernel centred on every ROI voxel."""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit.imaging._io import Volume
from ithkit.imaging._preprocess import FeatureConfig, discretise

MAP_FEATURES = (
    "mean",
    "variance",
    "skewness",
    "kurtosis",
    "entropy",
    "uniformity",
    "glcm_contrast",
    "glcm_joint_entropy",
    "glcm_inverse_difference",
    "glcm_angular_second_moment",
)
_N_FIRST = 6

_DIRS = np.array(
    [
        (a, b, c)
        for a in (-1, 0, 1)
        for b in (-1, 0, 1)
        for c in (-1, 0, 1)
        if (a, b, c) > (0, 0, 0)
    ],
    dtype=np.int64,
)


@numba.njit(cache=True, nogil=True, parallel=True)
def _kernel_features(
    img: NDArray[np.float64],
    q: NDArray[np.int64],
    roi: NDArray[np.bool_],
    centres: NDArray[np.int64],
    r: int,
    ng: int,
    want_glcm: bool,
    dirs: NDArray[np.int64],
) -> NDArray[np.float64]:
    nz, ny, nx = img.shape
    n = centres.shape[0]
    out = np.full((n, 10), np.nan)
    for k in numba.prange(n):
        hist = np.zeros(ng + 1)
        z0, y0, x0 = centres[k, 0], centres[k, 1], centres[k, 2]
        cnt = 0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        za, zb = max(z0 - r, 0), min(z0 + r + 1, nz)
        ya, yb = max(y0 - r, 0), min(y0 + r + 1, ny)
        xa, xb = max(x0 - r, 0), min(x0 + r + 1, nx)
        for z in range(za, zb):
            for y in range(ya, yb):
                for x in range(xa, xb):
                    if roi[z, y, x]:
                        v = img[z, y, x]
                        cnt += 1
                        s1 += v
                        hist[q[z, y, x]] += 1.0
        mu = s1 / cnt
        for z in range(za, zb):
            for y in range(ya, yb):
                for x in range(xa, xb):
                    if roi[z, y, x]:
                        d = img[z, y, x] - mu
                        s2 += d * d
                        s3 += d * d * d
                        s4 += d * d * d * d
        var = s2 / cnt
        out[k, 0] = mu
        out[k, 1] = var
        if var > 0:
            out[k, 2] = (s3 / cnt) / var**1.5
            out[k, 3] = (s4 / cnt) / (var * var) - 3.0
        else:
            out[k, 2] = 0.0
            out[k, 3] = 0.0
        ent = 0.0
        uni = 0.0
        for g in range(1, ng + 1):
            p = hist[g] / cnt
            if p > 0:
                ent -= p * np.log2(p)
                uni += p * p
        out[k, 4] = ent
        out[k, 5] = uni
        if not want_glcm:
            continue
        glcm = np.zeros((ng + 1, ng + 1))
        total = 0.0
        for z in range(za, zb):
            for y in range(ya, yb):
                for x in range(xa, xb):
                    if not roi[z, y, x]:
                        continue
                    a = q[z, y, x]
                    for t in range(dirs.shape[0]):
                        zz, yy, xx = z + dirs[t, 0], y + dirs[t, 1], x + dirs[t, 2]
                        if za <= zz < zb and ya <= yy < yb and xa <= xx < xb and roi[zz, yy, xx]:
                            b = q[zz, yy, xx]
                            glcm[a, b] += 1.0
                            glcm[b, a] += 1.0
                            total += 2.0
        if total == 0:
            continue
        con = 0.0
        jent = 0.0
        idf = 0.0
        asm = 0.0
        for i in range(1, ng + 1):
            for j in range(1, ng + 1):
                p = glcm[i, j] / total
                if p > 0:
                    d = abs(i - j)
                    con += d * d * p
                    jent -= p * np.log2(p)
                    idf += p / (1.0 + d)
                    asm += p * p
        out[k, 6] = con
        out[k, 7] = jent
        out[k, 8] = idf
        out[k, 9] = asm
    return out


def feature_maps(
    image: Volume,
    mask: Volume,
    *,
    features: Sequence[str] = MAP_FEATURES,
    kernel_mm: float | None = None,
    kernel_voxels: int = 5,
    config: FeatureConfig | None = None,
    chunk: int = 20_000,
    show_progress: bool = False,
) -> dict[str, Volume]:
    """Voxel-wise feature maps inside the ROI (NaN outside), same geometry as the image.

    Each ROI voxel gets the features of the ROI voxels in a cube of ``kernel_voxels`` per side
    centred on it (or the cube whose half-width in mm is ``kernel_mm`` on the finest axis).
    First-order features use the intensities; entropy/uniformity and the GLCM features (3D,
    13 directions merged, distance 1, inside the kernel) use the discretised levels of
    ``config`` (default 32 fixed bins over the ROI).

    Parameters
    ----------
    image, mask
        Volumes on the same grid; the mask's non-zero voxels are the ROI.
    features
        Names from :data:`MAP_FEATURES`.
    kernel_mm, kernel_voxels
        Kernel size (odd number of voxels per side).
    config
        Discretisation settings.
    chunk
        ROI voxels per numba call (progress granularity, bounded memory).
    show_progress
        Rich progress bar.

    Returns
    -------
    dict of str to Volume
        One float32 map per feature.

    Examples
    --------
    >>> import numpy as np
    >>> from ithkit.imaging import Volume
    >>> a = np.zeros((5, 5, 5)); a[:, :, 3:] = 10.0
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    >>> maps = feature_maps(Volume(a, *geo), Volume(np.ones_like(a), *geo),
    ...                     features=["mean"], kernel_voxels=3)
    >>> float(maps["mean"].array[2, 2, 0]), float(maps["mean"].array[2, 2, 4])
    (0.0, 10.0)
    """
    bad = [f for f in features if f not in MAP_FEATURES]
    if bad:
        raise InputError(f"unknown map feature {bad[0]!r}", fix=f"use one of {MAP_FEATURES}")
    roi = np.asarray(mask.array) > 0
    if not roi.any():
        raise InputError("the ROI is empty", source=mask.source or "mask")
    img = np.ascontiguousarray(image.array, dtype=np.float64)
    if kernel_mm is not None:
        kernel_voxels = 2 * round(kernel_mm / min(image.spacing)) + 1
    if kernel_voxels < 3 or kernel_voxels % 2 == 0:
        raise InputError(f"kernel of {kernel_voxels} voxels", fix="use an odd size >= 3")
    q, ng = discretise(img, roi, config or FeatureConfig())
    centres = np.argwhere(roi).astype(np.int64)
    want_glcm = any(f.startswith("glcm_") for f in features)
    values = np.empty((centres.shape[0], len(MAP_FEATURES)))
    starts = range(0, centres.shape[0], chunk)
    from ithkit._progress import progress

    with progress(show_progress, "feature maps", len(starts)) as advance:
        for s in starts:
            values[s : s + chunk] = _kernel_features(
                img, q, roi, centres[s : s + chunk], kernel_voxels // 2, ng, want_glcm, _DIRS
            )
            advance()
    out: dict[str, Volume] = {}
    for f in features:
        arr = np.full(img.shape, np.nan, dtype=np.float32)
        arr[roi] = values[:, MAP_FEATURES.index(f)]
        out[f] = Volume(arr, image.spacing, image.origin, image.direction, f)
    return out
