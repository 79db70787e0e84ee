"""The one-pass numba marching cubes gives exactly the array-operation mesh (same vertices in
the same order, same faces) on random masks, thin and single-slice ones included."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging._features._mesh import _mask_mesh_numpy, mask_mesh


@pytest.mark.parametrize("seed", range(40))
def test_mask_mesh_equals_array_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 16, 3))
    if seed % 4 == 0:  # single slice / thin along one axis
        shape = tuple(1 if a == seed % 3 else s for a, s in enumerate(shape))
    mask = rng.random(shape) < rng.uniform(0.05, 0.95)
    if seed % 5 == 0:  # a blob: large flat faces
        z, y, x = np.indices(shape)
        mask |= (z - shape[0] / 2) ** 2 + (y - shape[1] / 2) ** 2 + (x - shape[2] / 2) ** 2 < 16
    spacing = tuple(float(s) for s in rng.uniform(0.5, 3.0, 3))
    new, ref = mask_mesh(mask, spacing), _mask_mesh_numpy(mask, spacing)
    np.testing.assert_array_equal(new.vertices, ref.vertices)
    np.testing.assert_array_equal(new.faces, ref.faces)


def test_empty_mask_gives_empty_mesh() -> None:
    mesh = mask_mesh(np.zeros((3, 4, 5), dtype=bool), (1.0, 1.0, 1.0))
    assert mesh.vertices.shape == (0, 3) and mesh.faces.shape == (0, 3)


@pytest.mark.parametrize("seed", range(10))
def test_area_volume_match_array_formulas(seed: int) -> None:
    from ithkit.imaging._features._mesh import _area_volume

    rng = np.random.default_rng(seed)
    mask = rng.random(tuple(int(s) for s in rng.integers(2, 14, 3))) < 0.6
    mesh = mask_mesh(mask, tuple(float(s) for s in rng.uniform(0.5, 3.0, 3)))
    v = mesh.vertices - mesh.vertices.mean(axis=0)
    p, q, r = (v[mesh.faces[:, k]] for k in range(3))
    area = np.linalg.norm(np.cross(q - p, r - p), axis=1).sum() / 2
    volume = abs(np.einsum("ij,ij->i", p, np.cross(q, r)).sum()) / 6
    assert _area_volume(mesh.vertices, mesh.faces) == pytest.approx((area, volume), rel=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_lex_order_is_the_sorted_order(seed: int) -> None:
    from ithkit.imaging._features._morph import _lex_order

    rng = np.random.default_rng(seed)
    dims = rng.integers(1, 30, 3)
    n = int(rng.integers(1, min(500, int(np.prod(dims))) + 1))
    lin = rng.choice(int(np.prod(dims)), n, replace=False)  # distinct rows
    key = np.stack(np.unravel_index(lin, tuple(int(d) for d in dims)), axis=1).astype(np.int64)
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        ref = np.argsort((key[:, a] * dims[b] + key[:, b]) * dims[c] + key[:, c])
        np.testing.assert_array_equal(_lex_order(key, a, b, c, dims.astype(np.int64)), ref)
