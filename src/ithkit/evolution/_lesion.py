"""A lesion's clones as a therapy scenario: the bridge for virtual patients (issue 6, item 8).

:func:`lesion_scenario` turns a lesion's clone composition (prevalences of a clone tree), the
resistant clones and the therapy's kill and growth rates into a :class:`Scenario` whose mean
follows the closed form the virtual-patient generator uses today::

    cells(t) / cells(0) = (1 - f) e^{-kill t} + f e^{growth t}   (f: resistant share)

(optionally limited by a logistic capacity), so the stochastic engine can replace that formula
with one evolving tumour (clone counts, new mutants along the tree, extinction of small clones).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ithkit._errors import InputError
from ithkit.evolution._scenario import Scenario, load_scenario


def lesion_scenario(
    prevalence: Mapping[str, float],
    *,
    cells: float,
    resistant: Iterable[str],
    kill_rate: float,
    growth_rate: float,
    horizon_days: float,
    parents: Mapping[str, str | None] | None = None,
    mutation_rate: float = 0.0,
    birth_rate: float | None = None,
    capacity_fold: float | None = None,
    engine: Literal["ode", "stochastic"] = "stochastic",
) -> Scenario:
    """Scenario of one lesion under continuous therapy from day 0.

    Parameters
    ----------
    prevalence
        Clone -> fraction of the lesion's cancer cells (sums to 1).
    cells
        Cancer cells in the lesion at day 0 (e.g. 1e8 per ml).
    resistant
        Clones that the drug does not kill.
    kill_rate
        Net death rate of sensitive cells on therapy (per day).
    growth_rate
        Net growth rate of every clone off therapy and of resistant clones on it (per day).
    horizon_days
        Length of the simulation.
    parents
        Clone -> parent clone; with ``mutation_rate`` a division of a parent yields a child
        cell with that probability (new mutants arise along the tree).
    mutation_rate
        Probability per division of each parent -> child transition.
    birth_rate
        Per-cell birth rate (turnover; default ``2 x growth_rate``, at least 0.05 per day);
        death = birth - growth.
    capacity_fold
        Shared logistic carrying capacity in multiples of ``cells`` (default: none, so the mean
        follows the closed form exactly; the generator's hard cap at 30x baseline becomes a
        logistic slow-down near ``capacity_fold`` x).
    engine
        The engine the scenario names.

    Returns
    -------
    Scenario
        Populations = clones, drug ``therapy`` (continuous), biomarker ``burden`` = all cells.

    Examples
    --------
    >>> from ithkit.evolution import simulate
    >>> sc = lesion_scenario({"C1": 0.9, "C2": 0.1}, cells=1e6, resistant=["C2"],
    ...                      kill_rate=0.05, growth_rate=0.02, horizon_days=30, engine="ode")
    >>> traj = simulate(sc).trajectory
    >>> ratio = (traj[["C1", "C2"]].sum(axis=1) / 1e6).iloc[-1]
    >>> import math
    >>> round(float(ratio), 3), round(0.9 * math.exp(-1.5) + 0.1 * math.exp(0.6), 3)
    (0.383, 0.383)
    """
    total = sum(float(v) for v in prevalence.values())
    if not prevalence or abs(total - 1.0) > 1e-6:
        raise InputError(f"clone prevalences sum to {total:g}", source="prevalence",
                         fix="give fractions of the lesion's cells that sum to 1")  # fmt: skip
    res = set(resistant)
    unknown = res - set(prevalence)
    if unknown:
        raise InputError(f"resistant clone(s) {sorted(unknown)} are not in prevalence",
                         source="resistant", fix="name clones of the lesion")  # fmt: skip
    birth = birth_rate if birth_rate is not None else max(2.0 * growth_rate, 0.05)
    if birth < growth_rate:
        raise InputError("birth_rate is below growth_rate", source="birth_rate",
                         fix="birth = growth + death; give birth_rate >= growth_rate")  # fmt: skip
    capacity: float | str = "inf" if capacity_fold is None else capacity_fold * cells
    names = list(prevalence)
    pops: dict[str, Any] = {}
    for name in names:
        pops[name] = {"initial": float(prevalence[name]) * cells, "growth_rate": birth,
                      "death_rate": birth - growth_rate, "capacity": capacity}  # fmt: skip
    competition = {a: {b: 1.0 for b in names if b != a} for a in names}
    transitions: dict[str, dict[str, float]] = {}
    if parents and mutation_rate > 0:
        for child, parent in parents.items():
            if parent is not None and parent in pops and child in pops:
                transitions.setdefault(parent, {})[child] = mutation_rate
    kill = {n: kill_rate + growth_rate for n in names if n not in res}
    raw = {
        "name": "lesion",
        "engine": engine,
        "horizon_days": horizon_days,
        "populations": pops,
        "competition": competition,
        "drugs": {"therapy": {"kill_rate": kill}},
        "transitions": transitions,
        "biomarker": {"name": "burden"},
        "policy": {"kind": "continuous", "drug": "therapy"},
    }
    return load_scenario(raw, source="lesion_scenario")
