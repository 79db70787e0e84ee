"""Dose-response curves per sample and drug: LL.4 fits, IC50s, AUC/AAC, GR metrics, DIP rates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.functional._io import validate_responses
from ithkit.functional._ll4 import LL4Fit, absolute_ic, bootstrap_refits, fit_ll4

__all__ = ["FITS_COLUMNS", "ResponseFits", "fit_responses", "gr_values"]

FITS_COLUMNS = (
    "sample_id",
    "drug",
    "ic50_rel_um",
    "ic50_abs_um",
    "ic50_extrapolated",
    "emax",
    "einf",
    "hill",
    "auc",
    "aac",
    "gr50_um",
    "grmax",
    "grinf",
    "gec50_um",
    "gr_aoc",
    "dip_rate_per_h",
    "flat",
    "flat_reason",
    "r2",
)
"""The interface columns of ``fits.tsv`` (more follow: intervals and details)."""

INTERVAL_OF = ("ic50_rel_um", "ic50_abs_um", "emax", "einf", "hill", "auc", "aac")
FITS_FILE = "fits.tsv"
CURVES_FILE = "curves.tsv"
DIP_FILE = "dip.tsv"
POINTS_FILE = "points.tsv"


def gr_values(count: np.ndarray, count_ctrl: np.ndarray, count_t0: np.ndarray) -> np.ndarray:
    """Normalised growth-rate inhibition (Hafner et al. 2016 Nat Methods 13:521, eq. 1).

    ``GR = 2 ** (log2(x / x0) / log2(x_ctrl / x0)) - 1``: 1 = no effect, 0 = full cytostasis,
    below 0 = cell death (down to -1).

    Examples
    --------
    >>> gr_values(np.array([400.0, 100.0, 50.0]), np.array([400.0] * 3), np.array([100.0] * 3))
    array([ 1.        ,  0.        , -0.29289322])
    """
    x = np.asarray(count, dtype=float)
    xc = np.asarray(count_ctrl, dtype=float)
    x0 = np.asarray(count_t0, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log2(np.maximum(x, 1e-300) / x0) / np.log2(xc / x0)
    return np.asarray(2.0**ratio - 1.0)


@dataclass(frozen=True)
class ResponseFits:
    """Result of :func:`fit_responses`.

    Attributes
    ----------
    fits
        One row per sample and drug: the columns of :data:`FITS_COLUMNS`, then
        ``ic50_rel_censor, ic50_abs_censor, gr50_censor`` (``<``/``>`` when the value is
        outside the tested range and reported at its edge), ``dip_ctrl_per_h`` (DIP rate of
        the untreated rows), ``top, bottom, ec50_um`` (the fitted curve, uncensored),
        ``gr_hill`` (slope of the GR curve, whose top is 1, bottom ``grinf`` and midpoint
        ``gec50_um``), ``f_test_p, n_obs, n_doses, min_dose_um, max_dose_um`` and
        ``<metric>_low/_high`` bootstrap 95 % intervals of ``ic50_rel_um, ic50_abs_um, emax,
        einf, hill, auc, aac``.
        Units: concentrations in µM; ``emax, einf`` fractions of control; ``hill`` drc's ``b``
        (> 0: response falls with dose); ``auc`` the mean fitted response over log10
        concentration from ``min_dose_um`` to ``max_dose_um`` (fraction 0..1, the area
        divided by the width of the log10 range); ``aac = 1 - auc``; ``gr_aoc`` likewise the
        mean of ``1 - GR``; ``dip_rate_per_h`` doublings per hour at the highest tested
        concentration.
    curves
        Fitted parameters for drawing: ``sample_id, drug, hill, bottom, top, ec50_um,
        gr_hill, gr_bottom, gr_ec50_um, min_dose_um, max_dose_um, flat``.
    points
        The observations used: ``sample_id, drug, concentration_um, response, gr``.
    dip
        DIP rates per concentration (empty without time courses): ``sample_id, drug,
        concentration_um, dip_rate_per_h, n_points``.
    """

    fits: pd.DataFrame
    curves: pd.DataFrame
    points: pd.DataFrame
    dip: pd.DataFrame

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``fits.tsv, curves.tsv, points.tsv`` (and ``dip.tsv``) under ``out_dir``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "fits": write_table(self.fits, out / FITS_FILE),
            "curves": write_table(self.curves, out / CURVES_FILE),
            "points": write_table(self.points, out / POINTS_FILE),
        }
        if len(self.dip):
            files["dip"] = write_table(self.dip, out / DIP_FILE)
        return files


def _auc(fit: LL4Fit | None, lo: float, hi: float, *, flat_value: float) -> float:
    """Mean of the fitted curve over log10 dose in [lo, hi]."""
    if fit is None:
        return flat_value
    grid = np.logspace(math.log10(lo), math.log10(hi), 257)
    y = fit.predict(grid)
    return float(np.trapezoid(y, np.log10(grid)) / (math.log10(hi) - math.log10(lo)))


def _censor(value: float, fit: LL4Fit, lo: float, hi: float, level: float) -> tuple[float, str]:
    """Value clipped to the tested range with the side it was clipped on."""
    if math.isnan(value):
        # the curve never crosses level: is it above it everywhere tested (effect too weak)?
        at_hi = float(fit.predict(np.array([hi]))[0])
        return (hi, ">") if at_hi > level else (lo, "<")
    if value > hi:
        return hi, ">"
    if value < lo:
        return lo, "<"
    return value, ""


def _f_test(y: np.ndarray, fit: LL4Fit) -> float:
    """p of the F-test of the fitted curve against a constant."""
    from scipy import stats

    rss0 = float(np.sum((y - y.mean()) ** 2))
    if rss0 <= 1e-24 * max(1.0, float(np.sum(y**2))):
        return 1.0  # a constant response: nothing for a curve to explain
    df1 = fit.n_params - 1
    df2 = fit.n - fit.n_params
    if df2 <= 0 or df1 <= 0:
        return math.nan
    if fit.rss <= 0:
        return 0.0
    f = ((rss0 - fit.rss) / df1) / (fit.rss / df2)
    return float(stats.f.sf(max(f, 0.0), df1, df2))


def _metrics(fit: LL4Fit, lo: float, hi: float) -> dict[str, float]:
    """Uncensored metrics of one fit (for the bootstrap)."""
    einf = fit.bottom if fit.hill > 0 else fit.top
    auc = _auc(fit, lo, hi, flat_value=math.nan)
    return {
        "ic50_rel_um": fit.ec50,
        "ic50_abs_um": absolute_ic(hill=fit.hill, bottom=fit.bottom, top=fit.top, ec50=fit.ec50),
        "emax": float(fit.predict(np.array([hi]))[0]),
        "einf": einf,
        "hill": fit.hill,
        "auc": auc,
        "aac": 1.0 - auc,
    }


def _bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    fit: LL4Fit,
    lo: float,
    hi: float,
    *,
    n: int,
    rng: np.random.Generator,
    top: float | None,
    bottom: float | None,
) -> dict[str, tuple[float, float]]:
    """Percentile 95 % intervals from residual-bootstrap refits (:func:`bootstrap_refits`)."""
    draws: dict[str, list[float]] = {k: [] for k in INTERVAL_OF}
    for refit in bootstrap_refits(x, y, fit, n=n, rng=rng, top=top, bottom=bottom):
        for k, v in _metrics(refit, lo, hi).items():
            draws[k].append(v)
    out: dict[str, tuple[float, float]] = {}
    for k, vals in draws.items():
        arr = np.asarray(vals, dtype=float)
        finite = arr[np.isfinite(arr)]
        if finite.size < max(2, 0.5 * n):
            out[k] = (math.nan, math.nan)
        else:
            lo_q, hi_q = np.percentile(finite, [2.5, 97.5])
            out[k] = (float(lo_q), float(hi_q))
    return out


def _dip_rates(part: pd.DataFrame, delay_h: float) -> list[dict[str, Any]]:
    """Slope of log2(count) on time after ``delay_h`` at each concentration (Harris 2016)."""
    rows = []
    for conc, sub in part.groupby("concentration_um", sort=True):
        sub = sub[sub["count"].notna() & (sub["count"] > 0)]
        late = sub[sub["time_h"] >= delay_h]
        use = late if late["time_h"].nunique() >= 2 else sub
        if use["time_h"].nunique() < 2:
            continue
        t = use["time_h"].to_numpy(dtype=float)
        v = np.log2(use["count"].to_numpy(dtype=float))
        slope = float(np.polyfit(t, v, 1)[0])
        rows.append(
            {"concentration_um": float(conc), "dip_rate_per_h": slope, "n_points": len(use)}
        )
    return rows


def _endpoint(part: pd.DataFrame) -> pd.DataFrame:
    """Rows of the last time point (all rows when there is no time course)."""
    if "time_h" not in part.columns or part["time_h"].isna().all():
        return part
    last = part["time_h"].max()
    return part[part["time_h"] == last]


def _responses_of(part: pd.DataFrame, source: str) -> np.ndarray:
    if "response" in part.columns and part["response"].notna().all():
        return part["response"].to_numpy(dtype=float)
    if "count" in part.columns and "count_ctrl" in part.columns:
        return (part["count"] / part["count_ctrl"]).to_numpy(dtype=float)
    if "count" in part.columns and "time_h" in part.columns:
        ctrl = part.loc[part["concentration_um"] == 0, "count"]
        if ctrl.empty:
            raise InputError(
                "a time course without untreated rows (concentration 0)",
                source=source,
                column="concentration_um",
                fix="add control wells, or give response",
            )
        return (part["count"] / float(ctrl.mean())).to_numpy(dtype=float)
    raise InputError(
        "rows without response",
        source=source,
        column="response",
        fix="fill response, or give count with count_ctrl",
    )


def fit_responses(
    responses: pd.DataFrame,
    *,
    n_bootstrap: int = 200,
    seed: int | None = 0,
    alpha: float = 0.05,
    top: float | None = None,
    bottom: float | None = None,
    dip_delay_h: float = 24.0,
    source: str = "responses",
    show_progress: bool = False,
) -> ResponseFits:
    """Fit a dose-response curve per sample and drug and derive its metrics.

    The four-parameter log-logistic model (drc's ``LL.4``, four free parameters unless
    ``top``/``bottom`` fix an asymptote) is fitted by least squares on log EC50 with scaled
    doses; untreated rows (concentration 0) enter at the curve's upper limit. A curve whose
    fit is no better than a constant (F-test p > ``alpha``) is reported ``flat`` with its reason
    and no IC50. With cell counts (``count, count_ctrl, count_t0``) the GR curve (Hafner et al.
    2016) is fitted with its top fixed at 1; with time courses (``time_h``, ``count``) the
    DIP rate (Harris et al. 2016) is the slope of log2 counts on time after ``dip_delay_h``.

    Parameters
    ----------
    responses
        Table as read by :func:`ithkit.functional.read_responses`.
    n_bootstrap
        Bootstrap refits for the 95 % intervals (residual bootstrap: fitted values plus
        resampled residuals, see :func:`bootstrap_refits`; 0: none).
    seed
        Seed of the bootstrap (curve ``k`` uses ``SeedSequence(seed).spawn``'s ``k``-th child).
    alpha
        Level of the F-test against a flat (constant) response.
    top, bottom
        Fix the upper / lower asymptote (fraction of control), e.g. ``top=1``.
    dip_delay_h
        Hours after treatment ignored by the DIP-rate regression (when later points exist).
    source
        Name used in error messages.
    show_progress
        A progress bar over curves.

    Returns
    -------
    ResponseFits

    Examples
    --------
    >>> from ithkit.functional import ll4
    >>> x = np.repeat([0, 0.1, 0.3, 1, 3, 10], 2)
    >>> y = ll4(x, hill=1.0, bottom=0.1, top=1.0, ec50=1.0) + np.tile([0.01, -0.01], 6)
    >>> res = fit_responses(pd.DataFrame({"sample_id": "S1", "drug": "A",
    ...                                   "concentration_um": x, "response": y}), n_bootstrap=0)
    >>> round(float(res.fits["ic50_rel_um"].iloc[0]), 2), bool(res.fits["flat"].iloc[0])
    (1.0, False)
    """
    data = validate_responses(responses, source=source)
    if n_bootstrap < 0:
        raise InputError(f"n_bootstrap is {n_bootstrap}", source="n_bootstrap", fix="use >= 0")
    groups = list(data.groupby(["sample_id", "drug"], sort=False))
    children = np.random.SeedSequence(seed).spawn(max(len(groups), 1))
    iterator: Any = enumerate(groups)
    if show_progress and len(groups) > 1:
        from rich.progress import track

        iterator = track(iterator, total=len(groups), description="Curves", transient=True)
    fit_rows, curve_rows, point_frames, dip_rows = [], [], [], []
    for k, ((sample, drug), part) in iterator:
        end = _endpoint(part)
        x = end["concentration_um"].to_numpy(dtype=float)
        y = _responses_of(end, source)
        pos = x[x > 0]
        lo, hi = float(pos.min()), float(pos.max())
        fit = fit_ll4(x, y, top=top, bottom=bottom)
        p = _f_test(y, fit)
        tss = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - fit.rss / tss if tss > 0 else math.nan
        flat_reason = ""
        if math.isnan(p):
            flat_reason = "too few observations for the F-test"
        elif p > alpha:
            flat_reason = f"no dose effect: F-test against a constant p={p:.3g}"
        flat = bool(flat_reason)
        row: dict[str, Any] = {"sample_id": sample, "drug": drug}
        if flat:
            mean = float(y.mean())
            row.update(
                ic50_rel_um=math.nan,
                ic50_abs_um=math.nan,
                ic50_extrapolated=False,
                emax=mean,
                einf=mean,
                hill=math.nan,
                auc=mean,
                aac=1.0 - mean,
                ic50_rel_censor="",
                ic50_abs_censor="",
            )
        else:
            m = _metrics(fit, lo, hi)
            rel, rel_c = _censor(m["ic50_rel_um"], fit, lo, hi, level=math.nan)
            ab, ab_c = _censor(m["ic50_abs_um"], fit, lo, hi, level=0.5)
            row.update(
                ic50_rel_um=rel,
                ic50_abs_um=ab,
                ic50_extrapolated=bool(rel_c or ab_c),
                emax=m["emax"],
                einf=m["einf"],
                hill=m["hill"],
                auc=m["auc"],
                aac=m["aac"],
                ic50_rel_censor=rel_c,
                ic50_abs_censor=ab_c,
            )
        gr_fit, gr = _gr(end, lo, hi, row)
        dip = []
        if "time_h" in part.columns and "count" in part.columns:
            dip = _dip_rates(part, dip_delay_h)
            for d in dip:
                dip_rows.append({"sample_id": sample, "drug": drug, **d})
        by_conc = {d["concentration_um"]: d["dip_rate_per_h"] for d in dip}
        row["dip_rate_per_h"] = by_conc.get(max(by_conc), math.nan) if by_conc else math.nan
        row["dip_ctrl_per_h"] = by_conc.get(0.0, math.nan)
        row.update(top=fit.top, bottom=fit.bottom, ec50_um=fit.ec50)
        row.update(
            flat=flat,
            flat_reason=flat_reason,
            r2=r2,
            f_test_p=p,
            n_obs=int(x.size),
            n_doses=int(np.unique(pos).size),
            min_dose_um=lo,
            max_dose_um=hi,
        )
        if n_bootstrap and not flat:
            rng = np.random.default_rng(children[k])
            ci = _bootstrap(x, y, fit, lo, hi, n=n_bootstrap, rng=rng, top=top, bottom=bottom)
        else:
            ci = {key: (math.nan, math.nan) for key in INTERVAL_OF}
        for key, (a, b) in ci.items():
            row[f"{key}_low"], row[f"{key}_high"] = a, b
        fit_rows.append(row)
        curve_rows.append(
            {
                "sample_id": sample,
                "drug": drug,
                "hill": fit.hill,
                "bottom": fit.bottom,
                "top": fit.top,
                "ec50_um": fit.ec50,
                "gr_hill": gr_fit.hill if gr_fit else math.nan,
                "gr_bottom": gr_fit.bottom if gr_fit else math.nan,
                "gr_ec50_um": gr_fit.ec50 if gr_fit else math.nan,
                "min_dose_um": lo,
                "max_dose_um": hi,
                "flat": flat,
            }
        )
        point_frames.append(
            pd.DataFrame(
                {"sample_id": sample, "drug": drug, "concentration_um": x, "response": y, "gr": gr}
            )
        )
    fits = pd.DataFrame(fit_rows)
    extra = [c for c in fits.columns if c not in FITS_COLUMNS]
    fits = fits[[*FITS_COLUMNS, *extra]]
    dip_frame = pd.DataFrame(
        dip_rows, columns=["sample_id", "drug", "concentration_um", "dip_rate_per_h", "n_points"]
    )
    return ResponseFits(
        fits, pd.DataFrame(curve_rows), pd.concat(point_frames, ignore_index=True), dip_frame
    )


def _gr(end: pd.DataFrame, lo: float, hi: float, row: dict[str, Any]) -> tuple[LL4Fit | None, Any]:
    """GR metrics (Hafner 2016) into ``row``; returns the GR fit and the per-row GR values."""
    nan_row = dict(
        gr_hill=math.nan,
        gr50_um=math.nan,
        grmax=math.nan,
        grinf=math.nan,
        gec50_um=math.nan,
        gr_aoc=math.nan,
        gr50_censor="",
    )
    cols = ("count", "count_ctrl", "count_t0")
    if not all(c in end.columns for c in cols) or end[list(cols)].isna().any().any():
        row.update(nan_row)
        return None, math.nan
    if (end["count_ctrl"] <= end["count_t0"]).any():
        raise InputError(
            "untreated cells did not grow (count_ctrl <= count_t0)",
            source="responses",
            column="count_ctrl",
            fix="GR metrics need controls that divide during the assay",
        )
    x = end["concentration_um"].to_numpy(dtype=float)
    gr = gr_values(
        end["count"].to_numpy(), end["count_ctrl"].to_numpy(), end["count_t0"].to_numpy()
    )
    fit = fit_ll4(x, gr, top=1.0)
    if _f_test(gr, fit) > 0.05:
        mean = float(gr.mean())
        row.update(nan_row, grmax=mean, grinf=mean, gr_aoc=1.0 - mean)
        return None, gr
    g50 = absolute_ic(hill=fit.hill, bottom=fit.bottom, top=fit.top, ec50=fit.ec50)
    g50c, side = _censor(g50, fit, lo, hi, level=0.5)
    row.update(
        gr50_um=g50c,
        gr50_censor=side,
        gr_hill=fit.hill,
        grmax=float(fit.predict(np.array([hi]))[0]),
        grinf=fit.bottom if fit.hill > 0 else fit.top,
        gec50_um=fit.ec50,
        gr_aoc=1.0 - _auc(fit, lo, hi, flat_value=math.nan),
    )
    return fit, gr
