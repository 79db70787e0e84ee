"""The stochastic engine against analytic results of birth-death-mutation processes.

Tolerances are 3.5 Monte-Carlo standard errors (a false alarm about once in 2000 runs);
the seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ithkit.evolution import simulate

B, D = 1.0, 0.5  # per-cell birth and death rates (per day)


def test_survival_probability_from_one_cell() -> None:
    """P(lineage of one cell survives) = 1 - d/b (Kendall 1948); here: reach 100 cells first.

    Gambler's ruin with q = d/b: P(hit 100 before 0) = (1 - q) / (1 - q^100) = 1 - d/b to 1e-30.
    """
    n = 800
    sc = {"engine": "stochastic", "horizon_days": 200, "check_interval_days": 5,
          "populations": {"S": {"initial": 1, "growth_rate": B, "death_rate": D}},
          "progression": {"total_fold": 100}}  # fmt: skip
    sim = simulate(sc, replicates=n, seed=1)
    survived = 1.0 - sim.summary["extinction_probability"]
    expected = 1.0 - D / B
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(survived - expected) < 3.5 * se
    # every run ends either extinct or at the detection size
    reps = sim.replicates
    assert (reps["extinct"] | reps["time_to_progression_days"].notna()).all()


@pytest.mark.parametrize(
    ("n0", "gillespie_below", "replicates"),
    [(100.0, 1e9, 300), (1e6, 1000.0, 100)],  # exact Gillespie; tau-leaping
)
def test_mean_size_grows_as_exp_b_minus_d(n0: float, gillespie_below: float,
                                          replicates: int) -> None:  # fmt: skip
    """E[N(t)] = N0 e^{(b-d)t}; Var[N(t)] = N0 (b+d)/(b-d) e^{(b-d)t} (e^{(b-d)t} - 1)."""
    t = 4.0
    sc = {"engine": "stochastic", "horizon_days": t, "check_interval_days": 2,
          "stochastic": {"gillespie_below": gillespie_below},
          "populations": {"S": {"initial": n0, "growth_rate": B, "death_rate": D}}}  # fmt: skip
    sim = simulate(sc, replicates=replicates, seed=2)
    final = np.array([f["S"].iloc[-1] for f in sim.trajectories])
    growth = math.exp((B - D) * t)
    sd = math.sqrt(n0 * (B + D) / (B - D) * growth * (growth - 1))
    assert abs(final.mean() - n0 * growth) < 3.5 * sd / math.sqrt(replicates)
    assert final.std() == pytest.approx(sd, rel=0.25)


def test_probability_of_preexisting_resistance_at_detection() -> None:
    """Iwasa, Nowak & Michor 2006 (Genetics 172:2557), neutral resistance: the number of resistant
    lineages alive when the tumour reaches M cells is Poisson with mean
    (u b M / d) ln((b - d N0/M) / (b - d)), so P(resistance) = 1 - exp(-mean)
    (the Luria-Delbruck limit d -> 0 gives 1 - exp(-u M))."""
    u, n0, m, n = 5e-6, 100.0, 1e5, 600
    sc = {"engine": "stochastic", "horizon_days": 100, "check_interval_days": 5,
          "populations": {"S": {"initial": n0, "growth_rate": B, "death_rate": D},
                          "R": {"initial": 0, "growth_rate": B, "death_rate": D}},
          "transitions": {"S": {"R": u}},
          "progression": {"total_fold": m / n0}}  # fmt: skip
    sim = simulate(sc, replicates=n, seed=3)
    assert sim.summary["progression_probability"] == 1.0  # 100 cells never die out here
    resistant = np.mean([f["R"].iloc[-1] > 0 for f in sim.trajectories])
    mean = u * B * m / D * math.log((B - D * n0 / m) / (B - D))
    expected = 1.0 - math.exp(-mean)
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(resistant - expected) < 3.5 * se
    # detection stops the walk at M cells (not at the next daily check)
    sizes = np.array([f[["S", "R"]].iloc[-1].sum() for f in sim.trajectories])
    assert np.all((sizes >= m) & (sizes < 1.02 * m))


def test_replicates_do_not_depend_on_their_number() -> None:
    sc = {"engine": "stochastic", "horizon_days": 5,
          "populations": {"S": {"initial": 20, "growth_rate": B, "death_rate": D}}}  # fmt: skip
    few = simulate(sc, replicates=2, seed=9).replicates["n_events"].tolist()
    many = simulate(sc, replicates=5, seed=9).replicates["n_events"].tolist()
    assert many[:2] == few
    assert len(set(many)) > 1


def test_reaches_1e11_cells() -> None:
    sc = {"engine": "stochastic", "horizon_days": 10,
          "populations": {"S": {"initial": 1e9, "growth_rate": B, "death_rate": D}}}  # fmt: skip
    sim = simulate(sc, seed=5)
    final = sim.trajectory["S"].iloc[-1]
    assert final == pytest.approx(1e9 * math.exp(5.0), rel=1e-3)  # 1.5e11 cells
    assert sim.replicates["n_events"].iloc[0] > 1e11
