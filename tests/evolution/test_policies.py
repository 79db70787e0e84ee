"""Policy switching on tiny scenarios: switches fall at the documented thresholds and times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.evolution import compare, simulate
from ithkit.evolution._scenario import EXAMPLE


def _two_drugs(policy: dict, **extra: object) -> dict:
    """RA resists drug A and is killed by B; RB the other way round (a double bind)."""
    sc = {
        "engine": "ode",
        "horizon_days": 400,
        "populations": {
            "RA": {"initial": 100, "growth_rate": 0.1, "capacity": 10000},
            "RB": {"initial": 100, "growth_rate": 0.1, "capacity": 10000},
        },
        "competition": {"RA": {"RB": 1.0}, "RB": {"RA": 1.0}},
        "drugs": {"A": {"kill_rate": {"RB": 0.3}}, "B": {"kill_rate": {"RA": 0.3}}},
        "biomarker": {"production": {"RA": 1, "RB": 1}},
        "policy": policy,
    }
    sc.update(extra)
    return sc


def _switches(traj: pd.DataFrame) -> pd.DataFrame:
    changed = traj["therapy"].ne(traj["therapy"].shift())
    return traj[changed].iloc[1:]


def test_adaptive_switches_at_biomarker_thresholds() -> None:
    sim = simulate(EXAMPLE)
    traj = sim.trajectory
    base = traj["biomarker"].iloc[0]
    sw = _switches(traj)
    assert len(sw) == sim.summary["n_switches"] >= 6
    off = sw[sw["therapy"] == "none"]["biomarker"] / base
    on = sw[sw["therapy"] == "A"]["biomarker"] / base
    assert np.allclose(off, 0.5, atol=1e-4) and np.allclose(on, 1.0, atol=1e-4)
    # between switches the biomarker stays inside the band once the first cycle has started
    assert traj["biomarker"].max() / base <= 1.0 + 1e-4
    assert np.diff(traj["time_days"]).max() <= 1.0 + 1e-9  # at least daily


def test_intermittent_follows_the_clock() -> None:
    sim = simulate(_two_drugs({"kind": "intermittent", "drug": "A", "on_days": 20,
                               "off_days": 10}))  # fmt: skip
    sw = _switches(sim.trajectory)
    expected = [20, 30, 50, 60, 80, 90]
    assert np.allclose(sw["time_days"].to_numpy()[:6], expected)
    assert list(sw["therapy"].iloc[:4]) == ["none", "A", "none", "A"]
    # dose = days on: 13 full 30-day cycles (390 days) then 10 more days on
    assert sim.summary["cumulative_dose"] == pytest.approx(13 * 20 + 10, abs=1e-6)


def test_double_bind_switches_on_monitored_fraction() -> None:
    sim = simulate(_two_drugs({"kind": "double_bind", "drugs": ["A", "B"], "monitor": "RA",
                               "to_second_above": 0.8, "to_first_below": 0.3}))  # fmt: skip
    traj = sim.trajectory
    frac = traj["RA"] / (traj["RA"] + traj["RB"])
    sw = _switches(traj)
    assert len(sw) >= 4
    to_b = frac[sw.index[sw["therapy"] == "B"]]
    to_a = frac[sw.index[sw["therapy"] == "A"]]
    assert np.allclose(to_b, 0.8, atol=1e-4) and np.allclose(to_a, 0.3, atol=1e-4)
    assert set(traj["therapy"]) == {"A", "B"}


def test_sequential_moves_to_next_drug_on_progression() -> None:
    sc = _two_drugs({"kind": "sequential", "drugs": ["A", "B"]},
                    progression={"total_fold": 5})  # fmt: skip
    sim = simulate(sc)
    sw = _switches(sim.trajectory)
    assert list(sw["therapy"]) == ["B"]
    t_switch = float(sw["time_days"].iloc[0])
    total = sim.trajectory["RA"] + sim.trajectory["RB"]
    assert total[sw.index[0]] == pytest.approx(5 * 200, rel=1e-4)
    ttp = sim.summary["time_to_progression_days"]
    assert ttp is not None and ttp > t_switch
    # progression on the second line is measured from that line's start
    assert total.iloc[-1] == pytest.approx(5 * total[sw.index[0]], rel=1e-4)


def test_combination_label_and_dose() -> None:
    sc = _two_drugs({"kind": "combination", "drugs": ["A", "B"]}, horizon_days=30)
    sc["drugs"]["B"]["dose"] = 2.0
    sim = simulate(sc)
    assert set(sim.trajectory["therapy"]) == {"A+B"}
    assert sim.summary["cumulative_dose"] == pytest.approx(30 * 3.0)


def test_schedule_replays_a_therapy_history() -> None:
    sim = simulate(_two_drugs({"kind": "schedule", "times_days": [0, 10, 25],
                               "therapy": ["A", "none", "A+B"]}, horizon_days=40))  # fmt: skip
    traj = sim.trajectory.set_index("time_days")
    assert traj.loc[5.0, "therapy"] == "A" and traj.loc[20.0, "therapy"] == "none"
    assert traj.loc[30.0, "therapy"] == "A+B"
    assert sim.summary["cumulative_dose"] == pytest.approx(10 + 15 * 2)


def test_user_policy_function() -> None:
    calls: list[float] = []

    def policy(t: float, pops: dict, biomarker: float, on: tuple) -> list[str]:
        calls.append(t)
        return ["B"] if pops["RA"] > pops["RB"] else ["A"]

    sim = simulate(_two_drugs({"kind": "none"}, horizon_days=100), policy=policy)
    assert sim.summary["policy"] == "user" and len(calls) >= 100
    traj = sim.trajectory
    assert set(traj["therapy"]) == {"A", "B"}
    frac = traj["RA"] / (traj["RA"] + traj["RB"])
    assert abs(frac.iloc[-1] - 0.5) < 0.1  # the rule holds the two clones near balance

    with pytest.raises(InputError, match="unknown drug 'C'"):
        simulate(_two_drugs({"kind": "none"}), policy=lambda *a: ["C"])


def test_treatment_start_waits_for_biomarker() -> None:
    sc = _two_drugs({"kind": "continuous", "drug": "A"}, treatment_start={"biomarker_fold": 2})
    sim = simulate(sc)
    start = sim.summary["treatment_start_days"]
    traj = sim.trajectory.set_index("time_days")
    assert traj.loc[start, "biomarker"] == pytest.approx(400, rel=1e-5)
    # logistic growth of 200 cells at r = 0.1 to 400 cells: t = ln(2 (K - 200) / (K - 400)) / r
    assert start == pytest.approx(math.log(2 * 9800 / 9600) / 0.1, rel=1e-4)
    assert sim.summary["cumulative_dose"] == pytest.approx(400 - start, rel=1e-6)


@pytest.mark.parametrize("engine", ["ode", "stochastic"])
def test_engines_agree_on_a_large_tumour(engine: str) -> None:
    sc = {"engine": engine, "horizon_days": 30, "stochastic": {"gillespie_below": 1000},
          "populations": {"S": {"initial": 1e6, "growth_rate": 0.2, "death_rate": 0.05,
                                "capacity": 1e7}},
          "drugs": {"A": {"kill_rate": {"S": 0.3}}},
          "policy": {"kind": "intermittent", "drug": "A", "on_days": 10,
                     "off_days": 10}}  # fmt: skip
    ode = simulate({**sc, "engine": "ode"}).trajectory.set_index("time_days")["S"]
    got = simulate(sc, seed=4).trajectory.set_index("time_days")["S"]
    for day in (5.0, 10.0, 20.0, 30.0):
        assert got.loc[day] == pytest.approx(ode.loc[day], rel=0.01)


def test_compare_table_and_default_policies() -> None:
    cmp = compare(EXAMPLE, ["continuous", "adaptive", "intermittent", "none"])
    table = cmp.table.set_index("policy")
    assert table.loc["continuous", "dose_per_day"] == pytest.approx(1.0)
    assert table.loc["none", "cumulative_dose"] == 0.0
    assert 0 < table.loc["adaptive", "dose_per_day"] < 1.0
    assert cmp.simulations["intermittent"].scenario.policy["on_days"] == 30.0
    with pytest.raises(InputError, match="double_bind needs"):
        compare(EXAMPLE, ["double_bind"])


def test_alternating_by_name_cycles_every_drug_for_30_days() -> None:
    from ithkit.evolution import load_scenario
    from ithkit.evolution._simulate import policy_from_name

    scenario = load_scenario(
        {
            "engine": "ode",
            "horizon_days": 100,
            "populations": {"S": {"initial": 100, "growth_rate": 0.01, "capacity": 1000}},
            "drugs": {"A": {"kill_rate": {"S": 0.02}}, "B": {"kill_rate": {"S": 0.02}}},
            "policy": {"kind": "continuous", "drugs": ["A"]},
        }
    )
    policy = policy_from_name(scenario, "alternating")
    assert policy == {"kind": "alternating", "drugs": ["A", "B"], "days": [30.0, 30.0]}
    one_drug = load_scenario({**scenario.raw, "drugs": {"A": {"kill_rate": {"S": 0.02}}}})
    with pytest.raises(InputError, match="alternating needs two drugs"):
        policy_from_name(one_drug, "alternating")
