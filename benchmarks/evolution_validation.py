"""Validation of ithkit.evolution against published models and real data.

1. Zhang et al. 2017 (Nat Commun 8:1816), representative patient #1: ithkit's ODE engine on
   examples/scenarios/zhang2017_*.yaml beside an independent re-implementation of the authors'
   published algorithm (daily Euler steps, states floored at 1e-9, adaptive thresholds from their
   MATLAB code: therapy on at 80 % of the no-treatment PSA, off at 40 % of that).
2. Zhang et al. 2022 (eLife 11:e76284) adaptive abiraterone trial: per-patient least-squares fits of
   the paper's two-population model to the 32 real PSA series in
   ../shared/reference/zhang_trial_psa.tsv (fit quality and parameters vs the paper's).

Run:  .venv/bin/python benchmarks/evolution_validation.py [--trial-only | --zhang-only] [--beta]
(--beta: the paper's parameterisation, r_S = 0.0156 beta, r_R = 0.0091 beta, one beta per patient)
(the trial fits take a few minutes on one core).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit.evolution import fit_many, simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "examples" / "scenarios"
TRIAL = ROOT.parent / "shared" / "reference" / "zhang_trial_psa.tsv"

# Zhang 2017, competition matrix 7 (= representative patient #1), from the paper's MATLAB code
ESS = np.array([6060.60606060606, 7575.75757575758, 1e-9, 27272.7272727273])
ALPHA = {"a12": 0.7, "a13": 0.8, "a21": 0.4, "a23": 0.5, "a31": 0.6, "a32": 0.9}
R = np.array([0.27726, 0.34657, 0.66542]) * 0.01


def _euler_step(y: np.ndarray, on: bool) -> np.ndarray:
    k = (y[1] * (0.5 if on else 1.5), 100.0 if on else 10000.0, 10000.0)
    a = ALPHA
    d = np.empty(4)
    d[0] = y[0] * R[0] * (1 - (y[0] + a["a12"] * y[1] + a["a13"] * y[2]) / k[0])
    d[1] = y[1] * R[1] * (1 - (a["a21"] * y[0] + y[1] + a["a23"] * y[2]) / k[1])
    d[2] = y[2] * R[2] * (1 - (a["a31"] * y[0] + a["a32"] * y[1] + y[2]) / k[2])
    d[3] = y[:3].sum() - 0.5 * y[3]
    return y + d


def authors_algorithm(adaptive: bool, off_fraction: float = 0.4, days: int = 10000) -> dict:
    """Daily-Euler re-implementation of the published algorithm (not the authors' code)."""
    zenith = ESS[3] * 0.8
    nadir = zenith * off_fraction
    y = ESS * 0.4
    start = 0
    while y[3] < zenith:
        start += 1
        y = _euler_step(y, False)
    y = ESS * 0.4
    on = np.zeros(days + 1, dtype=bool)
    if not adaptive:
        on[start:] = True
    states = [y]
    for t in range(2, days + 1):
        if adaptive:
            on[t] = True if y[3] > zenith else (False if y[3] < nadir else on[t - 1])
        y = np.maximum(_euler_step(y, bool(on[t])), 1e-9)
        states.append(y)
    traj = np.array(states)
    frac = traj[:, 2] / traj[:, :3].sum(axis=1)
    hit = np.flatnonzero(frac > 0.9)
    t90 = int(hit[0]) + 1 if hit.size else None
    end = t90 if t90 is not None else days
    dose = int(on[: end + 1].sum())
    return {
        "start_day": start,
        "ttp_days": None if t90 is None else t90 - start,
        "dose_days": dose,
        "dose_fraction": dose / max(end - start + 1, 1),
    }


def zhang2017() -> pd.DataFrame:
    rows = []
    for label, path, policy, off in [
        ("continuous", "zhang2017_continuous.yaml", None, 0.4),
        ("adaptive (code: off at 40 %)", "zhang2017_adaptive.yaml", None, 0.4),
        ("adaptive (text: off at 50 %)", "zhang2017_adaptive.yaml",
         {"kind": "adaptive", "drug": "abiraterone", "off_below": 0.5, "on_above": 1.0}, 0.5),
    ]:  # fmt: skip
        t0 = time.perf_counter()
        sim = simulate(SCENARIOS / path, policy=policy)
        took = time.perf_counter() - t0
        s = sim.summary
        ref = authors_algorithm(label != "continuous", off)
        rows.append({
            "policy": label,
            "start_day": round(s["treatment_start_days"], 1),
            "start_day_euler": ref["start_day"],
            "ttp_days": None if s["time_to_progression_days"] is None
            else round(s["time_to_progression_days"], 1),
            "ttp_days_euler": ref["ttp_days"],
            "dose_fraction": round(s["dose_per_day"], 4),
            "dose_fraction_euler": round(ref["dose_fraction"], 4),
            "n_switches": s["n_switches"],
            "ode_seconds": round(took, 2),
        })  # fmt: skip
    return pd.DataFrame(rows)


# Zhang 2022's two-population model (see ../shared/reference/README.md)
TRIAL_MODEL = {
    "name": "zhang2022_trial_model",
    "engine": "ode",
    "horizon_days": 1000,
    "populations": {
        "S": {"initial": 5000, "growth_rate": 0.0156, "capacity": 10000},
        "R": {"initial": 50, "growth_rate": 0.0091, "capacity": 10000},
    },
    "competition": {"S": {"R": 1.0}, "R": {"S": 1.0}},
    "drugs": {"abiraterone": {"capacity": {"S": 500}}},  # K_S = 10000 - 9500 u
    "biomarker": {"name": "PSA", "production": {"S": 1, "R": 1}},  # PSA proportional to S + R
    "policy": {"kind": "continuous", "drug": "abiraterone"},
}
FREE = {
    "populations.S.initial": (10.0, 9900.0),
    "populations.R.initial": (0.01, 5000.0),
    "populations.S.growth_rate": (1e-3, 0.3),
    "populations.R.growth_rate": (1e-4, 0.1),
    "competition.R.S": (0.05, 20.0),
}


# the paper's parameterisation: one rate scale beta, r_S = 0.0156 beta, r_R = 0.0091 beta
FREE_BETA = {k: v for k, v in FREE.items() if k != "populations.R.growth_rate"}
TIED_BETA = {"populations.R.growth_rate": ("populations.S.growth_rate", 0.0091 / 0.0156)}


def trial(*, beta: bool = False) -> pd.DataFrame:
    data = pd.read_csv(TRIAL, sep="\t", dtype={"patient_id": str})
    series = pd.DataFrame({
        "patient_id": data["patient_id"],
        "time_days": data["day"],
        "biomarker": data["psa_ng_ml"],
        "therapy": np.where(data["abiraterone_on"] == 1, "abiraterone", "none"),
    })  # fmt: skip
    arm = data.groupby("patient_id")["arm"].first()
    if beta:
        table = fit_many(TRIAL_MODEL, series, FREE_BETA, tied=TIED_BETA, n_starts=1, seed=0,
                         show_progress=True)  # fmt: skip
        table["beta"] = table["populations.S.growth_rate"] / 0.0156
    else:
        table = fit_many(TRIAL_MODEL, series, FREE, n_starts=1, seed=0, show_progress=True)
    table.insert(1, "arm", table["patient_id"].map(arm))
    return table


def main() -> None:
    pd.set_option("display.width", 160)
    if "--trial-only" not in sys.argv:
        print("Zhang 2017 patient #1: ithkit ODE vs re-implemented published algorithm")
        print(zhang2017().to_string(index=False))
        print()
    if "--zhang-only" not in sys.argv:
        beta = "--beta" in sys.argv
        t0 = time.perf_counter()
        table = trial(beta=beta)
        what = "one rate scale beta (paper)" if beta else "r_S, r_R free"
        print(f"Zhang 2022 trial: per-patient fits, {what} ({time.perf_counter() - t0:.0f} s)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        out = Path(f"/tmp/evolution_trial_fits{'_beta' if beta else ''}.tsv")
        table.to_csv(out, sep="\t", index=False)
        rs = table["populations.S.growth_rate"]
        rr = table.get("populations.R.growth_rate", rs * TIED_BETA["populations.R.growth_rate"][1])
        print()
        print(f"median rmse(log10 PSA) {table['rmse_log10'].median():.3f}; "
              f"median r2(log) {table['r2_log'].median():.3f}; "
              f"converged {int(table['success'].sum())}/{len(table)}")  # fmt: skip
        print(f"median r_S {rs.median():.4f}/day (paper 0.0156 beta), median r_R "
              f"{rr.median():.4f}/day (paper 0.0091 beta); median r_R/r_S "
              f"{(rr / rs).median():.3f} (paper 0.583)")  # fmt: skip
        for arm, g in table.groupby("arm"):
            print(f"  {arm}: median rmse(log10) {g['rmse_log10'].median():.3f}, "
                  f"median r2(log) {g['r2_log'].median():.3f}")  # fmt: skip
        if beta:
            print(
                f"median beta {table['beta'].median():.3f} (IQR "
                f"{table['beta'].quantile(0.25):.3f}-{table['beta'].quantile(0.75):.3f})"
            )
        print(f"written {out}")


if __name__ == "__main__":
    main()
