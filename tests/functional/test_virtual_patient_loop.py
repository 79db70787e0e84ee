"""Closing the loop on a virtual patient: its clones' true drug sensitivities -> a simulated
plate assay -> fits -> collateral sensitivity and the double bind -> designed schedule, checked
against the schedule that the true rates favour in the same engine."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ithkit.evolution import compare, load_scenario, virtual_patient
from ithkit.functional import (
    collateral_sensitivity,
    design_scenario,
    design_therapy,
    fit_responses,
    patient_responses,
    patient_truth,
)

EXPOSURE = {"A": 3.0, "B": 3.0}
ASSAY_HOURS = 72.0


def _true_fits(truth: dict[str, dict[str, object]], lines: list[str]) -> pd.DataFrame:
    """The truth as a fits table the design reads: a flat viability curve at the true fraction
    of control after the assay, exp(-kill(c) x 72 h), so the design's viability rule gives the
    true kill rate (x 24 h)."""
    rows = []
    for s in lines:
        kills = truth[s]["kill"]
        assert isinstance(kills, dict)
        for drug, (kmax, ec50, hill) in kills.items():
            c = EXPOSURE[drug]
            kill = kmax * c**hill / (c**hill + ec50**hill)
            rows.append(
                {
                    "sample_id": s,
                    "drug": drug,
                    "einf": math.exp(-kill * ASSAY_HOURS),
                    "max_dose_um": 30.0,
                    "flat": True,
                }
            )
    return pd.DataFrame(rows)


def _key(row: pd.Series, horizon: float) -> tuple[float, bool]:
    ttp = row["time_to_progression_days"]
    ttp = horizon if ttp is None or pd.isna(ttp) else float(ttp)
    return ttp, bool(row["extinct"])


def test_patient_truth_follows_the_clone_tree() -> None:
    vp = virtual_patient(seed=3, n_regions=2)
    truth, deriv = patient_truth(vp)
    resistant = vp.resistant_clone
    parent = str(vp.clones.set_index("clone_id").loc[resistant, "parent"])
    assert list(deriv.itertuples(index=False, name=None)) == [
        ("C1_selB", "C1", "B"),
        (resistant, parent, "A"),
    ]
    kills = truth[resistant]["kill"]
    assert isinstance(kills, dict)
    assert kills["A"][1] == 25.0 and kills["B"][1] == 0.15
    # every clone is a line, plus the lab-derived B-selected line
    assert set(truth) == {*vp.clones["clone_id"], "C1_selB"}


def test_virtual_patient_closes_the_loop() -> None:
    vp = virtual_patient(seed=3, n_regions=2)
    responses, deriv, truth = patient_responses(vp, seed=3)
    fits = fit_responses(responses, n_bootstrap=0, seed=0)

    # collateral sensitivity: the resistant clone resists A and is sensitive to B, the
    # B-selected line the reverse, so (A, B) is a double bind
    coll = collateral_sensitivity(fits, deriv, n_bootstrap=40, seed=0)
    calls = coll.table.set_index(["sample_id", "drug"])["call"]
    assert calls[(vp.resistant_clone, "A")] == "resistant"
    assert calls[(vp.resistant_clone, "B")] == "sensitive"
    assert calls[("C1_selB", "A")] == "sensitive"
    assert coll.double_bind_pairs == (("A", "B"),)

    # design on the patient's clones (the lab-derived line is not in the tumour)
    clones = [str(c) for c in vp.clones["clone_id"]]
    measured = fits.fits[fits.fits["sample_id"].isin(clones)]
    design = design_scenario(measured, exposure_um=EXPOSURE, derivatives=deriv)
    assert (design.founder, design.monitor) == ("C1", vp.resistant_clone)
    chosen = design_therapy(design)

    # the same engine on the true rates
    true_design = design_scenario(
        _true_fits(truth, clones), exposure_um=EXPOSURE, derivatives=deriv
    )
    truth_best = design_therapy(true_design)
    # measured net rates close to the true ones (per day)
    m = design.rates.set_index(["population", "drug"])["net_rate_per_day"]
    t = true_design.rates.set_index(["population", "drug"])["net_rate_per_day"]
    assert (m - t).abs().max() < 0.1

    # the recommended schedule, run on the true scenario, does as well as the truth's best:
    # same time to progression and extinction, dose within 5 % (double bind and the best
    # alternation both converge to the closed-form share, so they tie up to a few % of dose)
    sc = load_scenario(true_design.raw, source="truth")
    horizon = sc.horizon_days
    best_name = str(chosen.policies["policy"].iloc[0])
    run = compare(sc, [chosen.details[best_name]], seed=0)
    (_, sim) = next(iter(run.simulations.items()))
    ours = pd.Series({**sim.summary})
    top = truth_best.policies.iloc[0]
    assert _key(ours, horizon) == _key(top, horizon)
    assert float(ours["cumulative_dose"]) == pytest.approx(float(top["cumulative_dose"]), rel=0.05)
    assert best_name in {"double_bind", "alternating"}
    # the patient's own therapy (A alone) is worse in both rankings
    for table in (chosen.policies, truth_best.policies):
        a_alone = table.set_index("policy").loc["continuous_A"]
        assert not bool(a_alone["extinct"])
    # the best alternation's share of time on A agrees between measurement and truth
    assert chosen.fraction.fraction_on_a == pytest.approx(
        truth_best.fraction.fraction_on_a, abs=0.05
    )
