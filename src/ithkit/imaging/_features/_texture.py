"""IBSI-1 texture matrices and features: GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM.

``q`` is the discretised image in array order (slice, row, column) with grey levels 1..Ng inside
the ROI and 0 outside. 2D matrices are built per slice (first axis), 3D over the volume.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numpy.typing import NDArray

Feat = tuple[str, str, float]
Array = NDArray[np.float64]

DIRS_2D = ((0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 1, -1))
DIRS_3D = tuple(
    (a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if (a, b, c) > (0, 0, 0)
)

AGG_MATRIX = (
    "2d_average",
    "2d_slice_merged",
    "2_5d_direction_merged",
    "2_5d_merged",
    "3d_average",
    "3d_merged",
)
AGG_ZONE = ("2d", "2_5d", "3d")
TEXTURE_FAMILIES = ("glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm")


def _shifted(q: NDArray[np.int64], d: tuple[int, int, int]) -> tuple[NDArray[np.int64], ...]:
    """(a, b, slice index) for every voxel pair (v, v + d) inside the array."""
    src, dst = [], []
    for k, s in zip(d, q.shape, strict=True):
        src.append(slice(max(0, -k), s - max(0, k)))
        dst.append(slice(max(0, k), s - max(0, -k)))
    a, b = q[tuple(src)], q[tuple(dst)]
    z = np.broadcast_to(np.arange(q.shape[0])[src[0]][:, None, None], a.shape)
    return a, b, z


def glcm_matrices(q: NDArray[np.int64], ng: int, dirs: tuple[tuple[int, int, int], ...]) -> Array:
    """Symmetric co-occurrence counts per slice and direction: (n_slices, n_dirs, Ng, Ng)."""
    nz = q.shape[0]
    out = np.zeros((nz, len(dirs), ng, ng))
    for k, d in enumerate(dirs):
        a, b, z = _shifted(q, d)
        ok = (a > 0) & (b > 0)
        idx = (z[ok] * ng + (a[ok] - 1)) * ng + (b[ok] - 1)
        m = np.bincount(idx, minlength=nz * ng * ng).reshape(nz, ng, ng).astype(float)
        out[:, k] = m + m.transpose(0, 2, 1)
    return out


# index of each 3D direction among the in-slice 2D directions (-1: crosses slices)
_SLOT_2D = np.array([DIRS_2D.index(d) if d in DIRS_2D else -1 for d in DIRS_3D], dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _cooc_flat(
    qp: NDArray[np.int32], ng: int, offs: NDArray[np.int64], slot2: NDArray[np.int64]
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """One pass over ``qp`` (zero-padded by one voxel): (v, v + d) pair counts for every
    direction ``d`` (``offs``: flat offsets), branch-free: a neighbour outside the ROI (or the
    array) is counted at level 0, dropped afterwards. In-slice directions are counted per slice
    into (slices, 4, Ng + 1, Ng + 1) at their 2D slot, the others into (dirs, Ng + 1, Ng + 1),
    summed over the volume. Not yet symmetric."""
    nz = qp.shape[0] - 2
    sz = qp.shape[1] * qp.shape[2]
    qf = qp.ravel()
    nd = offs.shape[0]
    m = ng + 1
    n2 = nz * 4 * m * m
    base = np.empty(nd, dtype=np.int64)
    zstride = np.empty(nd, dtype=np.int64)
    for k in range(nd):
        if slot2[k] >= 0:
            base[k] = slot2[k] * m * m
            zstride[k] = 4 * m * m
        else:
            base[k] = n2 + k * m * m
            zstride[k] = 0
    cnt = np.zeros(n2 + nd * m * m, dtype=np.int32)
    for z in range(nz):
        for v in range((z + 1) * sz, (z + 2) * sz):
            a = qf[v]
            if a == 0:
                continue
            row = a * m
            for k in range(nd):
                cnt[base[k] + z * zstride[k] + row + qf[v + offs[k]]] += 1
    return cnt[:n2].reshape(nz, 4, m, m), cnt[n2:].reshape(nd, m, m)


def glcm_all(q: NDArray[np.int64], ng: int) -> tuple[Array, Array]:
    """Symmetric GLCM counts: per slice for :data:`DIRS_2D` (slices, 4, Ng, Ng) and per
    direction over the volume for :data:`DIRS_3D` (13, Ng, Ng), from one pass (the in-slice 3D
    matrices are the sums of the 2D slice matrices)."""
    qp = np.pad(q.astype(np.int32), 1)
    sy, sx = qp.shape[1], qp.shape[2]
    offs = np.array([d[0] * sy * sx + d[1] * sx + d[2] for d in DIRS_3D], dtype=np.int64)
    c2p, c3p = _cooc_flat(qp, ng, offs, _SLOT_2D)
    c2i, c3i = c2p[:, :, 1:, 1:], c3p[:, 1:, 1:].copy()  # without level 0 (outside the ROI)
    for k, s in enumerate(_SLOT_2D):
        if s >= 0:
            c3i[k] = c2i[:, s].sum(axis=0)
    c2 = c2i.astype(float)
    c3 = c3i.astype(float)
    return c2 + c2.transpose(0, 1, 3, 2), c3 + c3.transpose(0, 2, 1)


def _entropy_b(p: Array) -> Array:
    """Entropy (bits) along the trailing axes of a batch (B, ...)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -t.reshape(t.shape[0], t[0].size if t.shape[0] else 0).sum(axis=1)


