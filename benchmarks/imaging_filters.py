"""IBSI-2 phase 1: ithkit response maps vs the IBSI consensus reference response maps.

Usage::

    python benchmarks/imaging_filters.py PHANTOM_DIR CRM_DIR [--repeat 3] \
        [--mirp-python MIRP_VENV/bin/python --mirp-phantoms DIR] \
        [--pictologics-python PICTO_VENV/bin/python] [--ct CT_DIR --reference-values CSV]

``PHANTOM_DIR`` holds the IBSI-2 digital phantoms (``checkerboard.nii.gz``, ``impulse.nii.gz``,
``sphere.nii.gz``, ``pattern_1.nii.gz``; CC BY 4.0, github.com/theibsi/data_sets,
``ibsi_2_digital_phantom/nifti``); ``CRM_DIR`` the consensus reference maps
(``<id>-ValidCRM.nii``; CC0, github.com/theibsi/ibsi_2_reference_data,
``reference_response_maps``). A case passes when every voxel is within 1% of the reference
map's intensity range (the IBSI-2 rule). Prints one row per case: pass, max |diff| / range,
ithkit time, and each peer's deviation and time when its environment is given.

Peers run in their own environments (a subprocess each, one BLAS/OpenMP/numba thread, CPU
seconds of the process, median of ``--repeat`` runs after a warm-up run):

* MIRP 2.x (``--mirp-python``; it needs its own numpy/itk pins);
* pictologics 0.9 (``--pictologics-python``). pictologics requires Python >= 3.12, so ithkit's
  3.11 environment cannot install it (``pip download pictologics`` there reports only versions
  that "require a different python version"); make a 3.12 venv and ``pip install
  pictologics==0.9.0``. Its filters are volumetric (plus the in-plane Gabor), so the 2D mean,
  LoG and Laws cases (1.b.1, 2.c, 3.c.*) have no pictologics call and are left out of its
  columns; arrays are read with nibabel in (x, y, z) order, as pictologics expects.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# IBSI-2 reference manual (arXiv:2006.05470), phase 1 test configurations
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "1.a.1": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "constant"}),
    "1.a.2": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "nearest"}),
    "1.a.3": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "periodic"}),
    "1.a.4": ("checkerboard", {"filter": "mean", "size": 15, "boundary": "mirror"}),
    "1.b.1": ("impulse", {"filter": "mean", "size": 15, "boundary": "constant", "dims": 2}),
    "2.a": ("impulse", {"filter": "log", "sigma_mm": 3.0, "boundary": "constant"}),
    "2.b": ("checkerboard", {"filter": "log", "sigma_mm": 5.0, "boundary": "mirror"}),
    "2.c": ("checkerboard", {"filter": "log", "sigma_mm": 5.0, "boundary": "mirror", "dims": 2}),
    "3.a.1": ("impulse", {"filter": "laws", "laws_kernel": "E5L5S5", "boundary": "constant"}),
    "3.a.2": (
        "impulse",
        {
            "filter": "laws",
            "laws_kernel": "E5L5S5",
            "boundary": "constant",
            "rotation_invariant": True,
            "pooling": "max",
        },
    ),
    "3.a.3": (
        "impulse",
        {
            "filter": "laws",
            "laws_kernel": "E5L5S5",
            "boundary": "constant",
            "rotation_invariant": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "3.b.1": ("checkerboard", {"filter": "laws", "laws_kernel": "E3W5R5", "boundary": "mirror"}),
    "3.b.2": (
        "checkerboard",
        {
            "filter": "laws",
            "laws_kernel": "E3W5R5",
            "boundary": "mirror",
            "rotation_invariant": True,
            "pooling": "max",
        },
    ),
    "3.b.3": (
        "checkerboard",
        {
            "filter": "laws",
            "laws_kernel": "E3W5R5",
            "boundary": "mirror",
            "rotation_invariant": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "3.c.1": (
        "checkerboard",
        {"filter": "laws", "laws_kernel": "L5S5", "boundary": "mirror", "dims": 2},
    ),
    "3.c.2": (
        "checkerboard",
        {
            "filter": "laws",
            "laws_kernel": "L5S5",
            "boundary": "mirror",
            "dims": 2,
            "rotation_invariant": True,
            "pooling": "max",
        },
    ),
    "3.c.3": (
        "checkerboard",
        {
            "filter": "laws",
            "laws_kernel": "L5S5",
            "boundary": "mirror",
            "dims": 2,
            "rotation_invariant": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "4.a.1": (
        "impulse",
        {
            "filter": "gabor",
            "sigma_mm": 10.0,
            "wavelength_mm": 4.0,
            "gamma": 0.5,
            "theta_deg": 60.0,
            "boundary": "constant",
            "dims": 2,
        },
    ),
    "4.a.2": (
        "impulse",
        {
            "filter": "gabor",
            "sigma_mm": 10.0,
            "wavelength_mm": 4.0,
            "gamma": 0.5,
            "theta_deg": 0.0,
            "theta_step_deg": 45.0,
            "rotation_invariant": True,
            "pooling": "mean",
            "orthogonal_planes": True,
            "boundary": "constant",
            "dims": 2,
        },
    ),
    "4.b.1": (
        "sphere",
        {
            "filter": "gabor",
            "sigma_mm": 20.0,
            "wavelength_mm": 8.0,
            "gamma": 2.5,
            "theta_deg": 225.0,
            "boundary": "mirror",
            "dims": 2,
        },
    ),
    "4.b.2": (
        "sphere",
        {
            "filter": "gabor",
            "sigma_mm": 20.0,
            "wavelength_mm": 8.0,
            "gamma": 2.5,
            "theta_deg": 0.0,
            "theta_step_deg": 22.5,
            "rotation_invariant": True,
            "pooling": "mean",
            "orthogonal_planes": True,
            "boundary": "mirror",
            "dims": 2,
        },
    ),
    "5.a.1": (
        "impulse",
        {"filter": "wavelet", "wavelet": "db2", "subband": "LHL", "boundary": "constant"},
    ),
    "5.a.2": (
        "impulse",
        {
            "filter": "wavelet",
            "wavelet": "db2",
            "subband": "LHL",
            "boundary": "constant",
            "rotation_invariant": True,
            "pooling": "mean",
        },
    ),
    "6.a.1": (
        "sphere",
        {"filter": "wavelet", "wavelet": "coif1", "subband": "HHL", "boundary": "periodic"},
    ),
    "6.a.2": (
        "sphere",
        {
            "filter": "wavelet",
            "wavelet": "coif1",
            "subband": "HHL",
            "boundary": "periodic",
            "rotation_invariant": True,
            "pooling": "mean",
        },
    ),
    "7.a.1": (
        "checkerboard",
        {
            "filter": "wavelet",
            "wavelet": "haar",
            "subband": "LLL",
            "level": 2,
            "boundary": "mirror",
            "rotation_invariant": True,
            "pooling": "mean",
        },
    ),
    "7.a.2": (
        "checkerboard",
        {
            "filter": "wavelet",
            "wavelet": "haar",
            "subband": "HHH",
            "level": 2,
            "boundary": "mirror",
            "rotation_invariant": True,
            "pooling": "mean",
        },
    ),
    "8.a.1": ("checkerboard", {"filter": "simoncelli", "level": 1, "boundary": "periodic"}),
    "8.a.2": ("checkerboard", {"filter": "simoncelli", "level": 2, "boundary": "periodic"}),
    "8.a.3": ("checkerboard", {"filter": "simoncelli", "level": 3, "boundary": "periodic"}),
    "9.a": (
        "impulse",
        {
            "filter": "riesz",
            "riesz_base": "log",
            "sigma_mm": 3.0,
            "riesz_order": [1, 0, 0],
            "boundary": "constant",
        },
    ),
    "9.b.1": (
        "sphere",
        {
            "filter": "riesz",
            "riesz_base": "log",
            "sigma_mm": 3.0,
            "riesz_order": [0, 2, 0],
            "boundary": "constant",
        },
    ),
    "10.b.1": (
        "pattern_1",
        {
            "filter": "riesz",
            "riesz_base": "simoncelli",
            "level": 1,
            "riesz_order": [0, 2, 0],
            "boundary": "nearest",
        },
    ),
}


# IBSI-2 phase 2 (filtered intensity statistics on the IBSI CT phantom): configuration id ->
# filter settings; "A" = 2D (axial slices, no resampling), "B" = 3D (1 mm isotropic, cubic
# B-spline, intensities rounded). Both re-segment the ROI to [-1000, 400] HU, mirror padding.
PHASE2: dict[str, dict[str, Any] | None] = {
    "1": None,
    "2": {"filter": "mean", "size": 5},
    "3": {"filter": "log", "sigma_mm": 1.5},
    "4": {"filter": "laws", "laws_kernel": "L5E5E5", "energy_distance": 7,
          "rotation_invariant": True, "pooling": "max"},
    "5": {"filter": "gabor", "sigma_mm": 5.0, "gamma": 1.5, "wavelength_mm": 2.0,
          "theta_step_deg": 22.5, "rotation_invariant": True, "pooling": "mean"},
    "6": {"filter": "wavelet", "wavelet": "db3", "subband": "LLH", "rotation_invariant": True,
          "pooling": "mean"},
    "7": {"filter": "wavelet", "wavelet": "db3", "subband": "HHH", "level": 2,
          "rotation_invariant": True, "pooling": "mean"},
    "8": {"filter": "simoncelli", "level": 1},
    "9": {"filter": "simoncelli", "level": 2},
}  # fmt: skip


def phase2_spec(config_id: str, dims: int) -> Any:
    from ithkit.imaging._filters import FilterSpec

    settings = PHASE2[config_id]
    if settings is None:
        return None
    s = {**settings, "boundary": "mirror", "dims": dims}
    if s["filter"] == "laws" and dims == 2:
        s["laws_kernel"] = "L5E5"
    if s["filter"] == "wavelet" and dims == 2:
        s["subband"] = {"LLH": "LH", "HHH": "HH"}[s["subband"]]
    if s["filter"] == "gabor" and dims == 3:
        s = {**s, "dims": 2, "orthogonal_planes": True}
    return FilterSpec.from_dict(s)


def phase2(ct_dir: Path, reference_csv: Path) -> list[dict[str, Any]]:
    """Filtered statistics of the CT phantom vs IBSI-2 phase-2 reference values."""
    import pandas as pd

    from ithkit.imaging import FeatureConfig, Volume, read_image, read_mask
    from ithkit.imaging._extract import prepare
    from ithkit.imaging._features import roi_features
    from ithkit.imaging._filters import IBSI2_TAGS, filtered_features

    ref = pd.read_csv(reference_csv, sep=";")
    image = read_image(ct_dir / "image.nii.gz")
    mask = read_mask(ct_dir / "mask.nii.gz")
    rows = []
    for variant, dims in (("A", 2), ("B", 3)):
        cfg = FeatureConfig(resegment_range=(-1000.0, 400.0),
                            resample_mm=None if dims == 2 else (1.0, 1.0, 1.0),
                            interpolation="bspline")  # fmt: skip
        img, msk = prepare(image, mask, label=None, config=cfg)
        if dims == 3:
            img = Volume(np.round(img.array), img.spacing, img.origin, img.direction)
        for cid in PHASE2:
            spec = phase2_spec(cid, dims)
            t0 = time.process_time()
            if spec is None:
                t = roi_features(img.array, msk.array > 0, img.spacing_zyx, config=cfg,
                                 families=("intensity_statistics",))  # fmt: skip
                t["feature_tag"] = t["feature"].map(IBSI2_TAGS)
            else:
                t = filtered_features(img, msk, [spec], config=cfg)
            secs = time.process_time() - t0
            got = dict(zip(t["feature_tag"], t["value"], strict=True))
            sub = ref[(ref.filter_id == f"{cid}.{variant}") & ref.consensus_value.notna()]
            ok = [abs(got[r.feature_tag] - r.consensus_value) <= r.tolerance
                  for r in sub.itertuples()]  # fmt: skip
            rows.append({"config": f"{cid}.{variant}", "matched": sum(ok), "n": len(ok),
                         "failed": [r.feature_tag for r, k in zip(sub.itertuples(), ok,
                                                                  strict=True) if not k],
                         "seconds": secs})  # fmt: skip
    return rows


def crm_path(crm_dir: Path, case: str) -> Path:
    return crm_dir / f"{case.replace('.', '_')}-ValidCRM.nii"


_MIRP_BOUNDARY = {"constant": "constant", "nearest": "nearest", "periodic": "wrap",
                  "mirror": "reflect"}  # fmt: skip


def mirp_settings(s: dict[str, Any]) -> dict[str, Any] | None:
    """The same case in MIRP 2.x settings (None: MIRP has no such filter)."""
    f, b = s["filter"], _MIRP_BOUNDARY[s.get("boundary", "mirror")]
    kw: dict[str, Any] = {"by_slice": s.get("dims", 3) == 2 and not s.get("orthogonal_planes")}
    inv, pool = bool(s.get("rotation_invariant")), s.get("pooling", "max")
    if f == "mean":
        kw |= {
            "filter_kernels": "mean",
            "mean_filter_kernel_size": s["size"],
            "mean_filter_boundary_condition": b,
        }
    elif f == "log":
        kw |= {
            "filter_kernels": "laplacian_of_gaussian",
            "laplacian_of_gaussian_sigma": s["sigma_mm"],
            "laplacian_of_gaussian_kernel_truncate": 4.0,
            "laplacian_of_gaussian_boundary_condition": b,
        }
    elif f == "laws":
        kw |= {
            "filter_kernels": "laws",
            "laws_kernel": s["laws_kernel"],
            "laws_compute_energy": s.get("energy_distance") is not None,
            "laws_delta": s.get("energy_distance") or 7,
            "laws_rotation_invariance": inv,
            "laws_pooling_method": pool,
            "laws_boundary_condition": b,
        }
    elif f == "gabor":
        kw |= {
            "filter_kernels": "gabor",
            "gabor_sigma": s["sigma_mm"],
            "gabor_gamma": s["gamma"],
            "gabor_lambda": s["wavelength_mm"],
            "gabor_theta": s.get("theta_deg", 0.0),
            "gabor_response": "modulus",
            "gabor_rotation_invariance": inv,
            "gabor_boundary_condition": b,
            "by_slice": False,
        }
        if inv:
            kw |= {"gabor_theta_step": s["theta_step_deg"], "gabor_pooling_method": pool}
    elif f == "wavelet":
        kw |= {
            "filter_kernels": "separable_wavelet",
            "separable_wavelet_families": s["wavelet"],
            "separable_wavelet_set": s["subband"],
            "separable_wavelet_rotation_invariance": inv,
            "separable_wavelet_pooling_method": pool,
            "separable_wavelet_decomposition_level": s.get("level", 1),
            "separable_wavelet_boundary_condition": b,
        }
    elif f == "simoncelli":
        kw |= {
            "filter_kernels": "nonseparable_wavelet",
            "nonseparable_wavelet_families": "simoncelli",
            "nonseparable_wavelet_decomposition_level": s["level"],
            "nonseparable_wavelet_boundary_condition": b,
        }
    else:
        return None
    return kw  # fmt: skip


def mirp_worker(phantom_dirs: Path, crm_dir: Path, repeat: int) -> None:
    """Run in MIRP's environment: time MIRP on every case; print JSON lines."""
    import json

    from mirp import extract_images

    for case, (phantom, settings) in CASES.items():
        kw = mirp_settings(settings)
        if kw is None:
            continue
        base = phantom_dirs / phantom
        cpu, wall, out = [], [], None
        for _ in range(repeat + 1):  # the first call includes MIRP's one-off set-up
            t0, c0 = time.perf_counter(), time.process_time()
            res = extract_images(image=str(base / "image"), mask=str(base / "mask"),
                                 image_export_format="numpy", export_images=True,
                                 write_images=False, base_feature_families="none",
                                 response_map_feature_families="none", **kw)  # fmt: skip
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            out = res[0][0][-1]
        diff = None
        ref_path = crm_path(crm_dir, case)
        if ref_path.exists() and out is not None:
            import itk  # MIRP's image library

            ref = itk.GetArrayFromImage(itk.imread(str(ref_path))).astype(float)
            if out.shape == ref.shape:
                diff = float(np.abs(out - ref).max() / (ref.max() - ref.min()))
        print(json.dumps({"case": case, "mirp_cpu": float(np.median(cpu[1:])),
                          "mirp_wall": float(np.median(wall[1:])), "mirp_diff": diff}))  # fmt: skip


