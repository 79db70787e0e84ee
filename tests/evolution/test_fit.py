"""Fitting a scenario to a biomarker series recovers the parameters that made it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.evolution import compare, fit, simulate
from ithkit.evolution._fit import parse_free

TRUTH = {
    "engine": "ode",
    "horizon_days": 300,
    "populations": {
        "S": {"initial": 4000, "growth_rate": 0.03, "capacity": 10000},
        "R": {"initial": 20, "growth_rate": 0.015, "capacity": 10000},
    },
    "competition": {"R": {"S": 1.0}, "S": {"R": 1.0}},
    "drugs": {"A": {"capacity": {"S": 500}}},
    "biomarker": {"name": "PSA", "production": {"S": 1, "R": 1}},
    # visits every 7 days; therapy changes at visits, as in a trial record
    "policy": {"kind": "intermittent", "drug": "A", "on_days": 56, "off_days": 28},
}


def _observed(noise: float, seed: int) -> pd.DataFrame:
    sim = simulate(TRUTH)
    traj = sim.trajectory
    keep = traj[np.isclose(traj["time_days"] % 7, 0)].drop_duplicates("time_days", keep="last")
    rng = np.random.default_rng(seed)
    psa = 0.002 * keep["biomarker"].to_numpy() * np.exp(rng.normal(0, noise, len(keep)))
    return pd.DataFrame({"time_days": keep["time_days"].to_numpy(), "biomarker": psa,
                         "therapy": keep["therapy"].to_numpy()})  # fmt: skip


def test_fit_recovers_growth_rates_from_psa_in_other_units() -> None:
    data = _observed(noise=0.0, seed=0)
    free = {"populations.S.growth_rate": (0.003, 0.3), "populations.R.growth_rate": (0.001, 0.2)}
    res = fit(TRUTH, data, free, n_starts=1)
    assert res.params_["populations.S.growth_rate"] == pytest.approx(0.03, rel=0.02)
    assert res.params_["populations.R.growth_rate"] == pytest.approx(0.015, rel=0.05)
    assert res.scale_ == pytest.approx(0.002, rel=0.02)  # PSA units per cell, solved exactly
    assert res.rmse_log10 < 0.01 and res.r2_log > 0.99
    # the fitted patient can then be run under other policies
    cmp = compare(res.scenario, ["continuous", "adaptive"])
    assert list(cmp.table["policy"]) == ["continuous", "adaptive"]


def test_noisy_fit_is_close_and_reports_its_error() -> None:
    data = _observed(noise=0.1, seed=1)
    res = fit(TRUTH, data, {"populations.S.growth_rate": (0.003, 0.3)}, n_starts=1)
    assert res.params_["populations.S.growth_rate"] == pytest.approx(0.03, rel=0.15)
    assert 0.01 < res.rmse_log10 < 0.1  # 0.1 natural-log noise = 0.043 log10


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        (pd.DataFrame({"time_days": [0, 1, 2]}), "no biomarker column"),
        (pd.DataFrame({"time_days": [0, 1, 2], "biomarker": [1, -1, 2]}), "line 3"),
        (pd.DataFrame({"time_days": [0, 2, 1], "biomarker": [1, 1, 2]}), "not increasing"),
        (pd.DataFrame({"time_days": [0, 1], "biomarker": [1, 2]}), "only 2 observations"),
    ],
)
def test_bad_series(frame: pd.DataFrame, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        fit(TRUTH, frame, {"populations.S.growth_rate": (0.003, 0.3)})


def test_bad_bounds_and_specs() -> None:
    data = _observed(noise=0.0, seed=0)
    with pytest.raises(InputError, match="0 < low < high"):
        fit(TRUTH, data, {"populations.S.growth_rate": (0.0, 0.3)})
    with pytest.raises(InputError, match="PATH=LOW:HIGH"):
        parse_free(["populations.S.growth_rate=fast"])


def test_tied_parameter_follows_its_free_one() -> None:
    data = _observed(noise=0.0, seed=0)
    res = fit(TRUTH, data, {"populations.S.growth_rate": (0.003, 0.3)},
              tied={"populations.R.growth_rate": ("populations.S.growth_rate", 0.5)},
              n_starts=1)  # fmt: skip
    assert res.params_["populations.S.growth_rate"] == pytest.approx(0.03, rel=0.01)
    assert res.scenario.populations[1].growth_rate == pytest.approx(0.015, rel=0.01)
    with pytest.raises(InputError, match="not free"):
        fit(TRUTH, data, {"populations.S.growth_rate": (0.003, 0.3)},
            tied={"populations.R.growth_rate": ("populations.R.initial", 0.5)})  # fmt: skip
