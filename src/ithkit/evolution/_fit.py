"""Fit a scenario's free parameters to a patient's biomarker series (least squares on log scale).

The therapy the patient received is read from the series (a ``therapy`` column: drugs joined with
``+`` or ``none``, in force from that visit to the next) and replayed as a ``schedule`` policy.
Residuals are ``log(observed) - log(scale x model)``; the scale (biomarker units per model unit)
is solved in closed form at every step, so the scenario's biomarker production need not be in the
measurement's units. Parameters are searched in log space within their bounds
(``scipy.optimize.least_squares``, trust-region reflective), from several starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.evolution._ode import run_ode
from ithkit.evolution._policies import Controller
from ithkit.evolution._scenario import Scenario, load_scenario


@dataclass(frozen=True)
class FitResult:
    """Result of :func:`fit`.

    Attributes
    ----------
    params_
        Fitted value of every free parameter (by key path).
    scale_
        Biomarker units per model unit (observed = scale x model).
    scenario
        The fitted scenario (its policy is the replayed schedule).
    fitted
        ``time_days, observed, predicted, therapy`` at the observation times.
    rmse_log10
        Root-mean-square error of log10(biomarker).
    r2_log
        Coefficient of determination on log scale.
    n_obs
        Number of observations used.
    success
        Whether the optimiser reported convergence.
    """

    params_: dict[str, float]
    scale_: float
    scenario: Scenario
    fitted: pd.DataFrame
    rmse_log10: float
    r2_log: float
    n_obs: int
    success: bool


def _series(data: pd.DataFrame, source: str) -> pd.DataFrame:
    for col in ("time_days", "biomarker"):
        if col not in data.columns:
            raise InputError(f"the series has no {col} column", source=source, column=col,
                             fix="columns: time_days, biomarker[, therapy]")  # fmt: skip
    frame = data.copy()
    frame["time_days"] = pd.to_numeric(frame["time_days"], errors="coerce")
    frame["biomarker"] = pd.to_numeric(frame["biomarker"], errors="coerce")
    bad = frame["time_days"].isna() | frame["biomarker"].isna() | (frame["biomarker"] < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError("time_days or biomarker is missing or negative", source=source,
                         row=row, fix="give numbers, biomarker >= 0")  # fmt: skip
    if not frame["time_days"].is_monotonic_increasing:
        raise InputError("time_days is not increasing", source=source, column="time_days",
                         fix="sort the series by time")  # fmt: skip
    if len(frame) < 3:
        raise InputError(f"only {len(frame)} observations", source=source,
                         fix="a fit needs at least 3 biomarker values")  # fmt: skip
    return frame.reset_index(drop=True)


def _schedule(frame: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    t0 = float(frame["time_days"].iloc[0])
    if "therapy" not in frame.columns:
        return dict(scenario.policy)
    times: list[float] = []
    therapy: list[str] = []
    for t, th in zip(frame["time_days"], frame["therapy"].astype(str), strict=True):
        if not therapy or th != therapy[-1]:
            times.append(float(t) - t0)
            therapy.append(th)
    return {"kind": "schedule", "times_days": times, "therapy": therapy}


def _predict(scenario: Scenario, times: np.ndarray) -> np.ndarray:
    controller = Controller(scenario)
    controller.stop_at_progression = False
    record = run_ode(scenario, controller, sample_days=np.asarray(times, dtype=float))
    t = np.asarray(record.times)
    b = np.asarray(record.biomarker)
    return np.asarray(np.interp(times, t, b))


def fit(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    data: pd.DataFrame,
    free: Mapping[str, tuple[float, float]],
    *,
    tied: Mapping[str, tuple[str, float]] | None = None,
    floor: float | None = None,
    n_starts: int = 3,
    seed: int | None = 0,
    source: str = "series",
) -> FitResult:
    """Estimate free parameters of ``scenario`` from a biomarker series.

    Parameters
    ----------
    scenario
        The model (its biomarker is compared with the data; its progression is ignored).
    data
        ``time_days`` (from the first visit), ``biomarker`` (PSA, ctDNA tumour fraction, lesion
        sum...) and optionally ``therapy`` (drugs on from this visit to the next).
    free
        Key path -> (low, high) bounds, e.g. ``{"populations.S.growth_rate": (1e-3, 0.1)}``;
        all bounds must be > 0 (the search is in log space).
    tied
        Key path -> (free key path, factor): set to ``factor x`` that free parameter, e.g.
        ``{"populations.R.growth_rate": ("populations.S.growth_rate", 0.583)}`` fits one rate
        scale for both populations.
    floor
        Biomarker values below ``floor`` are raised to it before taking logs (default: half the
        smallest positive value).
    n_starts
        Starts: the bounds' geometric midpoints, then random points (``seed``).
    seed
        Seed of the random starts.
    source
        Name of the series in error messages.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ithkit.evolution import simulate
    >>> truth = {"engine": "ode", "horizon_days": 60,
    ...          "populations": {"S": {"initial": 100, "growth_rate": 0.05}},
    ...          "biomarker": {"production": {"S": 1}}}
    >>> days = np.arange(0, 61, 10.0)
    >>> obs = 100 * np.exp(0.05 * days)
    >>> res = fit(truth, pd.DataFrame({"time_days": days, "biomarker": obs}),
    ...           {"populations.S.growth_rate": (0.001, 1.0)}, n_starts=1)
    >>> round(res.params_["populations.S.growth_rate"], 3)
    0.05
    """
    from scipy.optimize import least_squares

    sc = load_scenario(scenario)
    frame = _series(data, source)
    if not free:
        raise InputError("no free parameters", source="free",
                         fix="e.g. {'populations.S.growth_rate': (0.001, 0.1)}")  # fmt: skip
    names = list(free)
    lows = np.array([float(free[k][0]) for k in names])
    highs = np.array([float(free[k][1]) for k in names])
    if np.any(lows <= 0) or np.any(highs <= lows):
        raise InputError("bounds must satisfy 0 < low < high", source="free",
                         fix="give (low, high) with positive values")  # fmt: skip
    times = frame["time_days"].to_numpy(dtype=float)
    times = times - times[0]
    obs = frame["biomarker"].to_numpy(dtype=float)
    positive = obs[obs > 0]
    lo = floor if floor is not None else (0.5 * positive.min() if positive.size else 1e-6)
    log_obs = np.log(np.maximum(obs, lo))
    policy = _schedule(frame, sc)
    raw = dict(sc.raw)
    raw["policy"] = policy
    raw["horizon_days"] = max(float(times[-1]), 1.0)
    raw.pop("progression", None)
    raw.pop("treatment_start", None)
    base = load_scenario(raw, source=sc.source)
    # populations may not change the check grid: the trajectory is read at integer days + switches

    links = dict(tied or {})
    for path, (target, _factor) in links.items():
        if target not in free:
            raise InputError(f"tied parameter {path!r} follows {target!r}, which is not free",
                             source="tied", fix="tie to a key of free")  # fmt: skip

    def model(theta: np.ndarray) -> tuple[np.ndarray, Scenario]:
        values = {k: float(v) for k, v in zip(names, np.exp(theta), strict=True)}
        for path, (target, factor) in links.items():
            values[path] = factor * values[target]
        candidate = base.with_values(values)
        pred = _predict(candidate, times)
        return np.log(np.maximum(pred, 1e-300)), candidate

    def residuals(theta: np.ndarray) -> np.ndarray:
        log_pred, _ = model(theta)
        shift = float(np.mean(log_obs - log_pred))
        return np.asarray(log_obs - log_pred - shift)

    rng = np.random.default_rng(seed)
    l_lo, l_hi = np.log(lows), np.log(highs)
    starts = [(l_lo + l_hi) / 2]
    for _ in range(max(n_starts, 1) - 1):
        starts.append(rng.uniform(l_lo, l_hi))
    best: Any = None
    for start in starts:
        res = least_squares(residuals, start, bounds=(l_lo, l_hi), method="trf",
                            x_scale=1.0, diff_step=1e-3, max_nfev=200)  # fmt: skip
        if best is None or res.cost < best.cost:
            best = res
    log_pred, fitted_sc = model(best.x)
    shift = float(np.mean(log_obs - log_pred))
    pred = np.exp(log_pred + shift)
    resid = log_obs - (log_pred + shift)
    ss_tot = float(np.sum((log_obs - log_obs.mean()) ** 2))
    table = pd.DataFrame({"time_days": frame["time_days"], "observed": obs, "predicted": pred})
    if "therapy" in frame.columns:
        table["therapy"] = frame["therapy"].astype(str).to_numpy()
    return FitResult(
        params_={k: float(v) for k, v in zip(names, np.exp(best.x), strict=True)},
        scale_=float(math.exp(shift)),
        scenario=fitted_sc,
        fitted=table,
        rmse_log10=float(np.sqrt(np.mean(resid**2)) / math.log(10)),
        r2_log=float(1 - np.sum(resid**2) / ss_tot) if ss_tot > 0 else math.nan,
        n_obs=len(frame),
        success=bool(best.success),
    )


def fit_many(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    series: pd.DataFrame,
    free: Mapping[str, tuple[float, float]],
    *,
    by: str = "patient_id",
    tied: Mapping[str, tuple[str, float]] | None = None,
    n_starts: int = 3,
    seed: int | None = 0,
    show_progress: bool = False,
) -> pd.DataFrame:
    """:func:`fit` per patient of a long table; one row per patient (params, rmse, r2).

    ``series`` has ``by``, ``time_days``, ``biomarker`` and optionally ``therapy``.
    """
    rows = []
    groups: Sequence[Any] = list(series.groupby(by, sort=False))
    iterator: Any = groups
    if show_progress:
        from rich.progress import track

        iterator = track(groups, description="Fitting", transient=True)
    for key, g in iterator:
        res = fit(scenario, g.reset_index(drop=True), free, tied=tied, n_starts=n_starts,
                  seed=seed, source=str(key))  # fmt: skip
        rows.append({by: key, "n_obs": res.n_obs, "rmse_log10": res.rmse_log10,
                     "r2_log": res.r2_log, "scale": res.scale_, "success": res.success,
                     **res.params_})  # fmt: skip
    return pd.DataFrame(rows)


def parse_free(specs: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Parse ``PATH=LOW:HIGH`` strings into :func:`fit` bounds.

    Examples
    --------
    >>> parse_free(["populations.S.growth_rate=0.001:0.1"])
    {'populations.S.growth_rate': (0.001, 0.1)}
    """
    out: dict[str, tuple[float, float]] = {}
    for spec in specs:
        path, _, rng = spec.partition("=")
        low, _, high = rng.partition(":")
        try:
            out[path.strip()] = (float(low), float(high))
        except ValueError:
            raise InputError(f"cannot read free parameter {spec!r}", source="--free",
                             fix="write PATH=LOW:HIGH, e.g. populations.S.growth_rate=0.001:0.1"
                             ) from None  # fmt: skip
    return out


