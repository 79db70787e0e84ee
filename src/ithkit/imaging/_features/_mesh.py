"""Marching-cubes surface of a binary mask (iso-level 0.5, vertices at edge midpoints).

The triangle table is built here, not copied: for each of the 256 corner configurations the
iso-contour is traced on the six cube faces (inside corners on a face that touch only diagonally
are kept apart, so neighbouring cubes always agree and the mesh is closed), the oriented face
segments are chained into loops and each loop is fanned into triangles (see ``_fan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import product

import numba
import numpy as np
from numpy.typing import NDArray

_CORNERS = np.array(list(product((0, 1), repeat=3)), dtype=float)  # corner c -> (a0, a1, a2)


def _corner(bits: tuple[int, int, int]) -> int:
    return bits[0] * 4 + bits[1] * 2 + bits[2]


_EDGES: list[tuple[int, int]] = sorted(
    {
        (min(a, b), max(a, b))
        for a in range(8)
        for b in range(8)
        if int(np.abs(_CORNERS[a] - _CORNERS[b]).sum()) == 1
    }
)
_EDGE_INDEX = {e: i for i, e in enumerate(_EDGES)}
EDGE_POINTS = np.array([(_CORNERS[a] + _CORNERS[b]) / 2 for a, b in _EDGES])
_EDGE_POINTS2 = np.rint(EDGE_POINTS * 2).astype(np.int64)


def _faces() -> list[list[int]]:
    """The six faces as corner cycles, counter-clockwise seen from outside the cube."""
    faces = []
    for k in range(3):
        u, w = (k + 1) % 3, (k + 2) % 3
        for v in (0, 1):
            cycle = []
            for cu, cw in ((0, 0), (1, 0), (1, 1), (0, 1)):
                bits = [0, 0, 0]
                bits[k], bits[u], bits[w] = v, cu, cw
                cycle.append(_corner((bits[0], bits[1], bits[2])))
            faces.append(cycle if v == 1 else cycle[::-1])
    return faces


_FACES = _faces()


def _fan(loop: list[int]) -> list[tuple[int, int, int]]:
    """Fan triangulation of a loop of edge points; of the possible fan centres the one giving
    the largest area is used (for the non-planar pentagons and hexagons this reproduces the
    IBSI digital-phantom mesh volume and area)."""
    n = len(loop)
    best: list[tuple[int, int, int]] = []
    best_area = -1.0
    for k in range(n):
        fan = [(loop[k], loop[(k + t) % n], loop[(k + t + 1) % n]) for t in range(1, n - 1)]
        p = EDGE_POINTS[np.asarray(fan)]
        area = float(np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum())
        if area > best_area + 1e-9:
            best, best_area = fan, area
    return best


@cache
def triangle_table() -> tuple[tuple[tuple[int, int, int], ...], ...]:
    """Triangles (as edge indices) for each of the 256 corner configurations."""
    table = []
    for config in range(256):
        inside = [(config >> c) & 1 for c in range(8)]
        nxt: dict[int, int] = {}
        for cycle in _FACES:
            crossings = []  # (position along the cycle, edge index, entering?)
            for i in range(4):
                a, b = cycle[i], cycle[(i + 1) % 4]
                if inside[a] != inside[b]:
                    crossings.append((i, _EDGE_INDEX[(min(a, b), max(a, b))], inside[b] == 1))
            for j, (_, edge, entering) in enumerate(crossings):
                if entering:  # pair with the next exit further along the cycle
                    exit_edge = crossings[(j + 1) % len(crossings)][1]
                    nxt[edge] = exit_edge
        tris: list[tuple[int, int, int]] = []
        seen: set[int] = set()
        for start in nxt:
            if start in seen:
                continue
            loop = [start]
            seen.add(start)
            cur = nxt[start]
            while cur != start:
                loop.append(cur)
                seen.add(cur)
                cur = nxt[cur]
            tris.extend(_fan(loop))
        table.append(tuple(tris))
    return tuple(table)


@cache
def _padded_table() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    tab = triangle_table()
    width = max(len(t) for t in tab)
    out = np.full((256, width, 3), 0, dtype=np.int64)
    counts = np.zeros(256, dtype=np.int64)
    for c, tris in enumerate(tab):
        counts[c] = len(tris)
        if tris:
            out[c, : len(tris)] = tris
    return out, counts


@dataclass(frozen=True)
class Mesh:
    """A closed triangle mesh in mm: ``vertices`` (n, 3), ``faces`` (m, 3) vertex indices."""

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]

    @property
    def area(self) -> float:
        """Surface area in mm^2."""
        return _area_volume(self.vertices, self.faces)[0]

    @property
    def volume(self) -> float:
        """Enclosed volume in mm^3 (divergence theorem)."""
        return _area_volume(self.vertices, self.faces)[1]


@numba.njit(cache=True)
def _area_volume(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> tuple[float, float]:
    """Surface area and enclosed volume of a closed triangle mesh, in one pass over the faces
    (vertices taken relative to their mean; sums accumulated per block of 1024 faces; scalar
    arithmetic, no per-face temporary arrays)."""
    c = np.zeros(3)
    for i in range(vertices.shape[0]):
        c += vertices[i]
    c /= max(vertices.shape[0], 1)
    c0, c1, c2 = c[0], c[1], c[2]
    area = vol = 0.0
    for start in range(0, faces.shape[0], 1024):
        a_blk = v_blk = 0.0
        for f in range(start, min(start + 1024, faces.shape[0])):
            i, j, k = faces[f, 0], faces[f, 1], faces[f, 2]
            p0, p1, p2 = vertices[i, 0] - c0, vertices[i, 1] - c1, vertices[i, 2] - c2
            q0, q1, q2 = vertices[j, 0] - c0, vertices[j, 1] - c1, vertices[j, 2] - c2
            r0, r1, r2 = vertices[k, 0] - c0, vertices[k, 1] - c1, vertices[k, 2] - c2
            ux, uy, uz = q0 - p0, q1 - p1, q2 - p2
            wx, wy, wz = r0 - p0, r1 - p1, r2 - p2
            nx, ny, nz = uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx
            a_blk += np.sqrt(nx * nx + ny * ny + nz * nz)
            v_blk += p0 * (q1 * r2 - q2 * r1) + p1 * (q2 * r0 - q0 * r2)
            v_blk += p2 * (q0 * r1 - q1 * r0)
        area += a_blk
        vol += v_blk
    return area / 2, abs(vol) / 6


@numba.njit(cache=True, nogil=True)
def _march(
    config: NDArray[np.uint8],
    table: NDArray[np.int64],
    counts: NDArray[np.int64],
    ep2: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Triangles of every cube (raster order) of the corner-configuration grid ``config``:
    vertex keys on the half-voxel grid (twice the cube position plus ``ep2``, twice the edge
    point), sorted lexicographically, and faces as indices into them. A vertex is found again
    by its cube edge (the lower end on the voxel grid plus the axis of its odd coordinate)."""
    n0, n1, n2 = config.shape
    nf = 0
    for z in range(n0):
        for y in range(n1):
            for x in range(n2):
                nf += counts[config[z, y, x]]
    faces = np.empty((nf, 3), dtype=np.int64)
    keys = np.empty((3 * nf, 3), dtype=np.int64)
    ids = np.full((n0 + 1) * (n1 + 1) * (n2 + 1) * 3, -1, dtype=np.int32)
    nv = 0
    f = 0
    for z in range(n0):
        for y in range(n1):
            for x in range(n2):
                c = config[z, y, x]
                for t in range(counts[c]):
                    for corner in range(3):
                        e = table[c, t, corner]
                        k0, k1, k2 = 2 * z + ep2[e, 0], 2 * y + ep2[e, 1], 2 * x + ep2[e, 2]
                        axis = 0 if k0 & 1 else (1 if k1 & 1 else 2)
                        slot = ((k0 >> 1) * (n1 + 1) + (k1 >> 1)) * (n2 + 1) + (k2 >> 1)
                        slot = slot * 3 + axis
                        v = ids[slot]
                        if v < 0:
                            v = nv
                            ids[slot] = nv
                            keys[nv, 0], keys[nv, 1], keys[nv, 2] = k0, k1, k2
                            nv += 1
                        faces[f, corner] = v
                    f += 1
    lin = np.empty(nv, dtype=np.int64)
    for v in range(nv):
        lin[v] = (keys[v, 0] * (2 * n1 + 3) + keys[v, 1]) * (2 * n2 + 3) + keys[v, 2]
    order = np.argsort(lin)
    rank = np.empty(nv, dtype=np.int64)
    for r in range(nv):
        rank[order[r]] = r
    for g in range(nf):
        for corner in range(3):
            faces[g, corner] = rank[faces[g, corner]]
    return keys[order], faces


