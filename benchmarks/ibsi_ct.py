"""IBSI-1 CT radiomics phantom, configurations A-E: ithkit against the IBSI reference values.

Run:  .venv/bin/python benchmarks/ibsi_ct.py DATA_DIR [--configs A,B,C,D,E] [--verbose]

DATA_DIR (never committed) holds, anywhere below it:

* ``phantom.nii.gz`` and ``mask.nii.gz``: the IBSI lung-cancer CT phantom (PAT1, GTV-1), e.g.
  oncoray/mirp ``test/data/ibsi_1_ct_radiomics_phantom/nifti/{image,mask}/`` (CC BY 4.0);
* ``*config_a.csv`` ... ``*config_e.csv``: the IBSI reference values, ``value;tolerance;tag``,
  e.g. oncoray/mirp ``test/data/ibsi_1_reference_values/ibsi_1_chest_config_?.csv``.

Settings per configuration (IBSI reference manual, chapter 5, "Configurations"):

=====  =========================  =====================  ==========  =========  ============
conf.  resampling                 re-segmentation (HU)   texture/IH  IVH        aggregation
=====  =========================  =====================  ==========  =========  ============
A      none                       [-500, 400]            FBS 25      none       2D, 2.5D
B      2x2 mm in-plane, linear    [-500, 400]            FBN 32      none       2D, 2.5D
C      2 mm isotropic, linear     [-1000, 400]           FBS 25      FBS 2.5    3D
D      2 mm isotropic, linear     3 sigma outliers       FBN 32      none       3D
E      2 mm isotropic, B-spline   [-1000, 400] + 3 sigma FBN 32      FBN 1000   3D
=====  =========================  =====================  ==========  =========  ============

Interpolated intensities are rounded to the nearest integer (IBSI: "intensity rounding").
Match rule of IBSI: round the computed value to three significant figures, then
|x - reference| <= tolerance. Reference rows without a value (features IBSI has no consensus
for) and the image/mask diagnostics (``*_init_img``, ``*_reseg_roi``, ...) are not compared;
features ithkit computes but IBSI gives no value for are listed with ``--verbose``.
The tag -> (IBSI code, aggregation) mapping is the digital-phantom test's table.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ithkit.imaging import FeatureConfig, Volume, read_image, read_mask, roi_features
from ithkit.imaging._extract import prepare

ROOT = Path(__file__).resolve().parents[1]
AGG_2D = ["none", "2d_average", "2d_slice_merged", "2_5d_direction_merged", "2_5d_merged"]
AGG_2D += ["2d", "2_5d"]
AGG_3D = ["none", "3d_average", "3d_merged", "3d"]

CONFIGS: dict[str, dict[str, Any]] = {
    "A": {
        "resample_mm": None,
        "resegment_range": [-500, 400],
        "discretisation": {"method": "fixed_bin_size", "value": 25},
        "ivh_discretisation": {"method": "none"},
        "aggregation": AGG_2D,
    },
    "B": {
        "resample_mm": "in_plane_2",
        "interpolation": "linear",
        "resegment_range": [-500, 400],
        "discretisation": {"method": "fixed_bin_number", "value": 32},
        "ivh_discretisation": {"method": "none"},
        "aggregation": AGG_2D,
    },
    "C": {
        "resample_mm": [2, 2, 2],
        "interpolation": "linear",
        "resegment_range": [-1000, 400],
        "discretisation": {"method": "fixed_bin_size", "value": 25},
        "ivh_discretisation": {"method": "fixed_bin_size", "value": 2.5},
        "aggregation": AGG_3D,
    },
    "D": {
        "resample_mm": [2, 2, 2],
        "interpolation": "linear",
        "outlier_sigma": 3,
        "discretisation": {"method": "fixed_bin_number", "value": 32},
        "ivh_discretisation": {"method": "none"},
        "aggregation": AGG_3D,
    },
    "E": {
        "resample_mm": [2, 2, 2],
        "interpolation": "bspline",
        "resegment_range": [-1000, 400],
        "outlier_sigma": 3,
        "discretisation": {"method": "fixed_bin_number", "value": 32},
        "ivh_discretisation": {"method": "fixed_bin_number", "value": 1000},
        "aggregation": AGG_3D,
    },
}

# image/mask diagnostics (grid size, voxel counts, ... after each step): not compared
DIAGNOSTIC = re.compile(r"^(img_|diag_)|_(init|interp|reseg)_(img|roi)$")

# features without an IBSI reference value (not in the phantom test's table)
NO_REFERENCE = {
    "morph_vol_dens_ombb": ("ZH1A", "none", None),
    "morph_area_dens_ombb": ("IQYR", "none", None),
    "morph_vol_dens_mvee": ("SWZ1", "none", None),
    "morph_area_dens_mvee": ("BRI8", "none", None),
    "ivh_auc": ("9CMM", "none", None),
}


def tag_map() -> dict[str, tuple[str, str, str | None]]:
    """IBSI tag -> (code, aggregation, ithkit feature name or None), from the phantom test."""
    path = ROOT / "tests" / "imaging" / "test_ibsi_phantom.py"
    spec = importlib.util.spec_from_file_location("_ibsi_phantom_table", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out: dict[str, tuple[str, str, str | None]] = {
        tag: (code, agg, mod._BY_TAG.get(tag)) for tag, code, agg, _, _ in mod.REFERENCE
    }
    out.update(NO_REFERENCE)
    return out


def find(data: Path, pattern: str) -> Path:
    hits = sorted(data.rglob(pattern))
    if not hits:
        sys.exit(f"{pattern} not found under {data}")
    return hits[0]


def read_reference(path: Path) -> list[tuple[str, float | None, float | None]]:
    rows = []
    for line in path.read_text().splitlines()[1:]:
        if not line.strip():
            continue
        value, tol, tag = line.split(";")[:3]
        rows.append((tag, float(value) if value else None, float(tol) if tol else None))
    return rows


def round3(x: float) -> float:
    return float(f"{x:.3g}")


def run_config(name: str, image: Volume, mask: Volume, verbose: bool) -> tuple[int, int]:
    settings = dict(CONFIGS[name])
    if settings["resample_mm"] == "in_plane_2":
        settings["resample_mm"] = [2.0, 2.0, float(image.spacing[2])]
    cfg = FeatureConfig.from_dict(settings, source=f"config {name}")
    t0 = time.perf_counter()
    img, msk = prepare(image, mask, label=None, config=cfg)
    arr = np.round(img.array) if cfg.resample_mm is not None else img.array
    table = roi_features(arr, msk.array.astype(bool), img.spacing_zyx, config=cfg)
    seconds = time.perf_counter() - t0
    by_key: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for feat, code, agg, value in zip(
        table["feature"], table["ibsi_code"], table["aggregation"], table["value"], strict=True
    ):
        by_key.setdefault((code, agg), []).append((feat, float(value)))
    tags = tag_map()
    matched, total, bad, unmapped, noref = 0, 0, [], [], []
    for tag, ref, tol in read_reference(find(DATA, f"*config_{name.lower()}.csv")):
        if DIAGNOSTIC.search(tag):
            continue
        if tag not in tags:
            if ref is not None:
                unmapped.append(tag)
            continue
        code, agg, feat = tags[tag]
        hits = by_key.get((code, agg), [])
        if feat is not None:
            hits = [h for h in hits if h[0] == feat]
        if ref is None or tol is None:
            if hits:
                noref.append(f"{tag}={hits[0][1]:.4g}")
            continue
        total += 1
        if len(hits) != 1:
            bad.append(f"{tag}: {len(hits)} values")
            continue
        x = hits[0][1]
        if math.isfinite(x) and abs(round3(x) - ref) <= tol + 1e-12:
            matched += 1
        else:
            bad.append(f"{tag}: {x:.6g} (ref {ref:g} +/- {tol:g})")
    print(f"config {name}: {matched}/{total} matched ({seconds:.1f} s)")
    for line in bad:
        print(f"  mismatch  {line}")
    if unmapped:
        print(f"  reference tags without an ithkit feature: {', '.join(unmapped)}")
    if verbose and noref:
        print(f"  no IBSI reference: {', '.join(noref)}")
    return matched, total


def main() -> None:
    global DATA
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="folder with the CT phantom and reference csv files")
    ap.add_argument("--configs", default="A,B,C,D,E")
    ap.add_argument("--verbose", action="store_true", help="also print the no-reference values")
    args = ap.parse_args()
    DATA = args.data
    image = read_image(find(DATA, "phantom.nii.gz"))
    mask = read_mask(find(DATA, "mask.nii.gz"), reference=image)
    for name in args.configs.upper().split(","):
        run_config(name, image, mask, args.verbose)


DATA = Path(".")

if __name__ == "__main__":
    main()
