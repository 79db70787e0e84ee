"""The one-pass texture kernels equal their direct definitions on random volumes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ithkit.imaging._features._texture import (
    DIRS_2D,
    DIRS_3D,
    _border_distance,
    _zone_matrices,
    glcm_all,
    glcm_matrices,
    glrlm_all,
    glrlm_matrices,
)


def _volumes() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for k in range(8):
        shape = tuple(int(s) for s in rng.integers(2, 12, 3))
        q = rng.integers(0, 2 + k % 4, shape)
        out.append(q.astype(np.int64))
    return out


@pytest.mark.parametrize("q", _volumes())
def test_glcm_and_glrlm_one_pass_match_per_direction(q: np.ndarray) -> None:
    ng = max(int(q.max()), 1)
    c2, c3 = glcm_all(q, ng)
    np.testing.assert_array_equal(c2, glcm_matrices(q, ng, DIRS_2D))
    np.testing.assert_array_equal(c3, glcm_matrices(q, ng, DIRS_3D).sum(axis=0))
    r2, r3 = glrlm_all(q, ng)
    np.testing.assert_array_equal(r2, glrlm_matrices(q, ng, DIRS_2D))
    np.testing.assert_array_equal(r3, glrlm_matrices(q, ng, DIRS_3D).sum(axis=0))


@pytest.mark.parametrize("q", _volumes())
@pytest.mark.parametrize("three_d", [True, False])
def test_zones_match_scipy_labelling(q: np.ndarray, three_d: bool) -> None:
    ng = max(int(q.max()), 1)
    roi = q > 0
    dist = _border_distance(roi, three_d)
    # distance: taxicab to the nearest non-ROI voxel, outside the array counting as non-ROI
    pad = ((1, 1), (1, 1), (1, 1)) if three_d else ((0, 0), (1, 1), (1, 1))
    if three_d:
        ref = ndimage.distance_transform_cdt(np.pad(roi, pad), metric="taxicab")[1:-1, 1:-1, 1:-1]
    else:
        ref = np.stack(
            [ndimage.distance_transform_cdt(s, metric="taxicab") for s in np.pad(roi, pad)]
        )[:, 1:-1, 1:-1]
    np.testing.assert_array_equal(dist, np.where(roi, ref, 0))
    (ms, js), (md, jd) = _zone_matrices(q, ng, dist, three_d)
    structure = (
        np.ones((3, 3, 3), bool)
        if three_d
        else np.pad(np.ones((1, 3, 3), bool), ((1, 1), (0, 0), (0, 0)))
    )
    nz = 1 if three_d else q.shape[0]
    size_ref = np.zeros((nz, ng, q.size + 1))
    dist_ref = np.zeros((nz, ng, q.size + 1))
    for g in range(1, ng + 1):
        lab, n = ndimage.label(q == g, structure=structure)
        for i in range(1, n + 1):
            where = np.argwhere(lab == i)
            z = 0 if three_d else where[0, 0]
            size_ref[z, g - 1, len(where)] += 1
            dist_ref[z, g - 1, dist[lab == i].min()] += 1
    for m, j, ref_m in ((ms, js, size_ref), (md, jd, dist_ref)):
        full = np.zeros_like(ref_m)
        full[:, :, j.astype(int)] = m
        np.testing.assert_array_equal(full, ref_m)


def test_texture_families_subset_gives_the_same_rows() -> None:
    from ithkit.imaging._features._texture import texture_features

    q = _volumes()[3]
    ng = int(q.max())
    full = texture_features(q, ng)
    for fams in (("glcm",), ("glszm", "ngtdm"), ("gldzm", "ngldm", "glrlm")):
        part = texture_features(q, ng, families=fams)
        assert part == [r for r in full if r[0] in fams]
