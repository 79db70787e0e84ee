"""Decimated separable wavelets: pywt.dwtn coefficients, mapped back to the image grid."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.imaging import FilterSpec, Volume, filter_image, read_image, wavelet_coefficients
from ithkit.imaging._filters import filtered_features, read_filter_specs
from ithkit.imaging._io import write_volume

ID = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _vol(arr: np.ndarray, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Volume:
    return Volume(np.asarray(arr, dtype=float), spacing, (0.0, 0.0, 0.0), ID)


def _rng_volume(shape: tuple[int, ...] = (6, 8, 10), seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def test_haar_lhl_by_hand() -> None:
    # Haar analysis filters (pywt): low (1, 1)/sqrt2, high: c[k] = (x[2k] - x[2k+1])/sqrt2.
    # Sub-band LHL (x low, y high, z low) of a 4x4x4 volume: for the 2x2x2 block at (2k, 2j, 2i),
    # c = sum over the block of x * (+1 for even y, -1 for odd y) / 2^(3/2).
    arr = np.arange(64, dtype=float).reshape(4, 4, 4) ** 1.5
    hand = np.zeros((2, 2, 2))
    for k in range(2):
        for j in range(2):
            for i in range(2):
                block = arr[2 * k : 2 * k + 2, 2 * j : 2 * j + 2, 2 * i : 2 * i + 2]
                hand[k, j, i] = (block[:, 0, :].sum() - block[:, 1, :].sum()) / 2**1.5
    coef = wavelet_coefficients(_vol(arr), wavelet="haar", subband="LHL", level=1)
    assert np.allclose(coef.array, hand, atol=1e-12)
    assert coef.spacing == (2.0, 2.0, 2.0)
    assert coef.origin == (0.5, 0.5, 0.5)  # centre of the first 2x2x2 block
    # on the image grid each voxel carries the coefficient of its block
    resp = filter_image(_vol(arr), filter="wavelet", wavelet="haar", subband="LHL", decimated=True)
    assert resp.array.shape == arr.shape
    assert np.allclose(resp.array, np.repeat(np.repeat(np.repeat(hand, 2, 0), 2, 1), 2, 2))


@pytest.mark.parametrize("wavelet", ["haar", "db2", "coif1"])
@pytest.mark.parametrize("boundary", ["constant", "nearest", "periodic", "mirror"])
@pytest.mark.parametrize("level", [1, 2])
def test_equals_pywt_coefficients(wavelet: str, boundary: str, level: int) -> None:
    import pywt

    arr = _rng_volume()
    mode = {"constant": "zero", "nearest": "constant", "periodic": "periodic"}.get(
        boundary, "symmetric"
    )
    subband = "HLH"  # x high, y low, z high -> pywt key in (z, y, x) order 'dad'
    coef = wavelet_coefficients(
        _vol(arr), wavelet=wavelet, subband=subband, level=level, boundary=boundary
    )
    with warnings.catch_warnings():  # pywt warns that a 6x8x10 volume is small for 2 levels
        warnings.simplefilter("ignore", UserWarning)
        ref = pywt.wavedecn(arr, wavelet, mode=mode, level=level)[1]["dad"]
    assert coef.array.shape == ref.shape
    assert np.allclose(coef.array, ref, atol=1e-12)
    step = pywt.dwtn(arr, wavelet, mode=mode)
    for _ in range(level - 1):
        step = pywt.dwtn(step["aaa"], wavelet, mode=mode)
    assert np.allclose(coef.array, step["dad"], atol=1e-12)


def test_decimated_is_the_undecimated_response_subsampled() -> None:
    # the a trous (undecimated) response holds every decimated coefficient: at level L the
    # decimated sub-band is the undecimated one sampled every 2^L voxels (away from the border)
    arr = _rng_volume((16, 16, 16), seed=3)
    for level in (1, 2):
        und = filter_image(
            _vol(arr), filter="wavelet", wavelet="haar", subband="HLL", level=level,
            boundary="constant",
        ).array  # fmt: skip
        coef = wavelet_coefficients(
            _vol(arr), wavelet="haar", subband="HLL", level=level, boundary="constant"
        ).array
        step = 2**level
        ks = np.arange(1, coef.shape[0] - 1)  # interior coefficients (16^3 volume: cubic)
        hits = [
            off
            for off in range(-step + 1, step)
            if np.allclose(und[np.ix_(*[ks * step + off] * 3)], coef[np.ix_(ks, ks, ks)])
        ]
        assert len(hits) == 1, level


def test_odd_sizes_and_2d() -> None:
    import pywt

    arr = _rng_volume((3, 7, 9), seed=5)
    resp = filter_image(
        _vol(arr), filter="wavelet", wavelet="db2", subband="LH", dims=2, decimated=True,
        boundary="mirror",
    ).array  # fmt: skip
    ref = pywt.dwtn(arr, "db2", mode="symmetric", axes=(1, 2))["da"]  # y high, x low
    assert resp.shape == arr.shape
    # db2 (4 taps): voxel i lies in coefficient floor((i + 1) / 2)
    iy = (np.arange(7) + 1) // 2
    ix = (np.arange(9) + 1) // 2
    assert np.allclose(resp, ref[:, iy][:, :, ix])


def test_undecimated_default_unchanged() -> None:
    arr = _rng_volume(seed=7)
    a = filter_image(_vol(arr), filter="wavelet", wavelet="db2", subband="LHL", level=2)
    b = filter_image(_vol(arr), FilterSpec(filter="wavelet", wavelet="db2", subband="LHL", level=2))
    assert np.array_equal(a.array, b.array)
    c = filter_image(
        _vol(arr), filter="wavelet", wavelet="db2", subband="LHL", level=2, decimated=True
    )
    assert not np.allclose(a.array, c.array)
    assert FilterSpec(filter="wavelet", subband="LHL", decimated=True).tag == (
        "wavelet_haar_LHL_level1_decimated_3d"
    )


def test_rotation_invariant_decimated_is_invariant() -> None:
    # rotating the image by a right angle rotates the pooled response with it
    arr = _rng_volume((8, 8, 8), seed=9)
    spec = {"filter": "wavelet", "wavelet": "haar", "subband": "HHL", "decimated": True,
            "rotation_invariant": True, "pooling": "mean", "boundary": "periodic"}  # fmt: skip
    r = filter_image(_vol(arr), **spec).array
    rot = np.ascontiguousarray(np.flip(np.transpose(arr, (0, 2, 1)), axis=1))
    r_rot = filter_image(_vol(rot), **spec).array
    assert np.allclose(np.flip(np.transpose(r, (0, 2, 1)), axis=1), r_rot, atol=1e-12)
    single = filter_image(_vol(arr), **{**spec, "rotation_invariant": False}).array
    assert not np.allclose(r, single)


def test_decimated_only_for_wavelets() -> None:
    with pytest.raises(InputError, match="decimated is a wavelet setting"):
        filter_image(_vol(np.zeros((4, 4, 4))), filter="mean", size=3, decimated=True)


def test_features_config_and_cli(tmp_path: Path) -> None:
    arr = _rng_volume((8, 12, 12), seed=11) * 10 + 50
    mask = np.zeros(arr.shape, dtype=np.uint8)
    mask[2:6, 3:9, 3:9] = 1
    write_volume(_vol(arr), tmp_path / "img.nii.gz")
    write_volume(Volume(mask, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), ID), tmp_path / "m.nii.gz")
    cfg = tmp_path / "filters.yaml"
    cfg.write_text(
        "filters:\n"
        "  - {filter: wavelet, wavelet: haar, subband: LLH, level: 1, decimated: true}\n"
        "  - {filter: wavelet, wavelet: haar, subband: LLH, level: 1}\n"
    )
    specs = read_filter_specs(cfg)
    assert [s.decimated for s in specs] == [True, False]
    t = filtered_features(_vol(arr), Volume(mask, (1.0,) * 3, (0.0,) * 3, ID), specs)
    assert set(t["filter"]) == {
        "wavelet_haar_LLH_level1_decimated_3d",
        "wavelet_haar_LLH_level1_3d",
    }
    # the ROI mean of the mapped response is the ROI mean of the whole-image response
    whole = filter_image(_vol(arr), specs[0]).array
    mean = t.loc[(t["filter"] == specs[0].tag) & (t["feature"] == "mean"), "value"].item()
    assert math.isclose(mean, float(whole[mask > 0].mean()), rel_tol=1e-12)
    out = tmp_path / "resp.nii.gz"
    with pytest.raises(SystemExit) as info:
        main(["imaging", "filter", str(tmp_path / "img.nii.gz"), "--filter", "wavelet",
              "--subband", "LLH", "--decimated", "--out", str(out)])  # fmt: skip
    assert info.value.code == 0
    assert np.allclose(read_image(out).array, whole)
    assert "decimated: true" in (tmp_path / "resp.filter.yaml").read_text()
