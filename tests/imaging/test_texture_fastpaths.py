"""The one-pass 2D + 3D zone labelling and neighbourhood sums equal the separate passes
exactly, and the numba feature kernels (GLCM, size-type, NGTDM) equal the array-by-array reference
formulas on the matrices of random ROIs (single-slice, thin and blocky shapes) and on random
matrices, to 1e-12 relative (features computed as a difference of near-equal sums: 1e-12 of
the size of those sums)."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging._features._texture import (
    _SLOT_2D,
    DIRS_3D,
    GLDZM_NAMES,
    GLRLM_NAMES,
    GLSZM_NAMES,
    NGLDM_NAMES,
    _border_distance,
    _glcm_features_numpy,
    _neighbourhood,
    _neighbourhood_2d3d,
    _runs_all,
    _size_features_batch,
    _size_features_numpy,
    _zone_matrices,
    _zone_matrices_2d3d,
    glcm_all,
    glcm_features_batch,
    glrlm_all,
    ngtdm_features,
    ngtdm_features_batch,
)

SHAPES = [(1, 20, 20), (1, 1, 30), (2, 15, 30), (30, 1, 20), (5, 30, 3), (12, 12, 12), (3, 3, 3),
          (20, 25, 18), (1, 40, 3), (40, 2, 2)]  # fmt: skip


def _roi(shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    ng = int(rng.integers(1, 13))
    q = rng.integers(1, ng + 1, shape)
    if seed % 3 == 0:  # blocky: larger zones and runs
        q = np.repeat(q[:, ::2, :], 2, axis=1)[:, : shape[1]]
    q = np.where(rng.random(shape) < rng.uniform(0.5, 1.0), q, 0)
    q.flat[0] = max(int(q.flat[0]), 1)
    return q.astype(np.int64), ng


CASES = [(shape, seed) for seed, shape in enumerate(SHAPES)] + [
    (shape, seed + 50) for seed, shape in enumerate(SHAPES)
]


def _close(new: np.ndarray, ref: np.ndarray, atol: np.ndarray | float = 0.0) -> None:
    np.testing.assert_array_equal(np.isnan(new), np.isnan(ref))
    ok = ~np.isnan(ref)
    atol = np.broadcast_to(atol, ref.shape)[ok]
    assert np.all(np.abs(new[ok] - ref[ok]) <= 1e-12 * np.abs(ref[ok]) + atol)


def _check_glcm(m: np.ndarray, ng: int) -> None:
    m = m[m.reshape(m.shape[0], -1).sum(axis=1) > 0]
    ref = _glcm_features_numpy(m, ng)
    new = glcm_features_batch(m, ng)
    assert new.keys() == ref.keys()
    # scales of the sums whose difference some features are
    p = m / m.sum(axis=(1, 2), keepdims=True)
    lv = np.arange(1, ng + 1, dtype=float)
    i, j = lv[:, None], lv[None, :]
    cm = np.abs((i + j)[None] - 2 * ref["joint_average"][:, None, None])
    pi = p.sum(axis=2)
    sd = np.sum((lv[None] - ref["joint_average"][:, None]) ** 2 * pi, axis=1)
    atol = {
        "cluster_shade": 1e-12 * np.sum(cm**3 * p, axis=(1, 2)),
        "correlation": 1e-12 * 2 * ref["autocorrelation"] / np.where(sd > 0, sd, 1.0),
        "information_correlation_1": 1e-12,
        "information_correlation_2": 1e-12,
    }
    for k in ref:
        _close(new[k], ref[k], atol.get(k, 0.0))


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_glcm_kernel_matches_reference_on_roi_matrices(shape: tuple[int, ...], seed: int) -> None:
    q, ng = _roi(shape, seed)
    c2, c3 = glcm_all(q, ng)
    for m in (c2.reshape(-1, ng, ng), c2.sum(axis=1), c2.sum(axis=0), c3, c3.sum(axis=0)[None]):
        _check_glcm(m, ng)


def test_glcm_kernel_matches_reference_on_random_matrices() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        ng = int(rng.integers(1, 20))
        m = rng.integers(0, 5, (3, ng, ng)) * (rng.random((3, ng, ng)) < rng.uniform(0.05, 1))
        m = (m + m.transpose(0, 2, 1)).astype(float)
        m[:, 0, 0] += 1
        _check_glcm(m, ng)


def _check_size(m: np.ndarray, nv: np.ndarray, names: dict[str, str], j=None) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = _size_features_numpy(m, nv, names, j)
        new = _size_features_batch(m, nv, names, j)
    assert new.keys() == ref.keys()
    for k in ref:
        _close(new[k], ref[k])


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_size_and_ngtdm_kernels_match_reference_on_roi_matrices(
    shape: tuple[int, ...], seed: int
) -> None:
    q, ng = _roi(shape, seed)
    roi = q > 0
    nv2d = roi.sum(axis=(1, 2)).astype(float)
    nv3d = float(roi.sum())
    r2, r3 = glrlm_all(q, ng)
    _check_size(r2.reshape(-1, *r2.shape[2:]), np.repeat(nv2d, 4), GLRLM_NAMES)
    _check_size(r3, np.full(r3.shape[0], nv3d), GLRLM_NAMES)
    for three_d in (False, True):
        dist = _border_distance(roi, three_d)
        for (m, j), names in zip(
            _zone_matrices(q, ng, dist, three_d), (GLSZM_NAMES, GLDZM_NAMES), strict=True
        ):
            nv = np.array([nv3d]) if three_d else nv2d
            _check_size(m, nv, names, j)
            _check_size(m.sum(axis=0)[None], np.array([nv3d]), names, j)
        s, n, dep = _neighbourhood(q, three_d, ng)
        _check_size(dep, nv2d, NGLDM_NAMES)
        _check_size(dep.sum(axis=0)[None], np.array([nv3d]), NGLDM_NAMES)
        for s_b, n_b in ((s, n), (s.sum(axis=0)[None], n.sum(axis=0)[None])):
            with np.errstate(divide="ignore", invalid="ignore"):
                new = ngtdm_features_batch(s_b, n_b)
                refs = [ngtdm_features(s_b[z], n_b[z]) for z in range(s_b.shape[0])]
            for k in new:
                _close(new[k], np.array([r[k] for r in refs]))


def test_size_kernel_matches_reference_on_random_matrices() -> None:
    rng = np.random.default_rng(1)
    for t in range(200):
        ng, nb, nj = (int(x) for x in rng.integers(1, (15, 6, 30)))
        keep = rng.random((nb, ng, nj)) < rng.uniform(0.0, 1.0)
        m = rng.integers(0, 6, (nb, ng, nj)) * keep
        j = np.sort(rng.choice(np.arange(1, 200), nj, replace=False)) if t % 2 else None
        _check_size(m.astype(float), rng.uniform(50, 500, nb), NGLDM_NAMES, j)


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_one_pass_2d3d_zones_and_neighbourhoods_equal_separate_passes(
    shape: tuple[int, ...], seed: int
) -> None:
    q, ng = _roi(shape, seed)
    edge = (q > 0) | (np.random.default_rng(seed).random(q.shape) < 0.1)  # morphological mask
    d2, d3 = _border_distance(edge, False), _border_distance(edge, True)
    two, three = _zone_matrices_2d3d(q, ng, d2, d3)
    for both, alone in (
        (two, _zone_matrices(q, ng, d2, False)),
        (three, _zone_matrices(q, ng, d3, True)),
    ):
        for (m, j), (m_ref, j_ref) in zip(both, alone, strict=True):
            np.testing.assert_array_equal(m, m_ref)
            np.testing.assert_array_equal(j, j_ref)
    got = _neighbourhood_2d3d(np.pad(q.astype(np.int32), 1), ng)
    ref = _neighbourhood(q, False, ng) + _neighbourhood(q, True, ng)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_run_ring_buffer_type_does_not_change_counts(shape: tuple[int, ...], seed: int) -> None:
    # int16 ring (the default) and the int32 one used for images with >= 2^15 voxels per axis
    q, ng = _roi(shape, seed)
    qp = np.pad(q.astype(np.int32), 1)
    sy, sx = qp.shape[1], qp.shape[2]
    offs = np.array([d[0] * sy * sx + d[1] * sx + d[2] for d in DIRS_3D], dtype=np.int64)
    ring = 1 << int(offs.max()).bit_length()
    out = [
        _runs_all(qp, ng, offs, _SLOT_2D, max(q.shape), np.zeros((13, r), dtype=t))
        for t, r in ((np.int16, ring), (np.int32, ring), (np.int32, 4 * ring))
    ]
    for a, b in zip(out[0] + out[1], out[2] + out[2], strict=True):
        np.testing.assert_array_equal(a, b)
