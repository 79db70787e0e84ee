"""Public simulation API: :func:`simulate`, :func:`compare` and their results."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ithkit._atomic import atomic_path
from ithkit._errors import InputError
from ithkit.evolution._ode import RunRecord, run_ode
from ithkit.evolution._policies import Controller, PolicyFunction
from ithkit.evolution._scenario import EXAMPLE, Scenario, load_scenario

__all__ = ["EXAMPLE", "Comparison", "Simulation", "compare", "simulate"]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


TRAJECTORY_FILE = "trajectory.tsv"
SUMMARY_FILE = "summary.json"
REPLICATES_FILE = "replicates.tsv"
COMPARISON_FILE = "comparison.tsv"


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    scenario
        The scenario that was run.
    trajectory
        Wide table of the first replicate: ``time_days``, one column per population (cells),
        ``biomarker``, ``therapy`` (drugs on joined with ``+``, or ``none``); at least daily and at
        every switch.
    replicates
        One row per replicate: ``replicate, time_to_progression_days, cumulative_dose,
        dose_per_day, n_switches, extinct, treatment_start_days, end_days, n_events``.
    summary
        ``time_to_progression_days`` (from the start of therapy; None if no progression;
        the median over replicates), ``cumulative_dose`` (drug-days x dose, mean),
        ``n_switches`` (median), ``extinct`` (True when most replicates died out),
        ``extinction_probability``, ``progression_probability`` and the run's settings.
    trajectories
        Every replicate's trajectory (the first is ``trajectory``).
    """

    scenario: Scenario
    trajectory: pd.DataFrame
    replicates: pd.DataFrame
    summary: dict[str, Any]
    trajectories: tuple[pd.DataFrame, ...] = field(default=(), repr=False)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``trajectory.tsv``, ``summary.json`` and ``replicates.tsv`` under ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / TRAJECTORY_FILE, out / SUMMARY_FILE, out / REPLICATES_FILE]
        atomic_write_text(paths[0], self.trajectory.to_csv(sep="\t", index=False))
        atomic_write_text(paths[1], json.dumps(self.summary, indent=2) + "\n")
        atomic_write_text(paths[2], self.replicates.to_csv(sep="\t", index=False))
        return paths


def _frame(scenario: Scenario, record: RunRecord) -> pd.DataFrame:
    states = np.vstack(record.states) if record.states else np.zeros((0, len(scenario.names)))
    data: dict[str, Any] = {"time_days": np.asarray(record.times, dtype=float)}
    for i, name in enumerate(scenario.names):
        data[name] = states[:, i]
    data["biomarker"] = np.asarray(record.biomarker, dtype=float)
    data["therapy"] = list(record.therapy)
    return pd.DataFrame(data)


def _row(controller: Controller, record: RunRecord) -> dict[str, Any]:
    start = controller.start_time if controller.started else math.nan
    end = record.times[-1] if record.times else 0.0
    ttp = None
    if controller.progressed_at is not None:
        ttp = float(controller.progressed_at - start)
    treated = end - start if controller.started else 0.0
    return {
        "time_to_progression_days": ttp,
        "cumulative_dose": float(record.cumulative_dose),
        "dose_per_day": float(record.cumulative_dose / treated) if treated > 0 else 0.0,
        "n_switches": int(controller.n_switches),
        "extinct": bool(record.extinct),
        "treatment_start_days": None if math.isnan(start) else float(start),
        "end_days": float(end),
        "n_events": int(record.n_events),
    }


def _summarise(scenario: Scenario, rows: pd.DataFrame, engine: str) -> dict[str, Any]:
    ttp = rows["time_to_progression_days"].astype(float).fillna(math.inf)
    median_ttp = float(np.median(ttp.to_numpy()))
    p_ext = float(rows["extinct"].mean())
    start = rows["treatment_start_days"].iloc[0]
    return {
        "scenario": scenario.name,
        "engine": engine,
        "policy": scenario.policy["kind"],
        "replicates": len(rows),
        "time_to_progression_days": None if math.isinf(median_ttp) else median_ttp,
        "cumulative_dose": float(rows["cumulative_dose"].mean()),
        "dose_per_day": float(rows["dose_per_day"].mean()),
        "n_switches": int(np.median(rows["n_switches"].to_numpy())),
        "extinct": bool(p_ext > 0.5),
        "extinction_probability": p_ext,
        "progression_probability": float(rows["time_to_progression_days"].notna().mean()),
        "treatment_start_days": None if pd.isna(start) else float(start),
        "horizon_days": scenario.horizon_days,
    }


