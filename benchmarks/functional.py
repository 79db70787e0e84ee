"""ithkit.functional: accuracy against published values and speed.

Rows:
1. drc's LL.4 on the ryegrass data (Inderjit, Streibig & Olofsdotter 2002): our estimates
   against drc's printed ones (b, c, d, e, logLik).
2. Recovery of known curves: 200 simulated curves (8 doses x 3 replicates, 3 % noise),
   median relative error of the relative IC50 and coverage of its bootstrap 95 % interval.
3. Speed: curves fitted per second without bootstrap, and seconds per curve with 100 refits.
4. The closed-form double-bind share: best alternation share found by design_therapy as the
   progression threshold grows (it tends to f*), and the monitored double bind's share.

5. thunor (GPL-3): the same simulated curves fitted by thunor's LL.4 in a separate Python
   (``THUNOR_PYTHON``, default /tmp/f2venv/bin/python, made with ``python -m venv /tmp/f2venv
   && /tmp/f2venv/bin/pip install thunor``); thunor runs in that interpreter as a subprocess
   and is never imported here. gr50 is not on the package index this was run with.

Run:  .venv/bin/python benchmarks/functional.py
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from ithkit.functional import (
    design_scenario,
    design_therapy,
    fit_ll4,
    fit_responses,
    ll4,
)

RYE_CONC = [
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
RYE_ROOTL = [
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
DRC = {"b": 2.98222, "c": 0.48141, "d": 7.79296, "e": 3.05795, "logLik": -16.15514}


def ryegrass() -> None:
    f = fit_ll4(np.array(RYE_CONC), np.array(RYE_ROOTL))
    ours = {"b": f.hill, "c": f.bottom, "d": f.top, "e": f.ec50, "logLik": f.loglik}
    print("1. drc LL.4 on ryegrass")
    print(f"{'param':<8}{'drc':>12}{'ithkit':>14}{'rel. diff':>12}")
    for k, ref in DRC.items():
        print(f"{k:<8}{ref:>12.5f}{ours[k]:>14.6f}{abs(ours[k] - ref) / abs(ref):>12.1e}")


def recovery(n: int = 200, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    x = np.repeat([0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)
    frames, truth = [], {}
    for i in range(n):
        e = float(10 ** rng.uniform(-1.5, 0.5))
        p = {
            "hill": float(rng.uniform(0.8, 2.5)),
            "bottom": float(rng.uniform(0, 0.3)),
            "top": 1.0,
            "ec50": e,
        }
        truth[f"S{i}"] = e
        y = ll4(x, **p) + rng.normal(0, 0.03, x.size)
        frames.append(
            pd.DataFrame({"sample_id": f"S{i}", "drug": "D", "concentration_um": x, "response": y})
        )
    table = pd.concat(frames, ignore_index=True)
    t0 = time.perf_counter()
    fit_responses(table, n_bootstrap=0)
    t_fit = time.perf_counter() - t0
    sub = table[table["sample_id"].isin([f"S{i}" for i in range(40)])]
    t0 = time.perf_counter()
    res = fit_responses(sub, n_bootstrap=100, seed=1)
    t_boot = (time.perf_counter() - t0) / 40
    fits = fit_responses(table, n_bootstrap=0).fits.set_index("sample_id")
    rel = np.array([abs(fits.loc[s, "ic50_rel_um"] - e) / e for s, e in truth.items()])
    f = res.fits.set_index("sample_id")
    cover = np.mean(
        [f.loc[s, "ic50_rel_um_low"] <= truth[s] <= f.loc[s, "ic50_rel_um_high"] for s in f.index]
    )
    print(f"\n2. known curves (n={n})")
    print(f"median relative error of the relative IC50: {np.median(rel):.3f}")
    print(f"95 % bootstrap interval coverage (40 curves, 100 refits): {cover:.2f}")
    print("\n3. speed")
    print(f"curves per second (no bootstrap): {n / t_fit:.1f}")
    print(f"seconds per curve with 100 bootstrap refits: {t_boot:.2f}")


def closed_form() -> None:
    kill = {("RA", "A"): 0.01, ("RA", "B"): 0.12, ("RB", "A"): 0.10, ("RB", "B"): 0.02}
    fits = pd.DataFrame(
        [
            {"sample_id": s, "drug": d, "einf": math.exp(-3 * k), "max_dose_um": 10.0, "flat": True}
            for (s, d), k in kill.items()
        ]
    )
    grid = [round(v, 3) for v in np.arange(0.40, 0.651, 0.0125)]
    print("\n4. closed-form share of time on A: f* = 0.5263")
    print(f"{'progression fold':>18}{'best alternation share':>26}")
    for fold in (1e1, 1e2, 1e4):
        design = design_scenario(
            fits,
            growth_per_day=0.08,
            horizon_days=3000,
            switching=0.0,
            progression_fold=fold,
            founder_cells=1e3,
            minor_fraction=1.0,
            capacity=1e16,
        )
        res = design_therapy(design, periods_days=(2.0,), fractions=grid)
        best = res.alternation.sort_values("time_to_progression_days").iloc[-1]
        print(f"{fold:>18g}{best['fraction_on_first']:>26.4f}")


_THUNOR_SCRIPT = """
import json, sys
import numpy as np
from thunor.curve_fit import fit_drc, HillCurveLL4
out = {}
for name, (x, y) in json.load(sys.stdin).items():
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = x > 0  # thunor fits treated wells; controls are the normalisation
    fit = fit_drc(x[keep], y[keep], fit_cls=HillCurveLL4, null_rejection_threshold=None)
    if fit is None:
        out[name] = None
        continue
    ic = fit.ic(50)
    out[name] = [float(fit.ec50), None if ic is None else float(ic)]