def _glcm_features_numpy(m: Array, ng: int) -> dict[str, Array]:
    """GLCM features (IBSI 3.6) of a batch of count matrices (B, Ng, Ng), array by array
    (the reference for :func:`glcm_features_batch`)."""
    p = m / m.sum(axis=(1, 2), keepdims=True)
    lv = np.arange(1, ng + 1, dtype=float)
    i = lv[:, None]
    j = lv[None, :]
    pi, pj = p.sum(axis=2), p.sum(axis=1)
    mui, muj = pi @ lv, pj @ lv
    sdi = np.sqrt(np.sum((lv[None] - mui[:, None]) ** 2 * pi, axis=1))
    sdj = np.sqrt(np.sum((lv[None] - muj[:, None]) ** 2 * pj, axis=1))
    diff = np.abs(i - j).astype(int)
    one_d = (diff[None] == np.arange(ng)[:, None, None]).astype(float)  # (Ng, Ng, Ng)
    pd_ = np.einsum("bij,kij->bk", p, one_d)
    k_d = np.arange(ng, dtype=float)
    sm = (i + j).astype(int)
    one_s = (sm[None] == np.arange(2 * ng + 1)[:, None, None]).astype(float)
    ps = np.einsum("bij,kij->bk", p, one_s)
    k_s = np.arange(2 * ng + 1, dtype=float)

    def tot(x: Array) -> Array:
        return x.sum(axis=tuple(range(1, x.ndim)))

    mu = tot(i * p)
    d_avg = pd_ @ k_d
    s_avg = ps @ k_s
    hxy = _entropy_b(p)
    pipj = pi[:, :, None] * pj[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpp = np.where(pipj > 0, np.log2(np.where(pipj > 0, pipj, 1.0)), 0.0)
    hxy1 = -tot(p * logpp)
    hxy2 = -tot(pipj * logpp)
    hx = _entropy_b(pi)
    off = diff > 0
    inv_var_w = np.where(off, 1.0 / np.where(off, (i - j) ** 2, 1.0), 0.0)
    cm = (i + j)[None] - (mui + muj)[:, None, None]
    sd = sdi * sdj
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(sd > 0, (tot(i * j * p) - mui * muj) / np.where(sd > 0, sd, 1.0), np.nan)
        ic1 = np.where(hx > 0, (hxy - hxy1) / np.where(hx > 0, hx, 1.0), np.nan)
    return {
        "joint_maximum": p.max(axis=(1, 2), initial=0.0),
        "joint_average": mu,
        "joint_variance": tot((i - mu[:, None, None]) ** 2 * p),
        "joint_entropy": hxy,
        "difference_average": d_avg,
        "difference_variance": np.sum((k_d[None] - d_avg[:, None]) ** 2 * pd_, axis=1),
        "difference_entropy": _entropy_b(pd_),
        "sum_average": s_avg,
        "sum_variance": np.sum((k_s[None] - s_avg[:, None]) ** 2 * ps, axis=1),
        "sum_entropy": _entropy_b(ps),
        "angular_second_moment": tot(p**2),
        "contrast": tot((i - j) ** 2 * p),
        "dissimilarity": tot(np.abs(i - j) * p),
        "inverse_difference": tot(p / (1 + np.abs(i - j))),
        "normalised_inverse_difference": tot(p / (1 + np.abs(i - j) / ng)),
        "inverse_difference_moment": tot(p / (1 + (i - j) ** 2)),
        "normalised_inverse_difference_moment": tot(p / (1 + (i - j) ** 2 / ng**2)),
        "inverse_variance": tot(p * inv_var_w),
        "correlation": corr,
        "autocorrelation": tot(i * j * p),
        "cluster_tendency": tot(cm**2 * p),
        "cluster_shade": tot(cm**3 * p),
        "cluster_prominence": tot(cm**4 * p),
        "information_correlation_1": ic1,
        "information_correlation_2": np.sqrt(np.maximum(0.0, 1 - np.exp(-2 * (hxy2 - hxy)))),
    }


GLCM_FEATURES = (
    "joint_maximum", "joint_average", "joint_variance", "joint_entropy", "difference_average",
    "difference_variance", "difference_entropy", "sum_average", "sum_variance", "sum_entropy",
    "angular_second_moment", "contrast", "dissimilarity", "inverse_difference",
    "normalised_inverse_difference", "inverse_difference_moment",
    "normalised_inverse_difference_moment", "inverse_variance", "correlation", "autocorrelation",
    "cluster_tendency", "cluster_shade", "cluster_prominence", "information_correlation_1",
    "information_correlation_2",
)  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _glcm_of(
    c: Array,
    nl: int,
    lv: Array,
    ng: int,
    p: Array,
    pi: Array,
    pd: Array,
    ps: Array,
    res: Array,
) -> float:
    """The 25 GLCM features (:data:`GLCM_FEATURES` order) of one matrix into ``res``: the
    counts ``c[:nl, :nl]``, symmetrised as ``c + c.T``, with rows and columns at the grey
    levels ``lv[:nl]`` (1..Ng for a whole ROI; the levels present for a map kernel: absent
    levels add nothing), ``ng`` the number of levels of the discretisation (normalised
    inverse differences). ``p`` (>= nl x nl), ``pi`` (>= nl), ``pd`` (>= Ng) and ``ps``
    (>= 2 Ng + 1) are work arrays; ``c`` is only read. NaN when there is no pair.
    The one implementation of :func:`_glcm_features_numpy` (IBSI 3.6). Returns the sum of
    ``c[:nl, :nl]`` (0: no pair)."""
    tot = 0.0
    for i in range(nl):
        for j in range(nl):
            tot += c[i, j]
    if tot == 0:
        res[:25] = np.nan
        return tot
    tot2 = 2.0 * tot
    lmin = lmax = int(lv[0])
    for i in range(nl):
        pi[i] = 0.0
        g = int(lv[i])
        lmin = min(lmin, g)
        lmax = max(lmax, g)
    for k in range(lmax - lmin + 1):
        pd[k] = 0.0
    for k in range(2 * lmin, 2 * lmax + 1):
        ps[k] = 0.0
    pmax = 0.0
    for i in range(nl):
        gi = int(lv[i])
        for j in range(i, nl):
            v = (c[i, j] + c[j, i]) / tot2
            p[i, j] = v  # upper triangle only (symmetric)
            if v == 0:
                continue
            gj = int(lv[j])
            w = v if i == j else 2.0 * v
            pi[i] += v
            if i != j:
                pi[j] += v
            pd[abs(gi - gj)] += w
            ps[gi + gj] += w
            if v > pmax:
                pmax = v
    mui = 0.0
    for i in range(nl):
        mui += lv[i] * pi[i]
    muj = mui
    vi = hx = 0.0
    for i in range(nl):
        vi += (lv[i] - mui) ** 2 * pi[i]
        if pi[i] > 0:
            hx -= pi[i] * np.log2(pi[i])
    vj = vi
    d_avg = d_ent = 0.0
    for k in range(lmax - lmin + 1):
        if pd[k] > 0:
            d_avg += k * pd[k]
            d_ent -= pd[k] * np.log2(pd[k])
    d_var = 0.0
    for k in range(lmax - lmin + 1):
        d_var += (k - d_avg) ** 2 * pd[k]
    s_avg = s_ent = 0.0
    for k in range(2 * lmin, 2 * lmax + 1):
        if ps[k] > 0:
            s_avg += k * ps[k]
            s_ent -= ps[k] * np.log2(ps[k])
    s_var = 0.0
    for k in range(2 * lmin, 2 * lmax + 1):
        s_var += (k - s_avg) ** 2 * ps[k]
    mu = mui
    mm = mui + muj
    jvar = hxy = hxy1 = hxy2 = asm = con = dis = idf = nid = idm = nidm = ivar = 0.0
    acor = ctend = cshade = cprom = 0.0
    for i in range(nl):
        fi = lv[i]
        for j in range(nl):
            fj = lv[j]
            v = p[i, j] if j >= i else p[j, i]
            pp = pi[i] * pi[j]
            if pp > 0:
                lg = np.log2(pp)
                hxy2 -= pp * lg
                hxy1 -= v * lg
            if v == 0:
                continue
            dd = fi - fj
            ad = abs(dd)
            d2 = dd * dd
            cm = fi + fj - mm
            jvar += (fi - mu) ** 2 * v
            hxy -= v * np.log2(v)
            asm += v * v
            con += d2 * v
            dis += ad * v
            idf += v / (1 + ad)
            nid += v / (1 + ad / ng)
            idm += v / (1 + d2)
            nidm += v / (1 + d2 / ng**2)
            if i != j:
                ivar += v * (1.0 / d2)
            acor += fi * fj * v
            ctend += cm**2 * v
            cshade += cm**3 * v
            cprom += cm**4 * v
    sd = np.sqrt(vi) * np.sqrt(vj)
    res[0], res[1], res[2], res[3] = pmax, mu, jvar, hxy
    res[4], res[5], res[6] = d_avg, d_var, d_ent
    res[7], res[8], res[9] = s_avg, s_var, s_ent
    res[10], res[11], res[12], res[13] = asm, con, dis, idf
    res[14], res[15], res[16], res[17] = nid, idm, nidm, ivar
    res[18] = (acor - mui * muj) / sd if sd > 0 else np.nan
    res[19], res[20], res[21], res[22] = acor, ctend, cshade, cprom
    res[23] = (hxy - hxy1) / hx if hx > 0 else np.nan
    res[24] = np.sqrt(max(0.0, 1 - np.exp(-2 * (hxy2 - hxy))))
    return tot


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _glcm_kernel(m: Array, ng: int) -> Array:
    """The 25 GLCM features (:data:`GLCM_FEATURES` order) of each symmetric count matrix of a
    batch (B, Ng, Ng): :func:`_glcm_of` at grey levels 1..Ng."""
    nb = m.shape[0]
    out = np.empty((nb, 25))
    lv = np.arange(1.0, ng + 1.0)
    p = np.empty((ng, ng))
    pi = np.empty(ng)
    pd = np.empty(ng)
    ps = np.empty(2 * ng + 1)
    for b in range(nb):
        _glcm_of(m[b], ng, lv, ng, p, pi, pd, ps, out[b])
    return out


def glcm_features_batch(m: Array, ng: int) -> dict[str, Array]:
    """GLCM features (IBSI 3.6) of a batch of count matrices (B, Ng, Ng)."""
    res = _glcm_kernel(np.ascontiguousarray(m, dtype=np.float64), ng)
    return {name: res[:, k] for k, name in enumerate(GLCM_FEATURES)}


def glcm_features(m: Array, ng: int) -> dict[str, float]:
    """GLCM features of one count matrix (IBSI 3.6)."""
    return {k: float(v[0]) for k, v in glcm_features_batch(m[None], ng).items()}


GLCM_CODES = {
    "joint_maximum": "GYBY", "joint_average": "60VM", "joint_variance": "UR99",
    "joint_entropy": "TU9B", "difference_average": "TF7R", "difference_variance": "D3YU",
    "difference_entropy": "NTRS", "sum_average": "ZGXS", "sum_variance": "OEEB",
    "sum_entropy": "P6QZ", "angular_second_moment": "8ZQL", "contrast": "ACUI",
    "dissimilarity": "8S9J", "inverse_difference": "IB1Z",
    "normalised_inverse_difference": "NDRX", "inverse_difference_moment": "WF0Z",
    "normalised_inverse_difference_moment": "1QCO", "inverse_variance": "E8JP",
    "correlation": "NI2N", "autocorrelation": "QWB0", "cluster_tendency": "DG8W",
    "cluster_shade": "7NFM", "cluster_prominence": "AE86", "information_correlation_1": "R8DG",
    "information_correlation_2": "JN9H",
}  # fmt: skip


@numba.njit(cache=True)
def _runs(q: NDArray[np.int64], dz: int, dy: int, dx: int, ng: int, maxlen: int) -> Array:
    nz, ny, nx = q.shape
    out = np.zeros((nz, ng, maxlen))
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                g = q[z, y, x]
                if g == 0:
                    continue
                pz, py, px = z - dz, y - dy, x - dx
                if 0 <= pz < nz and 0 <= py < ny and 0 <= px < nx and q[pz, py, px] == g:
                    continue  # not the start of a run
                length = 1
                cz, cy, cx = z + dz, y + dy, x + dx
                while 0 <= cz < nz and 0 <= cy < ny and 0 <= cx < nx and q[cz, cy, cx] == g:
                    length += 1
                    cz += dz
                    cy += dy
                    cx += dx
                out[z, g - 1, length - 1] += 1.0
    return out


def glrlm_matrices(q: NDArray[np.int64], ng: int, dirs: tuple[tuple[int, int, int], ...]) -> Array:
    """Run-length counts per (start) slice and direction: (n_slices, n_dirs, Ng, max run)."""
    maxlen = max(q.shape)
    qq = np.ascontiguousarray(q, dtype=np.int64)
    return np.stack([_runs(qq, d[0], d[1], d[2], ng, maxlen) for d in dirs], axis=1)


@numba.njit(cache=True, nogil=True)
def _runs_all(
    qp: NDArray[np.int32],
    ng: int,
    offs: NDArray[np.int64],
    slot2: NDArray[np.int64],
    maxlen: int,
    run: NDArray[np.integer],
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Run lengths for every direction in one raster pass over ``qp`` (zero-padded by one).

    ``offs`` are the directions as flat offsets, all positive, so ``v - d`` precedes ``v``: the
    length of the run reaching ``v`` comes from a ring buffer and is counted where the run
    ends (``v + d`` of another grey level). Branch-free inner loop. In-slice directions are
    counted per slice into (slices, 4, Ng, maxlen) at their 2D slot, the others into
    (dirs, Ng, maxlen). ``run``: the ring buffer (dirs, a power of two > every offset), of an
    integer type that holds ``maxlen`` (int16 where it can: half the cache footprint).
    """
    nz = qp.shape[0] - 2
    sz = qp.shape[1] * qp.shape[2]
    qf = qp.ravel()
    nd = offs.shape[0]
    base = np.empty(nd, dtype=np.int64)
    zstride = np.empty(nd, dtype=np.int64)
    n2 = nz * 4 * ng * maxlen
    for k in range(nd):
        if slot2[k] >= 0:
            base[k] = slot2[k] * ng * maxlen
            zstride[k] = 4 * ng * maxlen
        else:
            base[k] = n2 + k * ng * maxlen
            zstride[k] = 0
    cnt = np.zeros(n2 + nd * ng * maxlen, dtype=np.int32)
    mask = run.shape[1] - 1
    for z in range(nz):
        for v in range((z + 1) * sz, (z + 2) * sz):
            g = qf[v]
            if g == 0:
                continue
            vm = v & mask
            cell = (g - 1) * maxlen - 1
            for k in range(nd):
                o = offs[k]
                length = 1 + (qf[v - o] == g) * run[k, (v - o) & mask]
                run[k, vm] = length
                cnt[base[k] + z * zstride[k] + cell + length] += qf[v + o] != g
    return cnt[:n2].reshape(nz, 4, ng, maxlen), cnt[n2:].reshape(nd, ng, maxlen)


def glrlm_all(q: NDArray[np.int64], ng: int) -> tuple[Array, Array]:
    """Run-length counts per slice for :data:`DIRS_2D` (slices, 4, Ng, L) and per direction
    over the volume for :data:`DIRS_3D` (13, Ng, L), from one pass."""
    qp = np.pad(q.astype(np.int32), 1)
    sy, sx = qp.shape[1], qp.shape[2]
    offs = np.array([d[0] * sy * sx + d[1] * sx + d[2] for d in DIRS_3D], dtype=np.int64)
    maxlen = max(q.shape)
    ring = 1 << int(offs.max()).bit_length()  # > every offset: v - d is not yet overwritten
    run = np.zeros((offs.size, ring), dtype=np.int16 if maxlen < 2**15 else np.int32)
    r2i, r3i = _runs_all(qp, ng, offs, _SLOT_2D, maxlen, run)
    r2, r3 = r2i.astype(float), r3i.astype(float)
    for k, s in enumerate(_SLOT_2D):
        if s >= 0:
            r3[k] = r2[:, s].sum(axis=0)
    return r2, r3


def _size_features_numpy(
    m: Array, n_voxels: Array, names: dict[str, str], j: Array | None = None
) -> dict[str, Array]:
    """Features shared by run-length, size-zone, distance-zone and dependence matrices.

    ``m`` is a batch (B, Ng, J) with grey level i = 1..Ng and size/length/distance
    ``j`` (default 1..J; pass the values when the columns hold only the sizes that occur);
    ``n_voxels`` (B,). Columns without counts do not change any feature and are dropped.
    """
    jv = np.arange(1.0, m.shape[2] + 1) if j is None else np.asarray(j, dtype=float)
    cols = np.flatnonzero(m.sum(axis=(0, 1)))
    if cols.size == 0:
        cols = np.zeros(1, dtype=np.int64)
    if cols.size < m.shape[2]:
        m, jv = m[:, :, cols], jv[cols]
    b, ng, _ = m.shape
    iv = np.arange(1.0, ng + 1)
    i2, j2 = iv**2, jv**2
    mi, mj = m.sum(axis=2), m.sum(axis=1)
    ns = mi.sum(axis=1)
    m_sj = m @ (1.0 / j2)  # (B, Ng): sum over j of m / j^2
    m_lj = m @ j2
    mu_i = (mi @ iv) / ns
    mu_j = (mj @ jv) / ns
    # entropy and energy over the non-zero cells only
    flat = m.reshape(b, -1)
    row, cell = np.nonzero(flat)
    pv = flat[row, cell] / ns[row]
    out = {
        "se": (mj @ (1.0 / j2)) / ns,
        "le": (mj @ j2) / ns,
        "lge": (mi @ (1.0 / i2)) / ns,
        "hge": (mi @ i2) / ns,
        "slge": (m_sj @ (1.0 / i2)) / ns,
        "shge": (m_sj @ i2) / ns,
        "llge": (m_lj @ (1.0 / i2)) / ns,
        "lhge": (m_lj @ i2) / ns,
        "glnu": np.sum(mi**2, axis=1) / ns,
        "glnu_norm": np.sum(mi**2, axis=1) / ns**2,
        "snu": np.sum(mj**2, axis=1) / ns,
        "snu_norm": np.sum(mj**2, axis=1) / ns**2,
        "perc": ns / n_voxels,
        "gl_var": np.sum((iv[None] - mu_i[:, None]) ** 2 * mi, axis=1) / ns,
        "s_var": np.sum((jv[None] - mu_j[:, None]) ** 2 * mj, axis=1) / ns,
        "s_entr": -np.bincount(row, weights=pv * np.log2(pv), minlength=b),
        "energy": np.bincount(row, weights=pv * pv, minlength=b),
    }
    return {names[k]: v for k, v in out.items() if k in names}


SIZE_KEYS = (
    "se", "le", "lge", "hge", "slge", "shge", "llge", "lhge", "glnu", "glnu_norm", "snu",
    "snu_norm", "perc", "gl_var", "s_var", "s_entr", "energy",
)  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _size_of(
    m: Array,
    nl: int,
    nj: int,
    lv: Array,
    jv: Array,
    n_voxels: float,
    mi: Array,
    mj: Array,
    res: Array,
    clear: bool = False,
) -> None:
    """The 17 :data:`SIZE_KEYS` features of one matrix ``m[:nl, :nj]`` into ``res``: rows at
    grey levels ``lv`` (1..Ng for a whole ROI; the levels present for a map kernel), columns
    at sizes (lengths, distances, dependence counts + 1) ``jv``; absent levels and sizes add
    nothing. ``mi`` (>= nl) and ``mj`` (>= nj) are work arrays; ``m[:nl, :nj]`` is zeroed
    when ``clear`` (a map kernel's matrix, ready for the next kernel), else only read.
    The one implementation of :func:`_size_features_numpy` (IBSI 3.7-3.9, 3.11)."""
    for i in range(nl):
        mi[i] = 0.0
    for k in range(nj):
        mj[k] = 0.0
    slge = shge = llge = lhge = 0.0
    ns = 0.0
    for i in range(nl):
        fi2 = lv[i] * lv[i]
        rs = rl = 0.0
        for k in range(nj):
            v = m[i, k]
            if v != 0:
                mi[i] += v
                mj[k] += v
                rs += v * (1.0 / jv[k] ** 2)
                rl += v * jv[k] ** 2
        slge += rs * (1.0 / fi2)
        shge += rs * fi2
        llge += rl * (1.0 / fi2)
        lhge += rl * fi2
        ns += mi[i]
    se = le = snu = mu_j = 0.0
    for k in range(nj):
        se += mj[k] * (1.0 / jv[k] ** 2)
        le += mj[k] * jv[k] ** 2
        snu += mj[k] ** 2
        mu_j += mj[k] * jv[k]
    lge = hge = glnu = mu_i = 0.0
    for i in range(nl):
        fi = lv[i]
        lge += mi[i] * (1.0 / fi**2)
        hge += mi[i] * fi**2
        glnu += mi[i] ** 2
        mu_i += mi[i] * fi
    mu_i /= ns
    mu_j /= ns
    gl_var = s_var = 0.0
    for i in range(nl):
        gl_var += (lv[i] - mu_i) ** 2 * mi[i]
    for k in range(nj):
        s_var += (jv[k] - mu_j) ** 2 * mj[k]
    ent = energy = 0.0
    for i in range(nl):
        for k in range(nj):
            v = m[i, k]
            if v != 0:
                pv = v / ns
                ent += pv * np.log2(pv)
                energy += pv * pv
                if clear:
                    m[i, k] = 0.0
    res[0], res[1], res[2], res[3] = se / ns, le / ns, lge / ns, hge / ns
    res[4], res[5], res[6], res[7] = slge / ns, shge / ns, llge / ns, lhge / ns
    res[8], res[9], res[10], res[11] = glnu / ns, glnu / ns**2, snu / ns, snu / ns**2
    res[12], res[13], res[14] = ns / n_voxels, gl_var / ns, s_var / ns
    res[15], res[16] = -ent, energy


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _size_kernel(m: Array, jv: Array, n_voxels: Array) -> Array:
    """The 17 :data:`SIZE_KEYS` features of each matrix of a batch (B, Ng, J):
    :func:`_size_of` at grey levels 1..Ng."""
    nb, ng, nj = m.shape
    out = np.empty((nb, 17))
    lv = np.arange(1.0, ng + 1.0)
    mi = np.empty(ng)
    mj = np.empty(nj)
    for b in range(nb):
        _size_of(m[b], ng, nj, lv, jv, n_voxels[b], mi, mj, out[b])
    return out


def _size_features_batch(
    m: Array, n_voxels: Array, names: dict[str, str], j: Array | None = None
) -> dict[str, Array]:
    """Size-type features (GLRLM, GLSZM, GLDZM, NGLDM; IBSI 3.7-3.9, 3.11) of a batch
    (B, Ng, J) with sizes ``j`` (default 1..J), as :func:`_size_features_numpy`."""
    jv = np.arange(1.0, m.shape[2] + 1) if j is None else np.asarray(j, dtype=float)
    res = _size_kernel(
        np.ascontiguousarray(m, dtype=np.float64), jv, np.asarray(n_voxels, dtype=np.float64)
    )
    return {names[k]: res[:, c] for c, k in enumerate(SIZE_KEYS) if k in names}


def _size_features(
    m: Array, n_voxels: float, names: dict[str, str], j: Array | None = None
) -> dict[str, float]:
    """:func:`_size_features_batch` of one matrix (Ng, J)."""
    res = _size_features_batch(m[None], np.array([float(n_voxels)]), names, j)
    return {k: float(v[0]) for k, v in res.items()}


GLRLM_NAMES = {
    "se": "short_runs_emphasis", "le": "long_runs_emphasis",
    "lge": "low_grey_level_run_emphasis", "hge": "high_grey_level_run_emphasis",
    "slge": "short_run_low_grey_level_emphasis", "shge": "short_run_high_grey_level_emphasis",
    "llge": "long_run_low_grey_level_emphasis", "lhge": "long_run_high_grey_level_emphasis",
    "glnu": "grey_level_non_uniformity", "glnu_norm": "normalised_grey_level_non_uniformity",
    "snu": "run_length_non_uniformity", "snu_norm": "normalised_run_length_non_uniformity",
    "perc": "run_percentage", "gl_var": "grey_level_variance", "s_var": "run_length_variance",
    "s_entr": "run_entropy",
}  # fmt: skip
GLRLM_CODES = dict(zip(GLRLM_NAMES.values(), (
    "22OV", "W4KF", "V3SW", "G3QZ", "HTZT", "GD3A", "IVPO", "3KUM", "R5YN", "OVBL", "W92Y",
    "IC23", "9ZK5", "8CE5", "SXLW", "HJ9O"), strict=True))  # fmt: skip

GLSZM_NAMES = {
    "se": "small_zone_emphasis", "le": "large_zone_emphasis",
    "lge": "low_grey_level_zone_emphasis", "hge": "high_grey_level_zone_emphasis",
    "slge": "small_zone_low_grey_level_emphasis", "shge": "small_zone_high_grey_level_emphasis",
    "llge": "large_zone_low_grey_level_emphasis", "lhge": "large_zone_high_grey_level_emphasis",
    "glnu": "grey_level_non_uniformity", "glnu_norm": "normalised_grey_level_non_uniformity",
    "snu": "zone_size_non_uniformity", "snu_norm": "normalised_zone_size_non_uniformity",
    "perc": "zone_percentage", "gl_var": "grey_level_variance", "s_var": "zone_size_variance",
    "s_entr": "zone_size_entropy",
}  # fmt: skip
GLSZM_CODES = dict(zip(GLSZM_NAMES.values(), (
    "5QRC", "48P8", "XMSY", "5GN9", "5RAI", "HW1V", "YH51", "J17V", "JNSA", "Y1RO", "4JP3",
    "VB3A", "P30P", "BYLV", "3NSA", "GU8N"), strict=True))  # fmt: skip

GLDZM_NAMES = {
    "se": "small_distance_emphasis", "le": "large_distance_emphasis",
    "lge": "low_grey_level_zone_emphasis", "hge": "high_grey_level_zone_emphasis",
    "slge": "small_distance_low_grey_level_emphasis",
    "shge": "small_distance_high_grey_level_emphasis",
    "llge": "large_distance_low_grey_level_emphasis",
    "lhge": "large_distance_high_grey_level_emphasis",
    "glnu": "grey_level_non_uniformity", "glnu_norm": "normalised_grey_level_non_uniformity",
    "snu": "zone_distance_non_uniformity", "snu_norm": "normalised_zone_distance_non_uniformity",
    "perc": "zone_percentage", "gl_var": "grey_level_variance",
    "s_var": "zone_distance_variance", "s_entr": "zone_distance_entropy",
}  # fmt: skip
GLDZM_CODES = dict(zip(GLDZM_NAMES.values(), (
    "0GBI", "MB4I", "S1RA", "K26C", "RUVG", "DKNJ", "A7WM", "KLTH", "VFT7", "7HP3", "V294",
    "IATH", "VIWW", "QK93", "7WT1", "GBDU"), strict=True))  # fmt: skip

NGLDM_NAMES = {
    "se": "low_dependence_emphasis", "le": "high_dependence_emphasis",
    "lge": "low_grey_level_count_emphasis", "hge": "high_grey_level_count_emphasis",
    "slge": "low_dependence_low_grey_level_emphasis",
    "shge": "low_dependence_high_grey_level_emphasis",
    "llge": "high_dependence_low_grey_level_emphasis",
    "lhge": "high_dependence_high_grey_level_emphasis",
    "glnu": "grey_level_non_uniformity", "glnu_norm": "normalised_grey_level_non_uniformity",
    "snu": "dependence_count_non_uniformity",
    "snu_norm": "normalised_dependence_count_non_uniformity",
    "perc": "dependence_count_percentage", "gl_var": "grey_level_variance",
    "s_var": "dependence_count_variance", "s_entr": "dependence_count_entropy",
    "energy": "dependence_count_energy",
}  # fmt: skip
NGLDM_CODES = dict(zip(NGLDM_NAMES.values(), (
    "SODN", "IMOQ", "TL9H", "OAE7", "EQ3F", "JA6D", "NBZI", "9QMG", "FP8K", "5SPA", "Z87G",
    "OKJI", "6XV8", "1PFV", "DNX2", "FCBV", "CAS9"), strict=True))  # fmt: skip


_IN_SLICE = sum(1 << k for k, d in enumerate(DIRS_3D) if d[0] == 0)
# bit position of 2**k from 2**k % 37 (distinct for k < 36)
_BIT = np.zeros(37, dtype=np.int64)
_BIT[[(1 << k) % 37 for k in range(36)]] = np.arange(36)


@numba.njit(cache=True, nogil=True)
def _find(parent: NDArray[np.signedinteger], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True, nogil=True)
def _union(parent: NDArray[np.signedinteger], cur: int, other: int, none: int) -> int:
    """Join the zone of root ``other`` (an equal neighbour's) to the voxel's zone ``cur``
    (``none``: not yet in a zone): the larger root points to the smaller, which is returned
    (the voxel's zone from now on)."""
    if cur == none:
        return other
    if other < cur:
        parent[cur] = other
        return other
    if other > cur:
        parent[other] = cur
    return cur


@numba.njit(cache=True, nogil=True)
def _zones(
    qp: NDArray[np.int32], dp: NDArray[np.int64], offs: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Connected zones of equal grey level in ``qp`` (zero-padded by one voxel).

    ``offs``: flat offsets of the neighbours already visited in raster order (13 for 26-
    connectivity, 4 for in-slice 8-connectivity). One raster pass with union-find; returns per
    zone its grey level, size, smallest ``dp`` and slice (of its first voxel).
    """
    qf, df = qp.ravel(), dp.ravel()
    sz = qp.shape[1] * qp.shape[2]
    nz = qp.shape[0] - 2
    nvox = 0
    for v in range(qf.size):
        if qf[v] > 0:
            nvox += 1
    lab = np.empty(qf.size, dtype=np.int32)
    parent = np.empty(nvox + 1, dtype=np.int32)
    level = np.empty(nvox + 1, dtype=np.int64)
    size = np.zeros(nvox + 1, dtype=np.int64)
    dmin = np.empty(nvox + 1, dtype=np.int64)
    zs = np.empty(nvox + 1, dtype=np.int64)
    n = 0
    for z in range(nz):
        for v in range((z + 1) * sz, (z + 2) * sz):
            g = qf[v]
            if g == 0:
                continue
            eq = 0  # equal earlier neighbours as a bit mask (no branch per neighbour)
            for k in range(offs.shape[0]):
                eq |= int(qf[v - offs[k]] == g) << k
            cur = 0
            while eq:
                low = eq & -eq
                eq ^= low
                cur = _union(parent, cur, _find(parent, lab[v - offs[_BIT[low % 37]]]), 0)
            if cur == 0:
                n += 1
                cur = n
                parent[n] = n
                level[n] = g
                zs[n] = z
                dmin[n] = df[v]
            lab[v] = cur
            size[cur] += 1
            if df[v] < dmin[cur]:
                dmin[cur] = df[v]
    # fold every provisional label into its root (the zone's smallest label, so a parent
    # always precedes its children)
    m = 0
    for i in range(1, n + 1):
        r = parent[i]
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
        if r != i:
            size[r] += size[i]
            if dmin[i] < dmin[r]:
                dmin[r] = dmin[i]
    for i in range(1, n + 1):
        if parent[i] == i:
            level[m], size[m], dmin[m], zs[m] = level[i], size[i], dmin[i], zs[i]
            m += 1
    return level[:m], size[:m], dmin[:m], zs[:m]


@numba.njit(cache=True, nogil=True)
def _zones_2d3d(
    qp: NDArray[np.int32],
    dp2: NDArray[np.int64],
    dp3: NDArray[np.int64],
    offs: NDArray[np.int64],
    in_slice: int,
) -> tuple[NDArray[np.int64], ...]:
    """:func:`_zones` for 8-connected in-slice zones and 26-connected zones from one raster
    pass: ``offs`` the 13 earlier 26-neighbours, bit ``k`` of ``in_slice`` marking the 4 in-
    slice ones (two union-finds, one per connectivity). Returns level, size, smallest ``dp2``
    and slice of the 2D zones, then level, size, smallest ``dp3`` of the 3D zones."""
    qf, d2f, d3f = qp.ravel(), dp2.ravel(), dp3.ravel()
    sz = qp.shape[1] * qp.shape[2]
    nz = qp.shape[0] - 2
    nvox = 0
    for v in range(qf.size):
        if qf[v] > 0:
            nvox += 1
    lab2 = np.empty(qf.size, dtype=np.int32)
    lab3 = np.empty(qf.size, dtype=np.int32)
    par2 = np.empty(nvox + 1, dtype=np.int32)
    par3 = np.empty(nvox + 1, dtype=np.int32)
    lev2 = np.empty(nvox + 1, dtype=np.int64)
    lev3 = np.empty(nvox + 1, dtype=np.int64)
    size2 = np.zeros(nvox + 1, dtype=np.int64)
    size3 = np.zeros(nvox + 1, dtype=np.int64)
    dmin2 = np.empty(nvox + 1, dtype=np.int64)
    dmin3 = np.empty(nvox + 1, dtype=np.int64)
    zs = np.empty(nvox + 1, dtype=np.int64)
    n2 = n3 = 0
    for z in range(nz):
        for v in range((z + 1) * sz, (z + 2) * sz):
            g = qf[v]
            if g == 0:
                continue
            # equal earlier neighbours as a bit mask (no data-dependent branch per neighbour)
            eq = 0
            for k in range(13):
                eq |= int(qf[v - offs[k]] == g) << k
            c2 = c3 = 0
            m3, m2 = eq, eq & in_slice
            while m3:
                low = m3 & -m3
                m3 ^= low
                c3 = _union(par3, c3, _find(par3, lab3[v - offs[_BIT[low % 37]]]), 0)
            while m2:
                low = m2 & -m2
                m2 ^= low
                c2 = _union(par2, c2, _find(par2, lab2[v - offs[_BIT[low % 37]]]), 0)
            if c3 == 0:
                n3 += 1
                c3 = n3
                par3[n3] = n3
                lev3[n3] = g
                dmin3[n3] = d3f[v]
            if c2 == 0:
                n2 += 1
                c2 = n2
                par2[n2] = n2
                lev2[n2] = g
                zs[n2] = z
                dmin2[n2] = d2f[v]
            lab3[v] = c3
            lab2[v] = c2
            size3[c3] += 1
            size2[c2] += 1
            if d3f[v] < dmin3[c3]:
                dmin3[c3] = d3f[v]
            if d2f[v] < dmin2[c2]:
                dmin2[c2] = d2f[v]
    m2 = _fold_zones(par2, lev2, size2, dmin2, zs, n2)
    m3 = _fold_zones(par3, lev3, size3, dmin3, zs, n3, False)
    return lev2[:m2], size2[:m2], dmin2[:m2], zs[:m2], lev3[:m3], size3[:m3], dmin3[:m3]


@numba.njit(cache=True, nogil=True)
def _fold_zones(
    parent: NDArray[np.int32],
    level: NDArray[np.int64],
    size: NDArray[np.int64],
    dmin: NDArray[np.int64],
    zs: NDArray[np.int64],
    n: int,
    with_z: bool = True,
) -> int:
    """Fold every provisional label into its root (the zone's smallest label) and compact the
    roots to the front of the arrays; returns the number of zones."""
    m = 0
    for i in range(1, n + 1):
        r = parent[i]
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
        if r != i:
            size[r] += size[i]
            if dmin[i] < dmin[r]:
                dmin[r] = dmin[i]
    for i in range(1, n + 1):
        if parent[i] == i:
            level[m], size[m], dmin[m] = level[i], size[i], dmin[i]
            if with_z:
                zs[m] = zs[i]
            m += 1
    return m


def _zone_counts(
    level: NDArray[np.int64],
    size: NDArray[np.int64],
    dmin: NDArray[np.int64],
    row: NDArray[np.int64],
    nz: int,
    ng: int,
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Size-zone and distance-zone count matrices (nz, Ng, J) with their column values from
    the zones' levels, sizes, distances and matrix rows (``slice * Ng + level - 1``)."""
    out = []
    for value in (size, dmin):
        uniq, inv = np.unique(value, return_inverse=True)
        if uniq.size == 0:
            uniq, inv = np.ones(1, dtype=np.int64), inv
        nu = uniq.size
        m = np.bincount(row * nu + inv, minlength=nz * ng * nu).reshape(nz, ng, nu)
        out.append((m.astype(float), uniq.astype(float)))
    return out[0], out[1]


def _zone_matrices_2d3d(
    q: NDArray[np.int64], ng: int, dist2: NDArray[np.int64], dist3: NDArray[np.int64]
) -> tuple[tuple[tuple[Array, Array], tuple[Array, Array]], ...]:
    """:func:`_zone_matrices` in 2D and in 3D from one labelling pass."""
    qp = np.pad(q.astype(np.int32), 1)
    sy, sx = qp.shape[1], qp.shape[2]
    offs = np.array([d[0] * sy * sx + d[1] * sx + d[2] for d in DIRS_3D], dtype=np.int64)
    lev2, size2, dmin2, zs, lev3, size3, dmin3 = _zones_2d3d(
        qp, np.pad(dist2.astype(np.int64), 1), np.pad(dist3.astype(np.int64), 1), offs, _IN_SLICE
    )
    two = _zone_counts(lev2, size2, dmin2, zs * ng + (lev2 - 1), q.shape[0], ng)
    three = _zone_counts(lev3, size3, dmin3, lev3 - 1, 1, ng)
    return two, three


def _zone_matrices(
    q: NDArray[np.int64], ng: int, dist: NDArray[np.int64], three_d: bool
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Size-zone and distance-zone counts, each as (matrix, column values).

    The columns hold only the sizes (distances) that occur. 2D (8-connected zones within each
    slice): (n_slices, Ng, J); 3D (26-connected): (1, Ng, J).
    """
    qp = np.pad(q.astype(np.int32), 1)
    sy, sx = qp.shape[1], qp.shape[2]
    offs = np.array(
        [d[0] * sy * sx + d[1] * sx + d[2] for d in (DIRS_3D if three_d else DIRS_2D)],
        dtype=np.int64,
    )
    level, size, dmin, zs = _zones(qp, np.pad(dist.astype(np.int64), 1), offs)
    nz = 1 if three_d else q.shape[0]
    row = (level - 1) if three_d else zs * ng + (level - 1)
    return _zone_counts(level, size, dmin, row, nz, ng)


@numba.njit(cache=True, nogil=True)
def _taxicab(roi: NDArray[np.bool_], three_d: bool) -> NDArray[np.int64]:
    """Two-pass city-block distance of each ROI voxel to the nearest non-ROI voxel, outside
    the array counting as non-ROI (in-slice only when not ``three_d``)."""
    nz, ny, nx = roi.shape
    d = np.zeros(roi.shape, dtype=np.int64)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                if not roi[z, y, x]:
                    continue
                v = (d[z, y - 1, x] if y > 0 else 0) + 1
                w = (d[z, y, x - 1] if x > 0 else 0) + 1
                if w < v:
                    v = w
                if three_d:
                    w = (d[z - 1, y, x] if z > 0 else 0) + 1
                    if w < v:
                        v = w
                d[z, y, x] = v
    for z in range(nz - 1, -1, -1):
        for y in range(ny - 1, -1, -1):
            for x in range(nx - 1, -1, -1):
                if not roi[z, y, x]:
                    continue
                v = d[z, y, x]
                w = (d[z, y + 1, x] if y < ny - 1 else 0) + 1
                if w < v:
                    v = w
                w = (d[z, y, x + 1] if x < nx - 1 else 0) + 1
                if w < v:
                    v = w
                if three_d:
                    w = (d[z + 1, y, x] if z < nz - 1 else 0) + 1
                    if w < v:
                        v = w
                d[z, y, x] = v
    return d


def _border_distance(roi: NDArray[np.bool_], three_d: bool) -> NDArray[np.int64]:
    """Taxicab distance of each ROI voxel to the ROI edge (edge voxels = 1)."""
    return _taxicab(np.ascontiguousarray(roi, dtype=np.bool_), three_d)


@numba.njit(cache=True)
def _neighbourhood(q: NDArray[np.int64], three_d: bool, ng: int) -> tuple[Array, Array, Array]:
    """Per slice: NGTDM s_i and n_i, and the NGLDM matrix (grey level x dependence count + 1)."""
    nz, ny, nx = q.shape
    s = np.zeros((nz, ng))
    n = np.zeros((nz, ng))
    dep = np.zeros((nz, ng, 27))
    rz = 1 if three_d else 0
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                g = q[z, y, x]
                if g == 0:
                    continue
                total = 0.0
                count = 0
                same = 0
                for a in range(-rz, rz + 1):
                    for b in range(-1, 2):
                        for c in range(-1, 2):
                            if a == 0 and b == 0 and c == 0:
                                continue
                            zz, yy, xx = z + a, y + b, x + c
                            if 0 <= zz < nz and 0 <= yy < ny and 0 <= xx < nx:
                                h = q[zz, yy, xx]
                                if h > 0:
                                    total += h
                                    count += 1
                                    if h == g:
                                        same += 1
                dep[z, g - 1, same] += 1.0
                if count > 0:
                    s[z, g - 1] += abs(g - total / count)
                    n[z, g - 1] += 1.0
    return s, n, dep


@numba.njit(cache=True, nogil=True)
def _neighbourhood_2d3d(
    qp: NDArray[np.int32], ng: int
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """:func:`_neighbourhood` in 2D and in 3D from one branch-free pass over ``qp`` (zero-
    padded by one voxel: outside counts as outside the ROI); the in-slice neighbours first,
    then those of the adjacent slices (the sums are of integers, so exact in any order)."""
    nz, ny, nx = qp.shape[0] - 2, qp.shape[1] - 2, qp.shape[2] - 2
    s2, n2, dep2 = np.zeros((nz, ng)), np.zeros((nz, ng)), np.zeros((nz, ng, 27))
    s3, n3, dep3 = np.zeros((nz, ng)), np.zeros((nz, ng)), np.zeros((nz, ng, 27))
    for z in range(1, nz + 1):
        for y in range(1, ny + 1):
            for x in range(1, nx + 1):
                g = qp[z, y, x]
                if g == 0:
                    continue
                total = 0
                count = 0
                same = 0
                for b in range(-1, 2):
                    for c in range(-1, 2):
                        h = qp[z, y + b, x + c]
                        total += h
                        count += h > 0
                        same += h == g
                total -= g  # the centre voxel itself
                count -= 1
                same -= 1
                dep2[z - 1, g - 1, same] += 1.0
                if count > 0:
                    s2[z - 1, g - 1] += abs(g - total / count)
                    n2[z - 1, g - 1] += 1.0
                for a in (-1, 1):
                    for b in range(-1, 2):
                        for c in range(-1, 2):
                            h = qp[z + a, y + b, x + c]
                            total += h
                            count += h > 0
                            same += h == g
                dep3[z - 1, g - 1, same] += 1.0
                if count > 0:
                    s3[z - 1, g - 1] += abs(g - total / count)
                    n3[z - 1, g - 1] += 1.0
    return s2, n2, dep2, s3, n3, dep3


def ngtdm_features(s: Array, n: Array) -> dict[str, float]:
    """NGTDM features (IBSI 3.10) from s_i and n_i (the reference for :func:`_ngtdm_kernel`)."""
    nvc = n.sum()
    p = n / nvc
    lv = np.arange(1, p.size + 1, dtype=float)
    ok = p > 0
    ngp = int(ok.sum())
    pi, pj = p[ok][:, None], p[ok][None, :]
    li, lj = lv[ok][:, None], lv[ok][None, :]
    si, sj = s[ok][:, None], s[ok][None, :]
    ps = float(np.sum(p * s))
    busy_den = float(np.sum(np.abs(li * pi - lj * pj)))
    return {
        "coarseness": 1.0 / ps if ps > 0 else 1e6,
        "contrast": float(np.sum(pi * pj * (li - lj) ** 2)) / (ngp * (ngp - 1)) * s.sum() / nvc
        if ngp > 1
        else 0.0,
        "busyness": ps / busy_den if busy_den > 0 else 0.0,
        "complexity": float(np.sum(np.abs(li - lj) * (pi * si + pj * sj) / (pi + pj))) / nvc,
        "strength": float(np.sum((pi + pj) * (li - lj) ** 2)) / s.sum() if s.sum() > 0 else 0.0,
    }


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ngtdm_of(s: Array, n: Array, nl: int, lv: Array, res: Array) -> None:
    """NGTDM features (coarseness, contrast, busyness, complexity, strength) of one ``s[:nl]``,
    ``n[:nl]`` at grey levels ``lv`` (1..Ng for a whole ROI; the levels present for a map
    kernel) into ``res``, over the pairs of occurring levels. The one implementation of
    :func:`ngtdm_features` (IBSI 3.10); with no neighbour at all (n = 0) coarseness is 1e6
    and complexity NaN."""
    nvc = ssum = 0.0
    for i in range(nl):
        nvc += n[i]
        ssum += s[i]
    ps = 0.0
    for i in range(nl):
        ps += n[i] / nvc * s[i]
    con = busy = comp = stren = 0.0
    kk = 0
    for i in range(nl):
        if n[i] == 0:
            continue
        kk += 1
        pi = n[i] / nvc
        for j in range(nl):
            if n[j] == 0:
                continue
            pj = n[j] / nvc
            dl = lv[i] - lv[j]
            con += pi * pj * dl**2
            busy += abs(lv[i] * pi - lv[j] * pj)
            comp += abs(dl) * (pi * s[i] + pj * s[j]) / (pi + pj)
            stren += (pi + pj) * dl**2
    res[0] = 1.0 / ps if ps > 0 else 1e6
    res[1] = con / (kk * (kk - 1)) * ssum / nvc if kk > 1 else 0.0
    res[2] = ps / busy if busy > 0 else 0.0
    res[3] = comp / nvc
    res[4] = stren / ssum if ssum > 0 else 0.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ngtdm_kernel(s: Array, n: Array) -> Array:
    """:func:`_ngtdm_of` of each row of a batch of s_i and n_i (B, Ng), grey levels 1..Ng."""
    nb, ng = s.shape
    out = np.empty((nb, 5))
    lv = np.arange(1.0, ng + 1.0)
    for b in range(nb):
        _ngtdm_of(s[b], n[b], ng, lv, out[b])
    return out


def ngtdm_features_batch(s: Array, n: Array) -> dict[str, Array]:
    """NGTDM features (IBSI 3.10) of a batch of s_i and n_i (B, Ng)."""
    res = _ngtdm_kernel(
        np.ascontiguousarray(s, dtype=np.float64), np.ascontiguousarray(n, dtype=np.float64)
    )
    return {name: res[:, c] for c, name in enumerate(NGTDM_CODES)}


NGTDM_CODES = {
    "coarseness": "QCDE",
    "contrast": "65HE",
    "busyness": "NQ30",
    "complexity": "HDEZ",
    "strength": "1X9X",
}


def _mean_b(res: dict[str, Array]) -> dict[str, float]:
    """Mean over the batch (NaN for an empty batch, e.g. no in-slice pairs); ``np.mean``'s
    own sum and division without its per-call overhead."""
    add = np.add.reduce
    return {k: float(add(v) / v.size) if v.size else float("nan") for k, v in res.items()}


def _one_b(res: dict[str, Array]) -> dict[str, float]:
    return {k: float(v[0]) for k, v in res.items()}


def _matrix_family(
    mats2d: Array,
    mats3d: Array,
    nv2d: Array,
    nv3d: float,
    feature: Callable[[Array, Array], dict[str, Array]],
    aggregations: tuple[str, ...],
) -> dict[str, dict[str, float]]:
    """IBSI aggregation for direction-based matrices (GLCM, GLRLM), features batched.

    ``mats2d`` (slices, dirs, ...) and ``nv2d`` (slices,) voxels per slice; ``mats3d`` (dirs, ...).
    """
    out: dict[str, dict[str, float]] = {}
    nz, nd2 = mats2d.shape[:2]
    has = mats2d.reshape(nz, nd2, -1).sum(axis=2) > 0
    nv_zd = np.broadcast_to(nv2d[:, None], (nz, nd2))
    if "2d_average" in aggregations:
        out["2d_average"] = _mean_b(feature(mats2d[has], nv_zd[has]))
    if "2d_slice_merged" in aggregations:  # per slice, directions merged (IBSI SUJT)
        zs = has.any(axis=1)
        out["2d_slice_merged"] = _mean_b(feature(mats2d[zs].sum(axis=1), nd2 * nv2d[zs]))
    if "2_5d_direction_merged" in aggregations:  # per direction, slices merged (IBSI JJUI)
        ds = has.any(axis=0)
        merged = mats2d.sum(axis=0)[ds]
        out["2_5d_direction_merged"] = _mean_b(
            feature(merged, np.full(merged.shape[0], nv2d.sum()))
        )
    if "2_5d_merged" in aggregations:
        out["2_5d_merged"] = _one_b(
            feature(mats2d.sum(axis=(0, 1))[None], np.array([nd2 * nv2d.sum()]))
        )
    nd3 = mats3d.shape[0]
    if "3d_average" in aggregations:
        keep = mats3d.reshape(nd3, -1).sum(axis=1) > 0
        out["3d_average"] = _mean_b(feature(mats3d[keep], np.full(int(keep.sum()), nv3d)))
    if "3d_merged" in aggregations:
        out["3d_merged"] = _one_b(feature(mats3d.sum(axis=0)[None], np.array([nd3 * nv3d])))
    return out


def texture_features(
    q: NDArray[np.int64],
    ng: int,
    aggregations: tuple[str, ...] = AGG_MATRIX + AGG_ZONE,
    morph_roi: NDArray[np.bool_] | None = None,
    families: tuple[str, ...] = TEXTURE_FAMILIES,
) -> list[tuple[str, str, str, str, float]]:
    """Texture features as (family, feature, IBSI code, aggregation, value).

    ``morph_roi`` is the morphological mask (before re-segmentation): GLDZM distances to the ROI
    edge are measured on it (IBSI 3.9); default ``q > 0``. Only the matrices that ``families``
    need are built.
    """
    rows: list[tuple[str, str, str, str, float]] = []
    roi = q > 0
    edge = roi if morph_roi is None else morph_roi
    nv2d = roi.sum(axis=(1, 2)).astype(float)
    nv3d = float(roi.sum())
    magg = tuple(a for a in aggregations if a in AGG_MATRIX)
    zagg = tuple(a for a in aggregations if a in AGG_ZONE)

    def emit(family: str, codes: dict[str, str], res: dict[str, dict[str, float]]) -> None:
        for agg, feats in res.items():
            for name, value in feats.items():
                rows.append((family, name, codes[name], agg, value))

    if magg and "glcm" in families:
        c2, c3 = glcm_all(q, ng)
        emit(
            "glcm",
            GLCM_CODES,
            _matrix_family(c2, c3, nv2d, nv3d, lambda m, _nv: glcm_features_batch(m, ng), magg),
        )
    if magg and "glrlm" in families:
        r2, r3 = glrlm_all(q, ng)
        emit(
            "glrlm",
            GLRLM_CODES,
            _matrix_family(
                r2, r3, nv2d, nv3d, lambda m, nv: _size_features_batch(m, nv, GLRLM_NAMES), magg
            ),
        )
    if not zagg:
        return rows
    slices = np.flatnonzero(nv2d > 0)  # slices with ROI voxels
    # size zones and distance zones (one labelling per connectivity serves both)
    two = three = None
    zones = "glszm" in families or "gldzm" in families
    need2, need3 = "2d" in zagg or "2_5d" in zagg, "3d" in zagg
    if zones and need2 and need3:
        two, three = _zone_matrices_2d3d(
            q, ng, _border_distance(edge, three_d=False), _border_distance(edge, three_d=True)
        )
    elif zones and need2:
        two = _zone_matrices(q, ng, _border_distance(edge, three_d=False), False)
    elif zones and need3:
        three = _zone_matrices(q, ng, _border_distance(edge, three_d=True), True)
    for k, (family, names, codes) in enumerate(
        (("glszm", GLSZM_NAMES, GLSZM_CODES), ("gldzm", GLDZM_NAMES, GLDZM_CODES))
    ):
        if family not in families:
            continue
        res: dict[str, dict[str, float]] = {}
        if two is not None:
            all2, j2 = two[k]
            if "2d" in zagg:
                res["2d"] = _mean_b(_size_features_batch(all2[slices], nv2d[slices], names, j2))
            if "2_5d" in zagg:
                res["2_5d"] = _size_features(all2.sum(axis=0), nv3d, names, j2)
        if three is not None:
            m3, j3 = three[k]
            res["3d"] = _size_features(m3[0], nv3d, names, j3)
        emit(family, codes, res)
    if "ngtdm" not in families and "ngldm" not in families:
        return rows
    qq = np.ascontiguousarray(q, dtype=np.int64)
    res_t: dict[str, dict[str, float]] = {}
    res_d: dict[str, dict[str, float]] = {}
    if need2 and need3:
        s2, n2, dep2, s3, n3, dep3 = _neighbourhood_2d3d(np.pad(q.astype(np.int32), 1), ng)
    elif need2:
        s2, n2, dep2 = _neighbourhood(qq, False, ng)
    elif need3:
        s3, n3, dep3 = _neighbourhood(qq, True, ng)
    if "2d" in zagg:
        res_t["2d"] = _mean_b(ngtdm_features_batch(s2[slices], n2[slices]))
        res_d["2d"] = _mean_b(_size_features_batch(dep2[slices], nv2d[slices], NGLDM_NAMES))
    if "2_5d" in zagg:
        res_t["2_5d"] = _one_b(ngtdm_features_batch(s2.sum(axis=0)[None], n2.sum(axis=0)[None]))
        res_d["2_5d"] = _size_features(dep2.sum(axis=0), nv3d, NGLDM_NAMES)
    if "3d" in zagg:
        res_t["3d"] = _one_b(ngtdm_features_batch(s3.sum(axis=0)[None], n3.sum(axis=0)[None]))
        res_d["3d"] = _size_features(dep3.sum(axis=0), nv3d, NGLDM_NAMES)
    if "ngtdm" in families:
        emit("ngtdm", NGTDM_CODES, res_t)
    if "ngldm" in families:
        emit("ngldm", NGLDM_CODES, res_d)
    return rows
