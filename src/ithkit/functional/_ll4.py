"""The four-parameter log-logistic model (drc's ``LL.4``) and its least-squares fit.

``f(x) = c + (d - c) / (1 + exp(b (log x - log e)))`` with ``b`` the slope (drc's sign
convention: ``b > 0`` for a response that falls with dose), ``c`` the lower and ``d`` the upper
asymptote and ``e`` the inflection point (the relative EC50/IC50). The fit works on ``log e``
and on doses divided by their geometric mean, so that the unit of the doses does not change the
answer; doses of 0 (untreated controls) enter at the limit ``f(0) = d`` (``c`` when ``b < 0``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ithkit._errors import InputError

__all__ = ["LL4Fit", "absolute_ic", "bootstrap_refits", "fit_ll4", "ll4"]


def ll4(x: np.ndarray, *, hill: float, bottom: float, top: float, ec50: float) -> np.ndarray:
    """Evaluate the four-parameter log-logistic curve (drc's ``LL.4`` parameterisation).

    Parameters
    ----------
    x
        Doses (any unit, >= 0).
    hill
        drc's ``b``: positive for a response that falls with dose.
    bottom, top
        Lower (``c``) and upper (``d``) asymptotes.
    ec50
        Inflection point ``e`` (same unit as ``x``, > 0).

    Returns
    -------
    numpy.ndarray
        The response at each dose.

    Examples
    --------
    >>> ll4(np.array([0.0, 1.0]), hill=1, bottom=0.2, top=1, ec50=1).round(3).tolist()
    [1.0, 0.6]
    """
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    out = np.empty(xs.shape)
    pos = xs > 0
    z = np.clip(hill * (np.log(xs[pos]) - math.log(ec50)), -700.0, 700.0)
    out[pos] = bottom + (top - bottom) / (1.0 + np.exp(z))
    out[~pos] = top if hill > 0 else (bottom if hill < 0 else (top + bottom) / 2)
    return out


def absolute_ic(
    *, hill: float, bottom: float, top: float, ec50: float, level: float = 0.5
) -> float:
    """Dose at which the curve crosses ``level`` (the absolute IC50 for ``level=0.5``).

    Returns ``nan`` when the curve never reaches ``level`` (it lies outside ``(bottom, top)``).

    Examples
    --------
    PharmacoGx's example (Hill slope 1, Einf 0.2, EC50 1): the relative IC50 is 1 and the
    absolute IC50 is 5/3.

    >>> round(absolute_ic(hill=1, bottom=0.2, top=1.0, ec50=1.0), 6)
    1.666667
    """
    lo, hi = min(bottom, top), max(bottom, top)
    if not (lo < level < hi) or hill == 0:
        return math.nan
    ratio = (top - bottom) / (level - bottom) - 1.0
    if ratio <= 0:
        return math.nan
    return float(ec50 * ratio ** (1.0 / hill))


@dataclass(frozen=True)
class LL4Fit:
    """A least-squares ``LL.4`` fit (attributes in drc's names and in plain words).

    Attributes
    ----------
    hill, bottom, top, ec50
        ``b, c, d, e`` (``ec50`` in the unit of the doses given).
    rss
        Residual sum of squares.
    n
        Number of observations.
    n_params
        Free parameters (4, fewer when top or bottom were fixed).
    converged
        The optimiser reported success.
    """

    hill: float
    bottom: float
    top: float
    ec50: float
    rss: float
    n: int
    n_params: int
    converged: bool

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood at the least-squares estimate (as R's ``logLik``)."""
        if self.rss <= 0:
            return math.inf
        return -0.5 * self.n * (math.log(2 * math.pi) + math.log(self.rss / self.n) + 1.0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Fitted response at doses ``x``."""
        return ll4(x, hill=self.hill, bottom=self.bottom, top=self.top, ec50=self.ec50)


def _starts(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float, float]]:
    """A few starting points ``(b, c, d, log e)`` on scaled doses."""
    doses = np.unique(x)
    means = np.array([y[x == v].mean() for v in doses])
    lo, hi = float(means.min()), float(means.max())
    pos = doses > 0
    logd = np.log(doses[pos])
    # the dose whose mean response is closest to the midpoint
    mid = (lo + hi) / 2
    loge0 = float(logd[np.argmin(np.abs(means[pos] - mid))]) if pos.any() else 0.0
    falling = means[pos][-1] <= means[pos][0] if pos.sum() > 1 else True
    c0, d0 = (lo, hi) if falling else (hi, lo)
    out = []
    for b0, le in ((1.0, loge0), (3.0, loge0), (1.0, float(np.median(logd)))):
        out.append((b0, c0, d0, le))
    return out


def fit_ll4(
    concentration: np.ndarray,
    response: np.ndarray,
    *,
    top: float | None = None,
    bottom: float | None = None,
    start: tuple[float, float, float, float] | None = None,
) -> LL4Fit:
    """Fit the four-parameter log-logistic model by least squares (as drc's ``drm(fct=LL.4())``).

    Parameters
    ----------
    concentration
        Doses (>= 0; 0 = untreated control rows, which enter the fit at the curve's limit).
    response
        Responses, any unit (a fraction of control for cell viability).
    top, bottom
        Fix the upper (``d``) or lower (``c``) asymptote instead of fitting it.
    start
        Starting point ``(b, c, d, ec50)`` (e.g. the point estimate, for bootstrap refits);
        the default tries a few from the data.

    Returns
    -------
    LL4Fit

    Examples
    --------
    >>> x = np.array([0, 0.1, 0.3, 1, 3, 10, 30.0])
    >>> y = ll4(x, hill=1.5, bottom=0.1, top=1.0, ec50=2.0)
    >>> f = fit_ll4(x, y)
    >>> round(f.hill, 3), round(f.bottom, 3), round(f.ec50, 3)
    (1.5, 0.1, 2.0)
    """
    from scipy.optimize import least_squares

    x = np.asarray(concentration, dtype=float)
    y = np.asarray(response, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError(
            "concentration and response differ in shape",
            source="concentration",
            fix="pass two 1-d arrays of one length",
        )
    if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(~np.isfinite(y)):
        raise InputError(
            "concentrations must be finite and >= 0, responses finite",
            source="concentration",
            fix="remove or correct those rows",
        )
    pos = x[x > 0]
    if np.unique(pos).size < 2:
        raise InputError(
            "fewer than 2 positive doses",
            source="concentration",
            fix="a dose-response fit needs at least 4 tested doses",
        )
    scale = float(np.exp(np.mean(np.log(pos))))
    xs = x / scale
    free = [True, bottom is None, top is None, True]

    def unpack(theta: np.ndarray) -> tuple[float, float, float, float]:
        it = iter(theta)
        b = float(next(it))
        c = float(next(it)) if bottom is None else float(bottom)
        d = float(next(it)) if top is None else float(top)
        le = float(next(it))
        return b, c, d, le

    def resid(theta: np.ndarray) -> np.ndarray:
        b, c, d, le = unpack(theta)
        return ll4(xs, hill=b, bottom=c, top=d, ec50=math.exp(le)) - y

    pos_mask = xs > 0
    logx = np.log(np.where(pos_mask, xs, 1.0))

    def jac(theta: np.ndarray) -> np.ndarray:
        b, c, d, le = unpack(theta)
        z = np.clip(b * (logx - le), -700.0, 700.0)
        q = 1.0 / (1.0 + np.exp(z))  # 1 / (1 + E)
        g = q * (1.0 - q)  # E / (1 + E)^2
        cols = [np.where(pos_mask, -(d - c) * g * (logx - le), 0.0)]
        at0_top = 1.0 if b > 0 else 0.0
        if bottom is None:
            cols.append(np.where(pos_mask, 1.0 - q, 1.0 - at0_top))
        if top is None:
            cols.append(np.where(pos_mask, q, at0_top))
        cols.append(np.where(pos_mask, (d - c) * g * b, 0.0))
        return np.column_stack(cols)

    span = math.log(float(xs.max()) / float(xs[xs > 0].min())) + 1.0
    lower_e, upper_e = math.log(xs[xs > 0].min()) - 5 * span, math.log(xs.max()) + 5 * span
    if start is not None:
        b0, c0, d0, e0 = start
        starts = [(b0, c0, d0, math.log(e0 / scale))]

    else:
        starts = _starts(xs, y)
    tol = 1e-12 if start is None else 1e-8  # bootstrap refits start at the optimum
    best = None
    for s in starts:
        theta0 = np.array([v for v, f in zip(s, free, strict=True) if f], dtype=float)
        theta0[-1] = min(max(theta0[-1], lower_e + 1e-6), upper_e - 1e-6)
        lo = np.full(theta0.size, -np.inf)
        hi = np.full(theta0.size, np.inf)
        lo[0], hi[0] = -100.0, 100.0
        lo[-1], hi[-1] = lower_e, upper_e
        theta0[0] = min(max(theta0[0], -99.0), 99.0)
        res = least_squares(
            resid,
            theta0,
            jac=jac,
            bounds=(lo, hi),
            method="trf",
            x_scale="jac",
            xtol=tol,
            ftol=tol,
            gtol=tol,
            max_nfev=2000,
        )
        rss = float(np.sum(res.fun**2))
        if best is None or rss < best[1] - 1e-14:
            best = (res, rss)
    assert best is not None
    res, rss = best
    b, c, d, le = unpack(res.x)
    return LL4Fit(
        hill=b,
        bottom=c,
        top=d,
        ec50=math.exp(le) * scale,
        rss=rss,
        n=int(x.size),
        n_params=int(sum(free)),
        converged=bool(res.success),
    )


def bootstrap_refits(
    concentration: np.ndarray,
    response: np.ndarray,
    fit: LL4Fit,
    *,
    n: int,
    rng: np.random.Generator,
    top: float | None = None,
    bottom: float | None = None,
) -> Iterator[LL4Fit]:
    """Refits of a residual bootstrap: fitted values plus resampled residuals.

    Residuals are centred and inflated by ``sqrt(n / (n - p))`` (the degrees of freedom the
    fit used), which keeps small designs (3 replicates a dose) from under-covering: on 40
    simulated curves the 95 % interval of the EC50 covered the truth 0.90-0.93 of the time,
    against 0.85 for rows resampled within each dose (``benchmarks/functional.py``).

    Examples
    --------
    >>> x = np.repeat([0, 0.1, 0.3, 1, 3, 10.0], 3)
    >>> y = ll4(x, hill=1, bottom=0.1, top=1, ec50=1) + np.tile([0.02, -0.01, -0.01], 6)
    >>> f = fit_ll4(x, y)
    >>> len(list(bootstrap_refits(x, y, f, n=5, rng=np.random.default_rng(0))))
    5
    """
    x = np.asarray(concentration, dtype=float)
    y = np.asarray(response, dtype=float)
    fitted = fit.predict(x)
    resid = y - fitted
    inflate = math.sqrt(y.size / max(y.size - fit.n_params, 1))
    resid = (resid - resid.mean()) * inflate
    start = (fit.hill, fit.bottom, fit.top, fit.ec50)
    for _ in range(n):
        yy = fitted + rng.choice(resid, size=resid.size, replace=True)
        yield fit_ll4(x, yy, top=top, bottom=bottom, start=start)
