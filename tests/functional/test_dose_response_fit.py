"""Dose-response fits checked against drc, PharmacoGx and curves with known parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.functional import (
    FITS_COLUMNS,
    absolute_ic,
    fit_ll4,
    fit_responses,
    gr_values,
    ll4,
    read_responses,
)

# drc's `ryegrass` data (24 observations): root length of perennial ryegrass against the
# concentration of ferulic acid (mM). Inderjit, Streibig JC & Olofsdotter M (2002) Joint action
# of phenolic acid mixtures and its significance in allelopathy research. Physiologia Plantarum
# 114:422-428; distributed with the R package drc (Ritz et al. 2015 PLoS ONE 10:e0146021).
RYEGRASS_CONC = [
    0,
    0,
    0,
    0,
    0,
    0,
    0.94,
    0.94,
    0.94,
    1.88,
    1.88,
    1.88,
    3.75,
    3.75,
    3.75,
    7.5,
    7.5,
    7.5,
    15,
    15,
    15,
    30,
    30,
    30,
]
RYEGRASS_ROOTL = [
    7.58,
    8,
    8.328571429,
    7.25,
    7.375,
    7.9625,
    8.355555556,
    6.914285714,
    7.75,
    6.871428571,
    6.45,
    5.922222222,
    1.925,
    2.885714286,
    4.233333333,
    1.1875,
    0.857142857,
    1.057142857,
    0.6875,
    0.525,
    0.825,
    0.25,
    0.22,
    0.44,
]


def test_ll4_reproduces_drc_on_ryegrass() -> None:
    # drc: summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4())):
    # b 2.98222, c 0.48141, d 7.79296, e (ED50) 3.05795; logLik -16.15514 (df 5)
    fit = fit_ll4(np.array(RYEGRASS_CONC), np.array(RYEGRASS_ROOTL))
    assert fit.hill == pytest.approx(2.98222, rel=1e-5)
    assert fit.bottom == pytest.approx(0.48141, rel=1e-4)
    assert fit.top == pytest.approx(7.79296, rel=1e-5)
    assert fit.ec50 == pytest.approx(3.05795, rel=1e-5)
    assert fit.loglik == pytest.approx(-16.15514, rel=1e-6)


def test_ll4_does_not_depend_on_the_dose_unit() -> None:
    x, y = np.array(RYEGRASS_CONC), np.array(RYEGRASS_ROOTL)
    mm, um = fit_ll4(x, y), fit_ll4(x * 1000.0, y)
    assert um.ec50 == pytest.approx(mm.ec50 * 1000.0, rel=1e-6)
    assert um.hill == pytest.approx(mm.hill, rel=1e-6)
    assert um.rss == pytest.approx(mm.rss, rel=1e-9)


def test_relative_and_absolute_ic50_as_pharmacogx() -> None:
    # PharmacoGx (Smirnov et al. 2016 Bioinformatics 32:1244), its IC50 documentation: Hill
    # slope 1, Einf 0.2, EC50 1 -> relative IC50 1, absolute IC50 (response 0.5) 5/3.
    assert absolute_ic(hill=1.0, bottom=0.2, top=1.0, ec50=1.0) == pytest.approx(5 / 3)
    x = np.repeat([0.0, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100], 3)
    y = ll4(x, hill=1.0, bottom=0.2, top=1.0, ec50=1.0)
    res = fit_responses(
        pd.DataFrame({"sample_id": "S", "drug": "D", "concentration_um": x, "response": y}),
        n_bootstrap=0,
    )
    row = res.fits.iloc[0]
    assert row["ic50_rel_um"] == pytest.approx(1.0, rel=1e-5)
    assert row["ic50_abs_um"] == pytest.approx(5 / 3, rel=1e-5)
    assert row["einf"] == pytest.approx(0.2, abs=1e-6)
    assert not row["ic50_extrapolated"]
    assert list(res.fits.columns[: len(FITS_COLUMNS)]) == list(FITS_COLUMNS)


def _table(
    curves: dict[tuple[str, str], dict[str, float]], *, noise: float, seed: int
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    x = np.repeat([0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], 3)
    for (sample, drug), p in curves.items():
        y = ll4(x, **p) + rng.normal(0, noise, x.size)
        frames.append(
            pd.DataFrame({"sample_id": sample, "drug": drug, "concentration_um": x, "response": y})
        )
    return pd.concat(frames, ignore_index=True)


def test_known_curves_flags_and_intervals() -> None:
    truth = {
        ("S1", "A"): {"hill": 1.5, "bottom": 0.05, "top": 1.0, "ec50": 0.2},
        ("S1", "B"): {"hill": 1.0, "bottom": 0.6, "top": 1.0, "ec50": 1.0},  # never reaches 0.5
        ("S2", "A"): {"hill": 1.0, "bottom": 1.0, "top": 1.0, "ec50": 1.0},  # no effect
        ("S2", "B"): {"hill": 2.0, "bottom": 0.0, "top": 1.0, "ec50": 20.0},  # beyond 10 µM
    }
    res = fit_responses(_table(truth, noise=0.03, seed=1), n_bootstrap=40, seed=3)
    fits = res.fits.set_index(["sample_id", "drug"])
    a = fits.loc[("S1", "A")]
    assert a["ic50_rel_um"] == pytest.approx(0.2, rel=0.15)
    assert a["ic50_rel_um_low"] < 0.2 < a["ic50_rel_um_high"]
    assert not a["flat"] and not a["ic50_extrapolated"] and a["r2"] > 0.95
    b = fits.loc[("S1", "B")]
    assert b["ic50_abs_censor"] == ">" and b["ic50_abs_um"] == 10.0 and b["ic50_extrapolated"]
    flat = fits.loc[("S2", "A")]
    assert flat["flat"] and "F-test" in flat["flat_reason"] and math.isnan(flat["ic50_rel_um"])
    far = fits.loc[("S2", "B")]
    assert far["ic50_abs_um"] == 10.0 and far["ic50_abs_censor"] == ">" and far["ic50_extrapolated"]
    # auc: the mean response over log10 dose; a flat curve at 1 has auc 1, aac 0
    assert flat["auc"] == pytest.approx(1.0, abs=0.03)
    assert a["aac"] == pytest.approx(1 - a["auc"])
    one = _table({("S1", "A"): truth[("S1", "A")]}, noise=0.03, seed=1)
    first = fit_responses(one, n_bootstrap=10, seed=3).fits
    pd.testing.assert_frame_equal(first, fit_responses(one, n_bootstrap=10, seed=3).fits)


def test_gr_metrics_on_a_known_gr_curve() -> None:
    # counts built from GR(c) = GRinf + (1 - GRinf) / (1 + (c / GEC50)^h) (Hafner 2016, eq. 2)
    grinf, gec50, h = -0.3, 0.5, 1.2
    x = np.repeat([0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], 2)
    gr = grinf + (1 - grinf) / (1 + (x / gec50) ** h)
    x0, xc = 1000.0, 8000.0
    count = x0 * 2 ** (np.log2(gr + 1) * np.log2(xc / x0))
    assert gr_values(count, np.full(x.size, xc), np.full(x.size, x0)) == pytest.approx(gr)
    table = pd.DataFrame(
        {
            "sample_id": "S",
            "drug": "D",
            "concentration_um": x,
            "count": count,
            "count_ctrl": xc,
            "count_t0": x0,
        }
    )
    row = fit_responses(table, n_bootstrap=0).fits.iloc[0]
    assert row["grinf"] == pytest.approx(grinf, abs=1e-4)
    assert row["gec50_um"] == pytest.approx(gec50, rel=1e-4)
    # GR50: GR = 0.5 -> c = GEC50 * ((1 - GRinf) / (0.5 - GRinf) - 1)^(1/h)
    assert row["gr50_um"] == pytest.approx(
        gec50 * ((1 - grinf) / (0.5 - grinf) - 1) ** (1 / h), rel=1e-4
    )
    assert row["grmax"] == pytest.approx(grinf + (1 - grinf) / (1 + (10 / gec50) ** h), abs=1e-4)
    grid = np.logspace(-2, 1, 4001)
    aoc = np.trapezoid(1 - (grinf + (1 - grinf) / (1 + (grid / gec50) ** h)), np.log10(grid)) / 3
    assert row["gr_aoc"] == pytest.approx(aoc, rel=1e-4)


def test_dip_rate_from_time_courses() -> None:
    # Harris 2016: the DIP rate is the slope of log2 counts after the initial delay
    rates = {0.0: 0.03, 0.1: 0.02, 1.0: 0.0, 3.0: -0.01, 10.0: -0.02}
    rows = []
    for conc, r in rates.items():
        for t in (0, 24, 48, 72, 96):
            lag = min(t, 24)  # first day: everything grows at the control rate
            rows.append(
                {
                    "sample_id": "S",
                    "drug": "D",
                    "concentration_um": conc,
                    "time_h": t,
                    "count": 1000 * 2 ** (0.03 * lag + r * (t - lag)),
                }
            )
    res = fit_responses(pd.DataFrame(rows), n_bootstrap=0)
    dip = res.dip.set_index("concentration_um")["dip_rate_per_h"]
    for conc, r in rates.items():
        assert dip[conc] == pytest.approx(r, abs=1e-9)
    assert res.fits["dip_rate_per_h"].iloc[0] == pytest.approx(-0.02)
    assert res.fits["dip_ctrl_per_h"].iloc[0] == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("S\tA\t-1\t0.5\n", "concentration_um"),
        ("S\tA\t5\t85\n", "percentages"),
        ("", "has 2 tested"),
    ],
)
def test_bad_input_is_one_line(tmp_path, body: str, message: str) -> None:
    lines = ["sample_id\tdrug\tconcentration_um\tresponse"]
    lines += [f"S\tA\t{c}\t{r}" for c, r in ((0, 1), (0.1, 0.9), (1, 0.5), (10, 0.1))[:3]]
    if body:
        lines.append("S\tA\t100\t0.05")
        lines.append(body.rstrip("\n"))
    path = tmp_path / "r.tsv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message) as err:
        read_responses(path)
    assert "\n" not in str(err.value) and "r.tsv" in str(err.value)


def test_constant_and_rising_responses() -> None:
    x = np.repeat([0.0, 0.1, 1.0, 10.0, 100.0], 2)
    const = fit_responses(
        pd.DataFrame({"sample_id": "S", "drug": "D", "concentration_um": x, "response": 1.0}),
        n_bootstrap=0,
    ).fits.iloc[0]
    assert const["flat"] and math.isnan(const["ic50_abs_um"])
    # a drug that stimulates growth: the curve rises to 1.4, no absolute IC50 exists
    y = ll4(x, hill=-1.0, bottom=1.0, top=1.4, ec50=1.0)
    rise = fit_responses(
        pd.DataFrame({"sample_id": "S", "drug": "D", "concentration_um": x, "response": y}),
        n_bootstrap=0,
    ).fits.iloc[0]
    assert not rise["flat"] and rise["einf"] == pytest.approx(1.4, abs=1e-4)
    assert rise["ic50_abs_censor"] == ">" and rise["ic50_extrapolated"]
