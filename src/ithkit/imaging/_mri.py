"""Multiparametric MRI maps: ADC, Tofts / extended Tofts (Parker AIF), cellularity, habitats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
