"""Voxel-wise feature maps: features of a sliding cubic kernel centred on every ROI voxel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit._optional import optional_njit
from ithkit.imaging._features._texture import (
    GLCM_FEATURES,
    GLDZM_NAMES,
    GLRLM_NAMES,
    GLSZM_NAMES,
    NGLDM_NAMES,
    NGTDM_CODES,
    SIZE_KEYS,
    _find,
    _glcm_of,
    _ngtdm_of,
    _size_of,
    _union,
)
from ithkit.imaging._io import Volume
from ithkit.imaging._preprocess import FeatureConfig, discretise

numba: Any
try:  # numba is the [imaging] extra's; without it the kernels raise when called
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None
prange: Any = range if numba is None else numba.prange

#: the default maps (first order and four GLCM features), computed by a sliding-GLCM kernel
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
_FIRST_ORDER = MAP_FEATURES[:6]
_SIZE16 = SIZE_KEYS[:16]
#: every mappable feature per family (IBSI-1 texture families, 3D: GLCM and GLRLM with the 13
#: directions merged, 26-connected zones, 26-neighbourhoods), in the kernels' column order
MAP_FAMILIES: dict[str, tuple[str, ...]] = {
    "first_order": _FIRST_ORDER,
    "glcm": tuple(f"glcm_{f}" for f in GLCM_FEATURES),
    "glrlm": tuple(f"glrlm_{GLRLM_NAMES[k]}" for k in _SIZE16),
    "glszm": tuple(f"glszm_{GLSZM_NAMES[k]}" for k in _SIZE16),
    "gldzm": tuple(f"gldzm_{GLDZM_NAMES[k]}" for k in _SIZE16),
    "ngtdm": tuple(f"ngtdm_{f}" for f in NGTDM_CODES),
    "ngldm": tuple(f"ngldm_{NGLDM_NAMES[k]}" for k in SIZE_KEYS),
}
#: all mappable features, in column order (101)
ALL_MAP_FEATURES: tuple[str, ...] = tuple(f for fs in MAP_FAMILIES.values() for f in fs)
_FAMILY_BIT = {fam: 1 << b for b, fam in enumerate(MAP_FAMILIES)}
_FAMILY_OF = {f: fam for fam, fs in MAP_FAMILIES.items() for f in fs}
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


@optional_njit(cache=True, nogil=True)
def _first_order(
    vals: NDArray[np.float64],
    n: int,
    s1: float,
    hist: NDArray[np.float64],
    lo: int,
    hi: int,
    out: NDArray[np.float64],
    k: int,
) -> None:
    """Mean, variance, skewness, (excess) kurtosis of ``vals[:n]`` (``s1``: their sum) and
    entropy and uniformity of the grey-level counts ``hist[lo:hi]`` into ``out[k, :6]``;
    clears ``hist[lo:hi]``."""
    mu = s1 / n
    s2 = s3 = s4 = 0.0
    for t in range(n):
        d = vals[t] - mu
        s2 += d * d
        s3 += d * d * d
        s4 += d * d * d * d
    var = s2 / n
    out[k, 0] = mu
    out[k, 1] = var
    if var > 0:
        out[k, 2] = (s3 / n) / var**1.5
        out[k, 3] = (s4 / n) / (var * var) - 3.0
    else:
        out[k, 2] = 0.0
        out[k, 3] = 0.0
    ent = uni = 0.0
    for g in range(lo, hi):
        p = hist[g] / n
        hist[g] = 0.0
        if p > 0:
            ent -= p * np.log2(p)
            uni += p * p
    out[k, 4] = ent
    out[k, 5] = uni


@optional_njit(cache=True, nogil=True)
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
        _first_order(vals, cnt, s1, hist, gmin, gmax + 1, out, k)
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


@optional_njit(cache=True, nogil=True, parallel=True)
def _in_blocks(
    block: Any,
    img: NDArray[np.float64],
    q: NDArray[np.signedinteger],
    centres: NDArray[np.int64],
    extra: tuple[Any, ...],
    out: NDArray[np.float64],
) -> None:
    """``block(img, q, centres, *extra, lo, hi, out)`` (:func:`_block` or :func:`_block_all`)
    over ``centres`` in 64 blocks on numba's threads."""
    n = centres.shape[0]
    nblock = min(n, 64)
    for blk in prange(nblock):
        lo, hi = blk * n // nblock, (blk + 1) * n // nblock
        block(img, q, centres, *extra, lo, hi, out)


