"""Kernels shared by the engines: numba when installed, numpy otherwise.

Imported lazily (numba costs ~0.5 s to import). Without numba (the ``[evolution]`` extra) the
ODE right-hand side falls back to the vectorised numpy version below (same values to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ithkit._optional import optional_njit as njit


@njit(cache=True)
def logistic(x, k_const, k_coef, comp):  # pragma: no cover
    """g_i = 1 - (A x)_i / K_i, K_i the minimum over candidate capacities (inf: g = 1)."""
    n = x.size
    g = np.empty(n)
    for i in range(n):
        k = math.inf
        for c in range(k_const.shape[0]):
            kc = k_const[c, i]
            for j in range(n):
                kc += k_coef[c, i, j] * x[j]
            if kc < k:
                k = kc
        if math.isinf(k):
            g[i] = 1.0
        else:
            load = 0.0
            for j in range(n):
                load += comp[i, j] * x[j]
            gi = 1.0 - load / max(k, 1e-300)
            g[i] = max(gi, -1e6)
    return g


@njit(cache=True)
def derivative(  # pragma: no cover
    y, n, growth, death, k_const, k_coef, comp, mu, floor, prod, decay
):
    """dy/dt of the ODE; ``y[n]`` is the biomarker when ``decay > 0``."""
    x = np.maximum(y[:n], 0.0)
    g = logistic(x, k_const, k_coef, comp)
    dy = np.zeros(y.size)
    for i in range(n):
        births = growth[i] * max(g[i], 0.0) * x[i]
        dy[i] += growth[i] * g[i] * x[i] - death[i] * x[i]
        for j in range(n):
            if mu[i, j] > 0:
                dy[i] -= births * mu[i, j]
                dy[j] += births * mu[i, j]
    for i in range(n):
        if x[i] <= floor[i] and dy[i] < 0:
            dy[i] = 0.0
    if decay > 0:
        level = 0.0
        for i in range(n):
            level += prod[i] * x[i]
        dy[n] = level - decay * y[n]
    return dy


def logistic_numpy(
    x: np.ndarray, k_const: np.ndarray, k_coef: np.ndarray, comp: np.ndarray
) -> np.ndarray:
    """:func:`logistic` in numpy (the fallback without numba)."""
    if k_const.shape[0]:
        k = (k_const + np.einsum("cij,j->ci", k_coef, x)).min(axis=0)
    else:
        k = np.full(x.size, math.inf)
    load = comp @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.maximum(1.0 - load / np.maximum(k, 1e-300), -1e6)
    return np.where(np.isinf(k), 1.0, g)


def derivative_numpy(
    y: np.ndarray, n: int, growth: np.ndarray, death: np.ndarray, k_const: np.ndarray,
    k_coef: np.ndarray, comp: np.ndarray, mu: np.ndarray, floor: np.ndarray, prod: np.ndarray,
    decay: float,
) -> np.ndarray:  # fmt: skip
    """:func:`derivative` in numpy (the fallback without numba)."""
    x = np.maximum(y[:n], 0.0)
    g = logistic_numpy(x, k_const, k_coef, comp)
    births = growth * np.maximum(g, 0.0) * x
    flow = births[:, None] * np.where(mu > 0, mu, 0.0)
    dx = growth * g * x - death * x - flow.sum(axis=1) + flow.sum(axis=0)
    dx[(x <= floor) & (dx < 0)] = 0.0
    dy = np.zeros(y.size)
    dy[:n] = dx
    if decay > 0:
        dy[n] = float(prod @ x) - decay * y[n]
    return dy


def ode_derivative() -> Callable[..., np.ndarray]:
    """The ODE right-hand side: the numba kernel when numba is installed, else numpy."""
    import importlib.util

    found = importlib.util.find_spec("numba") is not None
    kernel: Callable[..., np.ndarray] = derivative if found else derivative_numpy
    return kernel
