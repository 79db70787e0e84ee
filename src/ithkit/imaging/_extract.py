"""Whole-ROI feature extraction from files or volumes (resampling + IBSI features)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from ithkit.imaging._features import FAMILIES, roi_features
from ithkit.imaging._io import Volume, check_geometry, read_image, read_mask, roi_from_mask, to_sitk
from ithkit.imaging._preprocess import FeatureConfig

_INTERP = {"nearest": "sitkNearestNeighbor", "linear": "sitkLinear", "bspline": "sitkBSpline"}


def resample(
    image: Volume, mask: Volume, spacing_mm: tuple[float, float, float], interpolation: str
) -> tuple[Volume, Volume]:
    """Resample image and mask to ``spacing_mm`` (x, y, z) keeping the grid centre (IBSI 2.4).

    The image uses ``interpolation``; the mask (one ROI, 0/1) is interpolated linearly and
    thresholded at 0.5.
    """
    import SimpleITK as sitk

    sp_in = np.asarray(image.spacing)
    sp_out = np.asarray(spacing_mm, dtype=float)
    size_in = np.asarray(image.array.shape[::-1])
    size_out = np.ceil(size_in * sp_in / sp_out).astype(int)
    direction = np.asarray(image.direction).reshape(3, 3)
    # keep the centre of the grid: origin shift along each axis
    shift = (sp_in * (size_in - 1) - sp_out * (size_out - 1)) / 2
    origin = np.asarray(image.origin) + direction @ shift
    ref = sitk.Image([int(v) for v in size_out], sitk.sitkFloat64)
    ref.SetSpacing([float(v) for v in sp_out])
    ref.SetOrigin([float(v) for v in origin])
    ref.SetDirection(image.direction)
    img = sitk.Resample(
        sitk.Cast(to_sitk(image), sitk.sitkFloat64), ref, sitk.Transform(),
        getattr(sitk, _INTERP[interpolation]), 0.0,
    )  # fmt: skip
    m = sitk.Resample(
        sitk.Cast(to_sitk(mask), sitk.sitkFloat64), ref, sitk.Transform(), sitk.sitkLinear, 0.0
    )
    arr = sitk.GetArrayFromImage(img)
    marr = (sitk.GetArrayFromImage(m) >= 0.5).astype(np.uint8)
    geo = (tuple(float(v) for v in sp_out), tuple(float(v) for v in origin), image.direction)
    return (
        Volume(arr, geo[0], geo[1], geo[2], image.source),  # type: ignore[arg-type]
        Volume(marr, geo[0], geo[1], geo[2], mask.source),  # type: ignore[arg-type]
    )


def prepare(
    image: Volume, mask: Volume, *, label: int | None, config: FeatureConfig
) -> tuple[Volume, Volume]:
    """Geometry check, label selection and optional resampling; the mask becomes 0/1."""
    check_geometry(image, mask)
    roi = roi_from_mask(mask, label)
    m = Volume(roi.astype(np.uint8), mask.spacing, mask.origin, mask.direction, mask.source)
    img = Volume(
        np.asarray(image.array, dtype=float), image.spacing, image.origin, image.direction,
        image.source,
    )  # fmt: skip
    if config.resample_mm is not None:
        img, m = resample(img, m, config.resample_mm, config.interpolation)
        if not m.array.any():
            from ithkit._errors import InputError

            raise InputError(
                "the ROI vanished after resampling",
                source=mask.source,
                fix="use a finer resample_mm",
            )
    return img, m


def extract_features(
    image: str | Path | Volume,
    mask: str | Path | Volume,
    *,
    label: int | None = None,
    config: FeatureConfig | None = None,
    seed: int = 0,
    families: tuple[str, ...] = FAMILIES,
    features: Collection[str] | None = None,
) -> Any:
    """IBSI-1 features of one ROI: read, check geometry, resample, compute.

    Parameters
    ----------
    image, mask
        Paths (NIfTI, NRRD, DICOM folder; mask also DICOM-SEG/RTSTRUCT) or :class:`Volume`.
    label
        Mask label of the ROI; None takes every non-zero voxel.
    config
        :class:`FeatureConfig` (default: no resampling, 32 bins, all aggregations).
    seed
        Unused, kept for compatibility (Moran's I / Geary's C are exact, no voxel subset).
    families, features
        Feature families, and feature names within them, to compute (default all); see
        :func:`ithkit.imaging.roi_features`.

    Returns
    -------
    pandas.DataFrame
        ``feature, ibsi_code, family, aggregation, value``.

    Raises
    ------
    ithkit.InputError
        Geometry mismatch, empty ROI, label not in the mask, bad config.
    """
    cfg = config or FeatureConfig()
    img = image if isinstance(image, Volume) else read_image(image)
    msk = mask if isinstance(mask, Volume) else read_mask(mask, reference=img)
    img, msk = prepare(img, msk, label=label, config=cfg)
    return roi_features(
        img.array,
        msk.array.astype(bool),
        img.spacing_zyx,
        config=cfg,
        seed=seed,
        families=families,
        features=features,
    )