# ---------------------------------------------------------------------------------------------
# every texture family: the kernel's matrices counted afresh in a small zero-padded box


@optional_njit(cache=True, nogil=True)
def _column(
    idx: NDArray[np.int64], jv: NDArray[np.float64], nc: int, value: int
) -> tuple[int, int]:
    """Column of ``value`` in a matrix whose ``nc`` columns are the values seen so far
    (``idx``: value to column, -1 for none; ``jv``: the columns' values), added if new;
    returns it and the new ``nc``."""
    if idx[value] < 0:
        idx[value] = nc
        jv[nc] = value
        nc += 1
    return idx[value], nc


@optional_njit(cache=True, nogil=True)
def _clear(m: NDArray[np.float64], nr: int, nc: int) -> None:
    """Zero ``m[:nr, :nc]`` (a matrix of the kernel, after its features)."""
    for i in range(nr):
        for j in range(nc):
            m[i, j] = 0.0


@optional_njit(cache=True, nogil=True, error_model="numpy")
def _block_all(
    img: NDArray[np.float64],
    q: NDArray[np.int32],
    centres: NDArray[np.int64],
    koffs: NDArray[np.int64],
    pidx: NDArray[np.int64],
    po13: NDArray[np.int64],
    po26: NDArray[np.int64],
    w: int,
    ng: int,
    want: int,
    average: bool,
    lo: int,
    hi: int,
    out: NDArray[np.float64],
) -> None:
    """Every family's features of the kernels around ``centres[lo:hi]`` into ``out[lo:hi]``
    (columns of :data:`ALL_MAP_FEATURES`; bit ``b`` of ``want`` asks for family ``b`` of
    :data:`_FAMILY_BITS`).

    ``img`` and ``q`` are flat and padded by the kernel radius (``q`` = 0 outside the ROI),
    ``koffs`` the kernel's flat offsets there (raster order). Each kernel is copied into a
    zero-padded (w + 2)^3 box (``pidx``: the kernel voxels' places in it; ``po13`` the 13
    lexicographically positive neighbour offsets there, ``po26`` all 26), so every
    neighbour look-up is branch-free and stays inside the kernel, as for a whole ROI that
    is the kernel. Grey levels are renumbered 0..nl-1 in order of appearance (``lv``: their
    values), so the matrices have the kernel's levels only.
    """
    nk = koffs.shape[0]
    wp = w + 2
    nb = wp * wp * wp
    nlmax = min(nk, ng)
    kp = np.zeros(nb, dtype=np.int64)
    kl = np.zeros(nb, dtype=np.int64)
    lab = np.zeros(nb, dtype=np.int64)
    dist = np.zeros(nb, dtype=np.int64)
    loc = np.full(ng + 1, -1, dtype=np.int64)
    lv = np.zeros(nlmax)
    hist = np.zeros(nlmax)
    pos = np.zeros(nk, dtype=np.int64)
    vals = np.zeros(nk)
    cm = np.zeros((nlmax, nlmax))
    pm = np.zeros((nlmax, nlmax))
    rl = np.zeros((nlmax, w))
    run = np.zeros((13, nb), dtype=np.int64)
    zs = np.zeros((nlmax, nk))
    zd = np.zeros((nlmax, nk))
    dep = np.zeros((nlmax, 27))
    jrun = np.arange(1.0, w + 1.0)
    jdep = np.arange(1.0, 28.0)
    js = np.zeros(nk)
    jd = np.zeros(nk)
    sidx = np.full(nk + 1, -1, dtype=np.int64)
    didx = np.full(nk + 1, -1, dtype=np.int64)
    parent = np.full(nk, -1, dtype=np.int64)
    zsize = np.zeros(nk, dtype=np.int64)
    zdmin = np.zeros(nk, dtype=np.int64)
    st = np.zeros(nlmax)
    nt = np.zeros(nlmax)
    mi = np.zeros(nlmax)
    mj = np.zeros(nk + 27)
    pi = np.zeros(nlmax)
    pd = np.zeros(ng + 1)
    ps = np.zeros(2 * ng + 2)
    res = np.zeros(25)
    acc = np.zeros(25)
    plane = wp * wp
    for k in range(lo, hi):
        c = centres[k]
        n = 0
        nl = 0
        s1 = 0.0
        for t in range(nk):
            g = q[c + koffs[t]]
            p = pidx[t]
            kp[p] = g
            if g > 0:
                v = img[c + koffs[t]]
                pos[n] = p
                vals[n] = v
                n += 1
                s1 += v
                a = loc[g]
                if a < 0:
                    a = nl
                    loc[g] = a
                    lv[a] = g
                    hist[a] = 0.0
                    nl += 1
                kl[p] = a
                hist[a] += 1.0
        if want & 1:
            _first_order(vals, n, s1, hist, 0, nl, out, k)
        if want & 2:  # GLCM: the 13 directions merged, or each direction with pairs averaged
            acc[:] = 0.0
            nd = 0
            for d in range(13 if average else 1):
                d0, d1 = (d, d + 1) if average else (0, 13)
                for t in range(n):
                    p = pos[t]
                    a = kl[p]
                    for dd in range(d0, d1):
                        o = p + po13[dd]
                        if kp[o] > 0:
                            cm[a, kl[o]] += 1.0
                if _glcm_of(cm, nl, lv, ng, pm, pi, pd, ps, res) == 0:
                    continue  # no pair
                _clear(cm, nl, nl)
                nd += 1
                for f in range(25):
                    acc[f] += res[f]
            for f in range(25):
                out[k, 6 + f] = acc[f] / nd if nd > 0 else np.nan
        if want & 4:  # GLRLM, branch-free: in raster order the length of the run reaching
            # p along d comes from p - d; counted where it ends
            if average:
                acc[:] = 0.0
            for d in range(13 if average else 1):
                d0, d1 = (d, d + 1) if average else (0, 13)
                for t in range(n):
                    p = pos[t]
                    g = kp[p]
                    a = kl[p]
                    for dd in range(d0, d1):
                        o = po13[dd]
                        ln = 1 + (kp[p - o] == g) * run[dd, p - o]
                        run[dd, p] = ln
                        rl[a, ln - 1] += kp[p + o] != g
                _size_of(rl, nl, w, lv, jrun, (1.0 if average else 13.0) * n, mi, mj, res, True)
                if average:
                    for f in range(16):
                        acc[f] += res[f]
            for f in range(16):
                out[k, 31 + f] = acc[f] / 13.0 if average else res[f]
        if want & 24:  # zones (26-connected) by union-find in raster order
            for t in range(n):
                p = pos[t]
                g = kp[p]
                cur = -1
                for d in range(13):
                    o = p - po13[d]
                    if kp[o] == g:
                        cur = _union(parent, cur, _find(parent, lab[o]), -1)
                if cur < 0:
                    cur = t
                    parent[t] = t
                    zsize[t] = 0
                    zdmin[t] = nk + 1
                lab[p] = cur
            if want & 16:  # taxicab distance to the kernel ROI's edge, two passes
                for t in range(nk):
                    p = pidx[t]
                    if kp[p] > 0:
                        v = dist[p - plane]
                        v = min(v, dist[p - wp])
                        v = min(v, dist[p - 1])
                        dist[p] = v + 1
                    else:
                        dist[p] = 0
                for t in range(nk - 1, -1, -1):
                    p = pidx[t]
                    if kp[p] > 0:
                        v = dist[p]
                        v = min(v, dist[p + plane] + 1)
                        v = min(v, dist[p + wp] + 1)
                        v = min(v, dist[p + 1] + 1)
                        dist[p] = v
            for t in range(n):
                p = pos[t]
                r = _find(parent, lab[p])
                zsize[r] += 1
                if dist[p] < zdmin[r]:
                    zdmin[r] = dist[p]
            ncs = ncd = nzone = 0
            for t in range(n):
                if parent[t] != t:
                    continue
                nzone += 1
                a = kl[pos[t]]
                col, ncs = _column(sidx, js, ncs, zsize[t])
                zs[a, col] += 1.0
                col, ncd = _column(didx, jd, ncd, zdmin[t])
                zd[a, col] += 1.0
            for t in range(n):
                parent[t] = -1
            for i in range(ncs):
                sidx[int(js[i])] = -1
            for i in range(ncd):
                didx[int(jd[i])] = -1
            for fam in range(2):  # size zones (GLSZM), then distance zones (GLDZM)
                zm, jz, nc = (zs, js, ncs) if fam == 0 else (zd, jd, ncd)
                if want & (8 << fam):
                    _size_of(zm, nl, nc, lv, jz, float(n), mi, mj, res, True)
                    for f in range(16):
                        out[k, 47 + 16 * fam + f] = res[f]
                else:
                    _clear(zm, nl, nc)
        if want & 96:  # NGTDM and NGLDM: the 26 neighbours inside the kernel
            for a in range(nl):
                st[a] = 0.0
                nt[a] = 0.0
            top = 0  # the largest dependence count: columns beyond it are empty
            nvc = 0  # voxels with a neighbour
            for t in range(n):
                p = pos[t]
                g = kp[p]
                a = kl[p]
                total = cnt = same = 0
                for d in range(26):
                    h = kp[p + po26[d]]
                    total += h
                    cnt += h > 0
                    same += h == g
                dep[a, same] += 1.0
                top = max(top, same)
                if cnt > 0:
                    st[a] += abs(g - total / cnt)
                    nt[a] += 1.0
                    nvc += 1
            if want & 32 and nvc > 0:  # else NaN (no kernel voxel has a neighbour)
                _ngtdm_of(st, nt, nl, lv, res)
                for f in range(5):
                    out[k, 79 + f] = res[f]
            if want & 64:
                _size_of(dep, nl, top + 1, lv, jdep, float(n), mi, mj, res, True)
                for f in range(17):
                    out[k, 84 + f] = res[f]
            else:
                _clear(dep, nl, top + 1)
        for a in range(nl):
            loc[int(lv[a])] = -1


