"""IBSI-1 feature families and the whole-ROI feature table."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit.imaging._features._firstorder import (
    intensity_histogram,
    intensity_statistics,
    intensity_volume_histogram,
    ivh_levels,
    local_intensity,
)
from ithkit.imaging._features._morph import morphology
from ithkit.imaging._features._texture import texture_features
from ithkit.imaging._preprocess import FeatureConfig, discretise, intensity_mask

FEATURE_COLUMNS = ("feature", "ibsi_code", "family", "aggregation", "value")
FAMILIES = (
    "morphology",
    "local_intensity",
    "intensity_statistics",
    "intensity_histogram",
    "intensity_volume_histogram",
    "glcm",
    "glrlm",
    "glszm",
    "gldzm",
    "ngtdm",
    "ngldm",
)


def roi_features(
    image: NDArray[Any],
    mask: NDArray[np.bool_],
    spacing: tuple[float, float, float],
    *,
    config: FeatureConfig | None = None,
    families: tuple[str, ...] = FAMILIES,
    seed: int = 0,
    features: Collection[str] | None = None,
) -> Any:
    """IBSI-1 features of one ROI on an already-resampled grid.

    Parameters
    ----------
    image
        Intensities, array order (slice, row, column) = (z, y, x).
    mask
        ROI (morphological mask), same shape.
    spacing
        Voxel size in mm in array order (z, y, x).
    config
        Re-segmentation, outlier filter, discretisation and aggregation settings
        (resampling is done by :func:`ithkit.imaging.extract_features`).
    families
        Feature families to compute (default all).
    seed
        Unused, kept for compatibility: Moran's I and Geary's C are computed exactly over all
        voxel pairs (no random voxel subset) at every ROI size.
    features
        Feature names to keep (default all) within ``families``. Morphology then skips its
        costly parts that no kept feature needs (Moran's I / Geary's C, OMBB, MVEE).

    Returns
    -------
    pandas.DataFrame
        Long table ``feature, ibsi_code, family, aggregation, value``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(27, dtype=float).reshape(3, 3, 3)
    >>> t = roi_features(img, img > 3, (1.0, 1.0, 1.0), families=("intensity_statistics",))
    >>> float(t.loc[t.feature == "mean", "value"].iloc[0])
    15.0
    """
    import pandas as pd

    cfg = config or FeatureConfig()
    img = np.asarray(image, dtype=float)
    roi = np.asarray(mask, dtype=bool)
    if img.shape != roi.shape:
        raise InputError(f"image shape {img.shape} differs from mask shape {roi.shape}")
    if not roi.any():
        raise InputError("the ROI is empty", fix="check the mask and label")
    # crop to the ROI box plus the local-intensity sphere radius (results do not change)
    box = []
    for axis, sp in enumerate(spacing):
        idx = np.flatnonzero(roi.any(axis=tuple(a for a in range(3) if a != axis)))
        margin = int(np.ceil(6.3 / sp)) + 1
        box.append(slice(max(idx[0] - margin, 0), idx[-1] + margin + 1))
    img, roi = img[tuple(box)], roi[tuple(box)]
    imask = intensity_mask(img, roi, cfg)
    if not imask.any():
        raise InputError(
            "no ROI voxel is left after re-segmentation/outlier filtering",
            source="config",
            fix="widen resegment_range or outlier_sigma",
        )
    aggs = cfg.aggregations
    rows: list[tuple[str, str, str, str, float]] = []

    keep = None if features is None else set(features)

    def add(family: str, feats: list[tuple[str, str, float]]) -> None:
        rows.extend(
            (name, code, family, "none", value)
            for name, code, value in feats
            if keep is None or name in keep
        )

    vals = img[imask]
    if "morphology" in families and "none" in aggs:
        add("morphology", morphology(img, roi, imask, spacing, features=keep))
    if "local_intensity" in families and "none" in aggs:
        add("local_intensity", local_intensity(img, imask, spacing))
    if "intensity_statistics" in families and "none" in aggs:
        add("intensity_statistics", intensity_statistics(vals))
    q, ng = discretise(img, imask, cfg)
    if "intensity_histogram" in families and "none" in aggs:
        add("intensity_histogram", intensity_histogram(q[imask], ng))
    if "intensity_volume_histogram" in families and "none" in aggs:
        method, value = cfg.ivh_settings()
        idx, start, step, g_min, g_max = ivh_levels(vals, method, value, cfg.resegment_range)
        add(
            "intensity_volume_histogram",
            intensity_volume_histogram(idx, start=start, step=step, g_min=g_min, g_max=g_max),
        )
    tex = tuple(f for f in families if f in FAMILIES[5:])
    if tex:
        for family, name, code, agg, value in texture_features(
            q, ng, aggs, morph_roi=roi, families=tex
        ):
            if keep is None or name in keep:
                rows.append((name, code, family, agg, value))
    return pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