def fit_series_file(
    scenario: str | Path,
    series: str | Path,
    out_dir: str | Path,
    *,
    free: Sequence[str],
    policies: str | None = None,
    n_starts: int = 3,
    seed: int | None = 0,
) -> FitResult:
    """Command-line helper: read a series file, fit, write ``fit.tsv`` and ``params.json``.

    With ``policies`` (comma-separated), the fitted patient is then run under each policy with
    the scenario's own horizon, progression and thresholds (``comparison.tsv`` and one folder
    per policy under ``out_dir/compare``).
    """
    import json

    from ithkit.evolution._simulate import atomic_write_text, compare

    path = Path(series)
    if not path.is_file():
        raise InputError("series file not found", source=path, fix="check the path")
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    data = pd.read_csv(path, sep=sep, dtype={"therapy": str})
    sc = load_scenario(scenario)
    result = fit(sc, data, parse_free(free), n_starts=n_starts, seed=seed, source=str(path))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "fit.tsv", result.fitted.to_csv(sep="\t", index=False))
    info = {"params": result.params_, "scale": result.scale_, "rmse_log10": result.rmse_log10,
            "r2_log": result.r2_log, "n_obs": result.n_obs, "success": result.success}  # fmt: skip
    atomic_write_text(out / "params.json", json.dumps(info, indent=2) + "\n")
    if policies:
        fitted = sc.with_values(result.params_)
        names = [p.strip() for p in policies.split(",") if p.strip()]
        compare(fitted, names, seed=seed).write(out / "compare")
    return result
