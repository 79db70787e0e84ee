"""Map values equal the single-ROI features of each voxel's kernel (interior, ROI edge, image
border; kernels of 3, 5 and 7 voxels)."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit.imaging import FeatureConfig, Volume, feature_maps
from ithkit.imaging._features._texture import glcm_all, glcm_features
from ithkit.imaging._preprocess import discretise

GEO = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def _kernel_reference(img, q, roi, c, r, ng):
    box = tuple(slice(max(i - r, 0), i + r + 1) for i in c)
    inside = roi[box]
    v = img[box][inside]
    qk = np.where(inside, q[box], 0).astype(np.int64)
    mu, var = v.mean(), v.var()
    d = v - mu
    skew = np.mean(d**3) / var**1.5 if var > 0 else 0.0
    kurt = np.mean(d**4) / var**2 - 3 if var > 0 else 0.0
    p = np.bincount(qk[inside], minlength=ng + 1)[1:] / inside.sum()
    p = p[p > 0]
    ref = {
        "mean": mu,
        "variance": var,
        "skewness": skew,
        "kurtosis": kurt,
        "entropy": -np.sum(p * np.log2(p)),
        "uniformity": np.sum(p**2),
    }
    c3 = glcm_all(qk, ng)[1].sum(axis=0)
    if c3.sum() > 0:
        g = glcm_features(c3, ng)
        ref |= {
            "glcm_contrast": g["contrast"],
            "glcm_joint_entropy": g["joint_entropy"],
            "glcm_inverse_difference": g["inverse_difference"],
            "glcm_angular_second_moment": g["angular_second_moment"],
        }
    return ref


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_map_values_equal_kernel_features(kernel: int) -> None:
    rng = np.random.default_rng(kernel)
    shape = (12, 14, 13)
    img = np.round(rng.normal(40, 30, shape))
    zz, yy, xx = np.indices(shape)
    roi = ((zz - 5) ** 2 + (yy - 6) ** 2 + (xx - 9) ** 2 < 40) | (rng.random(shape) < 0.05)
    roi[0, 0, 0] = roi[-1, -1, -1] = True  # ROI voxels on the image border
    cfg = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 10})
    maps = feature_maps(Volume(img, *GEO), Volume(roi.astype(np.uint8), *GEO),
                        kernel_voxels=kernel, config=cfg)  # fmt: skip
    q, ng = discretise(img, roi, cfg)
    centres = [tuple(c) for c in np.argwhere(roi)[:: max(1, int(roi.sum()) // 40)]]
    centres += [(0, 0, 0), (shape[0] - 1, shape[1] - 1, shape[2] - 1), (5, 6, 9)]
    for c in centres:
        ref = _kernel_reference(img, q, roi, c, kernel // 2, ng)
        for name in maps:
            got = float(maps[name].array[c])
            if name not in ref:  # no GLCM pair inside the kernel
                assert np.isnan(got), (c, name)
                continue
            assert got == pytest.approx(ref[name], rel=1e-6, abs=1e-6), (c, name)
