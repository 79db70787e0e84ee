"""Deterministic engine: ``scipy.integrate.solve_ivp`` between therapy switches.

Each segment integrates with one therapy; the policy's triggers are terminal events, so a switch
falls at the exact threshold crossing and the next segment starts from that state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ithkit.evolution._model import Rates, biomarker_value, initial_biomarker, rates_for
from ithkit.evolution._policies import Controller, Event, fire_due, therapy_label
from ithkit.evolution._scenario import Scenario


@dataclass
class RunRecord:
    """What an engine hands back for one run (the public result is built from it)."""

    times: list[float] = field(default_factory=list)
    states: list[np.ndarray] = field(default_factory=list)
    biomarker: list[float] = field(default_factory=list)
    therapy: list[str] = field(default_factory=list)
    cumulative_dose: float = 0.0
    extinct: bool = False
    n_events: int = 0

    def add(self, t: float, x: np.ndarray, b: float, therapy: str) -> None:
        if self.times and abs(self.times[-1] - t) < 1e-9:
            self.times.pop()
            self.states.pop()
            self.biomarker.pop()
            self.therapy.pop()
        self.times.append(float(t))
        self.states.append(np.array(x, dtype=float))
        self.biomarker.append(float(b))
        self.therapy.append(therapy)


def _dose(scenario: Scenario, therapy: tuple[str, ...]) -> float:
    by_name = {d.name: d.dose for d in scenario.drugs}
    return float(sum(by_name[d] for d in therapy))


def run_ode(
    scenario: Scenario, controller: Controller, *, sample_days: np.ndarray | None = None
) -> RunRecord:
    """Integrate ``scenario`` under ``controller`` to the horizon (or progression).

    Records every integer day and every switch, or only ``sample_days`` and the switches.
    """
    from scipy.integrate import solve_ivp

    from ithkit.evolution._kernels import ode_derivative

    derivative = ode_derivative()

    n = len(scenario.populations)
    floor = np.array([p.floor for p in scenario.populations])
    x0 = np.maximum(np.array([p.initial for p in scenario.populations], dtype=float), floor)
    bm = scenario.biomarker
    has_state = bm is not None and bm.decay is not None
    b0 = initial_biomarker(scenario, x0)
    y = np.concatenate([x0, [b0]]) if has_state else x0.copy()
    prod = np.asarray(bm.production) if bm is not None else np.ones(n)
    prod = np.asarray(prod, dtype=float)
    decay = float(bm.decay) if (bm is not None and bm.decay is not None) else 0.0

    def split(yy: np.ndarray) -> tuple[np.ndarray, float]:
        x = yy[:n]
        return x, biomarker_value(scenario, x, float(yy[n]) if has_state else 0.0)

    cache: dict[tuple[str, ...], Rates] = {}
    record = RunRecord()
    t = 0.0
    horizon = scenario.horizon_days
    x, b = split(y)
    controller.begin(t, x, b)
    stop = fire_due(controller, t, x, b)
    record.add(t, x, b, therapy_label(controller.therapy))
    max_step = 10.0 * scenario.check_interval_days
    guard = 0
    while not stop and t < horizon - 1e-9:
        guard += 1
        if guard > 100_000:  # pragma: no cover - a policy that chatters
            break
        therapy = controller.therapy
        rates = cache.get(therapy)
        if rates is None:
            rates = cache[therapy] = rates_for(scenario, therapy)
        t_end = min(horizon, controller.next_time(t))

        def rhs(_t: float, yy: np.ndarray, r: Rates = rates) -> np.ndarray:
            return derivative(
                yy, n, r.growth, r.death, r.k_const, r.k_coef, r.competition, r.transitions,
                r.floor, prod, decay,
            )  # fmt: skip

        events: list[Event] = controller.events()
        funcs = []
        for e in events:

            def fn(_t: float, yy: np.ndarray, e: Event = e) -> float:
                xx, bb = split(yy)
                return e.value(np.maximum(xx, 0.0), bb)

            fn.terminal = True  # type: ignore[attr-defined]
            fn.direction = 1  # type: ignore[attr-defined]
            funcs.append(fn)
        if sample_days is None:
            grid = np.arange(math.floor(t) + 1.0, t_end, 1.0)
        else:
            grid = sample_days[(sample_days < t_end) & (sample_days > t)]
        grid = grid[grid > t + 1e-9]
        t_eval = np.concatenate([grid, [t_end]])
        sol = solve_ivp(
            rhs, (t, t_end), y, method="LSODA", t_eval=t_eval, events=funcs or None,
            rtol=1e-7, atol=1e-12, max_step=max_step,
        )  # fmt: skip
        label = therapy_label(therapy)
        # scipy returns empty lists, not arrays, when an event ends the step before the first
        # output time (a double bind switching within a day of the last switch)
        t_out = np.asarray(sol.t, dtype=float)
        y_out = np.asarray(sol.y, dtype=float).reshape(len(y), -1) if t_out.size else None
        for k in range(t_out.size):
            assert y_out is not None
            xx, bb = split(y_out[:, k])
            record.add(float(t_out[k]), np.maximum(xx, floor), bb, label)
        fired: Event | None = None
        if sol.status == 1:
            for e, te, ye in zip(events, sol.t_events, sol.y_events, strict=True):
                if te.size:
                    fired = e
                    t_new, y = float(te[0]), np.array(ye[0])
                    break
        if fired is None:
            t_new, y = float(sol.t[-1]), np.array(sol.y[:, -1])
        y[:n] = np.maximum(y[:n], floor)
        if controller.started:
            record.cumulative_dose += (t_new - t) * _dose(scenario, therapy)
        t = t_new
        x, b = split(y)
        if fired is not None:
            stop = controller.fire(fired, t, x, b)
        else:
            controller.at_time(t, x, b)
        if not stop:
            stop = fire_due(controller, t, x, b)
        record.add(t, x, b, therapy_label(controller.therapy))
        if float(x.sum()) < 1e-12:
            record.extinct = True
            break
    x, _ = split(y)
    record.extinct = record.extinct or float(x.sum()) < 1.0
    return record