json.dump(out, sys.stdout)
"""


def thunor(n: int = 100, seed: int = 2, *, treated_only: bool = False) -> None:
    import json
    import os
    import subprocess
    from pathlib import Path

    from ithkit.functional import absolute_ic

    python = os.environ.get("THUNOR_PYTHON", "/tmp/f2venv/bin/python")
    which = "on treated wells only, as thunor" if treated_only else "with controls, as drc"
    print(f"\n5. thunor (GPL-3, run as a separate process); ours fitted {which}")
    if not Path(python).exists():
        print(f"skipped: {python} not found (pip install thunor into a throwaway venv)")
        return
    rng = np.random.default_rng(seed)
    x = np.repeat([0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)
    curves, ours = {}, {}
    for i in range(n):
        p = {
            "hill": float(rng.uniform(0.8, 2.5)),
            "bottom": float(rng.uniform(0, 0.3)),
            "top": 1.0,
            "ec50": float(10 ** rng.uniform(-1.5, 0.5)),
        }
        y = ll4(x, **p) + rng.normal(0, 0.03, x.size)
        curves[f"S{i}"] = (x.tolist(), y.tolist())
        fit = fit_ll4(x[x > 0], y[x > 0]) if treated_only else fit_ll4(x, y)
        half = 0.5 * fit.top  # thunor's ic(50): half of its fitted top e0
        level = absolute_ic(
            hill=fit.hill, bottom=fit.bottom, top=fit.top, ec50=fit.ec50, level=half
        )
        ours[f"S{i}"] = (fit.ec50, level)
    done = subprocess.run(
        [python, "-c", _THUNOR_SCRIPT],
        input=json.dumps(curves),
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(done.stdout)
    ec, ic = [], []
    for name, (e_ours, ic_ours) in ours.items():
        if theirs.get(name) is None:
            continue
        e_t, ic_t = theirs[name]
        ec.append(abs(math.log10(e_ours / e_t)))
        if ic_t is not None and ic_ours is not None and math.isfinite(ic_ours):
            ic.append(abs(math.log10(ic_ours / ic_t)))
    ec_a, ic_a = np.array(ec), np.array(ic)
    print(f"curves fitted by both: {len(ec_a)} of {n}")
    print(
        "relative IC50 (EC50), |log10 ours/thunor|: median "
        f"{np.median(ec_a):.2e}, 95th percentile {np.quantile(ec_a, 0.95):.2e}"
    )
    print(
        "IC50 at half the fitted top (thunor ic(50)), |log10 ours/thunor|: median "
        f"{np.median(ic_a):.2e}, 95th percentile {np.quantile(ic_a, 0.95):.2e} (n={len(ic_a)})"
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["thunor"]:
        thunor()
        thunor(treated_only=True)
    else:
        ryegrass()
        recovery()
        closed_form()
        thunor()
        thunor(treated_only=True)
