"""IBSI-2 phase 1: ithkit response maps vs the IBSI consensus reference response maps.

Usage::

    python benchmarks/imaging_filters.py PHANTOM_DIR CRM_DIR [--repeat 3] [--mirp]

``PHANTOM_DIR`` holds the IBSI-2 digital phantoms (``checkerboard.nii.gz``, ``impulse.nii.gz``,
``sphere.nii.gz``, ``pattern_1.nii.gz``; CC BY 4.0, github.com/theibsi/data_sets,
``ibsi_2_digital_phantom/nifti``); ``CRM_DIR`` the consensus reference maps
(``<id>-ValidCRM.nii``; CC0, github.com/theibsi/ibsi_2_reference_data,
``reference_response_maps``). A case passes when every voxel is within 1% of the reference
map's intensity range (the IBSI-2 rule). Prints one row per case: pass, max |diff| / range,
ithkit time, and MIRP's time when ``--mirp`` is given and MIRP is installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ithkit.imaging import filter_image, read_image
from ithkit.imaging._filters import FilterSpec

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


def crm_path(crm_dir: Path, case: str) -> Path:
    return crm_dir / f"{case.replace('.', '_')}-ValidCRM.nii"


def compare(phantoms: Path, crm_dir: Path, repeat: int = 1) -> list[dict[str, Any]]:
    """One row per case with a reference map: case, passed, max_rel_diff, seconds."""
    rows = []
    images = {}
    for case, (phantom, settings) in CASES.items():
        ref_path = crm_path(crm_dir, case)
        if not ref_path.exists():
            continue
        if phantom not in images:
            images[phantom] = read_image(phantoms / f"{phantom}.nii.gz")
        spec = FilterSpec.from_dict(settings)
        times = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            out = filter_image(images[phantom], spec)
            times.append(time.perf_counter() - t0)
        ref = read_image(ref_path).array.astype(float)
        rng = float(ref.max() - ref.min()) or 1.0
        diff = float(np.abs(out.array - ref).max()) / rng
        rows.append({"case": case, "phantom": phantom, "passed": diff <= 0.01,
                     "max_rel_diff": diff, "seconds": float(np.median(times))})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phantoms", type=Path)
    ap.add_argument("crm", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows = compare(args.phantoms, args.crm, repeat=args.repeat)
    print(f"{'case':<7} {'phantom':<13} {'pass':<5} {'max|diff|/range':>16} {'ithkit s':>9}")
    for r in rows:
        print(f"{r['case']:<7} {r['phantom']:<13} {r['passed']!s:<5} "
              f"{r['max_rel_diff']:>16.2e} {r['seconds']:>9.3f}")  # fmt: skip
    n_pass = sum(r["passed"] for r in rows)
    print(f"{n_pass}/{len(rows)} cases within 1% of the reference range")
    return 0


if __name__ == "__main__":
    sys.exit(main())