def simulate(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    seed: int | None = 0,
    replicates: int = 1,
    engine: Literal["ode", "stochastic"] | None = None,
    policy: PolicyFunction | Mapping[str, Any] | None = None,
    stop_at_progression: bool = True,
    show_progress: bool = False,
) -> Simulation:
    """Run a therapy scenario with the ODE or the stochastic engine.

    Parameters
    ----------
    scenario
        A scenario file (YAML), YAML text, a mapping or a :class:`Scenario`.
    seed
        Seed of the stochastic engine (replicate ``k`` uses ``SeedSequence(seed).spawn``'s
        ``k``-th child, so results do not depend on how many replicates run).
    replicates
        Stochastic replicates (the ODE is deterministic and runs once).
    engine
        Override the scenario's ``engine``.
    policy
        A policy mapping (replaces the scenario's) or a function
        ``f(t_days, populations, biomarker, drugs_on) -> drugs`` asked every
        ``check_interval_days``.
    stop_at_progression
        End each run at progression (default) or continue to the horizon.
    show_progress
        A progress bar over replicates.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> sim = simulate(EXAMPLE)
    >>> list(sim.trajectory.columns)
    ['time_days', 'S', 'R', 'biomarker', 'therapy']
    >>> sim.summary["n_switches"] > 0, sim.summary["policy"]
    (True, 'adaptive')
    """
    sc = load_scenario(scenario)
    user: PolicyFunction | None = None
    if isinstance(policy, Mapping):
        sc = sc.with_policy(policy)
    elif policy is not None:
        if not callable(policy):
            raise InputError(
                "policy is neither a mapping nor a function",
                source="policy",
                fix="pass {'kind': ...} or f(t, populations, biomarker, drugs_on)",
            )
        user = policy  # fmt: skip
    eng = engine or sc.engine
    if eng not in ("ode", "stochastic"):
        raise InputError(f"unknown engine {eng!r}", source="engine", fix="use ode or stochastic")
    if replicates < 1:
        raise InputError(f"replicates is {replicates}", source="replicates", fix="use >= 1")
    n_runs = 1 if eng == "ode" else int(replicates)
    children = np.random.SeedSequence(seed).spawn(n_runs)
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    iterator: Any = range(n_runs)
    if show_progress and n_runs > 1:
        from rich.progress import track

        iterator = track(iterator, description="Replicates", transient=True)
    for k in iterator:
        controller = Controller(sc, user)
        controller.stop_at_progression = stop_at_progression
        if eng == "ode":
            record = run_ode(sc, controller)
        else:
            from ithkit.evolution._stochastic import run_stochastic

            record = run_stochastic(sc, controller, np.random.default_rng(children[k]))
        row = _row(controller, record)
        row["replicate"] = k
        rows.append(row)
        frames.append(_frame(sc, record))
    table = pd.DataFrame(rows)
    table = table[["replicate", *[c for c in table.columns if c != "replicate"]]]
    summary = _summarise(sc, table, eng)
    if user is not None:
        summary["policy"] = "user"
    return Simulation(sc, frames[0], table, summary, tuple(frames))


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare`: one row per policy and each policy's simulation."""

    table: pd.DataFrame
    simulations: dict[str, Simulation]

    def ranking(self) -> pd.DataFrame:
        """Policies ranked by time to progression (longest first; ties: the smaller dose).

        A policy under which the tumour did not progress within the simulated time ranks by
        that time and is marked ``censored`` (its true time to progression is longer).

        Returns
        -------
        pandas.DataFrame
            ``rank, policy, time_to_progression_days, censored, cumulative_dose,
            gain_vs_continuous_days`` (NaN without a continuous policy in the comparison).
        """
        t = self.table
        ends = {
            name: float(sim.replicates["end_days"].median() - sim.replicates[
                "treatment_start_days"].median())
            for name, sim in self.simulations.items()
        }  # fmt: skip
        ttp = pd.to_numeric(t["time_to_progression_days"], errors="coerce")
        censored = ttp.isna()
        days = ttp.where(~censored, t["policy"].map(ends))
        out = pd.DataFrame(
            {
                "policy": t["policy"].astype(str),
                "time_to_progression_days": days.astype(float),
                "censored": censored.to_numpy(),
                "cumulative_dose": pd.to_numeric(t["cumulative_dose"], errors="coerce"),
            }
        ).sort_values(["time_to_progression_days", "cumulative_dose"], ascending=[False, True])
        cont = out.loc[out["policy"] == "continuous", "time_to_progression_days"]
        base = float(cont.iloc[0]) if len(cont) else float("nan")
        out["gain_vs_continuous_days"] = out["time_to_progression_days"] - base
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        return out.reset_index(drop=True)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``comparison.tsv`` and one sub-folder of simulation files per policy."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / COMPARISON_FILE
        atomic_write_text(path, self.table.to_csv(sep="\t", index=False))
        paths = [path]
        for name, sim in self.simulations.items():
            paths.extend(sim.write(out / name))
        return paths


def policy_from_name(scenario: Scenario, name: str) -> dict[str, Any]:
    """A policy mapping for a policy name, with the scenario's drugs and thresholds.

    Settings come from the scenario's own policy when it is of the same kind; otherwise the
    defaults are: the scenario policy's drugs (or all drugs), adaptive ``off_below 0.5,
    on_above 1.0``, intermittent ``on_days 30, off_days 30``, alternating every drug for 30
    days in turn. ``double_bind`` needs the
    scenario's policy to be a double bind (it names the monitored population).

    Examples
    --------
    >>> policy_from_name(load_scenario(EXAMPLE), "intermittent")
    {'kind': 'intermittent', 'drugs': ['A'], 'on_days': 30.0, 'off_days': 30.0}
    """
    own = scenario.policy
    if own["kind"] == name:
        return dict(own)
    drugs = list(own.get("drugs") or scenario.drug_names)
    if not drugs and name != "none":
        raise InputError(f"policy {name!r} needs drugs", source=scenario.source,
                         fix="define drugs in the scenario")  # fmt: skip
    if name == "none":
        return {"kind": "none"}
    if name == "continuous":
        return {"kind": "continuous", "drugs": drugs[:1]}
    if name == "combination":
        return {"kind": "combination", "drugs": list(scenario.drug_names)}
    if name == "adaptive":
        return {"kind": "adaptive", "drugs": drugs[:1], "off_below": 0.5, "on_above": 1.0}
    if name == "intermittent":
        return {"kind": "intermittent", "drugs": drugs[:1], "on_days": 30.0, "off_days": 30.0}
    if name == "sequential":
        if len(scenario.drug_names) < 2:
            raise InputError("sequential needs two drugs", source=scenario.source,
                             fix="define a second drug")  # fmt: skip
        return {"kind": "sequential", "drugs": list(scenario.drug_names)}
    if name == "alternating":
        if len(scenario.drug_names) < 2:
            raise InputError("alternating needs two drugs", source=scenario.source,
                             fix="define a second drug")  # fmt: skip
        names = list(scenario.drug_names)
        return {"kind": "alternating", "drugs": names, "days": [30.0] * len(names)}
    if name == "double_bind":
        raise InputError("double_bind needs its monitored population and thresholds",
                         source=scenario.source,
                         fix="set policy: {kind: double_bind, ...} in the scenario")  # fmt: skip
    raise InputError(f"unknown policy {name!r}", source="policies",
                     fix="use none, continuous, combination, intermittent, adaptive, "
                         "sequential, alternating or double_bind")  # fmt: skip


def compare(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    policies: Sequence[str | Mapping[str, Any]],
    *,
    seed: int | None = 0,
    replicates: int = 1,
    engine: Literal["ode", "stochastic"] | None = None,
    show_progress: bool = False,
) -> Comparison:
    """Run one scenario under several policies and tabulate the outcomes.

    Parameters
    ----------
    scenario
        The scenario (its own policy supplies thresholds for policies of the same kind).
    policies
        Policy names (``continuous``, ``adaptive``, ...) or policy mappings.
    seed, replicates, engine, show_progress
        As for :func:`simulate` (every policy uses the same seed).

    Returns
    -------
    Comparison
        ``table`` columns: ``policy, time_to_progression_days, cumulative_dose, dose_per_day,
        n_switches, extinction_probability, progression_probability``.

    Examples
    --------
    >>> cmp = compare(EXAMPLE, ["continuous", "adaptive"])
    >>> list(cmp.table["policy"])
    ['continuous', 'adaptive']
    """
    sc = load_scenario(scenario)
    if not policies:
        raise InputError("no policies to compare", source="policies",
                         fix="e.g. continuous,adaptive")  # fmt: skip
    rows = []
    sims: dict[str, Simulation] = {}
    for k, pol in enumerate(policies):
        spec = policy_from_name(sc, pol.strip()) if isinstance(pol, str) else dict(pol)
        label = pol.strip() if isinstance(pol, str) else f"{spec.get('kind', 'policy')}_{k}"
        if label in sims:
            label = f"{label}_{k}"
        sim = simulate(
            sc, seed=seed, replicates=replicates, engine=engine, policy=spec,
            show_progress=show_progress,
        )  # fmt: skip
        sims[label] = sim
        s = sim.summary
        rows.append({
            "policy": label,
            "time_to_progression_days": s["time_to_progression_days"],
            "cumulative_dose": s["cumulative_dose"],
            "dose_per_day": s["dose_per_day"],
            "n_switches": s["n_switches"],
            "extinction_probability": s["extinction_probability"],
            "progression_probability": s["progression_probability"],
        })  # fmt: skip
    return Comparison(pd.DataFrame(rows), sims)
