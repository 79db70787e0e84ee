"""The ODE engine against closed forms, and the compiled right-hand side against numpy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ithkit.evolution import load_scenario, simulate
from ithkit.evolution._kernels import derivative
from ithkit.evolution._model import rates_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def test_exponential_and_logistic_growth_match_closed_forms() -> None:
    sc = {"horizon_days": 50,
          "populations": {"E": {"initial": 10, "growth_rate": 0.2, "death_rate": 0.05},
                          "L": {"initial": 10, "growth_rate": 0.2, "capacity": 1000}}}  # fmt: skip
    traj = simulate(sc).trajectory.set_index("time_days")
    t = np.array([10.0, 25.0, 50.0])
    assert np.allclose(traj.loc[t, "E"], 10 * np.exp(0.15 * t), rtol=1e-5)
    logistic = 1000 / (1 + (1000 / 10 - 1) * np.exp(-0.2 * t))
    assert np.allclose(traj.loc[t, "L"], logistic, rtol=1e-5)


def test_biomarker_with_decay_matches_closed_form() -> None:
    # x = x0 e^{rt}; dB/dt = x - k B with B(0) = x0 / k  =>  B = x0 e^{rt} / (r + k) + c e^{-kt}
    r, k, x0 = 0.1, 0.5, 100.0
    sc = {"horizon_days": 20, "populations": {"S": {"initial": x0, "growth_rate": r}},
          "biomarker": {"production": {"S": 1}, "decay": k}}  # fmt: skip
    traj = simulate(sc).trajectory.set_index("time_days")
    c = x0 / k - x0 / (r + k)
    t = np.array([5.0, 20.0])
    expected = x0 * np.exp(r * t) / (r + k) + c * np.exp(-k * t)
    assert np.allclose(traj.loc[t, "biomarker"], expected, rtol=1e-5)


@pytest.mark.parametrize("therapy", [(), ("abiraterone",)])
def test_compiled_derivative_equals_numpy(therapy: tuple[str, ...]) -> None:
    sc = load_scenario(EXAMPLES / "zhang2017_continuous.yaml")
    r = rates_for(sc, therapy)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform(1, 8000, 3)
        got = derivative(np.concatenate([x, [1.0]]), 3, r.growth, r.death, r.k_const, r.k_coef,
                         r.competition, r.transitions, r.floor, np.ones(3), 0.5)  # fmt: skip
        assert np.allclose(got[:3], r.derivative(x), rtol=1e-12)
        assert got[3] == pytest.approx(x.sum() - 0.5)


def test_mutation_flow_conserves_births() -> None:
    sc = load_scenario({"populations": {"S": {"initial": 1e6, "growth_rate": 0.5},
                                        "R": {"initial": 0, "growth_rate": 0.5}},
                        "transitions": {"S": {"R": 1e-3}}})  # fmt: skip
    r = rates_for(sc, ())
    dx = r.derivative(np.array([1e6, 0.0]))
    assert dx.sum() == pytest.approx(0.5 * 1e6)  # mutation moves births, it does not add any
    assert dx[1] == pytest.approx(0.5 * 1e6 * 1e-3)
    assert math.isinf(r.k_const[0, 0])


def test_lesion_scenario_mean_follows_the_virtual_patient_formula() -> None:
    from ithkit.evolution import lesion_scenario

    f, kill, growth, cells = 0.05, 0.04, 0.015, 1e8
    sc = lesion_scenario({"C1": 0.6, "C2": 0.35, "C3": f}, cells=cells, resistant=["C3"],
                         kill_rate=kill, growth_rate=growth, horizon_days=120,
                         parents={"C2": "C1", "C3": "C2"}, mutation_rate=0.0)  # fmt: skip
    traj = simulate(sc, seed=3).trajectory.set_index("time_days")  # stochastic engine
    t = np.array([30.0, 60.0, 120.0])
    rel = traj.loc[t, ["C1", "C2", "C3"]].sum(axis=1).to_numpy() / cells
    expected = (1 - f) * np.exp(-kill * t) + f * np.exp(growth * t)
    assert np.allclose(rel, expected, rtol=2e-3)
    assert set(traj["therapy"]) == {"therapy"}


def test_numpy_derivative_equals_the_numba_kernel() -> None:
    # the core install (no numba) integrates with the numpy right-hand side: same values
    import numpy as np

    from ithkit.evolution._kernels import derivative, derivative_numpy

    rng = np.random.default_rng(0)
    for n, n_cap in ((1, 0), (3, 1), (4, 2)):
        y = np.concatenate([rng.uniform(0, 1e6, n), [rng.uniform(0, 10)]])
        args = (
            n, rng.uniform(0, 0.1, n), rng.uniform(0, 0.05, n), rng.uniform(1e6, 2e6, (n_cap, n)),
            rng.uniform(-0.1, 0.1, (n_cap, n, n)), rng.uniform(0.5, 1.5, (n, n)),
            np.where(rng.random((n, n)) < 0.5, 1e-4, 0.0), np.full(n, 1.0),
            rng.uniform(0, 1e-6, n), 0.05,
        )  # fmt: skip
        np.testing.assert_allclose(derivative_numpy(y, *args), derivative(y, *args), rtol=1e-12)
