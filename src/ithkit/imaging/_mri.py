"""Multiparametric MRI maps: ADC, DCE signal to concentration, Tofts / extended Tofts (Parker
AIF), cellularity, habitats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit.imaging._io import Volume

ADC_WATER_MM2_S = 3.0e-3  # free water at 37 degrees C (Atuegwu et al. 2011)


def _stack(series: Sequence[Volume], what: str) -> tuple[NDArray[np.float64], Volume]:
    if len(series) == 0:
        raise InputError(f"no {what} volumes given", source=what, fix="give one volume per point")
    ref = series[0]
    for i, v in enumerate(series[1:], start=2):
        if v.array.shape != ref.array.shape or not np.allclose(v.spacing, ref.spacing, atol=1e-3):
            raise InputError(
                f"{what} volume {i} grid {v.array.shape[::-1]} / {v.spacing} differs from volume "
                f"1 {ref.array.shape[::-1]} / {ref.spacing}",
                source=v.source or what,
                fix="all volumes of a series must share one grid (register/resample first)",
            )
    return np.stack([np.asarray(v.array, dtype=float) for v in series]), ref


def _mask_selection(mask: Volume | None, grid: tuple[int, ...], what: str) -> NDArray[np.bool_]:
    """Flat boolean selection of the voxels a series is fitted in (all without a mask)."""
    n = int(np.prod(grid))
    if mask is None:
        return np.ones(n, dtype=bool)
    if mask.array.shape != tuple(grid):
        raise InputError(f"mask grid differs from {what}", source=mask.source or "mask",
                         fix="resample the mask")  # fmt: skip
    return np.asarray(mask.array).reshape(-1) > 0


def adc_map(series: Sequence[Volume], b_values: Sequence[float]) -> Volume:
    """Apparent diffusion coefficient (mm^2/s) by a mono-exponential log-linear fit.

    ``S(b) = S0 exp(-b ADC)``: ordinary least squares of ``log S`` on ``b`` for every voxel at
    once (closed form). Voxels with a non-positive signal at any b get NaN.

    Parameters
    ----------
    series
        One volume per b-value (same grid).
    b_values
        b-values in s/mm^2 (>= 2 distinct values, >= 0).

    Returns
    -------
    Volume
        ADC in mm^2/s (tissue ~0.5e-3 to 3e-3).

    Raises
    ------
    ithkit.InputError
        b-values missing, fewer than two distinct, negative, count unlike the volumes, in
        implausible units (all below 10: ms/um^2?), or grids that differ.

    Examples
    --------
    >>> import numpy as np
    >>> geo = ((2.0, 2.0, 2.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> s = [Volume(np.full((2, 2, 2), 1000 * np.exp(-b * 1.2e-3)), *geo) for b in (0, 500, 1000)]
    >>> round(float(adc_map(s, [0, 500, 1000]).array[0, 0, 0]) * 1e3, 6)
    1.2
    """
    b = np.asarray(list(b_values), dtype=float)
    if b.size == 0:
        raise InputError("b-values missing", source="b_values", fix="give one b-value per volume")
    if b.size != len(series):
        raise InputError(
            f"{b.size} b-values for {len(series)} volumes",
            source="b_values",
            fix="give one b-value (s/mm^2) per diffusion volume",
        )
    if (b < 0).any() or len(np.unique(b)) < 2:
        raise InputError(
            f"b-values {b.tolist()} need >= 2 distinct values >= 0",
            source="b_values",
            fix="e.g. 0,800 (s/mm^2)",
        )
    if b.max() < 10:
        raise InputError(
            f"b-values {b.tolist()} look like ms/um^2",
            source="b_values",
            fix="give b-values in s/mm^2 (e.g. 800, not 0.8)",
        )
    s, ref = _stack(series, "diffusion")
    ok = (s > 0).all(axis=0)
    logs = np.log(np.where(s > 0, s, 1.0))
    bc = b - b.mean()
    slope = np.tensordot(bc, logs - logs.mean(axis=0), axes=(0, 0)) / float((bc**2).sum())
    adc = np.where(ok, -slope, np.nan)
    return Volume(adc, ref.spacing, ref.origin, ref.direction, ref.source)


R1_GD_1P5T_PER_MM_S = 4.5  # gadolinium chelates at 1.5 T (see signal_to_concentration)


def _check_range(value: float, name: str, lo: float, hi: float, hint: str) -> None:
    if not (np.isfinite(value) and lo <= value <= hi):
        raise InputError(f"{name} {value:g} outside {lo:g}..{hi:g}", source=name, fix=hint)


@overload
def signal_to_concentration(
    signal: NDArray[np.float64], *, t10_ms: float | Volume | NDArray[np.float64],
    flip_angle_deg: float, tr_ms: float, r1_per_mm_s: float = ...,
    baseline_frames: int | Sequence[int] = ..., unphysical: Literal["raise", "nan"] = ...,
    mask: Volume | None = ...,
) -> NDArray[np.float64]: ...  # fmt: skip
@overload
def signal_to_concentration(
    signal: Sequence[Volume], *, t10_ms: float | Volume | NDArray[np.float64],
    flip_angle_deg: float, tr_ms: float, r1_per_mm_s: float = ...,
    baseline_frames: int | Sequence[int] = ..., unphysical: Literal["raise", "nan"] = ...,
    mask: Volume | None = ...,
) -> list[Volume]: ...  # fmt: skip
def signal_to_concentration(
    signal: Sequence[Volume] | NDArray[np.float64],
    *,
    t10_ms: float | Volume | NDArray[np.float64],
    flip_angle_deg: float,
    tr_ms: float,
    r1_per_mm_s: float = R1_GD_1P5T_PER_MM_S,
    baseline_frames: int | Sequence[int] = 3,
    unphysical: Literal["raise", "nan"] = "raise",
    mask: Volume | None = None,
) -> list[Volume] | NDArray[np.float64]:
    """Contrast-agent concentration (mmol/l) from a DCE-MRI spoiled gradient echo series.

    Steady-state SPGR signal ``S = M0 sin(a) (1 - E) / (1 - cos(a) E)`` with
    ``E = exp(-TR R1)`` and the fast-exchange linear relaxation ``R1 = R10 + r1 C``. M0 follows
    from the mean baseline (pre-contrast) signal and R10 = 1/T10; each later sample is inverted
    exactly: ``E = (1 - y) / (1 - y cos a)``, ``y = S / (M0 sin a)``,
    ``C = (-ln(E) / TR - R10) / r1`` (e.g. Schabel & Parker, Phys Med Biol 2008;53:2345).

    Parameters
    ----------
    signal
        Signal per time point: volumes on one grid, or an array (time, ...).
    t10_ms
        Pre-contrast T1 (ms): a scalar, a T1 map (Volume) or an array on the spatial grid.
    flip_angle_deg
        Flip angle (degrees, 0-90).
    tr_ms
        Repetition time (ms).
    r1_per_mm_s
        Longitudinal relaxivity (1/mM/s). Default 4.5: the value commonly assumed for
        gadolinium chelates at 1.5 T, within the 3.6-5.2 /mM/s measured in plasma at 37 deg C
        by Rohrer et al. (Invest Radiol 2005;40:715; Gd-DTPA 4.1, Gd-DOTA 3.6, gadobutrol 5.2);
        give your agent's value at your field strength.
    baseline_frames
        Pre-contrast frames: ``n`` for the first n, or their indices (0-based).
    unphysical
        A sample whose ``S / M0 sin a >= 1`` has no finite R1 (the signal exceeds what any
        concentration can give: wrong T10, TR or flip angle, or noise at a tiny T10):
        ``"raise"`` an InputError, or ``"nan"`` it.
    mask
        Only these voxels are converted and checked (others NaN).

    Returns
    -------
    list of Volume or numpy.ndarray
        Concentration (mmol/l), the same kind and shape as ``signal``.

    Raises
    ------
    ithkit.InputError
        Baseline frames beyond the series or fewer frames than the baseline plus one, a
        non-positive baseline in a fitted voxel, T10/TR in seconds, flip angle outside 0-90,
        r1 in 1/M/s, unphysical S/S0 (with ``unphysical="raise"``).

    Examples
    --------
    >>> a, tr, t10, r1 = np.deg2rad(20), 5.0, 1000.0, 4.5
    >>> c_true = np.array([0.0, 0.0, 0.0, 0.5, 1.0])
    >>> e = np.exp(-tr / 1000 * (1000 / t10 + r1 * c_true))
    >>> s = 100 * np.sin(a) * (1 - e) / (1 - np.cos(a) * e)
    >>> c = signal_to_concentration(s.reshape(-1, 1, 1, 1), t10_ms=t10, flip_angle_deg=20,
    ...                             tr_ms=tr, baseline_frames=3)
    >>> np.round(c.ravel(), 6).tolist()[3:]
    [0.5, 1.0]
    """
    as_array = isinstance(signal, np.ndarray)
    if as_array:
        sig = np.asarray(signal, dtype=float)
        ref = None
    else:
        sig, ref = _stack(list(signal), "signal")
    n_t = sig.shape[0]
    _check_range(float(flip_angle_deg), "flip_angle_deg", 0.5, 90.0,
                 "the flip angle in degrees (e.g. 15), not radians")  # fmt: skip
    _check_range(float(tr_ms), "tr_ms", 0.1, 100.0, "TR in ms (e.g. 5, not 0.005 s)")
    _check_range(float(r1_per_mm_s), "r1_per_mm_s", 0.5, 100.0,
                 "r1 in 1/mM/s (e.g. 4.5, not 4500 /M/s)")  # fmt: skip
    if isinstance(baseline_frames, (int, np.integer)):
        base = np.arange(int(baseline_frames))
    else:
        base = np.asarray(list(baseline_frames), dtype=int)
    if base.size == 0 or base.min() < 0 or base.max() >= n_t or base.size >= n_t:
        raise InputError(
            f"baseline frames {base.tolist() if base.size < 8 else base.size} do not fit a "
            f"series of {n_t} time points",
            source="baseline_frames",
            fix="give the number (or indices) of pre-contrast frames, fewer than the series",
        )
    if isinstance(t10_ms, Volume):
        t10 = np.asarray(t10_ms.array, dtype=float)
    else:
        t10 = np.asarray(t10_ms, dtype=float)
    if t10.ndim and t10.shape != sig.shape[1:]:
        raise InputError(f"T10 map shape {t10.shape[::-1]} differs from the series "
                         f"{sig.shape[1:][::-1]}", source="t10_ms",
                         fix="resample the T1 map to the DCE grid")  # fmt: skip
    t10 = np.broadcast_to(t10, sig.shape[1:]).reshape(-1)
    flat = sig.reshape(n_t, -1)
    sel = _mask_selection(mask, sig.shape[1:], "the DCE series")
    t10s = t10[sel]
    fin = t10s[np.isfinite(t10s)]
    if fin.size and (np.median(fin) < 10 or (fin <= 0).any()):
        raise InputError(
            f"T10 median {np.median(fin):g} ms: seconds, or non-positive values?",
            source="t10_ms",
            fix="give T10 in ms (e.g. 1000 for 1 s), > 0 in every fitted voxel",
        )
    y = flat[:, sel]
    s_base = y[base].mean(axis=0)
    if (s_base <= 0).any():
        raise InputError(
            f"{int((s_base <= 0).sum())} voxels with a baseline signal <= 0",
            source="signal",
            fix="pass --mask / mask= to convert only the tissue voxels",
        )
    a = np.deg2rad(float(flip_angle_deg))
    tr_s = float(tr_ms) / 1000.0
    r10 = 1000.0 / t10s
    e0 = np.exp(-tr_s * r10)
    m0_sin = s_base * (1 - np.cos(a) * e0) / (1 - e0)  # M0 sin(a)
    ratio = y / m0_sin[None]
    bad = ~(ratio < 1)
    if bad.any() and unphysical == "raise":
        t_i, v_i = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(
            f"unphysical S/S0 in {int(bad.any(axis=0).sum())} voxels (first at time point "
            f"{t_i + 1}: S = {y[t_i, v_i]:g} above the fully relaxed signal {m0_sin[v_i]:g} "
            f"for T10 {t10s[v_i]:g} ms, flip angle {flip_angle_deg:g}, TR {tr_ms:g} ms)",
            source="signal",
            fix="check T10 (ms), flip angle (deg) and TR (ms); or mask out noise voxels",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (1 - ratio) / (1 - ratio * np.cos(a))
        conc = (-np.log(e) / tr_s - r10[None]) / float(r1_per_mm_s)
    out = np.full(flat.shape, np.nan)
    out[:, sel] = np.where(bad, np.nan, conc)
    full = out.reshape(sig.shape)
    if as_array or ref is None:
        return full
    return [Volume(full[i], ref.spacing, ref.origin, ref.direction, ref.source) for i in range(n_t)]


def parker_aif(times_min: NDArray[np.float64], *, hematocrit: float = 0.42) -> NDArray[np.float64]:
    """Population arterial input function (plasma concentration, mmol/l) of Parker et al.

    Blood curve of Parker et al., Magn Reson Med 2006;56:993 (two Gaussians plus an
    exponential modulated by a sigmoid, bolus arrival at t = 0), divided by ``1 - hematocrit``.

    Examples
    --------
    The blood curve peaks at ~6.1 mmol/l 0.17 min after arrival (Parker et al., Fig. 2):

    >>> t = np.linspace(0, 1, 1001)
    >>> round(float(parker_aif(t, hematocrit=0.0).max()), 1)
    6.1
    """
    t = np.asarray(times_min, dtype=float)
    a1, a2, t1, t2, s1, s2 = 0.809, 0.330, 0.17046, 0.365, 0.0563, 0.132
    alpha, beta, s, tau = 1.050, 0.1685, 38.078, 0.483
    blood = (
        a1 / (s1 * np.sqrt(2 * np.pi)) * np.exp(-((t - t1) ** 2) / (2 * s1**2))
        + a2 / (s2 * np.sqrt(2 * np.pi)) * np.exp(-((t - t2) ** 2) / (2 * s2**2))
        + alpha * np.exp(-beta * t) / (1 + np.exp(-s * (t - tau)))
    )
    return np.where(t >= 0, blood, 0.0) / (1.0 - hematocrit)


def _cumtrapz(y: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative trapezoid integral along axis 0, starting at 0."""
    dt = np.diff(t).reshape((-1,) + (1,) * (y.ndim - 1))
    inc = 0.5 * (y[1:] + y[:-1]) * dt
    return np.concatenate([np.zeros((1, *y.shape[1:])), np.cumsum(inc, axis=0)])


@dataclass(frozen=True)
class ToftsResult:
    """Tofts model maps.

    Attributes
    ----------
    ktrans
        Volume transfer constant (1/min).
    ve
        Extravascular extracellular volume fraction (0..1).
    vp
        Plasma volume fraction (0..1; zeros for the standard model).
    kep
        Rate constant ``ktrans / ve`` (1/min).
    """

    ktrans: Volume
    ve: Volume
    vp: Volume
    kep: Volume


def tofts_maps(
    concentration: Sequence[Volume] | NDArray[np.float64],
    times_s: Sequence[float],
    *,
    aif: NDArray[np.float64] | None = None,
    extended: bool = True,
    mask: Volume | None = None,
    geometry: Volume | None = None,
) -> ToftsResult:
    """Ktrans, ve (and vp) maps by the linearised Tofts model (Murase 2004), all voxels at once.

    Integrating the model gives, for every time t,
    ``C(t) = (Ktrans + kep vp) int Cp - kep int C + vp Cp(t)`` (extended; vp = 0 for the
    standard model): linear in the three (two) unknowns, solved by least squares per voxel
    with batched normal equations (Murase, Magn Reson Med 2004;51:858). Integrals are
    cumulative trapezoids on the sampling times.

    Parameters
    ----------
    concentration
        Contrast-agent concentration (mmol/l) per time point: volumes on one grid, or an
        array (time, ...).
    times_s
        Acquisition times in seconds from bolus arrival (increasing).
    aif
        Plasma concentration (mmol/l) at ``times_s``; default: :func:`parker_aif`.
    extended
        Extended Tofts (with vp) or standard Tofts.
    mask
        Voxels to fit (others NaN); default all.
    geometry
        Grid of the output when ``concentration`` is an array.

    Returns
    -------
    ToftsResult

    Raises
    ------
    ithkit.InputError
        Times not increasing, fewer time points than the model needs (>= 2 x parameters),
        an AIF of another length, times that look like minutes, grids that differ.

    Examples
    --------
    >>> t = np.arange(0, 300, 2.0)
    >>> cp = parker_aif(t / 60)
    >>> tm = t / 60
    >>> kt, ve = 0.25, 0.4
    >>> ct = kt * np.array([np.trapezoid(cp[: i + 1] * np.exp(-kt / ve * (tm[i] - tm[: i + 1])),
    ...                     tm[: i + 1]) for i in range(len(t))])
    >>> r = tofts_maps(ct.reshape(-1, 1, 1, 1), t, extended=False)
    >>> round(float(r.ktrans.array.ravel()[0]), 2), round(float(r.ve.array.ravel()[0]), 2)
    (0.25, 0.4)
    """
    t = np.asarray(list(times_s), dtype=float)
    if isinstance(concentration, np.ndarray):
        c = np.asarray(concentration, dtype=float)
        ref = geometry or Volume(
            np.zeros(c.shape[1:]), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)
        )
    else:
        c, ref = _stack(list(concentration), "concentration")
    n_par = 3 if extended else 2
    if c.shape[0] != t.size:
        raise InputError(
            f"{t.size} times for {c.shape[0]} time points",
            source="times_s",
            fix="give one acquisition time (s) per concentration volume",
        )
    if t.size < 2 * n_par:
        raise InputError(
            f"{t.size} time points; the {'extended ' if extended else ''}Tofts model needs "
            f">= {2 * n_par}",
            source="times_s",
            fix="give the whole dynamic series (typically 30-100 time points)",
        )
    if (np.diff(t) <= 0).any():
        raise InputError("times are not increasing", source="times_s", fix="sort the series")
    if t.max() < 15:
        raise InputError(
            f"times end at {t.max():g}: minutes?",
            source="times_s",
            fix="give times in seconds from bolus arrival",
        )
    tm = t / 60.0
    cp = parker_aif(tm) if aif is None else np.asarray(aif, dtype=float)
    if cp.shape != t.shape:
        raise InputError(
            f"AIF has {cp.size} values for {t.size} times",
            source="aif",
            fix="one plasma concentration per time point",
        )
    flat = c.reshape(t.size, -1)
    sel = np.ones(flat.shape[1], dtype=bool)
    if mask is not None:
        sel = np.asarray(mask.array).reshape(-1) > 0
    y = flat[:, sel]  # (T, V)
    icp = _cumtrapz(cp, tm)  # (T,)
    ic = _cumtrapz(y, tm)  # (T, V)
    cols = [np.broadcast_to(icp[:, None], y.shape), -ic]
    if extended:
        cols.append(np.broadcast_to(cp[:, None], y.shape))
    x = np.stack(cols, axis=-1)  # (T, V, P)
    xtx = np.einsum("tvp,tvq->vpq", x, x)
    xty = np.einsum("tvp,tv->vp", x, y)
    with np.errstate(all="ignore"):
        try:
            beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
        except np.linalg.LinAlgError:
            beta = np.einsum("vpq,vq->vp", np.linalg.pinv(xtx), xty)
    kep = beta[:, 1]
    vp = beta[:, 2] if extended else np.zeros_like(kep)
    ktrans = beta[:, 0] - kep * vp
    with np.errstate(divide="ignore", invalid="ignore"):
        ve = np.where(kep != 0, ktrans / kep, np.nan)

    def back(v: NDArray[np.float64]) -> Volume:
        out = np.full(flat.shape[1], np.nan)
        out[sel] = v
        return Volume(out.reshape(c.shape[1:]), ref.spacing, ref.origin, ref.direction, ref.source)

    return ToftsResult(ktrans=back(ktrans), ve=back(ve), vp=back(vp), kep=back(kep))


def cellularity_map(
    adc: Volume,
    mask: Volume,
    *,
    adc_water_mm2_s: float = ADC_WATER_MM2_S,
    adc_min_mm2_s: float | None = None,
    capacity: float = 1.0,
) -> Volume:
    """Tumour cellularity from ADC: ``capacity (ADC_w - ADC) / (ADC_w - ADC_min)``.

    The linear model of Atuegwu et al. (Magn Reson Med 2011;66:1689; Yankeelov's group):
    cellularity falls linearly from ``capacity`` at the smallest ADC in the ROI (maximal
    packing) to 0 at free water (3.0e-3 mm^2/s at 37 degrees C). With ``capacity = 1`` it is a
    fraction of the maximal cell density; give cells per voxel for absolute numbers. Clipped
    to 0..capacity; NaN outside the ROI.

    Examples
    --------
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> a = Volume(np.array([[[0.6e-3, 1.8e-3, 3.0e-3]]]), *geo)
    >>> cellularity_map(a, Volume(np.ones((1, 1, 3)), *geo)).array.ravel().tolist()
    [1.0, 0.5, 0.0]
    """
    arr = np.asarray(adc.array, dtype=float)
    roi = np.asarray(mask.array) > 0
    if arr.shape != roi.shape:
        raise InputError("ADC and mask grids differ", source=mask.source or "mask",
                         fix="resample the mask to the ADC map")  # fmt: skip
    vals = arr[roi & np.isfinite(arr)]
    if vals.size == 0:
        raise InputError("no finite ADC in the ROI", source=adc.source or "adc")
    med = float(np.median(vals))
    if med > 0.1:
        raise InputError(
            f"median ADC {med:g} looks like 10^-6 mm^2/s",
            source=adc.source or "adc",
            fix="give ADC in mm^2/s (e.g. 1.1e-3; divide by 1e6)",
        )
    amin = float(vals.min()) if adc_min_mm2_s is None else float(adc_min_mm2_s)
    if not amin < adc_water_mm2_s:
        raise InputError(f"ADC_min {amin:g} is not below ADC_water {adc_water_mm2_s:g}",
                         source="adc_min_mm2_s")  # fmt: skip
    cell = capacity * (adc_water_mm2_s - arr) / (adc_water_mm2_s - amin)
    cell = np.clip(cell, 0.0, capacity)
    cell = np.where(roi, cell, np.nan)
    return Volume(cell, adc.spacing, adc.origin, adc.direction, adc.source)


# how a high or low value of a known map reads, for habitat names
_MEANING = {
    "adc": ("cellular", "necrotic/oedematous"),
    "ktrans": ("hypoperfused", "perfused"),
    "ve": ("dense", "leaky interstitium"),
    "vp": ("avascular", "vascular"),
    "suv": ("low uptake", "metabolically active"),
    "cellularity": ("sparse", "cellular"),
}


def habitat_profile_names(table: Any, maps: Sequence[str], *, cut: float = 0.5) -> list[str]:
    """Names habitats by their profile: each map's habitat mean in ROI standard deviations.

    ``table`` holds ``z_<map>`` columns (habitat mean minus ROI mean, over the ROI SD);
    below ``-cut`` is "low", above ``cut`` "high". Known maps (ADC, Ktrans, ve, vp, SUV,
    cellularity) add what that reading means, e.g. ``low ADC, high Ktrans: cellular,
    perfused``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"z_adc": [-1.2, 1.0], "z_ktrans": [0.9, -0.1]})
    >>> habitat_profile_names(t, ["adc", "ktrans"])
    ['low ADC, high Ktrans: cellular, perfused', 'high ADC, mid Ktrans: necrotic/oedematous']
    """
    pretty = {"adc": "ADC", "ktrans": "Ktrans", "suv": "SUV"}
    names = []
    for _, row in table.iterrows():
        parts, meaning = [], []
        for m in maps:
            z = float(row[f"z_{m}"])
            level = "low" if z < -cut else "high" if z > cut else "mid"
            parts.append(f"{level} {pretty.get(m.lower(), m)}")
            key = m.lower()
            if key in _MEANING and level != "mid":
                meaning.append(_MEANING[key][0 if level == "low" else 1])
        names.append(", ".join(parts) + (": " + ", ".join(meaning) if meaning else ""))
    return names


def multiparametric_habitats(
    maps: Mapping[str, Volume],
    mask: Volume,
    *,
    k: int | None = None,
    seed: int = 0,
    tol: float = 1e-3,
) -> Any:
    """Habitats from parametric maps of different sequences, named by their profile.

    Every map must lie on the mask's grid (registered and resampled beforehand); a map on
    another grid is a one-line InputError naming it. Returns the
    :class:`ithkit.imaging.HabitatResult` whose table gains ``z_<map>`` (habitat mean in ROI
    SDs) and ``profile`` (see :func:`habitat_profile_names`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> low = np.zeros((6, 6, 6)); low[:3] = 1
    >>> adc = Volume(np.where(low > 0, 0.7e-3, 1.6e-3) + rng.normal(0, 2e-5, low.shape), *geo)
    >>> kt = Volume(np.where(low > 0, 0.30, 0.05) + rng.normal(0, 0.005, low.shape), *geo)
    >>> res = multiparametric_habitats({"adc": adc, "ktrans": kt}, Volume(np.ones((6, 6, 6)), *geo),
    ...                                k=2)
    >>> sorted(res.table["profile"])[0]
    'high ADC, low Ktrans: necrotic/oedematous, hypoperfused'
    """
    from ithkit.imaging._habitats import HabitatResult, habitats
    from ithkit.imaging._io import roi_from_mask

    if not maps:
        raise InputError("no parametric maps given", source="maps", fix="e.g. ADC and Ktrans")
    for name, vol in maps.items():
        src = vol.source or name
        same = vol.array.shape == mask.array.shape and all(
            np.allclose(a, b, atol=tol)
            for a, b in (
                (vol.spacing, mask.spacing),
                (vol.origin, mask.origin),
                (vol.direction, mask.direction),
            )
        )
        if not same:
            raise InputError(
                f"map {name!r} grid (size {vol.array.shape[::-1]}, spacing "
                f"{tuple(round(v, 3) for v in vol.spacing)}) differs from the mask grid (size "
                f"{mask.array.shape[::-1]}, spacing {tuple(round(v, 3) for v in mask.spacing)})",
                source=src,
                fix="register and resample every map to one grid first",
            )
    roi = roi_from_mask(mask)
    m01 = Volume(roi.astype(np.uint8), mask.spacing, mask.origin, mask.direction, mask.source)
    res = habitats(maps, m01, k=k, seed=seed)
    table = res.table.copy()
    lab = np.asarray(res.labels.array)
    for name, vol in maps.items():
        vals = np.asarray(vol.array, dtype=float)
        mu, sd = float(np.nanmean(vals[roi])), float(np.nanstd(vals[roi]))
        table[f"z_{name}"] = [
            (float(np.nanmean(vals[lab == h])) - mu) / sd if sd > 0 else 0.0
            for h in table["habitat"]
        ]
    table["profile"] = habitat_profile_names(table, list(maps))
    return HabitatResult(
        labels=res.labels, k=res.k, table=table, selection=res.selection,
        diversity=res.diversity, evenness=res.evenness,
    )  # fmt: skip


def habitats_over_time(
    maps: Mapping[int, Mapping[str, Volume]],
    masks: Mapping[int, Volume],
    *,
    k: int | None = None,
    seed: int = 0,
) -> Any:
    """Habitat volumes of one lesion over time, with habitats defined at baseline.

    The baseline (earliest timepoint) is clustered by :func:`multiparametric_habitats`; every
    later voxel is standardised with the *baseline* ROI mean and SD of each map and assigned to
    the nearest baseline habitat centre, so habitat 2 means the same tissue profile at every
    timepoint (clustering each scan anew would relabel and redraw the habitats).

    Parameters
    ----------
    maps
        ``{timepoint: {map name: Volume}}``, the same map names at every timepoint; each
        timepoint's maps on that timepoint's mask grid.
    masks
        ``{timepoint: mask}``.

    Returns
    -------
    pandas.DataFrame
        ``timepoint, habitat, profile, n_voxels, volume_ml, volume_fraction``.

    Examples
    --------
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> def adc(n_low):
    ...     a = np.full((4, 4, 8), 2.0e-3); a[:, :, :n_low] = 0.8e-3
    ...     return {"adc": Volume(a, *geo)}
    >>> t = habitats_over_time({0: adc(4), 1: adc(2)}, {0: Volume(np.ones((4, 4, 8)), *geo),
    ...                         1: Volume(np.ones((4, 4, 8)), *geo)}, k=2)
    >>> t[t["habitat"] == 1]["volume_fraction"].tolist()
    [0.5, 0.25]
    """
    import pandas as pd

    from ithkit.imaging._io import roi_from_mask

    if not maps or set(maps) != set(masks):
        raise InputError("maps and masks must name the same timepoints", source="maps",
                         fix="one mask per timepoint with maps")  # fmt: skip
    tps = sorted(maps)
    names = list(maps[tps[0]])
    for tp in tps:
        if list(maps[tp]) != names:
            raise InputError(f"timepoint {tp} has maps {list(maps[tp])}, baseline {names}",
                             source="maps", fix="the same maps at every timepoint")  # fmt: skip
    base = multiparametric_habitats(maps[tps[0]], masks[tps[0]], k=k, seed=seed)
    roi0 = roi_from_mask(masks[tps[0]])
    x0 = np.stack([np.asarray(maps[tps[0]][n].array, dtype=float)[roi0] for n in names], axis=1)
    mu, sd = np.nanmean(x0, axis=0), np.nanstd(x0, axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    lab0 = np.asarray(base.labels.array)[roi0]
    centres = np.stack([((x0[lab0 == h] - mu) / sd).mean(axis=0) for h in range(1, base.k + 1)])
    profiles = dict(zip(base.table["habitat"], base.table["profile"], strict=True))
    rows = []
    for tp in tps:
        mask = masks[tp]
        if tp != tps[0]:
            for name, vol in maps[tp].items():
                if vol.array.shape != mask.array.shape or not np.allclose(
                    vol.spacing, mask.spacing, atol=1e-3
                ):
                    raise InputError(
                        f"map {name!r} of timepoint {tp} is not on that timepoint's mask grid",
                        source=vol.source or name,
                        fix="register and resample every map to one grid first",
                    )
        roi = roi_from_mask(mask)
        x = np.stack([np.asarray(maps[tp][n].array, dtype=float)[roi] for n in names], axis=1)
        z = (x - mu) / sd
        ok = np.all(np.isfinite(z), axis=1)
        d = ((z[ok, None, :] - centres[None]) ** 2).sum(axis=2)
        lab = d.argmin(axis=1) + 1
        counts = np.bincount(lab, minlength=base.k + 1)[1:]
        vox_ml = float(np.prod(mask.spacing)) / 1000.0
        for h in range(1, base.k + 1):
            rows.append({"timepoint": int(tp), "habitat": h, "profile": profiles[h],
                         "n_voxels": int(counts[h - 1]), "volume_ml": counts[h - 1] * vox_ml,
                         "volume_fraction": counts[h - 1] / max(1, counts.sum())})  # fmt: skip
    return pd.DataFrame(rows)
