"""numba kernels shared by the engines (imported lazily: numba costs ~0.5 s to import)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


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
