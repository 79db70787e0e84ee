"""PET SUV from DICOM headers: body weight, lean body mass (SUL), body surface area, decay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ithkit import InputError
from ithkit.imaging import (
    body_surface_area_m2,
    lean_body_mass_kg,
    read_image,
    suv_scale_factor,
)

from ._dicom import write_series

F18_S = 6586.2  # 18F half-life, s


def _header(**kw: Any) -> Any:
    """A PET header: 75 kg, 1.85 m, male, 370 MBq 18F injected 09:00, series 10:00."""
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.Modality = "PT"
    ds.Units = kw.pop("Units", "BQML")
    ds.DecayCorrection = kw.pop("DecayCorrection", "START")
    ds.PatientWeight = kw.pop("PatientWeight", 75.0)
    ds.PatientSize = kw.pop("PatientSize", 1.85)
    ds.PatientSex = kw.pop("PatientSex", "M")
    ds.SeriesDate = kw.pop("SeriesDate", "20260101")
    ds.SeriesTime = kw.pop("SeriesTime", "100000")
    info = Dataset()
    info.RadionuclideTotalDose = kw.pop("RadionuclideTotalDose", 3.7e8)
    info.RadionuclideHalfLife = kw.pop("RadionuclideHalfLife", F18_S)
    info.RadiopharmaceuticalStartTime = kw.pop("RadiopharmaceuticalStartTime", "090000")
    for key in list(kw):
        if key.startswith("Radio"):
            setattr(info, key, kw.pop(key))
    ds.RadiopharmaceuticalInformationSequence = [info]
    for key, value in kw.items():
        if value is None:
            if key in ds:
                delattr(ds, key)
            elif key in info:
                delattr(info, key)
        else:
            setattr(ds, key, value)
    return ds


def _drop(ds: Any, *names: str) -> Any:
    info = ds.RadiopharmaceuticalInformationSequence[0]
    for n in names:
        for d in (ds, info):
            if n in d:
                delattr(d, n)
    return ds


# --- body-size formulas, worked numbers --------------------------------------------------------


def test_janmahasatian_lean_body_mass_by_hand() -> None:
    # 75 kg, 1.85 m: BMI = 75 / 1.85^2 = 21.9138; men 9270*75 / (6680 + 216*21.9138) = 60.915 kg,
    # women 9270*75 / (8780 + 244*21.9138) = 49.214 kg (Janmahasatian 2005, eq. for LBW)
    assert lean_body_mass_kg(75, 1.85, "M") == pytest.approx(695250 / (6680 + 216 * 21.913806))
    assert lean_body_mass_kg(75, 1.85, "M") == pytest.approx(60.91534, abs=1e-5)
    assert lean_body_mass_kg(75, 1.85, "F") == pytest.approx(49.21438, abs=1e-5)


def test_james_lean_body_mass_worked_examples() -> None:
    # James 1976, H in cm. Worked examples published with the formula: woman 60 kg, 160 cm:
    # 1.07*60 - 148*(60/160)^2 = 43.3875 kg; men 80 kg / 180 cm -> 62.7 kg, 110 kg / 175 cm ->
    # 70.4 kg (super-calc.com "Lean Body Mass Calculator", rounded to 0.1 kg)
    assert lean_body_mass_kg(60, 1.60, "F", formula="james") == pytest.approx(43.3875)
    assert round(lean_body_mass_kg(80, 1.80, "M", formula="james"), 1) == 62.7
    assert round(lean_body_mass_kg(110, 1.75, "M", formula="james"), 1) == 70.4


def test_du_bois_body_surface_area() -> None:
    # 0.007184 * 70^0.425 * 170^0.725 = 1.8097 m^2 (Du Bois & Du Bois 1916)
    assert body_surface_area_m2(70, 1.70) == pytest.approx(1.809708, abs=1e-6)


def test_matches_calculate_suv_test_vectors() -> None:
    # cornerstonejs/calculate-suv (MIT), test/calculateSUVScalingFactors.test.ts: 75 kg, 1.85 m,
    # M, dose 100 Bq, DecayCorrection ADMIN -> suvbw 750, suvbsa 198.13758427117767,
    # suvlbmJanma 609.1533588651974 (factors per Bq/ml). Our dose floor is 1e5 Bq, so the same
    # patient gets 1e8 Bq and the factors are scaled back by 1e6.
    ds = _header(DecayCorrection="ADMIN", RadionuclideTotalDose=1e8)
    assert suv_scale_factor(ds, kind="bw") * 1e6 == pytest.approx(750.0, rel=1e-12)
    assert suv_scale_factor(ds, kind="lbm") * 1e6 == pytest.approx(609.1533588651974, rel=1e-12)
    assert suv_scale_factor(ds, kind="bsa") * 1e6 == pytest.approx(198.13758427117767, rel=1e-12)


# --- decay correction and times ------------------------------------------------------------


def test_start_decays_dose_to_series_time() -> None:
    # 1 h after injection: D(t) = 3.7e8 * 2^(-3600/6586.2) = 2.53314e8 Bq; SUVbw factor
    # 75000 g / 2.53314e8 Bq = 2.96075e-4 g/Bq
    f = suv_scale_factor(_header())
    assert f == pytest.approx(75000 / (3.7e8 * 0.6846329195720021), rel=1e-12)
    assert f == pytest.approx(2.960750e-4, rel=1e-6)


def test_admin_does_not_decay() -> None:
    assert suv_scale_factor(_header(DecayCorrection="ADMIN")) == pytest.approx(75000 / 3.7e8)
    corrected = _header(CorrectedImage=["DECY", "ATTN", "SCAT"])
    assert suv_scale_factor(corrected) == suv_scale_factor(_header())


@pytest.mark.parametrize(
    "times",
    [
        # injection 23:50 without a date, series 00:10 the next day: 20 min, not -23 h 40
        {
            "RadiopharmaceuticalStartTime": "235000",
            "SeriesDate": "20260102",
            "SeriesTime": "001000",
        },
        # the same with a full injection date/time
        {
            "RadiopharmaceuticalStartDateTime": "20260101235000.000000",
            "SeriesDate": "20260102",
            "SeriesTime": "001000",
        },
        # a DT with fractional seconds and a timezone suffix, series without a date
        {
            "RadiopharmaceuticalStartDateTime": "20260101235000+0100",
            "SeriesDate": None,
            "SeriesTime": "001000",
        },
    ],
)
def test_decay_across_midnight(times: dict[str, Any]) -> None:
    f = suv_scale_factor(_header(**times))
    assert f == pytest.approx(75000 / (3.7e8 * 2 ** (-1200 / F18_S)), rel=1e-12)


def test_post_processed_series_uses_earliest_acquisition() -> None:
    # QIBA: a series time after the acquisition (re-reconstructed series) is not the scan start
    from datetime import datetime

    acq = [datetime(2026, 1, 1, 9, 40), datetime(2026, 1, 1, 9, 30), None]
    f = suv_scale_factor(_header(SeriesTime="120000"), acquisition_times=acq)
    assert f == pytest.approx(75000 / (3.7e8 * 2 ** (-1800 / F18_S)), rel=1e-12)


# --- units --------------------------------------------------------------------------------


def _philips(ds: Any, suv: str | None, bqml: str | None) -> Any:
    block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
    if suv is not None:
        block.add_new(0x00, "DS", suv)
    if bqml is not None:
        block.add_new(0x09, "DS", bqml)
    return ds


def test_philips_counts_with_private_factors() -> None:
    # QIBA pseudo-code: CNTS -> SUVbw factor = Philips (7053,1000); without it (7053,1009)
    # scales to Bq/ml and the series is treated as BQML (calculate-suv test: 0.000551)
    ds = _philips(_header(Units="CNTS"), "0.000551", "1.602563")
    assert suv_scale_factor(ds) == pytest.approx(0.000551)
    lbm_ratio = 60.91533588651974 / 75
    assert suv_scale_factor(ds, kind="lbm") == pytest.approx(0.000551 * lbm_ratio)
    ds = _philips(_header(Units="CNTS"), None, "1.602563")
    assert suv_scale_factor(ds) == pytest.approx(1.602563 * suv_scale_factor(_header()))
    with pytest.raises(InputError, match="CNTS without Philips") as info:
        suv_scale_factor(_header(Units="CNTS"))
    assert "\n" not in str(info.value)


def test_gml_is_already_suvbw() -> None:
    assert suv_scale_factor(_header(Units="GML")) == 1.0
    assert suv_scale_factor(_header(Units="GML"), kind="lbm") == pytest.approx(
        60.91533588651974 / 75
    )


# --- bad headers: one line each, naming the field -----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "kw", "drop", "match"),
    [
        ("bw", {"PatientWeight": 75000}, (), r"PatientWeight.*grams given"),
        ("bw", {}, ("PatientWeight",), "PatientWeight"),
        ("lbm", {"PatientSize": 185}, (), r"PatientSize.*cm given"),
        ("bsa", {"PatientSize": 0.3}, (), "PatientSize .* implausible"),
        ("lbm", {}, ("PatientSize",), "PatientSize"),
        ("lbm", {"PatientSex": "O"}, (), "PatientSex"),
        ("lbm-james", {}, ("PatientSex",), "PatientSex"),
        ("bw", {}, ("RadionuclideTotalDose",), "RadionuclideTotalDose"),
        ("bw", {"RadionuclideTotalDose": 370}, (), "MBq"),
        ("bw", {}, ("RadionuclideHalfLife",), "RadionuclideHalfLife"),
        ("bw", {}, ("RadiopharmaceuticalStartTime",), "RadiopharmaceuticalStartDateTime"),
        ("bw", {}, ("SeriesTime",), "SeriesTime"),
        ("bw", {"DecayCorrection": "NONE"}, (), "DecayCorrection"),
        ("bw", {"Units": "CPS"}, (), "Units 'CPS'"),
        ("bw", {"CorrectedImage": ["ATTN", "SCAT"]}, (), "lacks DECY"),
        ("bw", {"CorrectedImage": "DECY"}, (), "lacks ATTN"),
        (
            "bw",
            {"RadiopharmaceuticalStartDateTime": "20260101110000"},
            (),
            "injection .* after the scan",
        ),
        ("suv-max", {}, (), "unknown SUV normalisation"),
    ],
)
def test_bad_headers_are_one_line(
    kind: str, kw: dict[str, Any], drop: tuple[str, ...], match: str
) -> None:
    ds = _drop(_header(**kw), *drop)
    with pytest.raises(InputError, match=match) as info:
        suv_scale_factor(ds, kind=kind)
    assert "\n" not in str(info.value)


# --- read_image on a synthetic PET DICOM series ---------------------------------------------------


def _pet_series(folder: Path) -> Path:
    stored = np.full((2, 3, 3), 1000, dtype=np.int16)
    pet = {"weight_kg": 75.0, "dose_bq": 3.7e8, "half_life_s": F18_S}

    def edit(ds: Any, z: int) -> None:
        ds.PatientSize = 1.85
        ds.PatientSex = "F"
        ds.SeriesDate = "20260101"
        ds.AcquisitionDate = "20260101"
        ds.AcquisitionTime = "100000"
        ds.DecayCorrection = "START"

    write_series(folder, stored, modality="PT", slope=0.5, pet=pet, edit=edit)
    return folder


def test_read_image_suv_kinds(tmp_path: Path) -> None:
    folder = _pet_series(tmp_path / "pt")
    conc = 1000 * 0.5  # Bq/ml after RescaleSlope
    decayed = 3.7e8 * 2 ** (-3600 / F18_S)
    raw = read_image(folder, suv=False)
    assert np.allclose(raw.array, conc)
    assert np.allclose(read_image(folder, suv="none").array, conc)
    bw = read_image(folder).array
    assert np.allclose(bw, conc * 75000 / decayed, rtol=1e-9)
    assert np.array_equal(read_image(folder, suv=True).array, bw)
    assert np.allclose(read_image(folder, suv="bw").array, bw)
    lbm_f = 9270 * 75 / (8780 + 244 * 75 / 1.85**2)  # 49.214 kg, woman
    assert np.allclose(read_image(folder, suv="lbm").array, conc * lbm_f * 1000 / decayed)
    james_f = 1.07 * 75 - 148 * (75 / 185) ** 2
    assert np.allclose(read_image(folder, suv="lbm-james").array, conc * james_f * 1000 / decayed)
    bsa_cm2 = 0.007184 * 75**0.425 * 185**0.725 * 1e4
    assert np.allclose(read_image(folder, suv="bsa").array, conc * bsa_cm2 / decayed)
    with pytest.raises(InputError, match="unknown SUV"):
        read_image(folder, suv="lean")


def _run(args: list[str]) -> int:
    from ithkit.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def test_cli_suv_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _pet_series(tmp_path / "pt")
    out = tmp_path / "m.nii.gz"
    code = _run(["imaging", "filter", str(folder), "--filter", "mean", "--size", "1",
                 "--suv", "lbm", "--out", str(out)])  # fmt: skip
    assert code == 0
    lbm = read_image(folder, suv="lbm").array
    assert np.allclose(read_image(out).array, lbm)
    assert not np.allclose(lbm, read_image(folder).array)
    code = _run(["imaging", "filter", str(folder), "--filter", "mean", "--suv", "sul2",
                 "--out", str(out)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown SUV normalisation" in err
    assert len(err.strip().splitlines()) == 1


def test_manifest_features_take_the_suv(tmp_path: Path) -> None:
    from ithkit.imaging import Volume, manifest_features, write_volume

    folder = _pet_series(tmp_path / "pt")
    ref = read_image(folder, suv=False)
    mask = Volume(np.ones(ref.array.shape, dtype=np.uint8), ref.spacing, ref.origin, ref.direction)
    write_volume(mask, tmp_path / "mask.nii.gz")
    (tmp_path / "images.csv").write_text(
        "patient_id,lesion_id,timepoint,image,mask,label\nP1,L1,0,pt,mask.nii.gz,1\n"
    )
    col = "intensity_statistics:mean:none"
    sul = manifest_features(tmp_path / "images.csv", suv="lbm")[col].item()
    raw = manifest_features(tmp_path / "images.csv", suv=False)[col].item()
    assert raw == pytest.approx(500.0)
    assert sul == pytest.approx(float(read_image(folder, suv="lbm").array.mean()))
