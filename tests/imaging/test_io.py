"""Readers and geometry checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ithkit import InputError
from ithkit.imaging import (
    Volume,
    check_geometry,
    read_image,
    read_mask,
    roi_from_mask,
    write_volume,
)

from ._dicom import write_rtstruct, write_series

ID = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _vol(arr: np.ndarray, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0)) -> Volume:
    return Volume(arr, spacing, origin, ID)


@pytest.mark.parametrize("ext", [".nii.gz", ".nrrd"])
def test_roundtrip_keeps_geometry(tmp_path: Path, ext: str) -> None:
    arr = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    v = _vol(arr, spacing=(0.5, 0.7, 2.5), origin=(10.0, -3.0, 7.0))
    write_volume(v, tmp_path / f"a{ext}")
    back = read_image(tmp_path / f"a{ext}")
    assert np.array_equal(back.array, arr)
    assert back.spacing == pytest.approx(v.spacing)
    assert back.origin == pytest.approx(v.origin)


@pytest.mark.parametrize(
    ("kw", "word"),
    [({"spacing": (1.0, 1.0, 3.0)}, "spacing"), ({"origin": (0.0, 5.0, 0.0)}, "origin")],
)
def test_geometry_mismatch_is_one_line(kw: dict, word: str) -> None:
    img = _vol(np.zeros((2, 3, 4)))
    msk = _vol(np.ones((2, 3, 4)), **kw)
    with pytest.raises(InputError, match=word) as info:
        check_geometry(img, msk)
    assert "\n" not in str(info.value)


def test_size_mismatch() -> None:
    with pytest.raises(InputError, match="size"):
        check_geometry(_vol(np.zeros((2, 3, 4))), _vol(np.ones((2, 3, 5))))


def test_empty_roi_and_missing_label() -> None:
    m = _vol(np.zeros((2, 3, 4), dtype=np.uint8))
    with pytest.raises(InputError, match="empty"):
        roi_from_mask(m)
    m.array[0, 0, 0] = 2
    with pytest.raises(InputError, match="label 1 is not in the mask"):
        roi_from_mask(m, 1)
    assert roi_from_mask(m, 2).sum() == 1


def test_ct_series_applies_rescale(tmp_path: Path) -> None:
    stored = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4) * 10
    write_series(tmp_path / "ct", stored, slope=2.0, intercept=-1024.0)
    v = read_image(tmp_path / "ct")
    assert np.allclose(v.array, stored * 2.0 - 1024.0)
    assert v.spacing == pytest.approx((0.8, 0.8, 2.0))


def test_pet_series_becomes_suv(tmp_path: Path) -> None:
    stored = np.full((2, 3, 3), 1000, dtype=np.int16)
    pet = {"weight_kg": 70.0, "dose_bq": 3.7e8, "half_life_s": 6586.2}
    write_series(tmp_path / "pt", stored, modality="PT", pet=pet)
    v = read_image(tmp_path / "pt")
    # SUVbw = C * weight[g] / (dose * 2^(-t / T_half)), t = 1 h between injection and series
    expected = 1000 * 70000 / (3.7e8 * 2 ** (-3600 / 6586.2))
    assert np.allclose(v.array, expected, rtol=1e-6)


def test_rtstruct_rasterised_on_reference(tmp_path: Path) -> None:
    stored = np.zeros((3, 10, 10), dtype=np.int16)
    write_series(tmp_path / "ct", stored, spacing=(1.0, 1.0, 2.0))
    ref = read_image(tmp_path / "ct")
    # square from x, y = 1.5 to 5.5 mm on slices z = 0 and 2 mm: centres 2..5 -> 4 x 4 voxels
    sq = [[1.5, 1.5], [5.5, 1.5], [5.5, 5.5], [1.5, 5.5]]
    polys = [np.array([[x, y, z] for x, y in sq]) for z in (0.0, 2.0)]
    write_rtstruct(tmp_path / "rs.dcm", {"GTV": polys, "other": polys[:1]})
    m = read_mask(tmp_path / "rs.dcm", reference=ref, roi="GTV")
    assert m.array.shape == ref.array.shape
    assert int((m.array == 1).sum()) == 32
    assert np.array_equal(np.flatnonzero(m.array.any(axis=(1, 2))), [0, 1])
    with pytest.raises(InputError, match="not in the RTSTRUCT"):
        read_mask(tmp_path / "rs.dcm", reference=ref, roi="CTV")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "nope.nii.gz")


def test_dicom_seg_placed_on_reference(tmp_path: Path) -> None:
    import highdicom as hd
    import pydicom

    write_series(tmp_path / "ct", np.zeros((3, 8, 8), dtype=np.int16), spacing=(1.0, 1.0, 2.0))
    sources = [pydicom.dcmread(str(f)) for f in sorted((tmp_path / "ct").glob("*.dcm"))]
    truth = np.zeros((3, 8, 8), dtype=bool)
    truth[1, 2:5, 3:7] = True
    truth[2, 2:4, 3:5] = True
    desc = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="GTV",
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Tumor"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=truth,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[desc],
        series_instance_uid=hd.UID(), series_number=2, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="x", manufacturer_model_name="x",
        software_versions="1", device_serial_number="1",
    )  # fmt: skip
    seg.save_as(str(tmp_path / "seg.dcm"))
    ref = read_image(tmp_path / "ct")
    m = read_mask(tmp_path / "seg.dcm", reference=ref)
    assert np.array_equal(m.array > 0, truth)
    assert np.array_equal(
        read_mask(tmp_path / "seg.dcm", reference=ref, roi="GTV").array > 0, truth
    )
    with pytest.raises(InputError, match="needs its reference image"):
        read_mask(tmp_path / "seg.dcm")
