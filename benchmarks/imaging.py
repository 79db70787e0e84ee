# ruff: noqa: E501
"""ithkit.imaging vs PyRadiomics: IBSI features and voxel-wise maps on synthetic CT.

Run:  .venv/bin/python benchmarks/imaging.py [--pyradiomics /tmp/bench_pyradiomics/bin/python]

PyRadiomics lives in its own environment (never in the project's):

    python3 -m venv /tmp/bench_pyradiomics
    /tmp/bench_pyradiomics/bin/pip install numpy wheel setuptools
    /tmp/bench_pyradiomics/bin/pip install --no-build-isolation pyradiomics==3.0.1

Cases (synthetic CT from ``ithkit.imaging.synthetic_ct``, 1 mm voxels, 3 habitats):
  * ROI in a 64^3 box: 64x64x64 CT, sphere of radius 28 mm;
  * ROI in a 128^3 box: 128x128x64 CT, sphere of 57,777 voxels (the issue's reference case)
    and 128x128x128 CT, sphere of radius 56 mm.
Features (both tools start from in-memory images: ithkit ``Volume``s through
``extract_features``, PyRadiomics SimpleITK images through ``execute``):
  * full IBSI set: every ithkit family (morphology incl. Moran's I / Geary's C, OMBB, MVEE;
    local intensity; statistics; histogram; IVH; GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM) with
    all aggregations (2D, 2.5D, 3D), and the same with 3D aggregations only;
  * like-for-like: only what PyRadiomics' default classes (shape, firstorder, glcm, glrlm, glszm,
    gldm, ngtdm) also compute: the 14 shape features PyRadiomics has (mesh/voxel volume,
    area, surface-to-volume, compactness 1/2, spherical disproportion, sphericity, max 3D
    diameter, axis lengths, elongation, flatness; no Moran/Geary, OMBB, MVEE, AEE, hull or
    AABB densities, centre-of-mass shift), intensity statistics and histogram, GLCM and GLRLM
    3D-averaged, GLSZM, NGTDM and NGLDM (~ GLDM) 3D; no local intensity, IVH or GLDZM.
Bin width 25 HU for both. Times: median of --repeat runs after one warm-up, both tools on the
same images in the same run, as CPU seconds of the process (both tools are single-threaded for
whole-ROI features, so this is robust to other jobs time-slicing a shared CPU) and as wall
seconds (which can double when another job shares the core; read the ratios).
--breakdown times ithkit's families. Maps: 5x5x5 kernel; PyRadiomics voxel-based with the same features (first
order mean/variance/skewness/kurtosis/entropy/uniformity + GLCM contrast/joint entropy/ID/
joint energy) (mean, variance and entropy maps are compared voxel by voxel). The image is shifted so the ROI minimum is a
multiple of 25 HU: both tools then bin identically and values can be compared.
--maps-large (or --only-maps-large): all 101 maps (every texture family) on a 499,856-voxel
ROI, kernels --large-kernels (5,3): ithkit on the whole ROI in its own process (wall, CPU of
all threads, peak RSS); PyRadiomics voxel mode (firstorder, glcm, glrlm, glszm, gldm, ngtdm)
on a central --crop^3 crop of the ROI, time per voxel extrapolated to the ROI; both tools'
maps on the crop compared per feature (median relative difference; ithkit's bins then start
at PyRadiomics' edge, the multiple of 25 below the crop's minimum). PyRadiomics for it:
    python3.11 -m venv /tmp/bench_pyrad
    /tmp/bench_pyrad/bin/pip install "numpy<2" wheel setuptools
    /tmp/bench_pyrad/bin/pip install --no-build-isolation pyradiomics==3.0.1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ithkit.imaging import (
    FeatureConfig,
    Volume,
    extract_features,
    feature_maps,
    roi_features,
    synthetic_ct,
    write_volume,
)

PYRAD_SCRIPT = r"""
import json, sys, time, logging
import SimpleITK as sitk
import radiomics
from radiomics import featureextractor
radiomics.logger.setLevel(logging.ERROR)
img, msk, mode, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def median_time(fn, cpu=False):
    ts, cs, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); out = fn()
        ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    if cpu:
        return sorted(ts)[len(ts) // 2], sorted(cs)[len(cs) // 2], out
    return sorted(ts)[len(ts) // 2], out
settings = {"binWidth": 25, "label": 1, "force2D": False}
if mode == "features":
    ex = featureextractor.RadiomicsFeatureExtractor(**settings)
    ex.enableAllFeatures()
    for c in ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm"):
        ex.enableFeatureClassByName(c)
    im, ms = sitk.ReadImage(img), sitk.ReadImage(msk)  # in memory, as ithkit's Volumes
    ex.execute(im, ms)  # warm-up
    dt, dc, res = median_time(lambda: ex.execute(im, ms), cpu=True)
    vals = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
    print(json.dumps({"seconds": dt, "cpu_seconds": dc, "n": len(vals), "values": vals}))
else:
    ex = featureextractor.RadiomicsFeatureExtractor(kernelRadius=2, maskedKernel=True, voxelBatch=10000, **settings)
    ex.disableAllFeatures()
    ex.enableFeaturesByName(firstorder=["Mean", "Variance", "Skewness", "Kurtosis", "Entropy", "Uniformity"],
                            glcm=["Contrast", "JointEntropy", "Id", "JointEnergy"])
    dt, res = median_time(lambda: ex.execute(img, msk, voxelBased=True))
    ref = sitk.ReadImage(img)  # voxel-based output covers the ROI box: put it back on the grid
    maps = {k: sitk.GetArrayFromImage(sitk.Resample(v, ref, sitk.Transform(), sitk.sitkNearestNeighbor,
            float("nan"), sitk.sitkFloat64)).tolist() for k, v in res.items() if isinstance(v, sitk.Image)}
    out = sys.argv[5]
    json.dump(maps, open(out, "w"))
    print(json.dumps({"seconds": dt, "n": len(maps)}))
"""

# PyRadiomics voxel mode, every class that has a voxel-wise form (firstorder, glcm, glrlm, glszm,
# gldm, ngtdm; no GLDZM in PyRadiomics), one run: wall and CPU seconds, maps on the ROI voxels
PYRAD_ALL_SCRIPT = r"""
import json, sys, time, logging
import numpy as np
import SimpleITK as sitk
import radiomics
from radiomics import featureextractor
radiomics.logger.setLevel(logging.ERROR)
img, msk, radius, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ex = featureextractor.RadiomicsFeatureExtractor(binWidth=25, label=1, force2D=False, kernelRadius=radius,
                                                maskedKernel=True, voxelBatch=5000)
ex.disableAllFeatures()
for c in ("firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"):
    ex.enableFeatureClassByName(c)
im, ms = sitk.ReadImage(img), sitk.ReadImage(msk)
t, c = time.perf_counter(), time.process_time()
res = ex.execute(im, ms, voxelBased=True)
dt, dc = time.perf_counter() - t, time.process_time() - c
roi = sitk.GetArrayFromImage(ms) > 0
maps = {}
for k, v in res.items():
    if isinstance(v, sitk.Image):
        a = sitk.GetArrayFromImage(sitk.Resample(v, im, sitk.Transform(), sitk.sitkNearestNeighbor,
                                                 float("nan"), sitk.sitkFloat64))
        maps[k] = a[roi].tolist()
json.dump(maps, open(out, "w"))
print(json.dumps({"seconds": dt, "cpu_seconds": dc, "n": len(maps), "voxels": int(roi.sum())}))
"""

# ithkit on the large ROI in its own process (peak RSS of that process only): a warm-up on a
# small box compiles the kernels first, then one timed run over the whole ROI
ITHKIT_MAPS_SCRIPT = r"""
import json, resource, sys, time
import numpy as np
from ithkit.imaging import FeatureConfig, feature_maps, read_image, read_mask
img, msk, kernel, directions = read_image(sys.argv[1]), read_mask(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cfg = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 25})
roi = msk.array > 0
c = [int(np.median(i)) for i in np.nonzero(roi)]
box = tuple(slice(i - 6, i + 7) for i in c)
from ithkit.imaging import Volume
small = np.zeros(roi.shape, np.uint8); small[box] = roi[box]
feature_maps(img, Volume(small, img.spacing, img.origin, img.direction), features=["all"],
             kernel_voxels=kernel, config=cfg, directions=directions)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t, cp = time.perf_counter(), time.process_time()
maps = feature_maps(img, msk, features=["all"], kernel_voxels=kernel, config=cfg, directions=directions)
dt, dc = time.perf_counter() - t, time.process_time() - cp
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "cpu_seconds": dc, "peak_rss_mb": rss, "rss_before_mb": rss0,
                  "n_maps": len(maps), "voxels": int(roi.sum())}))
