"""Speed of ithkit.evolution's engines, with a plain-Python Gillespie loop as the baseline.

Rows: events (births + deaths) per second of the stochastic engine at 10^3 cells (exact
Gillespie, numba), 10^6 and 10^9 cells (tau-leaping: events are drawn in bulk, so a step costs
the same at any size); the same process in a plain-Python Gillespie loop (birth = death = 1 per
cell per day, so the size stays put); wall time of 10-year ODE runs (the issue's example scenario
and Zhang 2017 patient #1). Compilation is excluded (one warm-up call).

Run:  .venv/bin/python benchmarks/evolution.py
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np

from ithkit.evolution import load_scenario, simulate
from ithkit.evolution._model import rates_for
from ithkit.evolution._scenario import EXAMPLE
from ithkit.evolution._stochastic import advance

ROOT = Path(__file__).resolve().parents[1]
B, D = 1.0, 1.0  # a critical process: the tumour stays near its starting size


def _engine(n0: float, days: float, gillespie_below: float) -> tuple[float, float]:
    sc = load_scenario({"populations": {"S": {"initial": n0, "growth_rate": B, "death_rate": D}}})
    rates = rates_for(sc, ())
    rng = np.random.default_rng(0)
    kw = {"production": np.ones(1), "decay": -1.0, "gillespie_below": gillespie_below,
          "tau_epsilon": 0.03}  # fmt: skip
    advance(np.array([n0]), 0.0, 0.0, 0.01, rates, rng=rng, **kw)  # compile / load
    t0 = time.perf_counter()
    _, _, _, events = advance(np.array([n0]), 0.0, 0.0, days, rates, rng=rng, **kw)
    return events, time.perf_counter() - t0


def _python_gillespie(n0: int, max_events: int) -> tuple[float, float]:
    """The textbook direct method, one event per loop iteration, in plain Python."""
    rnd = random.Random(0)
    n, t, events = n0, 0.0, 0
    t0 = time.perf_counter()
    while events < max_events and n > 0:
        total = (B + D) * n
        t += -math.log(1.0 - rnd.random()) / total
        if rnd.random() * total < B * n:
            n += 1
        else:
            n -= 1
        events += 1
    return float(events), time.perf_counter() - t0


def main() -> None:
    rows = []
    ev, sec = _engine(1e3, 200.0, gillespie_below=1e12)
    rows.append(("stochastic, exact Gillespie (numba)", "1e3", ev, sec))
    ev, sec = _engine(1e6, 20.0, gillespie_below=1e3)
    rows.append(("stochastic, tau-leaping", "1e6", ev, sec))
    ev, sec = _engine(1e9, 20.0, gillespie_below=1e3)
    rows.append(("stochastic, tau-leaping", "1e9", ev, sec))
    ev, sec = _python_gillespie(1000, 300_000)
    rows.append(("plain-Python Gillespie loop", "1e3", ev, sec))
    print(f"{'engine':<38}{'cells':>7}{'events':>12}{'seconds':>10}{'events/s':>12}")
    for name, cells, ev, sec in rows:
        print(f"{name:<38}{cells:>7}{ev:>12.3g}{sec:>10.3f}{ev / sec:>12.3g}")
    print()
    runs = [
        ("issue example (adaptive, 2 populations)", load_scenario(EXAMPLE).with_values(
            {"horizon_days": 3650})),
        ("Zhang 2017 #1 adaptive (3 populations)", load_scenario(
            ROOT / "examples/scenarios/zhang2017_adaptive.yaml").with_values(
            {"horizon_days": 3650})),
        ("Zhang 2017 #1 continuous (3 populations)", load_scenario(
            ROOT / "examples/scenarios/zhang2017_continuous.yaml").with_values(
            {"horizon_days": 3650})),
    ]  # fmt: skip
    simulate(runs[0][1])  # compile / load
    print(f"{'10-year ODE run':<44}{'seconds':>10}{'switches':>10}{'rows':>8}")
    for name, sc in runs:
        t0 = time.perf_counter()
        sim = simulate(sc)
        sec = time.perf_counter() - t0
        print(f"{name:<44}{sec:>10.3f}{sim.summary['n_switches']:>10}{len(sim.trajectory):>8}")


if __name__ == "__main__":
    main()
