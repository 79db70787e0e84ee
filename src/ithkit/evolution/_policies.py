"""Therapy policies: which drugs are on, decided from time, the biomarker and the populations.

A :class:`Controller` holds the policy's state (the drugs on, the baseline, the line of
therapy) and offers *triggers*: functions of the state whose crossing from negative to positive
switches therapy. The ODE engine hands them to ``solve_ivp`` as events (so switches fall at the
exact crossing); the stochastic engine tests them at every check. Time-based policies
(intermittent, alternating, schedule, a user function) give the next time they must be asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ithkit._errors import InputError
from ithkit.evolution._scenario import Scenario

PolicyFunction = Callable[[float, Mapping[str, float], float, tuple[str, ...]], Iterable[str]]
"""A user policy: ``f(t_days, populations, biomarker, drugs_on) -> drugs to give``."""

Trigger = Callable[[np.ndarray, float], float]


@dataclass
class Event:
    """A trigger (fires when its value becomes >= 0) and what it does."""

    value: Trigger
    action: str  # "start", "switch", "progress"
    target: tuple[str, ...] = ()


def therapy_label(drugs: Iterable[str]) -> str:
    """Drugs on joined with ``+`` (``none`` when none).

    Examples
    --------
    >>> therapy_label(("A", "B")), therapy_label(())
    ('A+B', 'none')
    """
    drugs = tuple(drugs)
    return "+".join(drugs) if drugs else "none"


class Controller:
    """The state machine of one scenario's policy (one run)."""

    def __init__(self, scenario: Scenario, policy: PolicyFunction | None = None) -> None:
        self.scenario = scenario
        self.user = policy
        self.spec = scenario.policy
        self.kind = "user" if policy is not None else str(self.spec["kind"])
        self.index = scenario.index
        self.therapy: tuple[str, ...] = ()
        self.started = False
        self.start_time = math.nan
        self.base_biomarker = math.nan
        self.base_total = math.nan
        self.line = 0
        self.phase_end = math.inf
        self.on_phase = True
        self.phase = 0
        self.n_switches = 0
        self.progressed_at: float | None = None
        self.finished = False
        self.stop_at_progression = True

    # -- time ---------------------------------------------------------------------------------

    def next_time(self, t: float) -> float:
        """The next time at which the policy must be asked (inf: only on triggers)."""
        if not self.started:
            return math.inf
        if self.kind == "user":
            return t + self.scenario.check_interval_days
        if self.kind in ("intermittent", "alternating"):
            return self.phase_end
        if self.kind == "schedule":
            times = self.spec["times_days"]
            later = [s for s in times if s > t + 1e-12]
            return float(later[0]) if later else math.inf
        return math.inf

    # -- decisions ----------------------------------------------------------------------------

    def begin(self, t: float, x: np.ndarray, biomarker: float) -> None:
        """Called at time 0: start therapy now unless the scenario waits for the biomarker."""
        if self.scenario.treatment_start_fold is None:
            self._start(t, x, biomarker)
        else:
            self.base_biomarker = biomarker  # until therapy starts
            self.base_total = float(np.sum(x))

    def _start(self, t: float, x: np.ndarray, biomarker: float) -> None:
        self.started = True
        self.start_time = t
        self.base_biomarker = biomarker
        self.base_total = float(np.sum(x))
        kind = self.kind
        if kind == "user":
            self.therapy = self._ask_user(t, x, biomarker)
        elif kind == "none":
            self.therapy = ()
        elif kind == "schedule":
            self.therapy = self._scheduled(t)
        elif kind in ("sequential", "double_bind"):
            self.therapy = (self.spec["drugs"][0],)
        else:
            self.therapy = tuple(self.spec["drugs"])
        if kind == "intermittent":
            self.on_phase = True
            self.phase_end = t + float(self.spec["on_days"])
        elif kind == "alternating":
            self.phase = 0
            self.therapy = (self.spec["drugs"][0],)
            self.phase_end = t + float(self.spec["days"][0])

    def _scheduled(self, t: float) -> tuple[str, ...]:
        times = self.spec["times_days"]
        current: tuple[str, ...] = ()
        for s, th in zip(times, self.spec["therapy"], strict=True):
            if s <= t + 1e-12:
                current = tuple(th)
        return current

    def _ask_user(self, t: float, x: np.ndarray, biomarker: float) -> tuple[str, ...]:
        assert self.user is not None
        pops = {name: float(x[i]) for name, i in self.index.items()}
        out = tuple(str(d) for d in self.user(t, pops, biomarker, self.therapy))
        known = set(self.scenario.drug_names)
        for d in out:
            if d not in known:
                raise InputError(
                    f"the policy function returned unknown drug {d!r}",
                    source="policy",
                    fix=f"return names from the scenario's drugs ({', '.join(sorted(known))})",
                )
        return tuple(d for d in self.scenario.drug_names if d in out)

    def _set(self, therapy: tuple[str, ...]) -> None:
        if therapy != self.therapy:
            self.n_switches += 1
            self.therapy = therapy

    def at_time(self, t: float, x: np.ndarray, biomarker: float) -> None:
        """Apply time-based decisions due at ``t``."""
        if not self.started or self.finished:
            return
        if self.kind == "user":
            self._set(self._ask_user(t, x, biomarker))
        elif self.kind == "schedule":
            self._set(self._scheduled(t))
        elif self.kind == "intermittent" and t >= self.phase_end - 1e-9:
            self.on_phase = not self.on_phase
            length = self.spec["on_days"] if self.on_phase else self.spec["off_days"]
            self.phase_end = t + float(length)
            self._set(tuple(self.spec["drugs"]) if self.on_phase else ())
        elif self.kind == "alternating" and t >= self.phase_end - 1e-9:
            drugs = self.spec["drugs"]
            self.phase = (self.phase + 1) % len(drugs)
            self.phase_end = t + float(self.spec["days"][self.phase])
            self._set((drugs[self.phase],))

    def events(self) -> list[Event]:
        """The triggers active in the current state (policy switches, then progression)."""
        sc = self.scenario
        out: list[Event] = []
        if self.finished:
            return out
        if not self.started:
            fold = sc.treatment_start_fold
            assert fold is not None
            level = fold * self.base_biomarker
            out.append(Event(lambda x, b: b - level, "start"))
            return out
        base_b, base_n = self.base_biomarker, self.base_total
        if self.kind == "adaptive":
            drugs = tuple(self.spec["drugs"])
            if self.therapy:
                low = self.spec["off_below"] * base_b
                out.append(Event(lambda x, b: low - b, "switch", ()))
            else:
                high = self.spec["on_above"] * base_b
                out.append(Event(lambda x, b: b - high, "switch", drugs))
        elif self.kind == "double_bind":
            i = self.index[self.spec["monitor"]]
            first, second = self.spec["drugs"]
            if self.therapy == (first,):
                hi = self.spec["to_second_above"]
                out.append(Event(lambda x, b: x[i] / max(x.sum(), 1e-300) - hi, "switch",
                                 (second,)))  # fmt: skip
            else:
                lo = self.spec["to_first_below"]
                out.append(Event(lambda x, b: lo - x[i] / max(x.sum(), 1e-300), "switch",
                                 (first,)))  # fmt: skip
        prog = sc.progression
        if self.progressed_at is not None:
            return out
        if prog.biomarker_fold is not None:
            level_b = prog.biomarker_fold * base_b
            out.append(Event(lambda x, b: b - level_b, "progress"))
        if prog.total_fold is not None:
            level_n = prog.total_fold * base_n
            out.append(Event(lambda x, b: float(x.sum()) - level_n, "progress"))
        for pop, frac in prog.population_fraction:
            j = self.index[pop]
            out.append(Event(_fraction_above(j, frac), "progress"))
        return out

    def fire(self, event: Event, t: float, x: np.ndarray, biomarker: float) -> bool:
        """Apply ``event``; returns True when the run should stop (progression, last line)."""
        if event.action == "start":
            self._start(t, x, biomarker)
            return False
        if event.action == "switch":
            self._set(event.target)
            return False
        # progression
        if self.kind == "sequential" and self.line + 1 < len(self.spec["drugs"]):
            self.line += 1
            self._set((self.spec["drugs"][self.line],))
            self.base_biomarker = biomarker
            self.base_total = float(np.sum(x))
            return False
        self.progressed_at = t
        self.finished = self.stop_at_progression
        return self.finished


def _fraction_above(j: int, frac: float) -> Trigger:
    def value(x: np.ndarray, b: float) -> float:
        return float(x[j] / max(float(x.sum()), 1e-300) - frac)

    return value


def fire_due(
    controller: Controller, t: float, x: np.ndarray, biomarker: float, *, limit: int = 10
) -> bool:
    """Fire every trigger already at or past its threshold; True when the run should stop."""
    for _ in range(limit):
        due = [e for e in controller.events() if e.value(x, biomarker) >= 0]
        if not due:
            return False
        # switches before progression: a drug change at the same instant comes first
        due.sort(key=lambda e: e.action == "progress")
        if controller.fire(due[0], t, x, biomarker):
            return True
    return False
