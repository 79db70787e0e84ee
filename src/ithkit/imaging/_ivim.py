"""Intravoxel incoherent motion (IVIM): D, D* and f from a multi-b diffusion series.

Le Bihan's bi-exponential ``S(b) = S0 (f e^{-b D*} + (1 - f) e^{-b D})`` fitted for every voxel
at once: a segmented fit (closed form, numpy) and a bounded Levenberg-Marquardt refinement of
all four parameters, vectorised over voxels (batched 4 x 4 normal equations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit.imaging._io import Volume

#: default bounds (mm^2/s for the diffusivities, fraction for f)
IVIM_BOUNDS: dict[str, tuple[float, float]] = {
    "d": (0.0, 4.0e-3),
    "d_star": (4.0e-3, 0.5),
    "f": (0.0, 1.0),
}
_CHUNK = 50_000  # voxels per batch of the refinement (memory ~ chunk x b x 4 doubles)
_SCALE = np.array([1.0, 1.0, 1e-2, 1e-3])  # (S0 / S0_init, f, D*, D) -> O(1) unknowns


@dataclass(frozen=True)
class IvimResult:
    """IVIM maps on the series' grid (NaN outside the mask or where the fit is undefined).

    Attributes
    ----------
    d
        Tissue diffusion coefficient D (mm^2/s).
    d_star
        Pseudo-diffusion coefficient D* (mm^2/s); NaN where f is 0 (D* undefined).
    f
        Perfusion fraction (0..1).
    s0
        Signal at b = 0 (scanner units).
    nrmse
        Fit quality: root-mean-square residual over all b-values divided by ``s0`` (0 =
        perfect; ~ noise SD / S0 for a good fit).
    method
        ``"segmented"`` or ``"full"``.
    """

    d: Volume
    d_star: Volume
    f: Volume
    s0: Volume
    nrmse: Volume
    method: str

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``d, d_star, f, s0, nrmse`` as NIfTI files into ``folder``; returns the paths."""
        from ithkit.imaging._io import write_volume

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in ("d", "d_star", "f", "s0", "nrmse"):
            p = out / f"ivim_{name}.nii.gz"
            write_volume(getattr(self, name), p)
            paths.append(p)
        return paths


def _check_b(b: NDArray[np.float64], n_volumes: int, b_threshold: float) -> None:
    if b.size == 0:
        raise InputError("b-values missing", source="b_values", fix="give one b-value per volume")
    if b.size != n_volumes:
        raise InputError(
            f"{b.size} b-values for {n_volumes} volumes",
            source="b_values",
            fix="give one b-value (s/mm^2) per diffusion volume",
        )
    if not np.isfinite(b).all() or (b < 0).any():
        raise InputError(f"b-values {b.tolist()} must be finite and >= 0", source="b_values",
                         fix="b-values in s/mm^2, e.g. 0,50,100,200,400,800")  # fmt: skip
    if b.max() < 10:
        raise InputError(
            f"b-values {b.tolist()} look like ms/um^2",
            source="b_values",
            fix="give b-values in s/mm^2 (e.g. 800, not 0.8)",
        )
    u = np.unique(b)
    low, high = u[u < b_threshold], u[u >= b_threshold]
    if u.size < 4 or low.size < 2 or high.size < 2 or u.min() > 50:
        raise InputError(
            f"IVIM needs >= 4 distinct b-values with >= 2 below and >= 2 at or above "
            f"{b_threshold:g} s/mm^2 and one <= 50; got {u.tolist()}",
            source="b_values",
            fix="acquire e.g. b = 0,10,20,50,100,200,400,800 (or use `ithkit imaging adc`)",
        )