def expand_map_features(features: Sequence[str]) -> list[str]:
    """Feature names from names and family names (``first_order``, ``glcm``, ``glrlm``,
    ``glszm``, ``gldzm``, ``ngtdm``, ``ngldm``) or ``all``; unknown names raise.

    Examples
    --------
    >>> expand_map_features(["mean", "ngtdm"])[:3]
    ['mean', 'ngtdm_coarseness', 'ngtdm_contrast']
    >>> len(expand_map_features(["all"]))
    101
    """
    out: list[str] = []
    for f in features:
        names = (
            ALL_MAP_FEATURES if f == "all" else MAP_FAMILIES.get(f, (f,) if f in _FAMILY_OF else ())
        )
        if not names:
            raise InputError(
                f"unknown map feature {f!r}",
                fix=f"use 'all', a family ({', '.join(MAP_FAMILIES)}) or a name of "
                "ALL_MAP_FEATURES (e.g. mean, glcm_contrast, glszm_zone_size_entropy)",
            )
        out += [n for n in names if n not in out]
    return out


def _local_box(r: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Places of the (2r+1)^3 kernel voxels (raster order) in a zero-padded (2r+3)^3 box and
    the 13 positive / 26 neighbour offsets there."""
    w = 2 * r + 1
    wp = w + 2
    zz, yy, xx = np.meshgrid(*(np.arange(1, w + 1),) * 3, indexing="ij")
    pidx = ((zz * wp + yy) * wp + xx).ravel().astype(np.int64)
    po13 = np.array([(a * wp + b) * wp + c for a, b, c in _DIRS], dtype=np.int64)
    po26 = np.concatenate([po13, -po13[::-1]])
    return pidx, po13, po26


# below this many ROI voxels the thread start costs more than it saves
_PARALLEL_MIN = 8192
#: float64 values per ROI voxel of a chunk's output buffer
N_MAP_COLUMNS = len(ALL_MAP_FEATURES)


def map_memory_bytes(
    shape: tuple[int, ...], n_features: int, roi_voxels: int, *, chunk: int = 20_000
) -> float:
    """Peak memory (bytes) of :func:`feature_maps`: what grows with the image (the float64
    image and its discretised copy, the padded ROI box, one float32 map per feature) and
    with the ROI (its voxel indices, 16 bytes each), plus one chunk's float64 output buffer
    (``chunk`` x 101 columns, twice) and the sliding GLCM's pair codes (26 bytes per box
    voxel); the per-kernel work arrays are a few hundred kB per thread.

    Examples
    --------
    >>> round(map_memory_bytes((100, 100, 100), 10, 500_000) / 1e6)  # MB
    134
    """
    voxels = float(np.prod(shape))
    return (
        voxels * (8 + 8 + 12 + 26)
        + voxels * n_features * 4
        + roi_voxels * 16.0
        + 2.0 * min(chunk, roi_voxels) * N_MAP_COLUMNS * 8
    )


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
    directions: str = "merged",
) -> dict[str, Volume]:
    """Voxel-wise feature maps inside the ROI (NaN outside), same geometry as the image.

    Each ROI voxel gets the features of the ROI voxels in a cube of ``kernel_voxels`` per side
    centred on it (or the cube whose half-width in mm is ``kernel_mm`` on the finest axis):
    the whole-ROI feature of the ROI that is the kernel (voxels outside the ROI or the image
    excluded). First-order features use the intensities, the others the discretised levels
    of ``config`` (default 32 fixed bins over the ROI). Texture families (IBSI-1, 3D):
    GLCM and GLRLM with the 13 directions merged (distance 1), GLSZM and GLDZM (26-connected
    zones; distances to the kernel ROI's edge), NGTDM and NGLDM (26-neighbourhood, coarseness
    0). GLCM maps are NaN where the kernel has no voxel pair, NGTDM maps where no kernel
    voxel has a neighbour.

    Parameters
    ----------
    image, mask
        Volumes on the same grid; the mask's non-zero voxels are the ROI.
    features
        Names from :data:`ALL_MAP_FEATURES`, family names of :data:`MAP_FAMILIES` or
        ``all`` (default: :data:`MAP_FEATURES`).
    kernel_mm, kernel_voxels
        Kernel size (odd number of voxels per side).
    config
        Discretisation settings.
    chunk
        ROI voxels per compiled call: progress granularity, and the float64 buffer
        (``chunk`` x 101) that bounds the working memory beyond the float32 maps.
    show_progress
        Rich progress bar.
    directions
        GLCM and GLRLM maps: ``merged`` (the 13 directions' matrices summed, IBSI
        ``3d_merged``) or ``average`` (each direction's features averaged, IBSI
        ``3d_average``, as PyRadiomics; GLCM directions without a pair are left out).

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
    ...                     features=["mean", "glszm"], kernel_voxels=3)
    >>> float(maps["mean"].array[2, 2, 0]), float(maps["mean"].array[2, 2, 4])
    (0.0, 10.0)
    >>> round(float(maps["glszm_zone_percentage"].array[2, 2, 2]), 4)  # 2 zones, 27 voxels
    0.0741
    """
    names = expand_map_features(features)
    roi = np.asarray(mask.array) > 0
    if not roi.any():
        raise InputError("the ROI is empty", source=mask.source or "mask")
    img = np.ascontiguousarray(image.array, dtype=np.float64)
    if kernel_mm is not None:
        kernel_voxels = 2 * round(kernel_mm / min(image.spacing)) + 1
    if kernel_voxels < 3 or kernel_voxels % 2 == 0:
        raise InputError(f"kernel of {kernel_voxels} voxels", fix="use an odd size >= 3")
    if chunk < 1:
        raise InputError(f"chunk of {chunk} voxels", fix="use a positive number of voxels")
    if directions not in ("merged", "average"):
        raise InputError(f"directions {directions!r}", fix="use 'merged' or 'average'")
    average = directions == "average"
    q, ng = discretise(img, roi, config or FeatureConfig())
    r = kernel_voxels // 2
    # crop to the ROI box and pad by the kernel radius: no bounds checks in the kernel loop
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(roi))
    roi_b = roi[box]
    legacy = set(names) <= set(MAP_FEATURES) and not average
    q_p = np.pad(np.where(roi_b, q[box], 0).astype(np.int64 if legacy else np.int32), r)
    del q
    img_p = np.pad(img[box], r)
    centres = np.flatnonzero(np.pad(roi_b, r)).astype(np.int64)
    flat_roi = np.flatnonzero(roi)  # the same raster order as ``centres``
    maps = {f: np.full(img.shape, np.nan, dtype=np.float32) for f in names}
    flat_maps = [(maps[f].reshape(-1), i) for i, f in enumerate(names)]
    starts = range(0, centres.shape[0], chunk)
    from ithkit._progress import progress

    qf, imgf = q_p.ravel(), img_p.ravel()
    big = centres.shape[0] >= _PARALLEL_MIN and numba is not None and numba.get_num_threads() > 1
    # the kernel of one block of centres and its arguments after (img, q, centres)
    block: Any
    if legacy:
        offs, pbase, pleave, penter = _kernel_layout(r, q_p.shape)
        want_glcm = any(f.startswith("glcm_") for f in names)
        codes = _pair_codes(q_p, ng) if want_glcm else np.zeros(1, dtype=np.int16)
        cols = [MAP_FEATURES.index(f) for f in names]
        block = _block
        extra: tuple[Any, ...] = (offs, codes, pbase, pleave, penter, ng, want_glcm)
        ncol = len(MAP_FEATURES)
    else:
        koffs = _kernel_layout(r, q_p.shape)[0]
        pidx, po13, po26 = _local_box(r)
        want = 0
        for f in names:
            want |= _FAMILY_BIT[_FAMILY_OF[f]]
        cols = [ALL_MAP_FEATURES.index(f) for f in names]
        block = _block_all
        extra = (koffs, pidx, po13, po26, 2 * r + 1, ng, want, average)
        ncol = N_MAP_COLUMNS
    buf = np.empty((min(chunk, centres.shape[0]), ncol))

    def compute(cs: NDArray[np.int64]) -> NDArray[np.float64]:
        out = buf[: cs.shape[0]]
        out.fill(np.nan)
        if big:
            _in_blocks(block, imgf, qf, cs, extra, out)
        else:
            block(imgf, qf, cs, *extra, 0, cs.shape[0], out)
        return out[:, cols]

    with progress(show_progress, "feature maps", len(starts)) as advance:
        for s in starts:
            vals = compute(centres[s : s + chunk])
            where = flat_roi[s : s + chunk]
            for arr, i in flat_maps:
                arr[where] = vals[:, i]
            advance()
    return {f: Volume(maps[f], image.spacing, image.origin, image.direction, f) for f in names}
