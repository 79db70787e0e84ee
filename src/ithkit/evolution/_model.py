"""The population model both engines share: per-therapy rate arrays and the ODE right-hand side.

For population ``i`` under the drugs on::

    g_i = 1 - (A x)_i / K_i                      (logistic factor; K_i may depend on x)
    dx_i/dt = r_i x_i g_i - (d_i + kill_i) x_i   (+ mutation flows)

The stochastic engine uses per-cell birth ``r_i max(g_i, 0)`` and death
``d_i + kill_i + r_i max(-g_i, 0)``, so its mean follows the ODE. A birth of ``i`` is a cell of
``j`` with probability ``mu_ij`` (``transitions``; a drug's own ``transitions`` replace the rows it
names while it is on); the ODE moves the same flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ithkit.evolution._scenario import Capacity, Scenario


@dataclass(frozen=True)
class Rates:
    """Rate arrays of one therapy (a set of drugs on)."""

    growth: np.ndarray  # r_i (n,)
    death: np.ndarray  # d_i + kill_i (n,)
    k_const: np.ndarray  # (c, n) candidate capacity constants (inf = none)
    k_coef: np.ndarray  # (c, n, n) candidate capacity coefficients
    competition: np.ndarray  # (n, n)
    transitions: np.ndarray  # (n, n)
    floor: np.ndarray  # (n,)

    def capacity(self, x: np.ndarray) -> np.ndarray:
        """K_i for state ``x`` (minimum over the drugs that set it)."""
        k = self.k_const + self.k_coef @ x
        return np.asarray(k.min(axis=0))

    def logistic(self, x: np.ndarray) -> np.ndarray:
        """g_i = 1 - (A x)_i / K_i (1 where K is infinite)."""
        k = self.capacity(x)
        load = self.competition @ x
        with np.errstate(divide="ignore", invalid="ignore"):
            g = 1.0 - load / np.maximum(k, 1e-300)
        g = np.where(np.isinf(k), 1.0, g)
        return np.asarray(np.clip(g, -1e6, 1.0))

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """dx/dt of the ODE."""
        x = np.maximum(x, 0.0)
        g = self.logistic(x)
        net = self.growth * g * x - self.death * x
        births = self.growth * np.maximum(g, 0.0) * x
        flow = births[:, None] * self.transitions
        dx = net - flow.sum(axis=1) + flow.sum(axis=0)
        # populations held at their floor do not fall below it
        return np.asarray(np.where((x <= self.floor) & (dx < 0), 0.0, dx))


def rates_for(scenario: Scenario, therapy: tuple[str, ...]) -> Rates:
    """The rate arrays of ``scenario`` while the drugs in ``therapy`` are on."""
    n = len(scenario.populations)
    idx = scenario.index
    growth = np.array([p.growth_rate for p in scenario.populations], dtype=float)
    death = np.array([p.death_rate for p in scenario.populations], dtype=float)
    floor = np.array([p.floor for p in scenario.populations], dtype=float)
    candidates: list[list[Capacity]] = [[] for _ in range(n)]
    by_name = {d.name: d for d in scenario.drugs}
    for name in therapy:
        drug = by_name[name]
        for pop, rate in drug.kill_rate:
            death[idx[pop]] += rate
        for pop, factor in drug.growth_factor:
            growth[idx[pop]] *= factor
        for pop, cap in drug.capacity:
            candidates[idx[pop]].append(cap)
    transitions = np.array(scenario.transitions, dtype=float)
    switched: set[int] = set()
    for name in therapy:
        # drug-induced switching replaces a source's row; several drugs on: the largest
        for pop, row in by_name[name].transitions:
            i = idx[pop]
            values = np.zeros(n)
            for target, prob in row:
                values[idx[target]] = prob
            transitions[i] = np.maximum(transitions[i], values) if i in switched else values
            switched.add(i)
    for i, p in enumerate(scenario.populations):
        if not candidates[i]:
            candidates[i].append(p.capacity)
    c = max(len(v) for v in candidates)
    k_const = np.full((c, n), np.inf)
    k_coef = np.zeros((c, n, n))
    for i, caps in enumerate(candidates):
        for m, cap in enumerate(caps):
            k_const[m, i] = cap.constant
            for pop, coef in cap.coefficients:
                k_coef[m, i, idx[pop]] = coef
    return Rates(
        growth=growth,
        death=death,
        k_const=k_const,
        k_coef=k_coef,
        competition=np.asarray(scenario.competition, dtype=float),
        transitions=transitions,
        floor=floor,
    )


def biomarker_value(scenario: Scenario, x: np.ndarray, b: float) -> float:
    """The biomarker for state ``x`` (``b`` is the integrated value when it has a decay)."""
    bm = scenario.biomarker
    if bm is None:
        return float(np.sum(x))
    if bm.decay is None:
        return float(np.dot(bm.production, x))
    return float(b)


def initial_biomarker(scenario: Scenario, x: np.ndarray) -> float:
    """Initial biomarker: given, or the steady state ``sum p_i x_i / decay``."""
    bm = scenario.biomarker
    if bm is None:
        return float(np.sum(x))
    if bm.initial is not None:
        return bm.initial
    level = float(np.dot(bm.production, x))
    return level if bm.decay is None else level / bm.decay
