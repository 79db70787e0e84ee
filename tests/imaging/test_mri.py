"""Multiparametric MRI maps: ADC, Tofts on a self-made digital reference object, habitats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.imaging import (
    Volume,
    adc_map,
    cellularity_map,
    multiparametric_habitats,
    parker_aif,
    read_image,
    tofts_maps,
    write_volume,
)

GEO = ((2.0, 2.0, 2.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def _dwi(adc: np.ndarray, b_values: list[float], s0: float = 800.0) -> list[Volume]:
    return [Volume(s0 * np.exp(-b * adc), *GEO) for b in b_values]


def test_adc_recovers_known_map_and_fits_noise_by_least_squares() -> None:
    adc = np.linspace(0.4e-3, 3.0e-3, 24).reshape(2, 3, 4)
    b = [0.0, 50.0, 400.0, 800.0, 1000.0]
    out = adc_map(_dwi(adc, b), b)
    np.testing.assert_allclose(out.array, adc, rtol=1e-12)
    # with noise: the slope of log S on b equals numpy's least-squares fit voxel by voxel
    rng = np.random.default_rng(0)
    noisy = [Volume(v.array * np.exp(rng.normal(0, 0.02, adc.shape)), *GEO) for v in _dwi(adc, b)]
    got = adc_map(noisy, b).array
    logs = np.log(np.stack([v.array for v in noisy])).reshape(len(b), -1)
    ref = -np.polyfit(b, logs, 1)[0].reshape(adc.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize(
    ("b", "needle"),
    [([], "b-values missing"), ([0.0, 800.0], "2 b-values for 3"), ([0.0, 0.0, 0.0], "distinct"),
     ([0.0, 0.5, 0.8], "ms/um"), ([-5.0, 0.0, 800.0], "distinct values >= 0")],
)  # fmt: skip
def test_adc_bad_b_values(b: list[float], needle: str) -> None:
    series = _dwi(np.full((2, 2, 2), 1e-3), [0.0, 400.0, 800.0])
    with pytest.raises(InputError, match=needle) as info:
        adc_map(series, b)
    assert "\n" not in str(info.value)


def test_adc_grids_that_differ() -> None:
    series = _dwi(np.full((2, 2, 2), 1e-3), [0.0, 800.0])
    series[1] = Volume(series[1].array, (1.0, 1.0, 1.0), GEO[1], GEO[2], "b800.nii.gz")
    with pytest.raises(InputError, match="differs from volume 1"):
        adc_map(series, [0.0, 800.0])


def _tofts_curve(t_min: np.ndarray, ktrans: float, ve: float, vp: float) -> np.ndarray:
    """Extended Tofts concentration by exact convolution on a 0.05 s grid (self-made DRO)."""
    fine = np.arange(0.0, t_min[-1] + 1e-9, 0.05 / 60)
    cp = parker_aif(fine)
    kernel = np.exp(-ktrans / ve * fine)
    conv = np.convolve(cp, kernel)[: fine.size] * (fine[1] - fine[0])
    conv -= 0.5 * (fine[1] - fine[0]) * (cp * kernel[0] + cp[0] * kernel)  # trapezoid ends
    ct = ktrans * conv + vp * cp
    return np.interp(t_min, fine, ct)


def test_tofts_recovers_a_digital_reference_object() -> None:
    # self-made DRO: 3 x 3 x 2 voxels spanning the QIBA-like ranges Ktrans 0.01-0.35 /min,
    # ve 0.1-0.5, vp 0.001-0.1; 5 min sampled every 3 s, no noise
    t_s = np.arange(0.0, 300.0, 3.0)
    truth = [
        (kt, ve, vp) for kt in (0.02, 0.1, 0.35) for ve in (0.1, 0.3, 0.5) for vp in (0.01, 0.1)
    ]
    curves = np.stack([_tofts_curve(t_s / 60, *p) for p in truth], axis=1).reshape(
        t_s.size, 3, 3, 2
    )
    res = tofts_maps(curves, t_s, extended=True)
    kt = np.array([p[0] for p in truth]).reshape(3, 3, 2)
    ve = np.array([p[1] for p in truth]).reshape(3, 3, 2)
    vp = np.array([p[2] for p in truth]).reshape(3, 3, 2)
    np.testing.assert_allclose(res.ktrans.array, kt, rtol=0.03)
    np.testing.assert_allclose(res.ve.array, ve, rtol=0.03)
    np.testing.assert_allclose(res.vp.array, vp, rtol=0.05, atol=2e-3)
    # the standard model on vp = 0 data
    std = np.stack([_tofts_curve(t_s / 60, 0.2, 0.35, 0.0)], axis=1).reshape(t_s.size, 1, 1, 1)
    r2 = tofts_maps(std, t_s, extended=False)
    assert float(r2.ktrans.array.ravel()[0]) == pytest.approx(0.2, rel=0.02)
    assert float(r2.ve.array.ravel()[0]) == pytest.approx(0.35, rel=0.02)


def test_tofts_bad_series() -> None:
    c = np.zeros((4, 1, 1, 1))
    with pytest.raises(InputError, match="needs >= 6"):
        tofts_maps(c, [0, 10, 20, 30])
    with pytest.raises(InputError, match="minutes"):
        tofts_maps(np.zeros((8, 1, 1, 1)), np.arange(8) * 0.5)
    with pytest.raises(InputError, match="not increasing"):
        tofts_maps(np.zeros((8, 1, 1, 1)), [0, 10, 20, 30, 25, 50, 60, 70])


def test_cellularity_formula_and_units() -> None:
    adc = Volume(np.array([[[0.8e-3, 1.9e-3, 3.5e-3, 1.0e-3]]]), *GEO)
    roi = Volume(np.array([[[1, 1, 1, 0]]]), *GEO)
    cell = cellularity_map(adc, roi).array.ravel()
    # (ADC_w - ADC) / (ADC_w - ADC_min), ADC_w = 3.0e-3, ADC_min = 0.8e-3; clipped; NaN outside
    np.testing.assert_allclose(cell[:3], [1.0, 0.5, 0.0])
    assert np.isnan(cell[3])
    with pytest.raises(InputError, match="10\\^-6"):
        cellularity_map(Volume(adc.array * 1e6, *GEO), roi)


def _two_habitat_maps() -> tuple[dict[str, Volume], Volume]:
    rng = np.random.default_rng(2)
    viable = np.zeros((8, 8, 8), dtype=bool)
    viable[:, :4] = True
    adc = np.where(viable, 0.8e-3, 2.2e-3) + rng.normal(0, 5e-5, viable.shape)
    kt = np.where(viable, 0.25, 0.03) + rng.normal(0, 0.01, viable.shape)
    maps = {"adc": Volume(adc, *GEO, "adc.nii.gz"), "ktrans": Volume(kt, *GEO, "ktrans.nii.gz")}
    return maps, Volume(np.ones(viable.shape), *GEO)


def test_multiparametric_habitats_named_by_profile() -> None:
    maps, mask = _two_habitat_maps()
    res = multiparametric_habitats(maps, mask, k=2, seed=0)
    profiles = set(res.table["profile"])
    assert profiles == {
        "low ADC, high Ktrans: cellular, perfused",
        "high ADC, low Ktrans: necrotic/oedematous, hypoperfused",
    }
    assert res.table["volume_fraction"].tolist() == pytest.approx([0.5, 0.5])


def test_multiparametric_habitats_grids_that_differ() -> None:
    maps, mask = _two_habitat_maps()
    maps["ktrans"] = Volume(maps["ktrans"].array, (2.0, 2.0, 3.0), GEO[1], GEO[2], "kt.nii.gz")
    with pytest.raises(InputError, match="map 'ktrans' grid") as info:
        multiparametric_habitats(maps, mask)
    assert str(info.value).startswith("kt.nii.gz") and "\n" not in str(info.value)


def test_adc_tofts_habitats_commands(tmp_path: Path) -> None:
    adc = np.full((4, 4, 4), 1.1e-3)
    paths = []
    for b, v in zip((0, 800), _dwi(adc, [0.0, 800.0]), strict=True):
        paths.append(tmp_path / f"b{b}.nii.gz")
        write_volume(v, paths[-1])
    out = tmp_path / "adc.nii.gz"
    with pytest.raises(SystemExit) as info:
        main(["imaging", "adc", *map(str, paths), "--b-values", "0,800", "--out", str(out)])
    assert info.value.code in (0, None)
    np.testing.assert_allclose(read_image(out).array, 1.1e-3, rtol=1e-5)
    with pytest.raises(SystemExit) as info:
        main(["imaging", "adc", *map(str, paths), "--out", str(out)])
    assert info.value.code == 2
    maps, mask = _two_habitat_maps()
    for name, vol in maps.items():
        write_volume(vol, tmp_path / f"map_{name}.nii.gz")
    write_volume(mask, tmp_path / "mask.nii.gz")
    with pytest.raises(SystemExit) as info:
        main(["imaging", "habitats", str(tmp_path / "mask.nii.gz"),
              str(tmp_path / "map_adc.nii.gz"), str(tmp_path / "map_ktrans.nii.gz"),
              "--k", "2", "--out", str(tmp_path / "hab")])  # fmt: skip
    assert info.value.code in (0, None)
    table = pd.read_csv(tmp_path / "hab" / "habitats.tsv", sep="\t")
    assert "low ADC, high Ktrans: cellular, perfused" in set(table["profile"])


def test_habitats_over_time_keep_baseline_definitions() -> None:
    from ithkit.imaging import habitats_over_time

    rng = np.random.default_rng(3)

    def scan(n_viable: int) -> dict[str, Volume]:
        viable = np.zeros((8, 8, 8), dtype=bool)
        viable[:, :n_viable] = True
        adc = np.where(viable, 0.8e-3, 2.2e-3) + rng.normal(0, 5e-5, viable.shape)
        kt = np.where(viable, 0.25, 0.03) + rng.normal(0, 0.01, viable.shape)
        return {"adc": Volume(adc, *GEO), "ktrans": Volume(kt, *GEO)}

    mask = Volume(np.ones((8, 8, 8)), *GEO)
    # therapy: the viable, perfused habitat shrinks from 4/8 to 2/8 then 1/8 of the lesion
    t = habitats_over_time({0: scan(4), 1: scan(2), 2: scan(1)}, {0: mask, 1: mask, 2: mask}, k=2)
    viable = t[t["profile"] == "low ADC, high Ktrans: cellular, perfused"]
    assert viable["volume_fraction"].tolist() == pytest.approx([0.5, 0.25, 0.125])
    assert viable["volume_ml"].iloc[0] == pytest.approx(256 * 8 / 1000)
    with pytest.raises(InputError, match="same maps"):
        habitats_over_time({0: scan(4), 1: {"adc": scan(2)["adc"]}}, {0: mask, 1: mask})


def test_habitats_over_time_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(4)
    mask = Volume(np.ones((8, 8, 8)), *GEO)
    write_volume(mask, tmp_path / "mask.nii.gz")
    rows = []
    for tp, n_viable in ((0, 4), (1, 2)):
        viable = np.zeros((8, 8, 8), dtype=bool)
        viable[:, :n_viable] = True
        adc = np.where(viable, 0.8e-3, 2.2e-3) + rng.normal(0, 5e-5, viable.shape)
        kt = np.where(viable, 0.25, 0.03) + rng.normal(0, 0.01, viable.shape)
        write_volume(Volume(adc, *GEO), tmp_path / f"adc_{tp}.nii.gz")
        write_volume(Volume(kt, *GEO), tmp_path / f"kt_{tp}.nii.gz")
        rows.append(f"P1,L1,{tp},adc_{tp}.nii.gz,mask.nii.gz,adc_{tp}.nii.gz,kt_{tp}.nii.gz")
    manifest = tmp_path / "images.csv"
    manifest.write_text("patient_id,lesion_id,timepoint,image,mask,map_adc,map_ktrans\n"
                        + "\n".join(rows) + "\n")  # fmt: skip
    out = tmp_path / "hot"
    with pytest.raises(SystemExit) as info:
        main(["imaging", "habitats-over-time", str(manifest), "--k", "2", "--out", str(out)])
    assert info.value.code in (0, None)
    table = pd.read_csv(out / "habitat_volumes.tsv", sep="\t")
    viable = table[table["profile"] == "low ADC, high Ktrans: cellular, perfused"]
    assert viable["volume_fraction"].tolist() == pytest.approx([0.5, 0.25])
    assert set(table["lesion_id"]) == {"L1"}
    assert (out / "habitat_volumes.svg").read_text().lstrip().startswith("<svg")
    # a manifest without map columns: one line, exit 2
    bare = tmp_path / "bare.csv"
    bare.write_text("patient_id,lesion_id,timepoint,image,mask\nP1,L1,0,adc_0.nii.gz,mask.nii.gz\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["imaging", "habitats-over-time", str(bare), "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "map_<name>" in err and "\n" not in err
