"""Every texture family mapped voxel-wise: each map value equals the whole-ROI feature
(``texture_features``, 3D) of the ROI that is the voxel's kernel, to 1e-9 relative."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit import InputError
from ithkit.imaging import FeatureConfig, Volume, feature_maps
from ithkit.imaging._features._texture import texture_features
from ithkit.imaging._maps import ALL_MAP_FEATURES, MAP_FAMILIES, expand_map_features
from ithkit.imaging._preprocess import discretise

GEO = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
AGG = {"glcm": "3d_merged", "glrlm": "3d_merged", "glszm": "3d", "gldzm": "3d", "ngtdm": "3d",
       "ngldm": "3d"}  # fmt: skip


def _reference(
    q: np.ndarray, roi: np.ndarray, c: tuple[int, ...], r: int, ng: int, average: bool = False
) -> dict:
    """The whole-ROI texture features of the kernel around ``c`` (box clipped at the image
    border: outside the image counts as outside the ROI, as zero padding does)."""
    box = tuple(slice(max(i - r, 0), i + r + 1) for i in c)
    qk = np.where(roi[box], q[box], 0).astype(np.int64)
    matrix = "3d_average" if average else "3d_merged"
    rows = texture_features(qk, ng, aggregations=(matrix, "3d"))
    agg = {fam: (matrix if a == "3d_merged" else a) for fam, a in AGG.items()}
    return {f"{fam}_{feat}": v for fam, feat, _, a, v in rows if agg[fam] == a}


def _case(seed: int, shape=(9, 10, 11), levels: int = 10):
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.indices(shape)
    # smooth blobs plus noise: zones of several sizes, runs of several lengths
    img = 8 * np.sin(zz / 2.0) + 6 * np.cos(yy / 3.0 + xx / 2.5) + rng.normal(0, 3, shape)
    roi = (zz - 4) ** 2 + (yy - 5) ** 2 / 1.5 + (xx - 5) ** 2 < 22
    roi[0, 0, 0] = roi[0, 0, 1] = True  # two ROI voxels on the image corner
    cfg = FeatureConfig(discretisation={"method": "fixed_bin_number", "value": levels})
    return img, roi, cfg


@pytest.mark.parametrize(("kernel", "seed"), [(3, 0), (5, 1)])
def test_every_family_equals_whole_roi_features_of_the_kernel(kernel: int, seed: int) -> None:
    img, roi, cfg = _case(seed)
    maps = feature_maps(Volume(img, *GEO), Volume(roi.astype(np.uint8), *GEO),
                        features=["all"], kernel_voxels=kernel, config=cfg)  # fmt: skip
    assert set(maps) == set(ALL_MAP_FEATURES) and len(maps) == 101
    q, ng = discretise(img, roi, cfg)
    vals = {f: np.asarray(m.array, dtype=np.float64) for f, m in maps.items()}
    assert all(np.isnan(v[~roi]).all() for v in vals.values())
    centres = [tuple(int(i) for i in c) for c in np.argwhere(roi)[::7]] + [(0, 0, 0), (4, 5, 5)]
    checked = 0
    for c in centres:
        ref = _reference(q, roi, c, kernel // 2, ng)
        for name in ALL_MAP_FEATURES[6:]:
            got, want = vals[name][c], ref[name]
            scale = max(1.0, np.nanmax(np.abs(np.asarray([ref[n] for n in MAP_FAMILIES[
                name.split("_")[0]]], dtype=float))))  # fmt: skip
            # float32 maps: compare the float32 of the reference (1e-9 on the float64 kernel
            # values is checked below on the compiled output directly)
            assert got == pytest.approx(np.float32(want), rel=1e-6, abs=1e-6 * scale, nan_ok=True)
            checked += 1
    assert checked > 400


@pytest.mark.parametrize(("r", "average"), [(2, False), (2, True), (3, False)])
def test_compiled_values_equal_reference_to_1e_9(r: int, average: bool) -> None:
    """The float64 kernel output (before the float32 maps) against the whole-ROI code, GLCM
    and GLRLM with the directions merged or averaged."""
    from ithkit.imaging._maps import (
        _FAMILY_BIT,
        N_MAP_COLUMNS,
        _block_all,
        _kernel_layout,
        _local_box,
    )

    img, roi, cfg = _case(3, shape=(8, 9, 9), levels=8)
    q, ng = discretise(img, roi, cfg)
    q_p = np.pad(np.where(roi, q, 0).astype(np.int32), r)
    img_p = np.pad(img, r)
    centres = np.flatnonzero(np.pad(roi, r)).astype(np.int64)
    koffs = _kernel_layout(r, q_p.shape)[0]
    pidx, po13, po26 = _local_box(r)
    out = np.full((centres.size, N_MAP_COLUMNS), np.nan)
    want = sum(_FAMILY_BIT.values())
    args = (img_p.ravel(), q_p.ravel(), centres, koffs, pidx, po13, po26, 2 * r + 1, ng, want)
    _block_all(*args, average, 0, centres.size, out)
    coords = np.argwhere(roi)
    worst = 0.0
    for row in range(0, coords.shape[0], 5 if r < 3 else 11):
        ref = _reference(q, roi, tuple(coords[row]), r, ng, average)
        for col, name in enumerate(ALL_MAP_FEATURES[6:], start=6):
            a, b = out[row, col], ref[name]
            if np.isnan(b):
                assert np.isnan(a), name
                continue
            fam = MAP_FAMILIES[name.split("_")[0]]
            scale = max(abs(ref[n]) for n in fam if np.isfinite(ref[n]))
            rel = abs(a - b) / max(abs(b), 1e-9 * scale, 1e-300)
            worst = max(worst, rel)
            assert rel <= 1e-9, (name, a, b)
    assert worst < 1e-9


def test_family_names_expand_and_unknown_names_fail() -> None:
    assert expand_map_features(["glszm"]) == list(MAP_FAMILIES["glszm"])
    assert len(expand_map_features(["mean", "first_order"])) == 6
    with pytest.raises(InputError, match="unknown map feature"):
        expand_map_features(["glszm_busyness"])


def test_chunks_do_not_change_the_maps() -> None:
    img, roi, cfg = _case(4)
    args = (Volume(img, *GEO), Volume(roi.astype(np.uint8), *GEO))
    a = feature_maps(*args, features=["gldzm", "ngldm"], kernel_voxels=3, config=cfg)
    b = feature_maps(*args, features=["gldzm", "ngldm"], kernel_voxels=3, config=cfg, chunk=17)
    for f in a:
        np.testing.assert_array_equal(a[f].array, b[f].array)


def test_map_command_takes_families(tmp_path) -> None:
    from ithkit.cli import main
    from ithkit.imaging import read_image, synthetic_ct, write_volume

    les = synthetic_ct(shape=(12, 14, 14), radius_mm=4.0, seed=3)
    write_volume(les.image, tmp_path / "ct.nii.gz")
    write_volume(les.mask, tmp_path / "mask.nii.gz")
    out = tmp_path / "maps"
    feats = "ngtdm,glszm_zone_percentage"
    args = ["imaging", "map", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mask.nii.gz"),
            "--out", str(out), "--features", feats, "--kernel", "3"]  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code in (0, None)
    files = sorted(p.name for p in out.glob("map_*.nii.gz"))
    assert len(files) == 6 and "map_glszm_zone_percentage.nii.gz" in files
    zp = read_image(out / "map_glszm_zone_percentage.nii.gz").array
    roi = les.mask.array > 0
    assert np.all((zp[roi] > 0) & (zp[roi] <= 1))
    with pytest.raises(SystemExit) as info:
        main([*args[:-4], "--features", "glszm_busyness"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([*args, "--directions", "mean"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([*args[:-4], "--features", "glcm_contrast", "--directions", "average"])
    assert info.value.code in (0, None)
    assert (out / "map_glcm_contrast.nii.gz").exists()


def test_memory_estimate_reflects_chunks() -> None:
    from ithkit.imaging._maps import map_memory_bytes

    small = map_memory_bytes((100, 100, 100), 101, 500_000, chunk=1_000)
    big = map_memory_bytes((100, 100, 100), 101, 500_000, chunk=100_000)
    maps_only = 1e6 * 101 * 4
    assert maps_only < small < 1.2 * maps_only  # the float32 maps dominate
    assert big - small == pytest.approx(2 * 99_000 * 101 * 8)
