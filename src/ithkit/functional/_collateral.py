"""Collateral sensitivity: how a derived line (e.g. made resistant to drug A) responds to every
drug compared with its parent, and the double-bind pairs of drugs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.functional._fit import ResponseFits
from ithkit.functional._ll4 import LL4Fit, absolute_ic, bootstrap_refits, fit_ll4

__all__ = ["COLLATERAL_COLUMNS", "Collateral", "check_derivatives", "collateral_sensitivity"]

COLLATERAL_COLUMNS = (
    "sample_id",
    "parent",
    "selected_with",
    "drug",
    "log2_ratio",
    "low",
    "high",
    "p",
    "call",
)
COLLATERAL_FILE = "collateral.tsv"
PAIRS_FILE = "double_bind_pairs.tsv"
Metric = Literal["ic50", "ic50_rel", "gr50", "aac"]


def check_derivatives(
    derivatives: pd.DataFrame, responses: pd.DataFrame, *, source: str | Path = "derivatives"
) -> None:
    """Every derivative and its parent must have been measured.

    Raises
    ------
    ithkit.InputError
        Naming the line of the derivatives table whose parent (or itself) is missing.
    """
    measured = set(responses["sample_id"].astype(str))
    for i, row in enumerate(derivatives.itertuples(index=False)):
        for col in ("parent", "sample_id"):
            value = str(getattr(row, col))
            if value not in measured:
                raise InputError(
                    f"{'parent' if col == 'parent' else 'derivative'} {value!r} has no "
                    "dose-response measurements",
                    source=source,
                    row=i + 2,
                    column=col,
                    fix=f"measured samples: {', '.join(sorted(measured))}",
                )
        if str(row.parent) == str(row.sample_id):
            raise InputError(
                "a line cannot be its own parent",
                source=source,
                row=i + 2,
                column="parent",
                fix="name the line it was derived from",
            )


@dataclass(frozen=True)
class Collateral:
    """Result of :func:`collateral_sensitivity`.

    Attributes
    ----------
    table
        ``sample_id, parent, selected_with, drug, log2_ratio, low, high, p, call``: the log2
        ratio of the metric of the derivative to its parent (positive = the derivative is more
        resistant; for AAC the ratio is parent / derivative so that the sign means the same),
        its bootstrap 95 % interval, the two-sided bootstrap p and the call ``sensitive``,
        ``resistant`` or ``neutral``.
    double_bind_pairs
        Drug pairs ``(A, B)`` (sorted) where a line selected by A is collaterally sensitive to B
        and a line selected by B is collaterally sensitive to A.
    metric
        The metric compared.
    """

    table: pd.DataFrame
    double_bind_pairs: tuple[tuple[str, str], ...]
    metric: str

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``collateral.tsv`` and ``double_bind_pairs.tsv`` under ``out_dir``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pairs = pd.DataFrame(list(self.double_bind_pairs), columns=["drug_a", "drug_b"])
        return {
            "collateral": write_table(self.table, out / COLLATERAL_FILE),
            "double_bind_pairs": write_table(pairs, out / PAIRS_FILE),
        }


def _metric_value(fit: LL4Fit, metric: Metric, lo: float, hi: float) -> float:
    """The metric of one fit, censored at the edges of the tested range."""
    if metric == "aac":
        grid = np.logspace(math.log10(lo), math.log10(hi), 129)
        auc = np.trapezoid(fit.predict(grid), np.log10(grid)) / (math.log10(hi / lo))
        return float(max(1.0 - auc, 1e-3))  # AAC of a curve at or above control: tiny
    if metric == "ic50_rel":
        value = fit.ec50
    else:
        value = absolute_ic(hill=fit.hill, bottom=fit.bottom, top=fit.top, ec50=fit.ec50)
        if math.isnan(value):
            above = float(fit.predict(np.array([hi]))[0]) > 0.5
            value = hi if above else lo
    return float(min(max(value, lo), hi))


def _draws(
    points: pd.DataFrame, metric: Metric, n: int, rng: np.random.Generator
) -> tuple[float, np.ndarray]:
    """Point estimate and bootstrap draws of the metric of one curve."""
    column = "gr" if metric == "gr50" else "response"
    x = points["concentration_um"].to_numpy(dtype=float)
    y = points[column].to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise InputError(
            f"metric {metric} needs {column} values for every curve",
            source="metric",
            fix="give count, count_ctrl, count_t0 or use ic50",
        )
    pos = x[x > 0]
    lo, hi = float(pos.min()), float(pos.max())
    top = 1.0 if metric == "gr50" else None
    fit = fit_ll4(x, y, top=top)
    est = _metric_value(fit, metric, lo, hi)
    out = np.array(
        [
            _metric_value(refit, metric, lo, hi)
            for refit in bootstrap_refits(x, y, fit, n=n, rng=rng, top=top)
        ]
    )
    return est, out


def collateral_sensitivity(
    fits: ResponseFits,
    derivatives: pd.DataFrame,
    *,
    metric: Metric = "ic50",
    n_bootstrap: int = 200,
    alpha: float = 0.05,
    min_log2_ratio: float = 0.5,
    seed: int | None = 0,
) -> Collateral:
    """Compare each derived line with its parent on every drug both were tested with.

    Parameters
    ----------
    fits
        Dose-response fits of parents and derivatives (:func:`fit_responses`).
    derivatives
        ``sample_id, parent, selected_with`` (:func:`read_derivatives`).
    metric
        ``ic50`` (absolute IC50, the default), ``ic50_rel``, ``gr50`` (needs counts) or
        ``aac``. A value outside the tested range enters at the range's edge, so its ratio is
        a bound.
    n_bootstrap
        Residual-bootstrap refits per curve (:func:`bootstrap_refits`); the ratio's draws pair
        the derivative's and the parent's independent draws.
    alpha
        Level of the two-sided bootstrap test.
    min_log2_ratio
        Smallest |log2 ratio| called ``sensitive``/``resistant`` (0.5: 1.41-fold).
    seed
        Seed of the bootstrap.

    Returns
    -------
    Collateral

    Examples
    --------
    >>> from ithkit.functional import fit_responses, synthetic_responses
    >>> responses, derivatives = synthetic_responses(seed=0)
    >>> coll = collateral_sensitivity(fit_responses(responses, n_bootstrap=0), derivatives,
    ...                               n_bootstrap=40)
    >>> coll.double_bind_pairs
    (('A', 'B'),)
    """
    if metric not in ("ic50", "ic50_rel", "gr50", "aac"):
        raise InputError(
            f"unknown metric {metric!r}", source="metric", fix="use ic50, ic50_rel, gr50 or aac"
        )
    if 2.0 / (n_bootstrap + 1) >= alpha:
        raise InputError(
            f"n_bootstrap is {n_bootstrap}: too few for a test at level {alpha:g}",
            source="n_bootstrap",
            fix=f"use at least {math.ceil(2 / alpha)} refits (200 is usual)",
        )
    check_derivatives(derivatives, fits.points)
    pts = fits.points
    keys = sorted({(str(s), str(d)) for s, d in zip(pts["sample_id"], pts["drug"], strict=True)})
    children = dict(zip(keys, np.random.SeedSequence(seed).spawn(len(keys)), strict=True))
    cache: dict[tuple[str, str], tuple[float, np.ndarray]] = {}

    def draws(sample: str, drug: str) -> tuple[float, np.ndarray]:
        if (sample, drug) not in cache:
            part = pts[(pts["sample_id"] == sample) & (pts["drug"] == drug)]
            rng = np.random.default_rng(children[(sample, drug)])
            cache[(sample, drug)] = _draws(part, metric, n_bootstrap, rng)
        return cache[(sample, drug)]

    rows = []
    for der in derivatives.itertuples(index=False):
        sample, parent = str(der.sample_id), str(der.parent)
        drugs_d = {d for s, d in keys if s == sample}
        drugs_p = {d for s, d in keys if s == parent}
        for drug in sorted(drugs_d & drugs_p):
            est_d, draw_d = draws(sample, drug)
            est_p, draw_p = draws(parent, drug)
            if metric == "aac":
                ratio, dist = math.log2(est_p / est_d), np.log2(draw_p / draw_d)
            else:
                ratio, dist = math.log2(est_d / est_p), np.log2(draw_d / draw_p)
            low, high = np.percentile(dist, [2.5, 97.5])
            tail = min(np.mean(dist <= 0), np.mean(dist >= 0))
            p = float(min(1.0, 2 * (tail * n_bootstrap + 1) / (n_bootstrap + 1)))
            call = "neutral"
            if p < alpha and abs(ratio) >= min_log2_ratio:
                call = "resistant" if ratio > 0 else "sensitive"
            rows.append(
                {
                    "sample_id": sample,
                    "parent": parent,
                    "selected_with": str(der.selected_with),
                    "drug": drug,
                    "log2_ratio": ratio,
                    "low": float(low),
                    "high": float(high),
                    "p": p,
                    "call": call,
                }
            )
    table = pd.DataFrame(rows, columns=list(COLLATERAL_COLUMNS))
    return Collateral(table, double_bind_pairs(table), metric)


def double_bind_pairs(table: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """Drug pairs where the line selected by each is collaterally sensitive to the other.

    Examples
    --------
    >>> t = pd.DataFrame({"selected_with": ["A", "B"], "drug": ["B", "A"],
    ...                   "call": ["sensitive", "sensitive"]})
    >>> double_bind_pairs(t)
    (('A', 'B'),)
    """
    sens = {
        (str(a), str(b))
        for a, b, c in zip(table["selected_with"], table["drug"], table["call"], strict=True)
        if c == "sensitive" and a != b
    }
    return tuple(sorted({tuple(sorted(p)) for p in sens if (p[1], p[0]) in sens}))  # type: ignore[misc]
