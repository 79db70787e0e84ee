"""Stochastic engine: birth-death-mutation, exact (Gillespie) when small, tau-leaping when large.

While the tumour has fewer than ``stochastic.gillespie_below`` cells every birth and death is
drawn (Gillespie's direct method). Above it the engine leaps by ``dt = tau_epsilon / max rate``
with Poisson births and deaths per population and binomial mutations among the births, so a
step costs the same at 10^6 and 10^11 cells. Both Poisson means are scaled by
``expm1(r dt) / (r dt)`` (``r`` = birth - death per cell), which makes the expected size follow
``exp(r t)`` exactly for frozen rates (plain tau-leaping is an Euler step, ~1 % low over 2
doublings at ``tau_epsilon = 0.03``). Per-cell rates are the ODE's (see
:mod:`ithkit.evolution._model`); a birth of ``i`` is a ``j`` cell with probability ``mu_ij``.
Policies are asked every ``check_interval_days`` (default one day); a ``total_fold``
progression stops the walk at the exact event. Population ``floor`` values are an ODE device
and are ignored here. The kernels are compiled with numba.
"""

from __future__ import annotations

import math

import numpy as np

from ithkit._optional import optional_njit as njit
from ithkit.evolution._model import Rates, biomarker_value, initial_biomarker, rates_for
from ithkit.evolution._ode import RunRecord, _dose
from ithkit.evolution._policies import Controller, fire_due, therapy_label
from ithkit.evolution._scenario import Scenario


@njit(cache=True)
def _rates(x, growth, death, k_const, k_coef, comp, birth, die):  # pragma: no cover
    """Per-cell birth and death rates for state ``x``, written into ``birth`` and ``die``."""
    n = x.size
    for i in range(n):
        k = math.inf
        for c in range(k_const.shape[0]):
            kc = k_const[c, i]
            for j in range(n):
                kc += k_coef[c, i, j] * x[j]
            k = min(k, kc)
        g = 1.0
        if not math.isinf(k):
            load = 0.0
            for j in range(n):
                load += comp[i, j] * x[j]
            g = max(1.0 - load / max(k, 1e-300), -1e6)
        birth[i] = growth[i] * max(g, 0.0)
        die[i] = death[i] + growth[i] * max(-g, 0.0)


@njit(cache=True)
def _advance(  # pragma: no cover - compiled
    rng,
    x,
    b,
    t,
    t1,
    growth,
    death,
    k_const,
    k_coef,
    comp,
    mu,
    prod,
    decay,
    small,
    eps,
    stop_total,
):
    n = x.size
    x = x.copy()
    birth = np.empty(n)
    die = np.empty(n)
    new = np.empty(n)
    n_events = 0.0
    while t < t1:
        total = 0.0
        for i in range(n):
            total += x[i]
        if total <= 0.0 or total >= stop_total:
            break
        _rates(x, growth, death, k_const, k_coef, comp, birth, die)
        level = 0.0
        for i in range(n):
            level += prod[i] * x[i]
        if total < small:
            a = 0.0
            for i in range(n):
                a += (birth[i] + die[i]) * x[i]
            if a <= 0.0:
                dt = t1 - t
            else:
                dt = -math.log(1.0 - rng.random()) / a
            if t + dt >= t1 or a <= 0.0:
                dt = t1 - t
                fire = False
            else:
                fire = True
            if decay > 0:
                e = math.exp(-decay * dt)
                b = b * e + level / decay * (1.0 - e)
            t += dt
            if not fire:
                break
            u = rng.random() * a
            acc = 0.0
            for i in range(n):
                acc += birth[i] * x[i]
                if u < acc:
                    v = rng.random()
                    child = i
                    cum = 0.0
                    for j in range(n):
                        cum += mu[i, j]
                        if v < cum:
                            child = j
                            break
                    x[child] += 1.0
                    break
                acc += die[i] * x[i]
                if u < acc:
                    x[i] -= 1.0
                    break
            n_events += 1.0
        else:
            rmax = 0.0
            for i in range(n):
                if x[i] > 0 and birth[i] + die[i] > rmax:
                    rmax = birth[i] + die[i]
            dt = t1 - t if rmax <= 0 else min(eps / rmax, t1 - t)
            new[:] = x
            for i in range(n):
                if x[i] <= 0:
                    continue
                # scale both expected counts so that the mean follows exp((b - d) dt) exactly
                r = (birth[i] - die[i]) * dt
                phi = 1.0 if abs(r) < 1e-12 else math.expm1(r) / r
                nb = float(rng.poisson(birth[i] * x[i] * dt * phi))
                nd = float(rng.poisson(die[i] * x[i] * dt * phi))
                if nd > x[i]:
                    nd = x[i]
                n_events += nb + nd
                stay = nb
                for j in range(n):
                    if mu[i, j] > 0 and stay > 0:
                        m = float(rng.binomial(int(stay), mu[i, j]))
                        stay -= m
                        new[j] += m
                new[i] += stay - nd
            if decay > 0:
                e = math.exp(-decay * dt)
                b = b * e + level / decay * (1.0 - e)
            t += dt
            for i in range(n):
                x[i] = max(new[i], 0.0)
    return x, b, t, n_events


