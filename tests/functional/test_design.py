"""Therapy design from measurements: the closed-form double-bind share, the designed scenario
and the ranked policies (closing the loop on simulated lines with known truth)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.evolution import load_scenario, simulate
from ithkit.functional import (
    DEFAULT_TRUTH,
    POLICY_COLUMNS,
    design_scenario,
    design_therapy,
    double_bind_fraction,
    fit_responses,
    synthetic_responses,
)

# two lines with known kill rates (per day) on drugs A and B; untreated growth 0.08 per day:
# net rates a = (0.07, -0.02), b = (-0.04, 0.06) -> f* = 0.10 / 0.19, g* = 0.0034 / 0.19
KILL = {("RA", "A"): 0.01, ("RA", "B"): 0.12, ("RB", "A"): 0.10, ("RB", "B"): 0.02}
F_STAR = 0.10 / 0.19


def _fits() -> pd.DataFrame:
    # flat viability curves at exp(-kill x 3 days): the 72-h assay of each line
    return pd.DataFrame(
        [
            {"sample_id": s, "drug": d, "einf": math.exp(-3 * k), "max_dose_um": 10.0, "flat": True}
            for (s, d), k in KILL.items()
        ]
    )


def test_closed_form_fraction() -> None:
    d = double_bind_fraction(0.07, -0.02, -0.04, 0.06)
    assert d.fraction_on_a == pytest.approx(F_STAR)
    assert d.rate_per_day == pytest.approx(0.0034 / 0.19)
    assert d.balanced and not d.holds
    # both populations grow at the same rate there
    g1 = d.fraction_on_a * 0.07 + (1 - d.fraction_on_a) * -0.04
    g2 = d.fraction_on_a * -0.02 + (1 - d.fraction_on_a) * 0.06
    assert g1 == pytest.approx(g2) == pytest.approx(d.rate_per_day)
    # drugs that do not counter each other: the better single drug
    one = double_bind_fraction(-0.1, -0.05, 0.02, 0.03)
    assert (one.fraction_on_a, one.balanced, one.holds) == (1.0, False, True)


def test_monitored_double_bind_spends_the_closed_form_share_on_a() -> None:
    design = design_scenario(
        _fits(),
        growth_per_day=0.08,
        horizon_days=1000,
        switching=0.0,
        progression_fold=100,
        founder_cells=1e6,
        minor_fraction=1e-2,
        to_second_above=0.6,
        to_first_below=0.4,
    )
    sim = simulate(load_scenario(design.raw))
    t = sim.trajectory["time_days"].to_numpy()
    therapy = sim.trajectory["therapy"].to_numpy()
    switches = np.flatnonzero(therapy[1:] != therapy[:-1]) + 1
    assert len(switches) > 10
    lo, hi = switches[1], switches[-1]  # whole cycles after the first switch
    on_a = np.sum(np.diff(t)[lo:hi] * (therapy[lo:hi] == "A"))
    assert on_a / (t[hi] - t[lo]) == pytest.approx(F_STAR, abs=1e-3)


def test_best_alternation_converges_to_the_closed_form() -> None:
    design = design_scenario(
        _fits(),
        growth_per_day=0.08,
        horizon_days=600,
        switching=0.0,
        progression_fold=100,
        founder_cells=1e3,
        minor_fraction=1.0,
        capacity=1e16,
    )
    grid = [round(v, 3) for v in np.arange(0.4, 0.651, 0.025)]
    result = design_therapy(design, periods_days=(4.0,), fractions=grid)
    assert result.fraction.fraction_on_a == pytest.approx(F_STAR)
    best = result.alternation.sort_values("time_to_progression_days").iloc[-1]
    assert abs(best["fraction_on_first"] - F_STAR) <= 0.0125  # the grid's nearest point
    assert list(result.policies.columns) == list(POLICY_COLUMNS)
    top = result.policies.iloc[0]["policy"]
    assert top in {"alternating", "double_bind", "sequential", "combination"}
    assert "Recommended:" in result.recommendation


def test_loop_from_simulated_lines_to_a_schedule(tmp_path: Path, capsys) -> None:
    # truth (DEFAULT_TRUTH): RA (selected by A) dies on B, RB on A: any schedule that uses both
    # drugs outlasts either drug alone
    responses, derivatives = synthetic_responses(seed=4)
    fits = fit_responses(responses, n_bootstrap=0)
    fits.write(tmp_path / "fit")
    derivatives.to_csv(tmp_path / "derivatives.tsv", sep="\t", index=False)
    out = tmp_path / "design"
    with pytest.raises(SystemExit) as info:
        main(
            [
                "evolve",
                "design",
                str(tmp_path / "fit" / "fits.tsv"),
                "--out",
                str(out),
                "--exposure",
                "A=3",
                "--exposure",
                "B=3",
                "--derivatives",
                str(tmp_path / "derivatives.tsv"),
                "--periods",
                "14",
                "--horizon-days",
                "1000",
            ]
        )
    assert info.value.code in (0, None)
    policies = pd.read_csv(out / "policies.tsv", sep="\t")
    assert list(policies.columns) == list(POLICY_COLUMNS)
    ttp = policies.set_index("policy")["time_to_progression_days"].fillna(1000.0)
    assert min(ttp["alternating"], ttp["double_bind"]) > max(
        ttp["continuous_A"], ttp["continuous_B"]
    )
    # the design recovers the truth's relative growth under each drug: k(c) / k(0)
    rates = pd.read_csv(out / "rates.tsv", sep="\t").set_index(["population", "drug"])
    for sample, info in DEFAULT_TRUTH.items():
        k0 = float(info["growth_per_h"])
        for drug, (kmax, ec50, hill) in info["kill"].items():
            true_rel = (k0 - kmax * 3.0**hill / (3.0**hill + ec50**hill)) / k0
            got = rates.loc[(sample, drug), "net_rate_per_day"] / 0.05  # growth_per_day
            assert got == pytest.approx(true_rel, abs=0.1), (sample, drug)
    yaml_text = (out / "scenario.yaml").read_text()
    assert "GR(3 µM)" in yaml_text and load_scenario(out / "scenario.yaml").names == (
        "P",
        "RA",
        "RB",
    )
    assert "Recommended:" in capsys.readouterr().out


def test_design_rejects_unmeasured_drugs() -> None:
    with pytest.raises(InputError, match="not measured"):
        design_scenario(_fits(), drugs=["A", "C"])
    with pytest.raises(InputError, match="exposure"):
        design_scenario(_fits(), exposure_um={"A": -1.0})


def test_rates_from_dip_time_courses() -> None:
    # DIP rates (doublings per hour) become per-day net rates: x 24 x ln 2 (Harris 2016)
    rates = {("S1", "A"): -0.02, ("S1", "B"): 0.01, ("S2", "A"): 0.015, ("S2", "B"): -0.01}
    rows = []
    for (sample, drug), r in rates.items():
        for conc in (0.0, 0.1, 1.0, 3.0, 10.0):
            rate = 0.03 if conc == 0 else (0.03 + (r - 0.03) * conc / 10.0)
            for t in (0, 24, 48, 72):
                rows.append({"sample_id": sample, "drug": drug, "concentration_um": conc,
                             "time_h": t, "count": 1000 * 2 ** (rate * t)})  # fmt: skip
    fits = fit_responses(pd.DataFrame(rows), n_bootstrap=0)
    design = design_scenario(fits.fits, dip=fits.dip, exposure_um={"A": 10.0, "B": 10.0})
    got = design.rates.set_index(["population", "drug"])
    for (sample, drug), r in rates.items():
        assert got.loc[(sample, drug), "net_rate_per_day"] == pytest.approx(r * 24 * math.log(2))
        assert "DIP rate at 10" in got.loc[(sample, drug), "source"]
    assert got.loc[("S1", "none"), "net_rate_per_day"] == pytest.approx(0.03 * 24 * math.log(2))
