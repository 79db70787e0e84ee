"""Oriented minimum bounding box and minimum-volume enclosing ellipsoid (IBSI 3.1.18-3.1.19).

IBSI gives no reference value for their densities (ZH1A, IQYR, SWZ1, BRI8), so they are tested
on shapes with known answers: boxes (turned or not), ellipsoids, spheres, and against a
brute-force search over rotations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ithkit.imaging import FeatureConfig, roi_features
from ithkit.imaging._features._morph import (
    min_volume_bounding_box,
    min_volume_enclosing_ellipsoid,
)


def morph(mask: np.ndarray, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> dict:
    img = np.where(mask, 10.0, 0.0)
    cfg = FeatureConfig(discretisation={"method": "fixed_bin_number", "value": 4})
    t = roi_features(img, mask, spacing, config=cfg, families=("morphology",))
    return dict(zip(t["feature"], t["value"].astype(float), strict=True))


@pytest.mark.parametrize("seed", range(5))
def test_turned_box_is_recovered(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dims = np.sort(rng.uniform(1, 10, 3))[::-1]
    corners = np.array(list(itertools.product(*[(0.0, d) for d in dims])))
    inside = rng.uniform(0, 1, (200, 3)) * dims
    rot = Rotation.random(random_state=seed).as_matrix()
    pts = np.vstack([corners, inside]) @ rot.T + rng.normal(size=3) * 50
    got, axes = min_volume_bounding_box(pts)
    assert got == pytest.approx(dims, rel=1e-9)
    # the box edges are the turned coordinate axes (up to sign)
    assert np.abs(np.abs(axes.T @ rot) - np.eye(3)).max() < 1e-6


def test_box_never_larger_than_brute_force_search() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(40, 3)) * [5, 2, 1]
    dims, _ = min_volume_bounding_box(pts)
    rots = Rotation.random(20000, random_state=2).as_matrix()
    ext = np.ptp(np.einsum("rij,nj->rni", rots, pts), axis=1)
    brute = float(np.prod(ext, axis=1).min())
    assert np.prod(dims) <= brute * (1 + 1e-9)
    assert np.prod(dims) >= 0.9 * brute  # and not absurdly small: it must enclose the points
    # enclosure: every point is inside the returned box
    _, axes = min_volume_bounding_box(pts)
    assert np.allclose(np.ptp(pts @ axes, axis=0), dims)


def test_voxel_box_ombb_equals_aabb_and_density_near_one() -> None:
    mask = np.zeros((14, 24, 34), bool)
    mask[2:12, 2:22, 2:32] = True
    f = morph(mask, (2.0, 1.0, 0.5))
    assert f["volume_density_ombb"] == pytest.approx(f["volume_density_aabb"], rel=1e-12)
    assert f["area_density_ombb"] == pytest.approx(f["area_density_aabb"], rel=1e-12)
    assert f["volume_density_ombb"] > 0.95  # marching cubes cuts the edges and corners


def test_turned_voxel_box_is_found() -> None:
    # a 40 x 16 x 8 mm slab turned by 30 degrees about the slice axis, 0.5 mm voxels
    z, y, x = (np.indices((24, 100, 100)) - [[[[11.5]]], [[[49.5]]], [[[49.5]]]]) * 0.5
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    u, v = c * x + s * y, -s * x + c * y
    mask = (np.abs(u) <= 20) & (np.abs(v) <= 8) & (np.abs(z) <= 4)
    f = morph(mask, (0.5, 0.5, 0.5))
    assert f["volume_density_ombb"] > 0.93
    assert f["volume_density_aabb"] < 0.6
    pts_box, _ = min_volume_bounding_box(np.argwhere(mask) * 0.5)
    assert pts_box == pytest.approx([40, 16, 8], abs=0.6)  # voxel centres: within a voxel


@pytest.mark.parametrize("seed", range(3))
def test_ellipsoid_is_recovered(seed: int) -> None:
    rng = np.random.default_rng(seed)
    semi = np.sort(rng.uniform(1, 8, 3))[::-1]
    sphere = rng.normal(size=(400, 3))
    sphere /= np.linalg.norm(sphere, axis=1)[:, None]
    inner = sphere[:100] * rng.uniform(0, 0.95, (100, 1))
    rot = Rotation.random(random_state=seed).as_matrix()
    centre = rng.normal(size=3) * 20
    pts = (np.vstack([sphere, inner]) * semi) @ rot.T + centre
    c, got, axes = min_volume_enclosing_ellipsoid(pts)
    assert got == pytest.approx(semi, rel=1e-5)
    assert c == pytest.approx(centre, abs=1e-4 * semi[0])
    assert np.abs(np.abs(axes.T @ rot) - np.eye(3)).max() < 1e-3


def test_ellipsoid_encloses_and_regular_tetrahedron_gives_sphere() -> None:
    tet = np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    c, semi, _ = min_volume_enclosing_ellipsoid(tet)
    assert semi == pytest.approx([np.sqrt(3)] * 3, rel=1e-6)
    assert c == pytest.approx([0, 0, 0], abs=1e-9)
    pts = np.random.default_rng(3).standard_t(3, size=(300, 3))
    c, semi, axes = min_volume_enclosing_ellipsoid(pts)
    y = (pts - c) @ axes / semi
    assert (y**2).sum(axis=1).max() == pytest.approx(1.0, abs=1e-12)


def test_sphere_mvee_density_tends_to_one() -> None:
    dens = []
    for r in (6, 12, 24):
        n = 2 * r + 4
        z, y, x = np.indices((n, n, n)) - (n - 1) / 2
        f = morph(z**2 + y**2 + x**2 <= r * r)
        dens.append(f["volume_density_mvee"])
        # the MVEE is the sphere through the outermost mesh vertices, half a voxel out at most
        vol = f["volume"] / f["volume_density_mvee"]
        radius = (3 * vol / (4 * np.pi)) ** (1 / 3)
        assert r <= radius <= r + 0.71
        assert f["area_density_mvee"] == pytest.approx(
            f["surface_area"] / (4 * np.pi * radius**2), rel=1e-3
        )
    assert dens[0] < dens[1] < dens[2] < 1
    assert dens[2] > 0.93


def test_density_ordering_on_an_irregular_shape() -> None:
    # hull within both the OMBB and the MVEE: their densities are at most the hull's
    rng = np.random.default_rng(4)
    z, y, x = np.indices((20, 24, 28))
    mask = np.zeros(z.shape, bool)
    for _ in range(5):
        cz, cy, cx = rng.uniform(6, 14), rng.uniform(6, 18), rng.uniform(6, 22)
        mask |= (z - cz) ** 2 + ((y - cy) / 1.5) ** 2 + (x - cx) ** 2 <= rng.uniform(9, 30)
    f = morph(mask)
    assert f["volume_density_ombb"] <= f["volume_density_convex_hull"] + 1e-12
    assert f["volume_density_mvee"] <= f["volume_density_convex_hull"] + 1e-12
    assert f["volume_density_ombb"] >= f["volume_density_aabb"] - 1e-12
    assert f["area_density_ombb"] > 0 and f["area_density_mvee"] > 0