def run_mirp(python: str, phantom_dirs: Path, crm_dir: Path, repeat: int) -> dict[str, Any]:
    import json
    import subprocess

    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    proc = subprocess.run(
        [python, __file__, "--mirp-worker", str(phantom_dirs), str(crm_dir),
         "--repeat", str(repeat)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["case"]: r for r in rows}


_PICTO_BOUNDARY = {"constant": "ZERO", "nearest": "NEAREST", "periodic": "PERIODIC",
                   "mirror": "MIRROR"}  # fmt: skip


def pictologics_call(s: dict[str, Any], spacing: tuple[float, ...]) -> Any:
    """The case as a pictologics 0.9 filter call on an (x, y, z) array (None: not available).

    pictologics filters volumes; its Gabor filter works in the (x, y) plane. The 2D mean, LoG
    and Laws cases (kernels in the axial plane, slice by slice) have no pictologics call.
    """
    from pictologics import filters as pf

    f, b = s["filter"], _PICTO_BOUNDARY[s.get("boundary", "mirror")]
    inv = bool(s.get("rotation_invariant"))
    pool = {"mean": "average"}.get(s.get("pooling", "max"), s.get("pooling", "max"))
    if s.get("dims", 3) == 2 and f != "gabor":
        return None
    if f == "mean":
        return lambda a: pf.mean_filter(a, support=s["size"], boundary=b)
    if f == "log":
        return lambda a: pf.laplacian_of_gaussian(
            a, sigma_mm=s["sigma_mm"], spacing_mm=spacing, truncate=4.0, boundary=b
        )
    if f == "laws":
        return lambda a: pf.laws_filter(
            a, kernels=s["laws_kernel"], boundary=b, rotation_invariant=inv, pooling=pool,
            compute_energy=s.get("energy_distance") is not None,
            energy_distance=s.get("energy_distance") or 7,
        )  # fmt: skip
    if f == "gabor":
        step = s.get("theta_step_deg")
        return lambda a: pf.gabor_filter(
            a, sigma_mm=s["sigma_mm"], lambda_mm=s["wavelength_mm"], gamma=s["gamma"],
            theta=np.deg2rad(s.get("theta_deg", 0.0)), spacing_mm=spacing, boundary=b,
            rotation_invariant=inv, delta_theta=np.deg2rad(step) if step else None,
            pooling=pool, average_over_planes=bool(s.get("orthogonal_planes")),
        )  # fmt: skip
    if f == "wavelet":
        return lambda a: pf.wavelet_transform(
            a, wavelet=s["wavelet"], level=s.get("level", 1), decomposition=s["subband"],
            boundary=b, rotation_invariant=inv, pooling=pool,
        )  # fmt: skip
    if f == "simoncelli":
        return lambda a: pf.simoncelli_wavelet(a, level=s["level"], boundary=b)
    if f == "riesz" and s["riesz_base"] == "log":
        return lambda a: pf.riesz_log(
            a, sigma_mm=s["sigma_mm"], spacing_mm=spacing, order=tuple(s["riesz_order"]),
            truncate=4.0, boundary=b,
        )  # fmt: skip
    if f == "riesz":
        return lambda a: pf.riesz_simoncelli(
            a, level=s["level"], order=tuple(s["riesz_order"]), boundary=b
        )
    return None


def pictologics_worker(phantoms: Path, crm_dir: Path, repeat: int) -> None:
    """Run in pictologics' environment (Python >= 3.12): time every case; print JSON lines.

    Images are read with nibabel (inside the timing), so arrays are in (x, y, z) order as
    pictologics expects; the reference maps are read the same way.
    """
    import json

    import nibabel as nib

    for case, (phantom, settings) in CASES.items():
        img = nib.load(str(phantoms / f"{phantom}.nii.gz"))
        spacing = tuple(float(v) for v in img.header.get_zooms()[:3])
        call = pictologics_call(settings, spacing)
        if call is None:
            continue
        cpu, wall, out = [], [], None
        for _ in range(repeat + 1):  # the first call includes numba's compilation
            # from the NIfTI file to the response map, as ithkit and MIRP are timed
            t0, c0 = time.perf_counter(), time.process_time()
            arr = np.asarray(nib.load(str(phantoms / f"{phantom}.nii.gz")).get_fdata())
            out = np.asarray(call(arr), dtype=np.float64)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        diff = None
        ref_path = crm_path(crm_dir, case)
        if ref_path.exists() and out is not None:
            ref = np.asarray(nib.load(str(ref_path)).get_fdata(), dtype=np.float64)
            if out.shape == ref.shape:
                diff = float(np.abs(out - ref).max() / (ref.max() - ref.min()))
        row = {"case": case, "picto_cpu": float(np.median(cpu[1:])),
               "picto_wall": float(np.median(wall[1:])), "picto_diff": diff}  # fmt: skip
        print(json.dumps(row), flush=True)


def run_pictologics(python: str, phantoms: Path, crm_dir: Path, repeat: int) -> dict[str, Any]:
    import json
    import subprocess

    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}  # fmt: skip
    proc = subprocess.run(
        [python, __file__, "--pictologics-worker", str(phantoms), str(crm_dir),
         "--repeat", str(repeat)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["case"]: r for r in rows}


def compare(phantoms: Path, crm_dir: Path, repeat: int = 1) -> list[dict[str, Any]]:
    """One row per case with a reference map: case, passed, max_rel_diff, seconds."""
    from ithkit.imaging import filter_image, read_image
    from ithkit.imaging._filters import FilterSpec

    rows = []
    images = {}
    for case, (phantom, settings) in CASES.items():
        ref_path = crm_path(crm_dir, case)
        if not ref_path.exists():
            continue
        if phantom not in images:
            images[phantom] = read_image(phantoms / f"{phantom}.nii.gz")
        spec = FilterSpec.from_dict(settings)
        times, cpu = [], []
        for _ in range(max(1, repeat)):
            t0, c0 = time.perf_counter(), time.process_time()
            out = filter_image(read_image(phantoms / f"{phantom}.nii.gz"), spec)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        ref = read_image(ref_path).array.astype(float)
        rng = float(ref.max() - ref.min()) or 1.0
        diff = float(np.abs(out.array - ref).max()) / rng
        rows.append({"case": case, "phantom": phantom, "passed": diff <= 0.01,
                     "max_rel_diff": diff, "seconds": float(np.median(times)),
                     "cpu": float(np.median(cpu))})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--mirp-worker":
        mirp_worker(Path(argv[1]), Path(argv[2]), int(argv[4]) if len(argv) > 4 else 1)
        return 0
    if argv and argv[0] == "--pictologics-worker":
        pictologics_worker(Path(argv[1]), Path(argv[2]), int(argv[4]) if len(argv) > 4 else 1)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phantoms", type=Path)
    ap.add_argument("crm", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ct", type=Path, help="folder with the IBSI CT phantom image/mask.nii.gz")
    ap.add_argument("--reference-values", type=Path, help="IBSI-2 reference_values.csv")
    ap.add_argument("--mirp-python", help="python of an environment with MIRP 2.x installed")
    ap.add_argument(
        "--pictologics-python",
        help="python (>= 3.12) of an environment with pictologics installed",
    )
    ap.add_argument(
        "--mirp-phantoms",
        type=Path,
        help="phantom folders as MIRP reads them: <phantom>/image, <phantom>/mask",
    )
    args = ap.parse_args(argv)
    if args.ct is not None:
        p2 = phase2(args.ct, args.reference_values)
        print(f"{'config':<7} {'matched':>8} {'ithkit cpu s':>12}  failed")
        for r in p2:
            print(f"{r['config']:<7} {r['matched']:>4}/{r['n']:<3} {r['seconds']:>12.3f}  "
                  f"{','.join(r['failed'])}")  # fmt: skip
        print(f"phase 2: {sum(r['matched'] for r in p2)}/{sum(r['n'] for r in p2)} values")
    rows = compare(args.phantoms, args.crm, repeat=args.repeat)
    mirp = {}
    if args.mirp_python:
        mirp = run_mirp(args.mirp_python, args.mirp_phantoms, args.crm, args.repeat)
    picto = {}
    if args.pictologics_python:
        picto = run_pictologics(args.pictologics_python, args.phantoms, args.crm, args.repeat)
    print(
        f"{'case':<7} {'phantom':<13} {'pass':<5} {'max|diff|/range':>16} {'ithkit cpu s':>12} "
        f"{'wall s':>7} {'MIRP diff':>10} {'MIRP cpu s':>10} {'wall s':>7} {'speed-up':>8}"
        + (f" {'picto diff':>10} {'picto cpu s':>11} {'wall s':>7} {'speed-up':>8}"
           if picto else "")
    )  # fmt: skip
    for r in rows:
        m = mirp.get(r["case"], {})
        md = "" if m.get("mirp_diff") is None else f"{m['mirp_diff']:.2e}"
        mc = f"{m['mirp_cpu']:.3f}" if m else ""
        mw = f"{m['mirp_wall']:.3f}" if m else ""
        su = f"{m['mirp_cpu'] / r['cpu']:.1f}x" if m and r["cpu"] > 0 else ""
        line = (f"{r['case']:<7} {r['phantom']:<13} {r['passed']!s:<5} "
                f"{r['max_rel_diff']:>16.2e} {r['cpu']:>12.3f} {r['seconds']:>7.3f} {md:>10} "
                f"{mc:>10} {mw:>7} {su:>8}")  # fmt: skip
        if picto:
            p = picto.get(r["case"], {})
            pd_ = "" if p.get("picto_diff") is None else f"{p['picto_diff']:.2e}"
            pc = f"{p['picto_cpu']:.3f}" if p else ""
            pw = f"{p['picto_wall']:.3f}" if p else ""
            ps = f"{p['picto_cpu'] / r['cpu']:.1f}x" if p and r["cpu"] > 0 else ""
            line += f" {pd_:>10} {pc:>11} {pw:>7} {ps:>8}"
        print(line)
    for name, peer, key in (("MIRP", mirp, "mirp_cpu"), ("pictologics", picto, "picto_cpu")):
        both = [r for r in rows if r["case"] in peer]
        if both:
            ratio = sum(peer[r["case"]][key] for r in both) / sum(r["cpu"] for r in both)
            print(f"total CPU over {len(both)} shared cases: {name} / ithkit = {ratio:.1f}x")
    n_pass = sum(r["passed"] for r in rows)
    print(f"{n_pass}/{len(rows)} cases within 1% of the reference range")
    return 0


if __name__ == "__main__":
    sys.exit(main())