def _cube_configs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.uint8], NDArray[np.int64]] | None:
    """Marching-cubes configuration (8 corner bits) of every cube of the mask's bounding box,
    padded by one voxel, and the box's corner; None for an empty mask.

    Only the bounding box matters; callers add its corner back to the vertices."""
    nonempty = [
        np.flatnonzero(mask.any(axis=tuple(b for b in range(3) if b != a))) for a in range(3)
    ]
    if any(ix.size == 0 for ix in nonempty):
        return None
    corner = np.array([ix[0] for ix in nonempty], dtype=np.int64)
    box = tuple(slice(ix[0], ix[-1] + 1) for ix in nonempty)
    padded = np.pad(mask[box].astype(np.uint8), 1)
    s = padded.shape
    config = np.zeros((s[0] - 1, s[1] - 1, s[2] - 1), dtype=np.uint8)
    for c in range(8):
        a0, a1, a2 = (int(x) for x in _CORNERS[c])
        config |= padded[a0 : a0 + s[0] - 1, a1 : a1 + s[1] - 1, a2 : a2 + s[2] - 1] << c
    return config, corner


def mask_mesh(mask: NDArray[np.bool_], spacing: tuple[float, float, float]) -> Mesh:
    """Marching-cubes mesh of ``mask`` (axes in array order, ``spacing`` in mm per axis).

    Vertices sorted by position (array order), faces in raster order of their cubes."""
    grid = _cube_configs(mask)
    if grid is None:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    config, corner = grid
    table, counts = _padded_table()
    keys, faces = _march(config, table, counts, _EDGE_POINTS2)
    if faces.shape[0] == 0:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    # keys are twice the padded-grid position: undo the padding and add the box corner
    vertices = (keys - 2 + 2 * corner).astype(float) / 2 * np.asarray(spacing, dtype=float)
    return Mesh(vertices, faces)


