"""IBSI-2 convolutional filters: phase-1 reference response maps and analytic checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.imaging import FilterSpec, Volume, filter_image, read_image
from ithkit.imaging._filters import filtered_features, read_filter_specs

DATA = Path(__file__).parent / "data" / "ibsi2"
GEO = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))

# IBSI-2 phase-1 configurations (reference manual arXiv:2006.05470; reference maps: CC0,
# github.com/theibsi/ibsi_2_reference_data). All 33 cases: benchmarks/imaging_filters.py.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "1_a_1": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "constant"}),
    "1_a_3": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "periodic"}),
    "2_c": ("checkerboard", {"filter": "log", "sigma_mm": 5.0, "boundary": "mirror", "dims": 2}),
    "3_b_3": ("checkerboard", {"filter": "laws", "laws_kernel": "E3W5R5", "boundary": "mirror",
                               "rotation_invariant": True, "pooling": "max",
                               "energy_distance": 7}),
    "3_c_3": ("checkerboard", {"filter": "laws", "laws_kernel": "L5S5", "boundary": "mirror",
                               "dims": 2, "rotation_invariant": True, "pooling": "max",
                               "energy_distance": 7}),
    "4_a_2": ("impulse", {"filter": "gabor", "sigma_mm": 10.0, "wavelength_mm": 4.0,
                          "gamma": 0.5, "theta_step_deg": 45.0, "rotation_invariant": True,
                          "pooling": "mean", "orthogonal_planes": True, "boundary": "constant",
                          "dims": 2}),
    "5_a_1": ("impulse", {"filter": "wavelet", "wavelet": "db2", "subband": "LHL",
                          "boundary": "constant"}),
    "7_a_2": ("checkerboard", {"filter": "wavelet", "wavelet": "haar", "subband": "HHH",
                               "level": 2, "boundary": "mirror", "rotation_invariant": True,
                               "pooling": "mean"}),
    "8_a_2": ("checkerboard", {"filter": "simoncelli", "level": 2, "boundary": "periodic"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def phantoms() -> dict[str, Volume]:
    return {n: read_image(DATA / f"{n}.nii.gz") for n in ("checkerboard", "impulse", "sphere")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_phase1_reference_map(case: str, phantoms: dict[str, Volume]) -> None:
    phantom, settings = CASES[case]
    out = filter_image(phantoms[phantom], FilterSpec.from_dict(settings))
    ref = read_image(DATA / "reference_maps" / f"{case}-ValidCRM.nii.gz").array.astype(float)
    # IBSI-2 rule: every voxel within 1% of the reference map's range; ithkit is far closer
    rel = np.abs(out.array - ref).max() / (ref.max() - ref.min())
    assert rel <= 1e-3, rel
    assert out.spacing == phantoms[phantom].spacing and out.array.shape == ref.shape


def _impulse(n: int = 21) -> Volume:
    arr = np.zeros((n, n, n))
    arr[n // 2, n // 2, n // 2] = 1.0
    return Volume(arr, *GEO)


def test_impulse_response_is_the_laws_kernel() -> None:
    # convolution of a unit impulse returns the kernel: E5 along x, L5 along y, S5 along z
    out = filter_image(_impulse(), filter="laws", laws_kernel="E5L5S5", boundary="constant")
    e5 = np.array([-1, -2, 0, 2, 1]) / np.sqrt(10)
    l5 = np.array([1, 4, 6, 4, 1]) / np.sqrt(70)
    s5 = np.array([-1, 0, 2, 0, -1]) / np.sqrt(6)
    kernel = s5[:, None, None] * l5[None, :, None] * e5[None, None, :]
    np.testing.assert_allclose(out.array[8:13, 8:13, 8:13], kernel, atol=1e-15)
    assert np.abs(out.array).sum() == pytest.approx(np.abs(kernel).sum())


def test_log_of_constant_is_zero_and_of_impulse_is_centre_value() -> None:
    const = Volume(np.full((12, 12, 12), 7.0), *GEO)
    # the sampled LoG kernel sums to ~0 (truncation at 4 sigma leaves < 1e-3 of the mass)
    out = filter_image(const, filter="log", sigma_mm=1.5, boundary="nearest")
    assert np.abs(out.array).max() < 7e-3
    # centre of the LoG kernel: -d / s^2 (1 / (s sqrt(2 pi)))^d, s in voxels
    imp = filter_image(_impulse(), filter="log", sigma_mm=2.0, boundary="constant")
    expected = -3 / 4.0 * (1 / (2.0 * np.sqrt(2 * np.pi))) ** 3
    assert imp.array[10, 10, 10] == pytest.approx(expected, rel=1e-12)


def test_mean_filter_of_checkerboard() -> None:
    # a 1-voxel checkerboard of 0/1: every 3x3x3 periodic average is 13/27 or 14/27
    z, y, x = np.indices((6, 6, 6))
    board = Volume(((x + y + z) % 2).astype(float), *GEO)
    out = filter_image(board, filter="mean", size=3, boundary="periodic").array
    np.testing.assert_allclose(out[board.array == 1], 13 / 27)
    np.testing.assert_allclose(out[board.array == 0], 14 / 27)


def test_riesz_first_order_preserves_energy() -> None:
    # sum_i |R_i f|^2 = |f|^2 for a zero-mean image: the order-1 Riesz components split it
    # (odd grid size: the IBSI frequency grid is then symmetric about 0)
    rng = np.random.default_rng(0)
    arr = rng.normal(size=(15, 15, 15))
    vol = Volume(arr, *GEO)
    base = filter_image(vol, filter="simoncelli", level=1, boundary="periodic").array
    parts = [
        filter_image(vol, filter="riesz", riesz_base="simoncelli", riesz_order=o,
                     boundary="periodic").array
        for o in ([1, 0, 0], [0, 1, 0], [0, 0, 1])
    ]  # fmt: skip
    energy = sum(float((p**2).sum()) for p in parts)
    assert energy == pytest.approx(float((base**2).sum()), rel=1e-9)


def test_rotation_invariance_by_pooling() -> None:
    # a pooled Laws response of a cube turned by 90 degrees is the turned response
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(10, 11, 12))
    spec = FilterSpec(filter="laws", laws_kernel="E5S5L5", rotation_invariant=True,
                      pooling="max", boundary="periodic")  # fmt: skip
    a = filter_image(Volume(arr, *GEO), spec).array
    b = filter_image(Volume(np.rot90(arr, axes=(1, 2)).copy(), *GEO), spec).array
    np.testing.assert_allclose(np.rot90(a, axes=(1, 2)), b, atol=1e-12)
    # ... whereas the single kernel is not rotation invariant
    plain = FilterSpec(filter="laws", laws_kernel="E5S5L5", boundary="periodic")
    c = filter_image(Volume(arr, *GEO), plain).array
    d = filter_image(Volume(np.rot90(arr, axes=(1, 2)).copy(), *GEO), plain).array
    assert not np.allclose(np.rot90(c, axes=(1, 2)), d)


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"filter": "blur"}, "unknown filter"),
        ({"filter": "log"}, "sigma_mm"),
        ({"filter": "mean", "size": 4}, "odd"),
        ({"filter": "laws", "laws_kernel": "L5S5"}, "Laws kernels"),
        ({"filter": "wavelet", "subband": "LXL"}, "subband"),
        ({"filter": "mean", "boundary": "zero"}, "unknown boundary"),
        ({"filter": "riesz", "sigma_mm": 1.0, "riesz_order": [1, 0]}, "riesz_order"),
        ({"filter": "mean", "colour": 1}, "unknown filter setting"),
    ],
)
def test_bad_settings_are_one_line_input_errors(settings: dict[str, Any], needle: str) -> None:
    with pytest.raises(InputError, match=needle) as info:
        filter_image(_impulse(5), **settings)
    assert "\n" not in str(info.value)


def test_anisotropic_grid_refused_for_gabor() -> None:
    vol = Volume(np.zeros((4, 8, 8)), (1.0, 2.0, 3.0), GEO[1], GEO[2], "img.nii.gz")
    with pytest.raises(InputError, match="isotropic"):
        filter_image(vol, filter="gabor", sigma_mm=2.0, wavelength_mm=4.0, dims=2)


def test_filtered_features_follow_resegmentation(tmp_path: Path) -> None:
    from ithkit.imaging import FeatureConfig

    arr = np.arange(1000, dtype=float).reshape(10, 10, 10)
    vol, roi = Volume(arr, *GEO), Volume(np.ones_like(arr), *GEO)
    spec = FilterSpec(filter="mean", size=1)  # identity: response = image
    t = filtered_features(vol, roi, [spec], config=FeatureConfig(resegment_range=(100, 199)))
    stats = t.set_index("feature")["value"]
    assert stats["mean"] == pytest.approx(149.5)
    assert stats["minimum"] == 100 and stats["maximum"] == 199
    cfg = tmp_path / "f.yaml"
    cfg.write_text("filters:\n  - {filter: mean, size: 3}\n  - {filter: log, sigma_mm: 2}\n")
    assert [s.tag for s in read_filter_specs(cfg)] == ["mean_m3_3d", "log_s2mm_3d"]
    cfg.write_text("filters:\n  - {filter: log}\n")
    with pytest.raises(InputError, match="entry 1"):
        read_filter_specs(cfg)


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def test_filter_and_features_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "resp.nii.gz"
    code = _run(["imaging", "filter", str(DATA / "checkerboard.nii.gz"), "--filter", "log",
                 "--sigma-mm", "5", "--boundary", "mirror", "--2d", "--out", str(out)])  # fmt: skip
    assert code == 0
    ref = read_image(DATA / "reference_maps" / "2_c-ValidCRM.nii.gz").array
    got = read_image(out)
    assert np.abs(got.array - ref).max() < 1e-3 * (ref.max() - ref.min())
    assert got.spacing == (2.0, 2.0, 2.0)
    assert (tmp_path / "resp.filter.yaml").exists()
    code = _run(["imaging", "filter", str(DATA / "impulse.nii.gz"), "--filter", "log",
                 "--out", str(out)])  # fmt: skip
    assert code == 2
    assert "sigma_mm" in capsys.readouterr().err
    cfg = tmp_path / "filters.yaml"
    cfg.write_text("filters:\n  - {filter: mean, size: 5}\n  - {filter: wavelet, subband: HHL}\n")
    feats = tmp_path / "features.tsv"
    code = _run(["imaging", "features", str(DATA / "sphere.nii.gz"), str(DATA / "sphere.nii.gz"),
                 "--filters", str(cfg), "--out", str(feats)])  # fmt: skip
    assert code == 0
    t = pd.read_csv(feats, sep="\t")
    assert set(t["filter"]) == {"mean_m5_3d", "wavelet_haar_HHL_level1_3d"}
    assert len(t) == 36


@pytest.mark.parametrize(
    "settings",
    [
        {"filter": "laws", "laws_kernel": "L5E5E5", "energy_distance": 2,
         "rotation_invariant": True, "boundary": "mirror"},
        {"filter": "wavelet", "wavelet": "db3", "subband": "HHL", "level": 2,
         "boundary": "nearest"},
        {"filter": "gabor", "sigma_mm": 1.0, "wavelength_mm": 3.0, "dims": 2,
         "orthogonal_planes": True, "boundary": "periodic"},
    ],
)  # fmt: skip
def test_statistics_on_the_grown_roi_box_equal_the_whole_image(settings: dict[str, Any]) -> None:
    # filtered_features filters only the ROI box grown by the kernel support: same values
    from ithkit.imaging import roi_features

    rng = np.random.default_rng(3)
    arr = rng.normal(size=(24, 26, 28))
    roi = np.zeros(arr.shape, dtype=bool)
    roi[2:9, 10:15, 12:25] = True  # near the z edge: the box is clipped there
    vol, msk = Volume(arr, *GEO), Volume(roi.astype(float), *GEO)
    spec = FilterSpec.from_dict(settings)
    t = filtered_features(vol, msk, [spec]).set_index("feature")["value"]
    full = filter_image(vol, spec).array
    ref = roi_features(full, roi, (1.0, 1.0, 1.0), families=("intensity_statistics",))
    np.testing.assert_allclose(t.loc[ref["feature"]].to_numpy(), ref["value"], rtol=1e-10)


@pytest.mark.parametrize("pooling", ["max", "mean", "min"])
def test_laws_pooling_equals_brute_force_over_24_rotations(pooling: str) -> None:
    # ithkit convolves each axis permutation once and derives the flipped rotations; here every
    # one of the 24 rotated kernels is applied explicitly
    from scipy import ndimage

    from ithkit.imaging._filters import _LAWS, _rotations

    rng = np.random.default_rng(4)
    arr = rng.normal(size=(9, 10, 11))
    names = ["E5", "W5", "S5"]  # x, y, z: antisymmetric, antisymmetric, symmetric
    got = filter_image(
        Volume(arr, *GEO),
        filter="laws",
        laws_kernel="".join(names),
        rotation_invariant=True,
        pooling=pooling,
        boundary="mirror",
    ).array
    per_axis = {2: _LAWS[names[0]], 1: _LAWS[names[1]], 0: _LAWS[names[2]]}
    responses = []
    for perm, signs in _rotations(3):
        out = arr
        for i in range(3):
            k = per_axis[perm[i]]
            out = ndimage.convolve1d(out, k[::-1] if signs[i] < 0 else k, axis=i, mode="reflect")
        responses.append(out)
    ref = getattr(np, pooling)(np.stack(responses), axis=0)
    np.testing.assert_allclose(got, ref, atol=1e-12)


@pytest.mark.parametrize("boundary", ["mirror", "periodic", "constant", "nearest"])
def test_gabor_equals_direct_convolution_of_the_padded_image(boundary: str) -> None:
    # the fast path folds the kernel onto one period of the extension (mirror, periodic, zeros);
    # here the image is padded by the kernel half-width and convolved directly, slice by slice
    from scipy.signal import convolve2d

    rng = np.random.default_rng(5)
    arr = rng.normal(size=(3, 9, 11))
    sigma, lam, gamma, theta = 2.0, 3.0, 0.7, np.deg2rad(30.0)
    got = filter_image(Volume(arr, *GEO), filter="gabor", sigma_mm=sigma, wavelength_mm=lam,
                       gamma=gamma, theta_deg=30.0, boundary=boundary, dims=2).array  # fmt: skip
    half = int(np.floor(7 * sigma + 0.5))  # 14 > the image: the extension wraps several times
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(float)
    xr = xx * np.cos(theta) + yy * np.sin(theta)
    yr = -xx * np.sin(theta) + yy * np.cos(theta)
    g = np.exp(-(xr**2 + gamma**2 * yr**2) / (2 * sigma**2)) * np.exp(2j * np.pi * xr / lam)
    mode = {"mirror": "symmetric", "periodic": "wrap", "constant": "constant", "nearest": "edge"}
    ref = np.stack([
        np.abs(convolve2d(np.pad(s, half, mode=mode[boundary]), g, mode="valid")) for s in arr
    ])  # fmt: skip
    np.testing.assert_allclose(got, ref, atol=1e-5 * np.abs(ref).max())
