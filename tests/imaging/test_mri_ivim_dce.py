"""IVIM maps, DCE signal to concentration, and Tofts on data we did not make (OSIPI/QIBA DROs,
dipy, dcmri)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.imaging import (
    Volume,
    ivim_map,
    read_image,
    signal_to_concentration,
    tofts_maps,
    write_volume,
)

GEO = ((2.0, 2.0, 2.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
DATA = Path(__file__).parent / "data" / "osipi_dce"
B = np.array([0.0, 10, 20, 30, 50, 80, 100, 150, 200, 300, 400, 600, 800])


def _ivim_truth(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.5e-3, 2.0e-3, n)
    ds = rng.uniform(0.01, 0.08, n)
    f = rng.uniform(0.05, 0.3, n)
    s = 1000.0 * (f * np.exp(-B[:, None] * ds) + (1 - f) * np.exp(-B[:, None] * d))
    return d, ds, f, s


def test_ivim_noise_free_exact_and_segmented_close() -> None:
    d, ds, f, s = _ivim_truth(300, 0)
    full = ivim_map(s.reshape(B.size, 10, 30, 1), B)
    np.testing.assert_allclose(full.d.array.ravel(), d, rtol=1e-8)
    np.testing.assert_allclose(full.d_star.array.ravel(), ds, rtol=1e-8)
    np.testing.assert_allclose(full.f.array.ravel(), f, rtol=1e-8)
    np.testing.assert_allclose(full.s0.array.ravel(), 1000.0, rtol=1e-8)
    assert np.nanmax(full.nrmse.array) < 1e-9
    seg = ivim_map(s.reshape(B.size, 10, 30, 1), B, method="segmented")
    # the segmented fit leaves the perfusion tail f e^{-200 D*} in the high-b line: close, not exact
    assert np.median(np.abs(seg.d.array.ravel() / d - 1)) < 0.01
    assert np.median(np.abs(seg.f.array.ravel() / f - 1)) < 0.02
    assert np.median(np.abs(seg.d_star.array.ravel() / ds - 1)) < 0.1
    assert seg.method == "segmented" and full.method == "full"


def test_ivim_without_perfusion_leaves_d_star_undefined() -> None:
    s = 1000 * np.exp(-B[:, None] * np.array([0.8e-3, 1.5e-3]))  # mono-exponential: f = 0
    for method in ("full", "segmented"):
        r = ivim_map(s.reshape(B.size, 2, 1, 1), B, method=method)
        np.testing.assert_allclose(r.d.array.ravel(), [0.8e-3, 1.5e-3], rtol=1e-8)
        np.testing.assert_allclose(r.f.array.ravel(), 0.0, atol=1e-9)
        assert np.isnan(r.d_star.array).all()


def test_ivim_noisy_within_tolerance_and_fit_quality() -> None:
    d, ds, f, s = _ivim_truth(2000, 1)
    noisy = np.abs(s + np.random.default_rng(2).normal(0, 10.0, s.shape))  # SNR 100 at b = 0
    r = ivim_map(noisy.reshape(B.size, -1, 1, 1), B)
    err = {k: np.median(np.abs(getattr(r, k).array.ravel() / t - 1))
           for k, t in (("d", d), ("d_star", ds), ("f", f))}  # fmt: skip
    assert err["d"] < 0.03 and err["f"] < 0.06 and err["d_star"] < 0.15, err
    # the residual of a good fit is the noise: SD 10 over S0 1000, less the 4 fitted degrees
    assert np.nanmedian(r.nrmse.array) == pytest.approx(0.01 * np.sqrt(1 - 4 / B.size), rel=0.1)
    lo, hi = r.d_star.array.min(), r.d_star.array.max()
    assert lo >= 4e-3 and hi <= 0.5  # inside the default bounds


def test_ivim_agrees_with_dipy() -> None:
    pytest.importorskip("dipy")
    from dipy.core.gradients import gradient_table
    from dipy.reconst.ivim import IvimModel

    d, ds, f, s = _ivim_truth(40, 3)
    noisy = np.abs(s + np.random.default_rng(4).normal(0, 20.0, s.shape))  # SNR 50
    bvecs = np.zeros((B.size, 3))
    bvecs[1:, 0] = 1.0
    gtab = gradient_table(B, bvecs=bvecs, b0_threshold=0)
    ours = ivim_map(noisy.reshape(B.size, -1, 1, 1), B)
    # dipy with ithkit's default bounds (its own cap f at 0.2 and so miss voxels with f > 0.2)
    same = ([0.0, 0.0, 4e-3, 0.0], [np.inf, 1.0, 0.5, 4e-3])
    model = IvimModel(gtab, fit_method="trr", bounds=same)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dipy warns about its bounds and step sizes
        exact = model.fit(s.T.reshape(-1, 1, 1, B.size)).model_params.reshape(-1, 4)
        p = model.fit(noisy.T.reshape(-1, 1, 1, B.size)).model_params.reshape(-1, 4)  # S0 f D* D
    np.testing.assert_allclose(exact[:, 3], d, rtol=1e-6)  # noise-free: both exact
    np.testing.assert_allclose(exact[:, 1], f, rtol=1e-6)
    mine = ivim_map(s.reshape(B.size, -1, 1, 1), B)
    np.testing.assert_allclose(mine.d.array.ravel(), d, rtol=1e-8)
    # noisy: the same least-squares minimum in most voxels (benchmark: ~85 %)
    for k, i, t in (("d", 3, d), ("d_star", 2, ds), ("f", 1, f)):
        rel = np.abs(getattr(ours, k).array.ravel() - p[:, i]) / t
        assert np.median(rel) < 1e-4 and np.mean(rel < 1e-3) >= 0.6, (k, np.median(rel))
    # and ours is no worse than dipy against the truth
    for k, i, t in (("d", 3, d), ("f", 1, f)):
        ours_err = np.median(np.abs(getattr(ours, k).array.ravel() / t - 1))
        dipy_err = np.median(np.abs(p[:, i] / t - 1))
        assert ours_err <= dipy_err * 1.1, (k, ours_err, dipy_err)


@pytest.mark.parametrize("method", ["full", "segmented"])
def test_ivim_recovers_the_osipi_tissue_voxels(method: str) -> None:
    # OSIPI TF2.4 IVIM code collection: 14 tissues with literature values, 18 b-values, noise
    # SD 5e-4; its tolerances and fit bounds (tests/IVIMmodels/unit_tests/test_ivim_fit.py)
    import json

    data = json.loads((Path(__file__).parent / "data" / "osipi_ivim" / "generic.json").read_text())
    b = np.asarray(data.pop("config")["bvalues"])
    names = list(data)
    sig = np.array([data[n]["data"] for n in names]).T
    r = ivim_map(sig.reshape(b.size, -1, 1, 1), b, method=method,  # type: ignore[arg-type]
                 bounds={"d": (0.0, 0.005), "d_star": (0.005, 0.2), "f": (0.0, 1.0)})  # fmt: skip
    got = {k: getattr(r, k).array.ravel() for k in ("f", "d", "d_star")}
    truth = {k: np.array([data[n][src] for n in names])
             for k, src in (("f", "f"), ("d", "D"), ("d_star", "Dp"))}  # fmt: skip
    f = truth["f"]
    np.testing.assert_allclose(got["f"], f, rtol=0.1, atol=0.2)
    np.testing.assert_allclose(got["d"][f < 0.8], truth["d"][f < 0.8], rtol=0.1, atol=5e-4)
    keep = f > 0.03
    np.testing.assert_allclose(got["d_star"][keep], truth["d_star"][keep], rtol=0.1, atol=0.1)
    if method == "full":  # far inside those tolerances: |f| <= 0.005, D 1 %, D* 4 %
        assert np.abs(got["f"] - f).max() < 0.005
        assert np.abs(got["d"] / truth["d"] - 1).max() < 0.01
        assert np.abs(got["d_star"] / truth["d_star"] - 1).max() < 0.04


def test_ivim_osipi_tissue_voxels_match_dipy() -> None:
    pytest.importorskip("dipy")
    import json

    from dipy.core.gradients import gradient_table
    from dipy.reconst.ivim import IvimModel

    data = json.loads((Path(__file__).parent / "data" / "osipi_ivim" / "generic.json").read_text())
    b = np.asarray(data.pop("config")["bvalues"])
    sig = np.array([v["data"] for v in data.values()]).T
    bvecs = np.zeros((b.size, 3))
    bvecs[1:, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = IvimModel(gradient_table(b, bvecs=bvecs, b0_threshold=0), fit_method="trr",
                          bounds=([0.0, 0.0, 0.005, 0.0], [np.inf, 1.0, 0.2, 0.005]))  # fmt: skip
        p = model.fit(sig.T.reshape(-1, 1, 1, b.size)).model_params.reshape(-1, 4)
    r = ivim_map(sig.reshape(b.size, -1, 1, 1), b,
                 bounds={"d": (0.0, 0.005), "d_star": (0.005, 0.2)})  # fmt: skip
    np.testing.assert_allclose(r.f.array.ravel(), p[:, 1], rtol=1e-4)
    np.testing.assert_allclose(r.d_star.array.ravel(), p[:, 2], rtol=1e-4)
    np.testing.assert_allclose(r.d.array.ravel(), p[:, 3], rtol=1e-4)


@pytest.mark.parametrize(
    ("b", "needle"),
    [([], "b-values missing"), ([0.0, 50.0, 200.0], "3 b-values for 4"),
     ([0.0, 10.0, 20.0, 50.0], "IVIM needs"), ([100.0, 150.0, 200.0, 800.0], "IVIM needs"),
     ([0.0, 0.05, 0.2, 0.8], "ms/um"), ([-1.0, 50.0, 200.0, 800.0], ">= 0")],
)  # fmt: skip
def test_ivim_bad_b_values(b: list[float], needle: str) -> None:
    s = np.ones((4, 2, 2, 2))
    with pytest.raises(InputError, match=needle) as info:
        ivim_map(s, b)
    assert "\n" not in str(info.value)


def test_ivim_negative_signal_and_bounds() -> None:
    s = np.ones((4, 2, 2, 2))
    s[2, 0, 0, 0] = -3.0
    with pytest.raises(InputError, match=r"negative signal.*volume 3"):
        ivim_map(s, [0, 50, 200, 800])
    with pytest.raises(InputError, match="unknown bound"):
        ivim_map(np.ones((4, 1, 1, 1)), [0, 50, 200, 800], bounds={"dstar": (0.0, 1.0)})


def _cli(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def test_ivim_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, _, _, s = _ivim_truth(64, 5)
    paths = []
    for i, bv in enumerate(B):
        paths.append(tmp_path / f"b{int(bv)}.nii.gz")
        write_volume(Volume(s[i].reshape(4, 4, 4), *GEO), paths[-1])
    out = tmp_path / "ivim"
    bs = ",".join(str(int(v)) for v in B)
    assert _cli(["imaging", "ivim", *map(str, paths), "--bvalues", bs, "--out", str(out)]) == 0
    got = read_image(out / "ivim_d.nii.gz").array.ravel()
    np.testing.assert_allclose(got, d, rtol=1e-5)  # float32 NIfTI
    assert {p.name for p in out.iterdir()} == {
        f"ivim_{k}.nii.gz" for k in ("d", "d_star", "f", "s0", "nrmse")
    }
    capsys.readouterr()
    assert _cli(["imaging", "ivim", *map(str, paths[:4]), "--b-values", "0,10,20,30",
                 "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "IVIM needs" in err and len(err.splitlines()) == 1
    assert _cli(["imaging", "ivim", *map(str, paths), "--out", str(out)]) == 2


def test_ivim_command_reads_a_4d_nifti_and_a_bval_file(tmp_path: Path) -> None:
    import SimpleITK as sitk

    _, _, f, s = _ivim_truth(27, 6)
    img = sitk.GetImageFromArray(s.reshape(B.size, 3, 3, 3), isVector=False)
    img.SetSpacing((2.0, 2.0, 3.0, 1.0))
    sitk.WriteImage(img, str(tmp_path / "dwi.nii.gz"))
    (tmp_path / "dwi.bval").write_text(" ".join(f"{v:g}" for v in B) + "\n")
    out = tmp_path / "ivim4d"
    assert _cli(["imaging", "ivim", str(tmp_path / "dwi.nii.gz"), "--bvalues",
                 str(tmp_path / "dwi.bval"), "--out", str(out)]) == 0  # fmt: skip
    got = read_image(out / "ivim_f.nii.gz")
    np.testing.assert_allclose(got.array.ravel(), f, rtol=1e-5)
    assert got.spacing == (2.0, 2.0, 3.0)
    adc_out = tmp_path / "adc.nii.gz"
    assert _cli(["imaging", "adc", str(tmp_path / "dwi.nii.gz"), "--b-values",
                 str(tmp_path / "dwi.bval"), "--out", str(adc_out)]) == 0  # fmt: skip
    (tmp_path / "bad.bval").write_text("0 50 x 800\n")
    assert _cli(["imaging", "ivim", str(tmp_path / "dwi.nii.gz"), "--bvalues",
                 str(tmp_path / "bad.bval"), "--out", str(out)]) == 2  # fmt: skip


# --- DCE signal to concentration ------------------------------------------------------------


def _spgr(
    conc_mm: np.ndarray, t10_ms: float, fa: float, tr_ms: float, r1: float = 4.5
) -> np.ndarray:
    a = np.deg2rad(fa)
    e = np.exp(-tr_ms / 1000 * (1000 / t10_ms + r1 * conc_mm))
    return 250.0 * np.sin(a) * (1 - e) / (1 - np.cos(a) * e)


def test_signal_to_concentration_matches_osipi_reference() -> None:
    # OSIPI DCE-DSC-MRI_CodeCollection SI2Conc test data: tolerance atol 1e-5 + rtol 1e-5; its
    # tests average baseline frames 1..n-1 and do not assess the first value
    conv = {c: (lambda x: np.array(x.split(), dtype=float)) for c in ("s", "conc")}
    table = pd.read_csv(DATA / "si2conc_data.csv", converters=conv, encoding="utf-8-sig")
    assert len(table) == 5
    for row in table.itertuples():
        c = signal_to_concentration(
            row.s.reshape(-1, 1, 1, 1), t10_ms=row.T1base * 1000, flip_angle_deg=row.FA,
            tr_ms=row.TR * 1000, r1_per_mm_s=row.r1,
            baseline_frames=range(1, int(row.numbaselinepts)),
        ).ravel()  # fmt: skip
        np.testing.assert_allclose(c[1:], row.conc[1:], rtol=1e-5, atol=1e-5)


def test_signal_to_concentration_volumes_map_and_errors() -> None:
    conc = np.zeros((10, 2, 2, 2))
    conc[4:] = np.linspace(0.1, 2.0, 6)[:, None, None, None]
    t10 = np.full((2, 2, 2), 1400.0)
    t10[0] = 800.0
    sig = _spgr(conc, t10, 15, 4.0)
    vols = [Volume(v, *GEO, "dce.nii.gz") for v in sig]
    out = signal_to_concentration(vols, t10_ms=Volume(t10, *GEO), flip_angle_deg=15, tr_ms=4.0,
                                  baseline_frames=4)  # fmt: skip
    assert isinstance(out, list) and len(out) == 10
    np.testing.assert_allclose(np.stack([v.array for v in out]), conc, atol=1e-10)
    kw = {"t10_ms": 1000.0, "flip_angle_deg": 15.0, "tr_ms": 4.0}
    with pytest.raises(InputError, match="baseline frames"):
        signal_to_concentration(sig, baseline_frames=12, **kw)
    with pytest.raises(InputError, match="baseline frames"):
        signal_to_concentration(sig, baseline_frames=[0, 10], **kw)
    with pytest.raises(InputError, match="seconds"):
        signal_to_concentration(sig, **{**kw, "t10_ms": 1.4})
    with pytest.raises(InputError, match="tr_ms"):
        signal_to_concentration(sig, **{**kw, "tr_ms": 0.004})
    with pytest.raises(InputError, match="radians"):
        signal_to_concentration(sig, **{**kw, "flip_angle_deg": 0.26})
    with pytest.raises(InputError, match="4500"):
        signal_to_concentration(sig, r1_per_mm_s=4500, **kw)
    # a signal above the fully relaxed one: no R1 can give it
    bad = sig.copy()
    bad[6, 0, 0, 0] = 50 * bad[0, 0, 0, 0]
    with pytest.raises(InputError, match=r"unphysical S/S0 in 1 voxels .*time point 7"):
        signal_to_concentration(bad, baseline_frames=4, **kw)
    nan = signal_to_concentration(bad, baseline_frames=4, unphysical="nan", **kw)
    assert np.isnan(nan[6, 0, 0, 0]) and np.isfinite(nan[6, 1, 1, 1])


def test_signal_to_concentration_and_tofts_agree_with_dcmri() -> None:
    dc = pytest.importorskip("dcmri")
    t = np.arange(0.0, 300.0, 1.0)
    hct = 0.45
    ca_blood = dc.aif_parker(t, BAT=20) * 1000  # dcmri works in M; mM here
    # dcmri's forward models: 'HF' = extended Tofts (PS = Ktrans, vi = ve, vp = vb (1 - H)),
    # 'WV' = standard Tofts; units 1/s and M (Ktrans here in 1/min)
    truth = [(0.2, 0.3, 0.05), (0.05, 0.2, 0.02), (0.5, 0.5, 0.1)]
    ext = np.stack([dc.conc_tissue(ca_blood / 1000, t=t, kinetics="HF", H=hct, vi=ve, vb=vb,
                                   PS=kt / 60) * 1000 for kt, ve, vb in truth], axis=1)  # fmt: skip
    res = tofts_maps(ext.reshape(t.size, -1, 1, 1), t, aif=ca_blood / (1 - hct))
    np.testing.assert_allclose(res.ktrans.array.ravel(), [p[0] for p in truth], rtol=1e-3)
    np.testing.assert_allclose(res.ve.array.ravel(), [p[1] for p in truth], rtol=1e-3)
    np.testing.assert_allclose(res.vp.array.ravel(), [p[2] * (1 - hct) for p in truth], rtol=1e-3)
    wv = [dc.conc_tissue(ca_blood / 1000, t=t, kinetics="WV", H=hct, vi=ve, Ktrans=kt / 60)
          for kt, ve, _ in truth]  # fmt: skip
    std = 1000 * np.stack(wv, axis=1)
    res = tofts_maps(std.reshape(t.size, -1, 1, 1), t, aif=ca_blood / (1 - hct), extended=False)
    np.testing.assert_allclose(res.ktrans.array.ravel(), [p[0] for p in truth], rtol=1e-3)
    np.testing.assert_allclose(res.ve.array.ravel(), [p[1] for p in truth], rtol=1e-3)
    # SPGR signal by dcmri's steady-state model, back to concentration by both
    tr_s, fa, t10_s, r1 = 0.005, 15.0, 1.2, 4.5
    sig = dc.signal_ss(100.0, (1 / t10_s + r1 * ext).T, tr_s, fa)  # (voxel, time)
    theirs = dc.conc_ss(sig, tr_s, fa, t10_s, r1=r1 * 1000, n0=15) * 1000
    ours = signal_to_concentration(sig.T.reshape(t.size, -1, 1, 1), t10_ms=t10_s * 1000,
                                   flip_angle_deg=fa, tr_ms=tr_s * 1000, r1_per_mm_s=r1,
                                   baseline_frames=15).reshape(t.size, -1)  # fmt: skip
    np.testing.assert_allclose(ours, theirs.T, atol=1e-9)


def _osipi_cases(name: str) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    curves = pd.read_csv(DATA / f"{name}_curves.csv.gz", float_precision="round_trip")
    ref = pd.read_csv(DATA / f"{name}_reference.csv", float_precision="round_trip")
    return curves["t_s"].to_numpy(), curves, ref


@pytest.mark.parametrize("name", ["qiba_tofts", "bosca_extended_tofts"])
def test_tofts_recovers_the_qiba_and_bosca_dros(name: str) -> None:
    # published DRO values and OSIPI's tolerances: Ktrans atol 0.005 + rtol 0.01 (/min),
    # ve atol 0.05, vp atol 0.0025 (test/DCEmodels/DCEmodels_data.py)
    t, curves, ref = _osipi_cases(name)
    extended = "vp" in ref.columns
    for row in ref.itertuples():
        c = curves[f"{row.label}.C"].to_numpy()
        ca = curves[f"{row.label}.ca"].to_numpy()
        r = tofts_maps(c.reshape(-1, 1, 1, 1), t, aif=ca, extended=extended)
        got_kt, got_ve = float(r.ktrans.array.ravel()[0]), float(r.ve.array.ravel()[0])
        assert got_kt == pytest.approx(row.ktrans_per_min, rel=0.01, abs=0.005), row.label
        assert got_ve == pytest.approx(row.ve, abs=0.05), row.label
        if extended:
            assert float(r.vp.array.ravel()[0]) == pytest.approx(row.vp, abs=0.0025), row.label
    assert len(ref) == (25 if name == "qiba_tofts" else 15)


def test_tofts_command_with_signal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ithkit.imaging import parker_aif

    t = np.arange(-10.0, 300.0, 2.0)
    tm = np.clip(t, 0, None) / 60
    cp = parker_aif(tm) * (t >= 0)
    kt, ve = 0.25, 0.4
    ct = np.array([kt * np.trapezoid(cp[: i + 1] * np.exp(-kt / ve * (tm[i] - tm[: i + 1])),
                                     tm[: i + 1]) for i in range(t.size)])  # fmt: skip
    sig = _spgr(ct[:, None, None, None] * np.ones((1, 2, 2, 2)), 1000.0, 20, 5.0)
    paths = []
    for i, v in enumerate(sig):
        paths.append(tmp_path / f"s{i:03d}.nii.gz")
        write_volume(Volume(v, *GEO), paths[-1])
    np.savetxt(tmp_path / "aif.txt", cp)
    times = ",".join(f"{v:g}" for v in t - t[0])
    out = tmp_path / "dce"
    base = ["imaging", "tofts", *map(str, paths), "--times-s", times, "--standard",
            "--aif", str(tmp_path / "aif.txt"), "--out", str(out), "--signal"]  # fmt: skip
    assert _cli([*base, "--t10-ms", "1000", "--flip-angle-deg", "20", "--tr-ms", "5",
                 "--baseline-frames", "5"]) == 0  # fmt: skip
    np.testing.assert_allclose(read_image(out / "ktrans.nii.gz").array, kt, rtol=0.02)
    np.testing.assert_allclose(read_image(out / "ve.nii.gz").array, ve, rtol=0.02)
    write_volume(Volume(np.full((2, 2, 2), 1000.0), *GEO), tmp_path / "t1.nii.gz")  # a T1 map
    assert _cli([*base, "--t10-ms", str(tmp_path / "t1.nii.gz"), "--flip-angle-deg", "20",
                 "--tr-ms", "5", "--baseline-frames", "5"]) == 0  # fmt: skip
    np.testing.assert_allclose(read_image(out / "ktrans.nii.gz").array, kt, rtol=0.02)
    capsys.readouterr()
    assert _cli([*base, "--flip-angle-deg", "20", "--tr-ms", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--t10-ms" in err and len(err.splitlines()) == 1
    assert _cli([*base, "--t10-ms", "1000", "--flip-angle-deg", "20", "--tr-ms", "5",
                 "--baseline-frames", "200"]) == 2  # fmt: skip
    no_signal = [a for a in base if a != "--signal"]
    assert _cli([*no_signal, "--t10-ms", "1000"]) == 2  # signal options without --signal