def _mask_mesh_numpy(mask: NDArray[np.bool_], spacing: tuple[float, float, float]) -> Mesh:
    """Marching-cubes mesh of ``mask`` with array operations (the reference for
    :func:`mask_mesh`)."""
    grid = _cube_configs(mask)
    if grid is None:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    config, corner = grid
    table, counts = _padded_table()
    cubes = np.argwhere((config > 0) & (config < 255))
    if cubes.size == 0:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    cfg = config[tuple(cubes.T)]
    tri = table[cfg]  # (n, 5, 3) edge indices, -1 padded
    valid = np.arange(tri.shape[1])[None, :] < counts[cfg][:, None]
    cube_of = np.broadcast_to(np.arange(cubes.shape[0])[:, None], valid.shape)[valid]
    edges = tri[valid]  # (m, 3)
    allp = cubes[cube_of][:, None, :] + EDGE_POINTS[edges] - 1.0  # undo padding
    flat = allp.reshape(-1, 3)
    key = np.round(flat * 2).astype(np.int64) + 2  # half-voxel grid, >= 0
    dims = key.max(axis=0) + 1
    lin = (key[:, 0] * dims[1] + key[:, 1]) * dims[2] + key[:, 2]
    ulin, inverse = np.unique(lin, return_inverse=True)
    uniq = np.stack(np.unravel_index(ulin, tuple(int(v) for v in dims)), axis=1) - 2 + 2 * corner
    vertices = uniq.astype(float) / 2 * np.asarray(spacing, dtype=float)
    faces = inverse.reshape(-1, 3).astype(np.int64)
    return Mesh(vertices, faces)