"""

# ithkit map name -> PyRadiomics voxel-map key. GLCM/GLRLM: ithkit merges the 13 directions'
# matrices (IBSI 3d_merged), PyRadiomics averages the features over them (3d_average): those
# differ by definition; kurtosis: PyRadiomics adds 3; entropy: PyRadiomics adds eps in the log.
_PR = "original_"
MAP_PAIRS = {
    "mean": "firstorder_Mean", "variance": "firstorder_Variance", "skewness": "firstorder_Skewness",
    "kurtosis": "firstorder_Kurtosis", "entropy": "firstorder_Entropy", "uniformity": "firstorder_Uniformity",
    "glcm_joint_maximum": "glcm_MaximumProbability", "glcm_joint_average": "glcm_JointAverage",
    "glcm_joint_variance": "glcm_SumSquares", "glcm_joint_entropy": "glcm_JointEntropy",
    "glcm_difference_average": "glcm_DifferenceAverage", "glcm_difference_variance": "glcm_DifferenceVariance",
    "glcm_difference_entropy": "glcm_DifferenceEntropy", "glcm_sum_average": "glcm_SumAverage",
    "glcm_sum_entropy": "glcm_SumEntropy", "glcm_angular_second_moment": "glcm_JointEnergy",
    "glcm_contrast": "glcm_Contrast", "glcm_inverse_difference": "glcm_Id",
    "glcm_normalised_inverse_difference": "glcm_Idn", "glcm_inverse_difference_moment": "glcm_Idm",
    "glcm_normalised_inverse_difference_moment": "glcm_Idmn", "glcm_inverse_variance": "glcm_InverseVariance",
    "glcm_correlation": "glcm_Correlation", "glcm_autocorrelation": "glcm_Autocorrelation",
    "glcm_cluster_tendency": "glcm_ClusterTendency", "glcm_cluster_shade": "glcm_ClusterShade",
    "glcm_cluster_prominence": "glcm_ClusterProminence", "glcm_information_correlation_1": "glcm_Imc1",
    "glcm_information_correlation_2": "glcm_Imc2",
    "glrlm_short_runs_emphasis": "glrlm_ShortRunEmphasis", "glrlm_long_runs_emphasis": "glrlm_LongRunEmphasis",
    "glrlm_low_grey_level_run_emphasis": "glrlm_LowGrayLevelRunEmphasis",
    "glrlm_high_grey_level_run_emphasis": "glrlm_HighGrayLevelRunEmphasis",
    "glrlm_short_run_low_grey_level_emphasis": "glrlm_ShortRunLowGrayLevelEmphasis",
    "glrlm_short_run_high_grey_level_emphasis": "glrlm_ShortRunHighGrayLevelEmphasis",
    "glrlm_long_run_low_grey_level_emphasis": "glrlm_LongRunLowGrayLevelEmphasis",
    "glrlm_long_run_high_grey_level_emphasis": "glrlm_LongRunHighGrayLevelEmphasis",
    "glrlm_grey_level_non_uniformity": "glrlm_GrayLevelNonUniformity",
    "glrlm_normalised_grey_level_non_uniformity": "glrlm_GrayLevelNonUniformityNormalized",
    "glrlm_run_length_non_uniformity": "glrlm_RunLengthNonUniformity",
    "glrlm_normalised_run_length_non_uniformity": "glrlm_RunLengthNonUniformityNormalized",
    "glrlm_run_percentage": "glrlm_RunPercentage", "glrlm_grey_level_variance": "glrlm_GrayLevelVariance",
    "glrlm_run_length_variance": "glrlm_RunVariance", "glrlm_run_entropy": "glrlm_RunEntropy",
    "glszm_small_zone_emphasis": "glszm_SmallAreaEmphasis", "glszm_large_zone_emphasis": "glszm_LargeAreaEmphasis",
    "glszm_low_grey_level_zone_emphasis": "glszm_LowGrayLevelZoneEmphasis",
    "glszm_high_grey_level_zone_emphasis": "glszm_HighGrayLevelZoneEmphasis",
    "glszm_small_zone_low_grey_level_emphasis": "glszm_SmallAreaLowGrayLevelEmphasis",
    "glszm_small_zone_high_grey_level_emphasis": "glszm_SmallAreaHighGrayLevelEmphasis",
    "glszm_large_zone_low_grey_level_emphasis": "glszm_LargeAreaLowGrayLevelEmphasis",
    "glszm_large_zone_high_grey_level_emphasis": "glszm_LargeAreaHighGrayLevelEmphasis",
    "glszm_grey_level_non_uniformity": "glszm_GrayLevelNonUniformity",
    "glszm_normalised_grey_level_non_uniformity": "glszm_GrayLevelNonUniformityNormalized",
    "glszm_zone_size_non_uniformity": "glszm_SizeZoneNonUniformity",
    "glszm_normalised_zone_size_non_uniformity": "glszm_SizeZoneNonUniformityNormalized",
    "glszm_zone_percentage": "glszm_ZonePercentage", "glszm_grey_level_variance": "glszm_GrayLevelVariance",
    "glszm_zone_size_variance": "glszm_ZoneVariance", "glszm_zone_size_entropy": "glszm_ZoneEntropy",
    "ngtdm_coarseness": "ngtdm_Coarseness", "ngtdm_contrast": "ngtdm_Contrast", "ngtdm_busyness": "ngtdm_Busyness",
    "ngtdm_complexity": "ngtdm_Complexity", "ngtdm_strength": "ngtdm_Strength",
    "ngldm_low_dependence_emphasis": "gldm_SmallDependenceEmphasis",
    "ngldm_high_dependence_emphasis": "gldm_LargeDependenceEmphasis",
    "ngldm_low_grey_level_count_emphasis": "gldm_LowGrayLevelEmphasis",
    "ngldm_high_grey_level_count_emphasis": "gldm_HighGrayLevelEmphasis",
    "ngldm_low_dependence_low_grey_level_emphasis": "gldm_SmallDependenceLowGrayLevelEmphasis",
    "ngldm_low_dependence_high_grey_level_emphasis": "gldm_SmallDependenceHighGrayLevelEmphasis",
    "ngldm_high_dependence_low_grey_level_emphasis": "gldm_LargeDependenceLowGrayLevelEmphasis",
    "ngldm_high_dependence_high_grey_level_emphasis": "gldm_LargeDependenceHighGrayLevelEmphasis",
    "ngldm_grey_level_non_uniformity": "gldm_GrayLevelNonUniformity",
    "ngldm_dependence_count_non_uniformity": "gldm_DependenceNonUniformity",
    "ngldm_normalised_dependence_count_non_uniformity": "gldm_DependenceNonUniformityNormalized",
    "ngldm_grey_level_variance": "gldm_GrayLevelVariance", "ngldm_dependence_count_variance": "gldm_DependenceVariance",
    "ngldm_dependence_count_entropy": "gldm_DependenceEntropy",
}  # fmt: skip

# ithkit (feature, aggregation) -> PyRadiomics name; kurtosis differs by +3 in PyRadiomics
COMPARE = {
    ("volume", "none"): "original_shape_MeshVolume",
    ("surface_area", "none"): "original_shape_SurfaceArea",
    ("sphericity", "none"): "original_shape_Sphericity",
    ("maximum_3d_diameter", "none"): "original_shape_Maximum3DDiameter",
    ("mean", "none"): "original_firstorder_Mean",
    ("variance", "none"): "original_firstorder_Variance",
    ("skewness", "none"): "original_firstorder_Skewness",
    ("energy", "none"): "original_firstorder_Energy",
    ("entropy", "none"): "original_firstorder_Entropy",
    ("uniformity", "none"): "original_firstorder_Uniformity",
    ("joint_entropy", "3d_average"): "original_glcm_JointEntropy",
    ("contrast", "3d_average"): "original_glcm_Contrast",
    ("correlation", "3d_average"): "original_glcm_Correlation",
    ("inverse_difference", "3d_average"): "original_glcm_Id",
    ("short_runs_emphasis", "3d_average"): "original_glrlm_ShortRunEmphasis",
    ("run_entropy", "3d_average"): "original_glrlm_RunEntropy",
    ("small_zone_emphasis", "3d"): "original_glszm_SmallAreaEmphasis",
    ("zone_size_entropy", "3d"): "original_glszm_ZoneEntropy",
    ("coarseness", "3d"): "original_ngtdm_Coarseness",
    ("busyness", "3d"): "original_ngtdm_Busyness",
    ("dependence_count_entropy", "3d"): "original_gldm_DependenceEntropy",
}


# PyRadiomics' whole-ROI run with one BLAS thread: idle OpenBLAS workers otherwise spin on after
# each call (CPU time counted twice, a core taken from the other tool on a shared machine).
# ithkit's whole-ROI path makes no threaded BLAS call, so it runs with the defaults.
ONE_THREAD = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}  # fmt: skip


def _case(shape: tuple[int, int, int], radius: float, seed: int) -> tuple[Volume, Volume]:
    les = synthetic_ct(shape=shape, radius_mm=radius, n_habitats=3, seed=seed)
    arr = les.image.array.astype(np.int32)
    roi = les.mask.array > 0
    arr = arr - (int(arr[roi].min()) % 25)  # ROI minimum on a bin edge of width 25
    img = Volume(arr.astype(np.int16), les.image.spacing, les.image.origin, les.image.direction)
    return img, les.mask


# ithkit families that PyRadiomics also has (NGLDM with coarseness 0 and distance 1 is GLDM)
LIKE_PYRAD = ("morphology", "intensity_statistics", "intensity_histogram", "glcm", "glrlm",
              "glszm", "ngtdm", "ngldm")  # fmt: skip
# the ithkit morphology features PyRadiomics' shape class also has
LIKE_MORPH = ("volume", "approximate_volume", "surface_area", "surface_to_volume_ratio",
              "compactness_1", "compactness_2", "spherical_disproportion", "sphericity",
              "maximum_3d_diameter", "major_axis_length", "minor_axis_length", "least_axis_length",
              "elongation", "flatness")  # fmt: skip


def _time_cpu(fn, repeat: int = 5) -> tuple[float, float, object]:
    """Median wall and CPU (this process) seconds of ``repeat`` runs after a warm-up."""
    out = fn()
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


def _time(fn, repeat: int = 5) -> tuple[float, object]:
    """Median wall time of ``repeat`` runs after a warm-up (numba compile / caches)."""
    out = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def _breakdown(img: Volume, msk: Volume, cfg: FeatureConfig, repeat: int) -> None:
    """ithkit's time per family group on one case (median wall seconds)."""
    arr, roi, sp = np.asarray(img.array, float), msk.array > 0, img.spacing_zyx
    groups = {"morphology, all 29 (Moran/Geary, OMBB, MVEE...)": ("morphology",),
              "local intensity": ("local_intensity",),
              "intensity statistics + histogram": ("intensity_statistics", "intensity_histogram"),
              "intensity-volume histogram": ("intensity_volume_histogram",),
              "glcm": ("glcm",), "glrlm": ("glrlm",), "glszm + gldzm": ("glszm", "gldzm"),
              "ngtdm + ngldm": ("ngtdm", "ngldm")}  # fmt: skip
    for label, fams in groups.items():
        t, _ = _time(lambda f=fams: roi_features(arr, roi, sp, config=cfg, families=f), repeat)
        print(f"  {label:<50}{t:>9.4f}")
    t, _ = _time(lambda: roi_features(arr, roi, sp, config=cfg, families=("morphology",),
                                      features=LIKE_MORPH), repeat)  # fmt: skip
    print(f"  {'morphology, the 14 PyRadiomics also has':<50}{t:>9.4f}")


