"""IVIM and DCE-MRI: ithkit vs dipy and dcmri (agreement and speed), and the OSIPI/QIBA DROs.

Usage::

    python benchmarks/imaging_mri.py [--ivim-voxels 2000] [--peer-voxels 200] [--dce-voxels 40]

Needs the ``[mri]`` extra (dipy, dcmri). Peers run in the same process on the same voxels, so
their times compare; CPU seconds are printed beside wall seconds (the machine may be shared).

* IVIM: synthetic voxels (D 0.5-2e-3, D* 0.01-0.08 mm^2/s, f 0.05-0.3; 13 b-values 0-800
  s/mm^2), noise-free and Gaussian noise at SNR 50 (magnitude). ithkit ``ivim_map`` (full and
  segmented) and dipy ``IvimModel(fit_method="trr")``: median |relative error| against the
  truth, median |ithkit - dipy| / truth, and time per 1000 voxels.
* DCE signal -> concentration: ithkit ``signal_to_concentration`` vs dcmri ``conc_ss``.
* Tofts / extended Tofts: dcmri's forward models ('WV' = Tofts, 'HF' = extended Tofts), SPGR
  signal with noise; ithkit (signal -> concentration -> linearised Tofts) vs dcmri
  ``Tissue.train`` (NLLS on the signal).
* The OSIPI copies of the QIBA v11 Tofts DRO and the Bosca extended Tofts DRO
  (tests/imaging/data/osipi_dce) and the OSIPI IVIM tissue voxels
  (tests/imaging/data/osipi_ivim): cases within OSIPI's tolerances.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit.imaging import ivim_map, signal_to_concentration, tofts_maps

B = np.array([0.0, 10, 20, 30, 50, 80, 100, 150, 200, 300, 400, 600, 800])
DATA = Path(__file__).resolve().parents[1] / "tests" / "imaging" / "data" / "osipi_dce"


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _med_rel(a: np.ndarray, t: np.ndarray) -> float:
    return float(np.nanmedian(np.abs(a / t - 1)))


def ivim_bench(n: int, n_peer: int, seed: int = 0) -> None:
    from dipy.core.gradients import gradient_table
    from dipy.reconst.ivim import IvimModel

    rng = np.random.default_rng(seed)
    d = rng.uniform(0.5e-3, 2.0e-3, n)
    ds = rng.uniform(0.01, 0.08, n)
    f = rng.uniform(0.05, 0.3, n)
    clean = 1000 * (f * np.exp(-B[:, None] * ds) + (1 - f) * np.exp(-B[:, None] * d))
    noisy = np.abs(clean + rng.normal(0, 20.0, clean.shape))
    bvecs = np.zeros((B.size, 3))
    bvecs[1:, 0] = 1.0
    gtab = gradient_table(B, bvecs=bvecs, b0_threshold=0)
    print(f"\n## IVIM ({n} voxels ithkit, first {n_peer} for dipy; 13 b-values)\n")
    print("Errors and agreement (with dipy run with ithkit's bounds) over the voxels dipy fits;")
    print("times per 1000 voxels of each run.\n")
    print("| data | method | med rel err D | D* | f | vs dipy: D | D* | f "
          "| wall s / 1000 vox | CPU s / 1000 vox |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    # dipy with its default bounds (f <= 0.2) and with ithkit's (f <= 1, D* 4e-3..0.5, D <= 4e-3)
    same = ([0.0, 0.0, 4e-3, 0.0], [np.inf, 1.0, 0.5, 4e-3])
    for label, s in (("noise-free", clean), ("SNR 50", noisy)):
        dipy_runs = {}
        for tag, bounds in (("dipy trr, its bounds", None), ("dipy trr, ithkit bounds", same)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = IvimModel(gtab, fit_method="trr", bounds=bounds)
                fit, w_d, c_d = _timed(
                    lambda s=s, model=model: model.fit(s[:, :n_peer].T.reshape(-1, 1, 1, 13))
                )
            p = fit.model_params.reshape(-1, 4)
            dipy_runs[tag] = ({"d": p[:, 3], "d_star": p[:, 2], "f": p[:, 1]}, w_d, c_d)
        dipy_maps = dipy_runs["dipy trr, ithkit bounds"][0]
        truth = {"d": d, "d_star": ds, "f": f}
        for method in ("full", "segmented"):
            res, w, c = _timed(lambda s=s, m=method: ivim_map(s.reshape(13, -1, 1, 1), B, method=m))
            ours = {k: getattr(res, k).array.ravel() for k in truth}
            errs = [_med_rel(ours[k][:n_peer], truth[k][:n_peer]) for k in truth]
            agree = [
                float(np.nanmedian(np.abs(ours[k][:n_peer] - dipy_maps[k]) / truth[k][:n_peer]))
                for k in truth
            ]
            print(f"| {label} | ithkit {method} | " + " | ".join(f"{e:.2e}" for e in errs)
                  + " | " + " | ".join(f"{a:.2e}" for a in agree)
                  + f" | {1000 * w / n:.3f} | {1000 * c / n:.3f} |")  # fmt: skip
            if method == "full":
                close = np.mean(np.abs(ours["d"][:n_peer] - dipy_maps["d"]) / d[:n_peer] < 1e-4)
        for tag, (maps, w_d, c_d) in dipy_runs.items():
            errs = [_med_rel(maps[k], truth[k][:n_peer]) for k in truth]
            bad = int((np.abs(maps["d"] / d[:n_peer] - 1) > 0.01).sum())
            times = f"{1000 * w_d / n_peer:.3f} | {1000 * c_d / n_peer:.3f}"
            print(f"| {label} | {tag} | " + " | ".join(f"{e:.2e}" for e in errs)
                  + f" | - | - | - | {times} |")  # fmt: skip
            if label == "noise-free":
                print(f"|  | ({tag}: {bad} of {n_peer} voxels with D off by > 1%) |")
        print(
            f"|  | (ithkit full within 1e-4 of dipy (ithkit bounds) on D: {close:.0%} of voxels) |"
        )


def dce_bench(n_vox: int, seed: int = 1) -> None:
    import dcmri as dc

    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 300.0, 2.0)
    hct, tr_s, fa, t10_s, r1 = 0.45, 0.005, 15.0, 1.2, 4.5
    ca = dc.aif_parker(t, BAT=30) * 1000  # mM blood
    kt = rng.uniform(0.05, 0.5, n_vox)
    ve = rng.uniform(0.1, 0.5, n_vox)
    vb = rng.uniform(0.01, 0.1, n_vox)
    print(f"\n## DCE-MRI ({n_vox} voxels, 150 frames of 2 s, SPGR TR 5 ms, FA 15, T10 1200 ms)\n")
    # signal -> concentration on many voxels
    big = np.stack([dc.conc_tissue(ca / 1000, t=t, kinetics="HF", H=hct, vi=ve[i % n_vox],
                                   vb=vb[i % n_vox], PS=kt[i % n_vox] / 60) * 1000
                    for i in range(n_vox)], axis=0)  # fmt: skip
    sig = dc.signal_ss(100.0, 1 / t10_s + r1 * big, tr_s, fa)
    sig_many = np.tile(sig, (250, 1))  # 250 x n_vox voxels
    theirs, w_t, c_t = _timed(lambda: dc.conc_ss(sig_many, tr_s, fa, t10_s, r1=r1 * 1000, n0=10))
    ours, w_o, c_o = _timed(lambda: signal_to_concentration(
        sig_many.T.reshape(t.size, -1, 1, 1), t10_ms=t10_s * 1000, flip_angle_deg=fa,
        tr_ms=tr_s * 1000, r1_per_mm_s=r1, baseline_frames=10))  # fmt: skip
    diff = np.abs(ours.reshape(t.size, -1).T - theirs * 1000).max()
    print(f"signal -> concentration, {sig_many.shape[0]} voxels: max |ithkit - dcmri| "
          f"{diff:.1e} mM; ithkit {w_o:.3f} s wall / {c_o:.3f} s CPU, dcmri {w_t:.3f} / "
          f"{c_t:.3f} s\n")  # fmt: skip
    print("| model | method | med rel err Ktrans | ve | vp | vs dcmri: Ktrans | ve "
          "| wall s / voxel | CPU s / voxel |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for kin in ("WV", "HF"):
        ext = kin == "HF"
        conc = np.stack([
            dc.conc_tissue(ca / 1000, t=t, kinetics="HF", H=hct, vi=ve[i], vb=vb[i],
                           PS=kt[i] / 60) if ext else
            dc.conc_tissue(ca / 1000, t=t, kinetics="WV", H=hct, vi=ve[i], Ktrans=kt[i] / 60)
            for i in range(n_vox)]) * 1000  # fmt: skip
        s = dc.signal_ss(100.0, 1 / t10_s + r1 * conc, tr_s, fa)
        s = s + rng.normal(0, 0.2, s.shape)  # ~ SNR 40 at baseline
        fits: list[Any] = []

        def run_dcmri(s: np.ndarray = s, kin: str = kin, fits: list[Any] = fits) -> None:
            for i in range(n_vox):
                tis = dc.Tissue(kinetics=kin, sequence="SS", ca=ca / 1000, t=t, TR=tr_s, FA=fa,
                                R10=1 / t10_s, r1=r1 * 1000, n0=10, H=hct)  # fmt: skip
                tis.train(t, s[i])
                fits.append(tis)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, w_d, c_d = _timed(run_dcmri)
        if ext:
            d_kt = np.array([ft.params("PS") * 60 for ft in fits])
            d_vp = np.array([ft.params("vb") * (1 - hct) for ft in fits])
        else:
            d_kt = np.array([ft.params("Ktrans") * 60 for ft in fits])
            d_vp = np.zeros(n_vox)
        d_ve = np.array([ft.params("vi") for ft in fits])

        def run_ours(s: np.ndarray = s, ext: bool = ext) -> Any:
            c = signal_to_concentration(s.T.reshape(t.size, -1, 1, 1), t10_ms=t10_s * 1000,
                                        flip_angle_deg=fa, tr_ms=tr_s * 1000, r1_per_mm_s=r1,
                                        baseline_frames=10, unphysical="nan")  # fmt: skip
            return tofts_maps(c, t, aif=ca / (1 - hct), extended=ext)

        res, w_o, c_o = _timed(run_ours)
        o_kt, o_ve = res.ktrans.array.ravel(), res.ve.array.ravel()
        vp_true = vb * (1 - hct)
        for name, k_, e_, v_, w, c in (("ithkit", o_kt, o_ve, res.vp.array.ravel(), w_o, c_o),
                                        ("dcmri", d_kt, d_ve, d_vp, w_d, c_d)):  # fmt: skip
            vp_err = f"{_med_rel(v_, vp_true):.2e}" if ext else "-"
            agree = (f"{float(np.median(np.abs(o_kt - d_kt) / kt)):.2e} | "
                     f"{float(np.median(np.abs(o_ve - d_ve) / ve)):.2e}") if name == "ithkit" \
                else "- | -"  # fmt: skip
            print(f"| {'extended Tofts' if ext else 'Tofts'} | {name} | {_med_rel(k_, kt):.2e} "
                  f"| {_med_rel(e_, ve):.2e} | {vp_err} | {agree} | {w / n_vox:.2e} "
                  f"| {c / n_vox:.2e} |")  # fmt: skip


def dro_bench() -> None:
    print("\n## OSIPI copies of the QIBA v11 Tofts DRO and the Bosca extended Tofts DRO\n")
    print("| DRO | cases | within OSIPI tolerance | max abs err Ktrans (/min) | ve | vp |")
    print("|---|---|---|---|---|---|")
    for name in ("qiba_tofts", "bosca_extended_tofts"):
        curves = pd.read_csv(DATA / f"{name}_curves.csv.gz", float_precision="round_trip")
        ref = pd.read_csv(DATA / f"{name}_reference.csv", float_precision="round_trip")
        ext = "vp" in ref.columns
        t = curves["t_s"].to_numpy()
        ok, ek, ee, ep = 0, 0.0, 0.0, 0.0
        for row in ref.itertuples():
            r = tofts_maps(curves[f"{row.label}.C"].to_numpy().reshape(-1, 1, 1, 1), t,
                           aif=curves[f"{row.label}.ca"].to_numpy(), extended=ext)  # fmt: skip
            kt_, ve_ = float(r.ktrans.array.ravel()[0]), float(r.ve.array.ravel()[0])
            vp_ = float(r.vp.array.ravel()[0])
            e1, e2 = abs(kt_ - row.ktrans_per_min), abs(ve_ - row.ve)
            e3 = abs(vp_ - row.vp) if ext else 0.0
            ek, ee, ep = max(ek, e1), max(ee, e2), max(ep, e3)
            ok += e1 <= 0.005 + 0.01 * row.ktrans_per_min and e2 <= 0.05 and e3 <= 0.0025
        print(f"| {name} | {len(ref)} | {ok} | {ek:.4f} | {ee:.4f} | "
              f"{f'{ep:.4f}' if ext else '-'} |")  # fmt: skip


def osipi_ivim_bench() -> None:
    """The 14 OSIPI IVIM tissue voxels: ithkit (full, segmented) and dipy, OSIPI's bounds."""
    import json

    from dipy.core.gradients import gradient_table
    from dipy.reconst.ivim import IvimModel

    data = json.loads((DATA.parent / "osipi_ivim" / "generic.json").read_text())
    b = np.asarray(data.pop("config")["bvalues"])
    names = list(data)
    sig = np.array([data[n]["data"] for n in names]).T
    truth = {k: np.array([data[n][src] for n in names])
             for k, src in (("f", "f"), ("d", "D"), ("d_star", "Dp"))}  # fmt: skip
    bvecs = np.zeros((b.size, 3))
    bvecs[1:, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = IvimModel(gradient_table(b, bvecs=bvecs, b0_threshold=0), fit_method="trr",
                          bounds=([0.0, 0.0, 0.005, 0.0], [np.inf, 1.0, 0.2, 0.005]))  # fmt: skip
        p = model.fit(sig.T.reshape(-1, 1, 1, b.size)).model_params.reshape(-1, 4)
    runs = {"dipy trr": {"f": p[:, 1], "d": p[:, 3], "d_star": p[:, 2]}}
    for method in ("full", "segmented"):
        r = ivim_map(sig.reshape(b.size, -1, 1, 1), b, method=method,  # type: ignore[arg-type]
                     bounds={"d": (0.0, 0.005), "d_star": (0.005, 0.2)})  # fmt: skip
        runs[f"ithkit {method}"] = {k: getattr(r, k).array.ravel() for k in truth}
    print("\n## OSIPI TF2.4 IVIM tissue voxels (14 tissues, 18 b-values, noise SD 5e-4)\n")
    print("| method | within OSIPI tolerance | max abs err f | max rel err D | max rel err D* |")
    print("|---|---|---|---|---|")
    f = truth["f"]
    for name, got in runs.items():
        ok_f = np.abs(got["f"] - f) <= 0.2 + 0.1 * f
        ok_d = (f >= 0.8) | (np.abs(got["d"] - truth["d"]) <= 5e-4 + 0.1 * truth["d"])
        ok_s = (f <= 0.03) | (
            np.abs(got["d_star"] - truth["d_star"]) <= 0.1 + 0.1 * truth["d_star"]
        )
        print(f"| {name} | {int((ok_f & ok_d & ok_s).sum())} of {len(names)} "
              f"| {np.abs(got['f'] - f).max():.4f} | {np.abs(got['d'] / truth['d'] - 1).max():.4f} "
              f"| {np.abs(got['d_star'] / truth['d_star'] - 1).max():.4f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ivim-voxels", type=int, default=2000)
    ap.add_argument("--peer-voxels", type=int, default=200)
    ap.add_argument("--dce-voxels", type=int, default=40)
    args = ap.parse_args(argv)
    ivim_bench(args.ivim_voxels, min(args.peer_voxels, args.ivim_voxels))
    dce_bench(args.dce_voxels)
    dro_bench()
    osipi_ivim_bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