def _segmented(
    b: NDArray[np.float64], s: NDArray[np.float64], b_threshold: float,
    bounds: Mapping[str, tuple[float, float]],
) -> tuple[NDArray[np.float64], ...]:  # fmt: skip
    """Closed-form segmented fit of ``s`` (B, V) > 0: returns S0, f, D*, D (each (V,))."""
    bmin = b.min()
    s0 = s[b == bmin].mean(axis=0)
    hi = b >= b_threshold
    bh = b[hi]
    logs = np.log(s[hi])
    bc = bh - bh.mean()
    slope = bc @ (logs - logs.mean(axis=0)) / float(bc @ bc)
    intercept = logs.mean(axis=0) - slope * bh.mean()
    d = np.clip(-slope, *bounds["d"])
    s_int = np.exp(intercept + (slope + d) * bh.mean())  # keep the line through the centroid
    f = np.clip(1.0 - s_int / s0, *bounds["f"])
    # perfusion part of the low-b signal: S(b) - S_int e^{-b D} ~ f S0 e^{-b D*}
    lo = (b < b_threshold) & (b > bmin)
    resid = s[lo] - s_int[None] * np.exp(-b[lo, None] * d[None])
    ref = s0 - s_int * np.exp(-bmin * d)
    ok = (resid > 0) & (ref > 0)[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(ok, np.log(np.where(ok, resid, 1.0) / np.where(ref > 0, ref, 1.0)), 0.0)
    db = (b[lo] - bmin)[:, None] * ok
    num, den = (db * y).sum(axis=0), (db**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_star = np.where(den > 0, -num / np.where(den > 0, den, 1.0), np.nan)
    d_star = np.where(np.isfinite(d_star), np.clip(d_star, *bounds["d_star"]), np.nan)
    d_star = np.where(f > 0, d_star, np.nan)
    return s0, f, d_star, d


def _model_jac(
    b: NDArray[np.float64], q: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Model (V, B) and Jacobian (V, B, 4) in the scaled unknowns q = p / _SCALE."""
    p = q * _SCALE
    s0, f, ds, d = (p[:, i : i + 1] for i in range(4))
    e1, e2 = np.exp(-b[None] * ds), np.exp(-b[None] * d)
    m = s0 * (f * e1 + (1.0 - f) * e2)
    jac = np.stack(
        [
            f * e1 + (1 - f) * e2,
            s0 * (e1 - e2),
            -s0 * f * b[None] * e1,
            -s0 * (1 - f) * b[None] * e2,
        ],
        axis=-1,
    )
    return m, jac * _SCALE


def _refine(
    b: NDArray[np.float64], y: NDArray[np.float64], p0: NDArray[np.float64],
    lo: NDArray[np.float64], hi: NDArray[np.float64], max_iter: int,
) -> NDArray[np.float64]:  # fmt: skip
    """Bounded Levenberg-Marquardt on y (V, B) from p0 (V, 4); steps projected onto the box
    ``lo``..``hi`` (4,)."""
    q = p0 / _SCALE
    qlo, qhi = lo / _SCALE, hi / _SCALE
    m, jac = _model_jac(b, q)
    cost = ((y - m) ** 2).sum(axis=1)
    lam = np.full(q.shape[0], 1e-3)
    active = np.ones(q.shape[0], dtype=bool)
    eye = np.eye(4)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        j, r = jac[idx], y[idx] - m[idx]
        a = np.einsum("vbi,vbj->vij", j, j)
        g = np.einsum("vbi,vb->vi", j, r)
        diag = np.einsum("vii->vi", a) + 1e-12
        lhs = a + lam[idx, None, None] * diag[:, :, None] * eye
        with np.errstate(all="ignore"):
            step = np.linalg.solve(lhs, g[..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        qn = np.clip(q[idx] + step, qlo, qhi)
        mn, jn = _model_jac(b, qn)
        cn = ((y[idx] - mn) ** 2).sum(axis=1)
        better = cn < cost[idx]
        gain = np.where(better, cost[idx] - cn, 0.0)
        acc = idx[better]
        q[acc], m[acc], jac[acc], cost[acc] = qn[better], mn[better], jn[better], cn[better]
        lam[idx] = np.where(better, lam[idx] / 3.0, lam[idx] * 4.0)
        moved = np.abs(qn - q[idx]).max(axis=1)
        done = (
            (better & (gain <= 1e-12 * (cost[idx] + 1e-30)))
            | (lam[idx] > 1e10)
            | (better & (np.abs(step).max(axis=1) < 1e-10))
        )
        done |= ~better & (moved < 1e-12)
        active[idx[done]] = False
    return q * _SCALE


def ivim_map(
    series: Sequence[Volume] | NDArray[np.float64],
    b_values: Sequence[float],
    *,
    method: Literal["full", "segmented"] = "full",
    b_threshold: float = 200.0,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    mask: Volume | None = None,
    geometry: Volume | None = None,
    max_iter: int = 100,
) -> IvimResult:
    """IVIM maps (D, D*, f, S0) and a fit-quality map from a multi-b diffusion series.

    Model (Le Bihan et al., Radiology 1988;168:497):
    ``S(b) = S0 (f e^{-b D*} + (1 - f) e^{-b D})``.

    * ``method="segmented"``: at ``b >= b_threshold`` the perfusion term has decayed, so a
      log-linear least-squares line gives D and the tissue intercept ``S_int``;
      ``f = 1 - S_int / S0`` with S0 the mean signal at the smallest b (<= 50 s/mm^2); D* is
      the slope of ``log(S(b) - S_int e^{-b D})`` over the low b-values (through the
      smallest-b point). Closed form, all voxels at once.
    * ``method="full"`` (default): the segmented values start a bounded Levenberg-Marquardt
      fit of all four parameters (analytic Jacobian, Marquardt damping, steps projected onto
      ``bounds``), batched over voxels.

    Parameters
    ----------
    series
        One volume per b-value (same grid), or an array (b, ...).
    b_values
        b-values in s/mm^2: >= 4 distinct, >= 2 below and >= 2 at or above ``b_threshold``,
        the smallest <= 50.
    method
        ``"full"`` or ``"segmented"``.
    b_threshold
        b (s/mm^2) from which the perfusion signal is taken as decayed (200 by default, as in
        dipy's ``split_b_S0``; D is fitted on ``b >= b_threshold``).
    bounds
        ``{"d": (lo, hi), "d_star": (lo, hi), "f": (lo, hi)}`` overriding
        :data:`IVIM_BOUNDS` (D 0-4e-3, D* 4e-3-0.5 mm^2/s, f 0-1).
    mask
        Voxels to fit (others NaN); default all voxels with a positive signal at every b.
    geometry
        Grid of the output when ``series`` is an array.
    max_iter
        Levenberg-Marquardt iterations at most (``"full"``).

    Returns
    -------
    IvimResult
        ``d``, ``d_star``, ``f``, ``s0`` and ``nrmse`` volumes.

    Raises
    ------
    ithkit.InputError
        b-values missing, not one per volume, fewer than 4, no split around ``b_threshold``,
        none <= 50, in ms/um^2; a negative signal; grids that differ; bad bounds.

    Examples
    --------
    >>> b = np.array([0, 10, 20, 50, 100, 200, 400, 800.0])
    >>> s = 1000 * (0.1 * np.exp(-b * 0.02) + 0.9 * np.exp(-b * 1.0e-3))
    >>> r = ivim_map(s.reshape(-1, 1, 1, 1), b)
    >>> [round(float(v.array.ravel()[0]), 5) for v in (r.d, r.d_star, r.f)]
    [0.001, 0.02, 0.1]
    """
    from ithkit.imaging._mri import _mask_selection, _stack

    if method not in ("full", "segmented"):
        raise InputError(f"method {method!r}", source="method", fix="'full' or 'segmented'")
    bnd = dict(IVIM_BOUNDS)
    for key, val in (bounds or {}).items():
        if key not in bnd:
            raise InputError(f"unknown bound {key!r}", source="bounds", fix="d, d_star or f")
        lo_b, hi_b = (float(v) for v in val)
        if not lo_b < hi_b:
            raise InputError(f"bound {key} {val} is empty", source="bounds", fix="(low, high)")
        bnd[key] = (lo_b, hi_b)
    b = np.asarray(list(np.ravel(b_values)), dtype=float)
    if isinstance(series, np.ndarray):
        s = np.asarray(series, dtype=float)
        ref = geometry or Volume(
            np.zeros(s.shape[1:]), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)
        )
        n_vol = s.shape[0]
    else:
        n_vol = len(series)
    _check_b(b, n_vol, b_threshold)
    if not isinstance(series, np.ndarray):
        s, ref = _stack(list(series), "diffusion")
    flat = s.reshape(b.size, -1)
    neg = flat < 0
    if neg.any():
        vol_i = int(np.flatnonzero(neg.any(axis=1))[0])
        raise InputError(
            f"{int(neg.sum())} negative signal values (first in volume {vol_i + 1}, b = "
            f"{b[vol_i]:g})",
            source="series",
            fix="give magnitude images (signal >= 0), not phase or difference images",
        )
    sel = _mask_selection(mask, s.shape[1:], "the diffusion series")
    sel &= (flat > 0).all(axis=0) & np.isfinite(flat).all(axis=0)
    y = flat[:, sel]
    s0, f, d_star, d = _segmented(b, y, b_threshold, bnd)
    if method == "full" and y.shape[1]:
        lo = np.array([0.0, bnd["f"][0], bnd["d_star"][0], bnd["d"][0]])
        hi = np.array([np.inf, bnd["f"][1], bnd["d_star"][1], bnd["d"][1]])
        ds0 = np.where(np.isfinite(d_star), d_star, np.clip(10 * d, *bnd["d_star"]))
        # start slightly inside the box so that no unknown starts pinned at a bound
        pad = 1e-3 * (np.minimum(hi, 10.0) - lo)
        p0 = np.clip(np.stack([np.ones_like(s0), f, ds0, d], axis=1), lo + pad, hi - pad)
        out = np.empty_like(p0)
        yn = (y / s0[None]).T  # (V, B), S0-normalised
        for start in range(0, yn.shape[0], _CHUNK):
            sl = slice(start, start + _CHUNK)
            out[sl] = _refine(b, yn[sl], p0[sl], lo, hi, max_iter)
        s0 = out[:, 0] * s0
        f, d_star, d = out[:, 1], out[:, 2], out[:, 3]
    # without a perfusion fraction D* is not identifiable: NaN, not an arbitrary value
    d_star = np.where(f > bnd["f"][0] + 1e-9, d_star, np.nan)
    fit_ds = np.where(np.isfinite(d_star), d_star, 0.0)
    model = s0[None] * (f[None] * np.exp(-b[:, None] * fit_ds[None])
                        + (1 - f[None]) * np.exp(-b[:, None] * d[None]))  # fmt: skip
    nrmse = np.sqrt(((y - model) ** 2).mean(axis=0)) / s0

    def back(v: NDArray[np.float64]) -> Volume:
        o = np.full(flat.shape[1], np.nan)
        o[sel] = v
        return Volume(o.reshape(s.shape[1:]), ref.spacing, ref.origin, ref.direction, ref.source)

    return IvimResult(d=back(d), d_star=back(d_star), f=back(f), s0=back(s0), nrmse=back(nrmse),
                      method=method)  # fmt: skip