def _maps_large(args: argparse.Namespace, pyrad: Path, have_pyrad: bool, tmp: Path) -> None:
    """Every mappable feature (101 maps, all texture families) on a 500,000-voxel ROI: ithkit on
    the whole ROI in its own process (wall, CPU, peak RSS), PyRadiomics voxel mode on a central
    crop of the same ROI (time per voxel, extrapolated to the whole ROI), and the maps of both
    tools on the crop compared feature by feature (median relative difference)."""
    import sys

    img, msk = _case((110, 120, 120), 49.24, seed=3)
    roi = msk.array > 0
    n_vox = int(roi.sum())
    write_volume(img, tmp / "big_ct.nii.gz")
    write_volume(msk, tmp / "big_mask.nii.gz")
    c = [int(np.median(i)) for i in np.nonzero(roi)]
    h = args.crop // 2
    box = tuple(slice(i - h, i + h + 1) for i in c)
    crop = np.zeros(roi.shape, np.uint8)
    crop[box] = roi[box]
    n_crop = int(crop.sum())
    crop_vol = Volume(crop, msk.spacing, msk.origin, msk.direction)
    write_volume(crop_vol, tmp / "crop_mask.nii.gz")
    rows, agree = [], {}
    for kernel in args.large_kernels:
        its = {}
        for directions in ("merged", "average"):
            res = subprocess.run([sys.executable, "-c", ITHKIT_MAPS_SCRIPT, str(tmp / "big_ct.nii.gz"),
                                  str(tmp / "big_mask.nii.gz"), str(kernel), directions],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            its[directions] = json.loads(res.stdout.strip().splitlines()[-1])
        py = {"seconds": float("nan"), "cpu_seconds": float("nan"), "voxels": n_crop}
        if have_pyrad:
            res = subprocess.run([str(pyrad), "-c", PYRAD_ALL_SCRIPT, str(tmp / "big_ct.nii.gz"),
                                  str(tmp / "crop_mask.nii.gz"), str(kernel // 2), str(tmp / "pr.json")],
                                 capture_output=True, text=True, check=True, env=ONE_THREAD)  # fmt: skip
            py = json.loads(res.stdout.strip().splitlines()[-1])
            theirs = json.loads((tmp / "pr.json").read_text())
            # PyRadiomics' bins start at the multiple of 25 below the crop's minimum: the same
            # lower bound for ithkit (resegment_range's low end), so both number levels alike
            low = float(np.floor(np.asarray(img.array)[crop > 0].min() / 25.0) * 25.0)
            cfg_crop = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 25},
                                     resegment_range=(low, float("inf")))  # fmt: skip
            ours = feature_maps(img, crop_vol, features=["all"], kernel_voxels=kernel,
                                config=cfg_crop, directions="average")  # fmt: skip
            sel = crop > 0
            for name, key in MAP_PAIRS.items():
                if _PR + key not in theirs:
                    continue
                a = np.asarray(ours[name].array, dtype=float)[sel]
                b = np.asarray(theirs[_PR + key], dtype=float) - (
                    3.0 if name == "kurtosis" else 0.0
                )
                ok = np.isfinite(a) & np.isfinite(b)
                rel = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12)
                agree[(kernel, name)] = float(np.median(rel)) if rel.size else float("nan")
        per_py = py["seconds"] / py["voxels"]
        per_py_cpu = py["cpu_seconds"] / py["voxels"]
        for directions, it in its.items():
            rows.append(
                (f"{kernel}x{kernel}x{kernel} {directions}", it, per_py * n_vox, per_py_cpu * n_vox)
            )
    print(f"\n## Voxel-wise maps, all texture families (101 maps), {n_vox:,}-voxel ROI "
          f"(PyRadiomics: {n_crop:,}-voxel central crop, time per voxel x {n_vox:,})")  # fmt: skip
    print(f"{'kernel, GLCM/GLRLM':<20}{'ithkit wall':>12}{'CPU':>8}{'peak RSS':>10}{'PyRad wall*':>13}{'CPU*':>9}"
          f"{'x wall':>8}{'x CPU':>8}")  # fmt: skip
    for label, it, py_wall, py_cpu in rows:
        print(f"{label:<20}{it['seconds']:>11.1f}s{it['cpu_seconds']:>7.1f}s"
              f"{it['peak_rss_mb'] / 1024:>8.2f}GB{py_wall:>12.0f}s{py_cpu:>8.0f}s"
              f"{py_wall / it['seconds']:>7.0f}x{py_cpu / it['cpu_seconds']:>7.0f}x")  # fmt: skip
    print("* extrapolated from the crop; ithkit CPU = all its threads; PyRadiomics one thread;")
    print(
        "  GLCM/GLRLM merged = 13 directions' matrices summed, average = features averaged (as PyRadiomics)"
    )
    if agree:
        print(
            "\n## Agreement on the crop: median relative difference per feature (ithkit, GLCM/GLRLM "
            "averaged over directions as PyRadiomics does, vs PyRadiomics)"
        )
        fams: dict[str, list[str]] = {}
        for name in MAP_PAIRS:
            fams.setdefault(name.split("_")[0] if "_" in name and name.split("_")[0] in
                            ("glcm", "glrlm", "glszm", "ngtdm", "ngldm") else "first", []).append(name)  # fmt: skip
        for kernel in args.large_kernels:
            for fam, names in fams.items():
                vals = [(n, agree[(kernel, n)]) for n in names if (kernel, n) in agree]
                if not vals:
                    continue
                worst = max(vals, key=lambda v: v[1])
                close = sum(v[1] < 1e-6 for v in vals)
                print(
                    f"k={kernel} {fam:<6} {close:>2}/{len(vals):<3} features < 1e-6; "
                    f"largest median: {worst[0]} {worst[1]:.2e}"
                )
            if args.verbose_agreement:
                for n in MAP_PAIRS:
                    if (kernel, n) in agree:
                        print(f"    {n:<52}{agree[(kernel, n)]:.2e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pyradiomics", default="/tmp/bench_pyradiomics/bin/python")
    ap.add_argument("--no-maps", action="store_true")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    ap.add_argument("--breakdown", action="store_true", help="time ithkit per family group")
    ap.add_argument(
        "--maps-large",
        action="store_true",
        help="all texture families on a 500,000-voxel ROI (and PyRadiomics on a crop)",
    )
    ap.add_argument("--only-maps-large", action="store_true", help="only that section")
    ap.add_argument(
        "--large-kernels",
        type=lambda s: [int(k) for k in s.split(",")],
        default=[5, 3],
        help="kernel sizes of the large maps (voxels, comma-separated)",
    )
    ap.add_argument("--crop", type=int, default=13, help="side of PyRadiomics' crop (voxels)")
    ap.add_argument("--verbose-agreement", action="store_true")
    args = ap.parse_args()
    pyrad = Path(args.pyradiomics)
    if args.only_maps_large:
        _maps_large(args, pyrad, pyrad.exists(), Path(tempfile.mkdtemp(prefix="ithkit_bench_")))
        return
    have_pyrad = pyrad.exists()
    cfg_all = FeatureConfig(discretisation={"method": "fixed_bin_size", "value": 25})
    cfg_3d = FeatureConfig(
        discretisation={"method": "fixed_bin_size", "value": 25},
        aggregation=("none", "3d_average", "3d_merged", "3d"),
    )
    cfg_like = FeatureConfig(
        discretisation={"method": "fixed_bin_size", "value": 25},
        aggregation=("none", "3d_average", "3d"),
    )
    tmp = Path(tempfile.mkdtemp(prefix="ithkit_bench_"))
    cases = [("64^3 box, r=28", (64, 64, 64), 28.0),
             ("128x128x64, 57.8k vox", (64, 128, 128), 23.99),
             ("128^3 box, r=56", (128, 128, 128), 56.0)]  # fmt: skip
    head = (f"{'case':<24}{'voxels':>8}{'full all aggr.':>15}{'n':>5}{'full 3D':>9}{'n':>5}"
            f"{'like':>7}{'n':>5}{'PyRad':>8}{'n':>5}{'x full':>8}{'x full3D':>9}{'x like':>8}")  # fmt: skip
    tables: dict[str, list[str]] = {"cpu": [], "wall": []}
    agreement = []
    for name, shape, radius in cases:
        img, msk = _case(shape, radius, seed=1)
        n_vox = int((msk.array > 0).sum())
        w_all, c_all, f_all = _time_cpu(
            lambda i=img, m=msk: extract_features(i, m, config=cfg_all), args.repeat
        )
        w_3d, c_3d, f_3d = _time_cpu(
            lambda i=img, m=msk: extract_features(i, m, config=cfg_3d), args.repeat
        )
        fam_like = f_3d[f_3d["family"].isin(LIKE_PYRAD)]
        like = set(LIKE_MORPH) | set(fam_like.loc[fam_like["family"] != "morphology", "feature"])
        w_lk, c_lk, f_lk = _time_cpu(lambda i=img, m=msk, k=like: extract_features(i, m, config=cfg_like, families=LIKE_PYRAD,
                                                                                   features=k), args.repeat)  # fmt: skip
        w_py, c_py, n_py, vals = float("nan"), float("nan"), 0, {}
        if have_pyrad:
            write_volume(img, tmp / "ct.nii.gz")
            write_volume(msk, tmp / "mask.nii.gz")
            res = subprocess.run(
                [str(pyrad), "-c", PYRAD_SCRIPT, str(tmp / "ct.nii.gz"), str(tmp / "mask.nii.gz"), "features",
                 str(args.repeat)],
                capture_output=True, text=True, check=True, env=ONE_THREAD,
            )  # fmt: skip
            out = json.loads(res.stdout.strip().splitlines()[-1])
            w_py, c_py, n_py, vals = out["seconds"], out["cpu_seconds"], out["n"], out["values"]
        for clock, (t_all, t_3d, t_lk, t_py) in (("cpu", (c_all, c_3d, c_lk, c_py)),
                                                 ("wall", (w_all, w_3d, w_lk, w_py))):  # fmt: skip
            tables[clock].append(
                f"{name:<24}{n_vox:>8}{t_all:>15.3f}{len(f_all):>5}{t_3d:>9.3f}{len(f_3d):>5}"
                f"{t_lk:>7.3f}{len(f_lk):>5}{t_py:>8.3f}{n_py:>5}{t_py / t_all:>7.1f}x{t_py / t_3d:>8.1f}x"
                f"{t_py / t_lk:>7.1f}x"
            )  # fmt: skip
        if args.breakdown and name.startswith("128x128x64"):
            breakdown = (img, msk)
        if vals:
            for (feat, agg), key in COMPARE.items():
                # mean, variance, ... exist in both first-order families: take the statistics
                fam = f_3d["family"] != (
                    "intensity_statistics"
                    if feat in ("entropy", "uniformity")
                    else "intensity_histogram"
                )
                sel = (f_3d["feature"] == feat) & (f_3d["aggregation"] == agg) & fam
                if sel.sum() != 1 or key not in vals:
                    continue
                ours = float(f_3d.loc[sel, "value"].iloc[0])
                rel = abs(ours - vals[key]) / max(abs(vals[key]), 1e-12)
                agreement.append((name, feat, agg, ours, vals[key], rel))
    print(
        "full = ithkit's full IBSI set (all families; 'all aggr.': 2D + 2.5D + 3D, '3D': 3D only);"
    )
    print("like = like-for-like, only the features PyRadiomics also computes; x = PyRad / ithkit")
    print(f"\n## Whole-ROI features, CPU seconds of the process (median of {args.repeat} after "
          "warm-up; both tools single-threaded here, robust to a shared CPU)")  # fmt: skip
    print(head, *tables["cpu"], sep="\n")
    print(f"\n## Whole-ROI features, wall seconds (median of {args.repeat} after warm-up)")
    print(head, *tables["wall"], sep="\n")
    if args.breakdown:
        print("\n## ithkit time per family group, 128x128x64 case, 3D aggregations (s)")
        _breakdown(*breakdown, cfg_3d, args.repeat)
    if agreement:
        print("\n## Agreement where the definitions coincide (relative difference)")
        worst = {}
        for name, feat, agg, ours, theirs, rel in agreement:
            worst[(feat, agg)] = max(worst.get((feat, agg), 0.0), rel)
            if name.startswith("128x128x64"):
                print(f"{feat + ' [' + agg + ']':<42}{ours:>14.6g}{theirs:>14.6g}{rel:>10.2e}")
        print(f"features compared: {len(worst)}; max relative difference over cases: "
              f"{max(worst.values()):.2e}")  # fmt: skip
    if args.no_maps:
        return
    rep_maps = max(1, min(args.repeat, 3))
    print(f"\n## Voxel-wise maps, 5x5x5 kernel, 10 maps (wall seconds, median of {rep_maps})")
    print(
        f"{'case':<24}{'voxels':>9}{'ithkit':>10}{'PyRad':>10}{'speed-up':>10}{'max rel diff':>14}"
    )
    for name, shape, radius, run_py in (("64^3 box, r=8", (64, 64, 64), 8.0, True),
                                        ("128x128x64, 57.8k vox", (64, 128, 128), 23.99, True)):  # fmt: skip
        img, msk = _case(shape, radius, seed=2)
        n_vox = int((msk.array > 0).sum())
        t_it, maps = _time(
            lambda i=img, m=msk: feature_maps(i, m, kernel_voxels=5, config=cfg_all), rep_maps
        )
        t_py, diff = float("nan"), float("nan")
        if have_pyrad and run_py:
            write_volume(img, tmp / "ct.nii.gz")
            write_volume(msk, tmp / "mask.nii.gz")
            res = subprocess.run(
                [str(pyrad), "-c", PYRAD_SCRIPT, str(tmp / "ct.nii.gz"), str(tmp / "mask.nii.gz"),
                 "maps", str(rep_maps), str(tmp / "maps.json")], capture_output=True, text=True, check=True,
            )  # fmt: skip
            t_py = json.loads(res.stdout.strip().splitlines()[-1])["seconds"]
            pm = json.loads((tmp / "maps.json").read_text())
            roi = msk.array > 0
            pairs = {"mean": "original_firstorder_Mean", "variance": "original_firstorder_Variance",
                     "entropy": "original_firstorder_Entropy"}  # fmt: skip
            diffs = []
            for ours_name, key in pairs.items():
                theirs = np.asarray(pm[key])
                if theirs.shape != roi.shape:
                    continue
                a = np.asarray(maps[ours_name].array)[roi]
                b = theirs[roi]
                diffs.append(float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9))))
            diff = max(diffs) if diffs else float("nan")
        print(f"{name:<24}{n_vox:>9}{t_it:>10.2f}{t_py:>10.2f}{t_py / t_it:>9.1f}x{diff:>14.2e}")
    if args.maps_large:
        _maps_large(args, pyrad, have_pyrad, tmp)


if __name__ == "__main__":
    main()
