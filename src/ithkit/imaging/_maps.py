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

_DIRS = tuple(
    (a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if (a, b, c) > (0, 0, 0)
)


def _kernel_layout(
    r: int, shape: tuple[int, int, int]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Kernel layout in a flat array of ``shape``, as offsets from the kernel centre.

    Returns the (2r+1)^3 kernel voxels (raster order) and, as positions in the codes of
    :func:`_pair_codes`, the GLCM pairs (v, v + d) inside the kernel (d in the 13 directions):
    all of them, those that leave when the kernel moves one voxel along x (offsets from the
    new centre) and those that enter.
    """
    w = 2 * r + 1
    _, sy, sx = shape
    n = shape[0] * sy * sx
    zz, yy, xx = np.meshgrid(*(np.arange(-r, r + 1),) * 3, indexing="ij")
    offs = (zz * sy * sx + yy * sx + xx).ravel().astype(np.int64)
    idx = np.arange(w**3).reshape(w, w, w)
    ix = np.broadcast_to(np.arange(w), (w, w, w))
    every, leave, enter = [], [], []
    for k, (dz, dy, dx) in enumerate(_DIRS):
        sub = tuple(slice(max(0, -t), w - max(0, t)) for t in (dz, dy, dx))
        src = idx[sub].ravel()
        x1 = ix[sub].ravel()
        x2 = x1 + dx
        pos = k * n + offs[src]
        every.append(pos)
        leave.append(pos[(x1 == 0) | (x2 == 0)] - 1)
        enter.append(pos[(x1 == w - 1) | (x2 == w - 1)])
    every_a, leave_a, enter_a = (np.concatenate(p).astype(np.int64) for p in (every, leave, enter))
    return offs, every_a, leave_a, enter_a


def _pair_codes(q: NDArray[np.int64], ng: int) -> NDArray[np.signedinteger]:
    """For each direction d and voxel v of the flat padded ``q``: a (Ng+1) + b for the grey
    levels a of v and b of v + d, 0 when either is outside the ROI. Shape (13 * size,)."""
    _, sy, sx = q.shape
    st = ng + 1
    qf = q.ravel()
    n = qf.size
    codes = np.zeros((len(_DIRS), n), dtype=np.int16 if st * st <= 32767 else np.int32)
    for k, (dz, dy, dx) in enumerate(_DIRS):
        o = (dz * sy + dy) * sx + dx  # > 0: the directions are lexicographically positive
        first, second = qf[: n - o], qf[o:]
        codes[k, : n - o] = np.where((first > 0) & (second > 0), first * st + second, 0)
    return codes.ravel()


@numba.njit(cache=True, nogil=True)
def _block(
    img: NDArray[np.float64],
    q: NDArray[np.int64],
    centres: NDArray[np.int64],
    offs: NDArray[np.int64],
    codes: NDArray[np.signedinteger],
    pbase: NDArray[np.int64],
    pleave: NDArray[np.int64],
    penter: NDArray[np.int64],
    ng: int,
    want_glcm: bool,
    lo: int,
    hi: int,
    out: NDArray[np.float64],
) -> None:
    """Map features of the kernels around ``centres[lo:hi]`` into ``out[lo:hi]``.

    ``img`` and ``q`` are flat, padded by the kernel radius, with ``q`` = 0 outside the ROI;
    ``centres`` are flat indices, ``offs`` the kernel's flat offsets, ``codes`` the GLCM cell
    of every (voxel, direction) pair (:func:`_pair_codes`) and ``pbase`` the kernel's pairs
    (:func:`_kernel_layout`). When the kernel moves one voxel along x its GLCM is updated by
    the pairs that leave and enter, else counted afresh; only the grey levels present in the
    kernel are touched.
    """
    nk = offs.shape[0]
    npair = pbase.shape[0]
    st = ng + 1
    hist = np.zeros(st)
    glcm = np.zeros(st * st)
    vals = np.empty(nk)
    prev, pmin, pmax = -2, 1, 0  # previous centre and its grey-level range
    for k in range(lo, hi):
        c = centres[k]
        cnt = 0
        s1 = 0.0
        gmin, gmax = st, 0
        for t in range(nk):
            g = q[c + offs[t]]
            if g > 0:
                v = img[c + offs[t]]
                vals[cnt] = v
                cnt += 1
                s1 += v
                hist[g] += 1.0
                gmin = min(gmin, g)
                gmax = max(gmax, g)
        mu = s1 / cnt
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        for t in range(cnt):
            d = vals[t] - mu
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
        for g in range(gmin, gmax + 1):
            p = hist[g] / cnt
            hist[g] = 0.0
            if p > 0:
                ent -= p * np.log2(p)
                uni += p * p
        out[k, 4] = ent
        out[k, 5] = uni
        if not want_glcm:
            continue
        # pairs with a voxel outside the ROI have code 0: count them in cell 0, no branch
        if c == prev + 1:
            for t in range(pleave.shape[0]):
                glcm[codes[pleave[t] + c]] -= 1.0
            for t in range(penter.shape[0]):
                glcm[codes[penter[t] + c]] += 1.0
        else:
            glcm[0] = 0.0
            for i in range(pmin, pmax + 1):
                for j in range(pmin, pmax + 1):
                    glcm[i * st + j] = 0.0
            for t in range(npair):
                glcm[codes[pbase[t] + c]] += 1.0
        prev, pmin, pmax = c, gmin, gmax
        total = npair - glcm[0]
        con = 0.0
        jent = 0.0
        idf = 0.0
        asm = 0.0
        if total > 0:
            total2 = 2.0 * total
            for i in range(gmin, gmax + 1):
                for j in range(gmin, gmax + 1):
                    p = (glcm[i * st + j] + glcm[j * st + i]) / total2
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


@numba.njit(cache=True, nogil=True, parallel=True)
def _kernel_features_parallel(
    img: NDArray[np.float64],
    q: NDArray[np.int64],
    centres: NDArray[np.int64],
    offs: NDArray[np.int64],
    codes: NDArray[np.signedinteger],
    pbase: NDArray[np.int64],
    pleave: NDArray[np.int64],
    penter: NDArray[np.int64],
    ng: int,
    want_glcm: bool,
) -> NDArray[np.float64]:
    n = centres.shape[0]
    out = np.full((n, 10), np.nan)
    nblock = min(n, 64)
    for blk in numba.prange(nblock):
        lo, hi = blk * n // nblock, (blk + 1) * n // nblock
        _block(img, q, centres, offs, codes, pbase, pleave, penter, ng, want_glcm, lo, hi, out)
    return out


@numba.njit(cache=True, nogil=True)
def _kernel_features(
    img: NDArray[np.float64],
    q: NDArray[np.int64],
    centres: NDArray[np.int64],
    offs: NDArray[np.int64],
    codes: NDArray[np.signedinteger],
    pbase: NDArray[np.int64],
    pleave: NDArray[np.int64],
    penter: NDArray[np.int64],
    ng: int,
    want_glcm: bool,
) -> NDArray[np.float64]:
    out = np.full((centres.shape[0], 10), np.nan)
    _block(
        img, q, centres, offs, codes, pbase, pleave, penter, ng, want_glcm, 0, centres.shape[0], out
    )
    return out


# below this many ROI voxels the thread start costs more than it saves
_PARALLEL_MIN = 8192


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
    r = kernel_voxels // 2
    # crop to the ROI box and pad by the kernel radius: no bounds checks in the kernel loop
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(roi))
    roi_b = roi[box]
    q_p = np.pad(np.where(roi_b, q[box], 0).astype(np.int64), r)
    img_p = np.pad(img[box], r)
    offs, pbase, pleave, penter = _kernel_layout(r, q_p.shape)
    centres = np.flatnonzero(np.pad(roi_b, r)).astype(np.int64)
    want_glcm = any(f.startswith("glcm_") for f in features)
    codes = _pair_codes(q_p, ng) if want_glcm else np.zeros(1, dtype=np.int16)
    values = np.empty((centres.shape[0], len(MAP_FEATURES)))
    starts = range(0, centres.shape[0], chunk)
    from ithkit._progress import progress

    qf, imgf = q_p.ravel(), img_p.ravel()
    big = centres.shape[0] >= _PARALLEL_MIN and numba.get_num_threads() > 1
    run = _kernel_features_parallel if big else _kernel_features
    with progress(show_progress, "feature maps", len(starts)) as advance:
        for s in starts:
            values[s : s + chunk] = run(
                imgf, qf, centres[s : s + chunk], offs, codes, pbase, pleave, penter, ng, want_glcm
            )
            advance()
    out: dict[str, Volume] = {}
    for f in features:
        arr = np.full(img.shape, np.nan, dtype=np.float32)
        arr[roi] = values[:, MAP_FEATURES.index(f)]
        out[f] = Volume(arr, image.spacing, image.origin, image.direction, f)
    return out