def advance(
    x: np.ndarray,
    biomarker: float,
    t0: float,
    t1: float,
    rates: Rates,
    *,
    production: np.ndarray,
    decay: float,
    gillespie_below: float,
    tau_epsilon: float,
    stop_total: float = math.inf,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, float, float, float]:
    """Walk the birth-death-mutation process from ``t0`` to ``t1`` under one therapy.

    Returns the new counts, the integrated biomarker, the time reached (earlier than ``t1``
    when the tumour died out or reached ``stop_total``) and the number of births and deaths.

    Examples
    --------
    >>> from ithkit.evolution._scenario import load_scenario, EXAMPLE
    >>> from ithkit.evolution._model import rates_for
    >>> sc = load_scenario(EXAMPLE)
    >>> x, b, t, n = advance(np.array([100.0, 0.0]), 0.0, 0.0, 1.0, rates_for(sc, ()),
    ...                      production=np.ones(2), decay=0.5, gillespie_below=1e3,
    ...                      tau_epsilon=0.03, rng=np.random.default_rng(1))
    >>> bool(t == 1.0 and x.sum() > 0)
    True
    """
    out = _advance(
        np.random.default_rng() if rng is None else rng, np.asarray(x, dtype=float),
        float(biomarker), float(t0), float(t1),
        rates.growth, rates.death, rates.k_const, rates.k_coef, rates.competition,
        rates.transitions, np.asarray(production, dtype=float), float(decay),
        float(gillespie_below), float(tau_epsilon), float(stop_total),
    )  # fmt: skip
    return out[0], float(out[1]), float(out[2]), float(out[3])


def run_stochastic(
    scenario: Scenario, controller: Controller, rng: np.random.Generator
) -> RunRecord:
    """One stochastic run of ``scenario`` under ``controller``."""
    n = len(scenario.populations)
    x = np.array([round(p.initial) for p in scenario.populations], dtype=float)
    bm = scenario.biomarker
    prod = np.asarray(bm.production, dtype=float) if bm is not None else np.ones(n)
    decay = float(bm.decay) if (bm is not None and bm.decay is not None) else -1.0
    b_state = initial_biomarker(scenario, x)
    has_state = decay > 0

    def value(xx: np.ndarray, bb: float) -> float:
        return biomarker_value(scenario, xx, bb if has_state else 0.0)

    cache: dict[tuple[str, ...], Rates] = {}
    record = RunRecord()
    t = 0.0
    horizon = scenario.horizon_days
    controller.begin(t, x, value(x, b_state))
    stop = fire_due(controller, t, x, value(x, b_state))
    record.add(t, x, value(x, b_state), therapy_label(controller.therapy))
    while not stop and t < horizon - 1e-9:
        therapy = controller.therapy
        rates = cache.get(therapy)
        if rates is None:
            rates = cache[therapy] = rates_for(scenario, therapy)
        due = controller.next_time(t)
        t_next = min(horizon, t + scenario.check_interval_days, due)
        stop_total = math.inf
        prog = scenario.progression
        if prog.total_fold is not None and controller.started:
            stop_total = prog.total_fold * controller.base_total
        x, b_state, t_new, n_ev = advance(
            x, b_state, t, t_next, rates, production=prod, decay=decay,
            gillespie_below=scenario.gillespie_below, tau_epsilon=scenario.tau_epsilon,
            stop_total=stop_total, rng=rng,
        )  # fmt: skip
        record.n_events += int(n_ev)
        if controller.started:
            record.cumulative_dose += (t_new - t) * _dose(scenario, therapy)
        t = t_new
        b = value(x, b_state)
        record.add(t, x, b, therapy_label(therapy))
        if x.sum() <= 0:
            record.extinct = True
            break
        if t >= due - 1e-9:
            controller.at_time(t, x, b)
        stop = fire_due(controller, t, x, b)
        record.add(t, x, b, therapy_label(controller.therapy))
    return record
