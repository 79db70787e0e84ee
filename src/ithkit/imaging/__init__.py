"""Imaging heterogeneity: IBSI-1 radiomics, voxel-wise feature maps, habitats, lesion phenotypes.

Readers (:func:`read_image`, :func:`read_mask`) give :class:`Volume` objects; features follow
the IBSI-1 definitions (codes in the ``ibsi_code`` column) and were verified on the IBSI digital
phantom. See ``docs/imaging.md``.
"""

from __future__ import annotations

from ithkit.imaging._delta import (
    DeltaResult,
    delta_radiomics,
    feature_repeatability,
    icc,
    lesion_deltas,
)
from ithkit.imaging._extract import extract_features, resample
from ithkit.imaging._features import FAMILIES, FEATURE_COLUMNS, roi_features
from ithkit.imaging._filters import (
    FILTERS,
    FilterSpec,
    filter_image,
    filtered_features,
    wavelet_coefficients,
)
from ithkit.imaging._habitats import HabitatResult, dice, habitat_dice, habitats
from ithkit.imaging._io import (
    Volume,
    check_geometry,
    read_image,
    read_mask,
    roi_from_mask,
    write_volume,
)
from ithkit.imaging._ivim import IVIM_BOUNDS, IvimResult, ivim_map
from ithkit.imaging._maps import (
    ALL_MAP_FEATURES,
    MAP_FAMILIES,
    MAP_FEATURES,
    expand_map_features,
    feature_maps,
)
from ithkit.imaging._mri import (
    ToftsResult,
    adc_map,
    cellularity_map,
    habitats_over_time,
    multiparametric_habitats,
    parker_aif,
    signal_to_concentration,
    tofts_maps,
)
from ithkit.imaging._phenotypes import PhenotypeResult, combat, lesion_phenotypes, manifest_features
from ithkit.imaging._preprocess import AGGREGATIONS, FeatureConfig, discretise
from ithkit.imaging._radiogenomics import radiogenomics
from ithkit.imaging._suv import (
    SUV_KINDS,
    body_surface_area_m2,
    lean_body_mass_kg,
    suv_scale_factor,
)
from ithkit.imaging._synthetic import (
    SyntheticLesion,
    clone_lesions,
    synthetic_cohort,
    synthetic_ct,
)

__all__ = [
    "AGGREGATIONS",
    "ALL_MAP_FEATURES",
    "FAMILIES",
    "FEATURE_COLUMNS",
    "FILTERS",
    "IVIM_BOUNDS",
    "MAP_FAMILIES",
    "MAP_FEATURES",
    "SUV_KINDS",
    "DeltaResult",
    "FeatureConfig",
    "FilterSpec",
    "HabitatResult",
    "IvimResult",
    "PhenotypeResult",
    "SyntheticLesion",
    "ToftsResult",
    "Volume",
    "adc_map",
    "body_surface_area_m2",
    "cellularity_map",
    "check_geometry",
    "clone_lesions",
    "combat",
    "delta_radiomics",
    "dice",
    "discretise",
    "expand_map_features",
    "extract_features",
    "feature_maps",
    "feature_repeatability",
    "filter_image",
    "filtered_features",
    "habitat_dice",
    "habitats",
    "habitats_over_time",
    "icc",
    "ivim_map",
    "lean_body_mass_kg",
    "lesion_deltas",
    "lesion_phenotypes",
    "manifest_features",
    "multiparametric_habitats",
    "parker_aif",
    "radiogenomics",
    "read_image",
    "read_mask",
    "resample",
    "roi_features",
    "roi_from_mask",
    "signal_to_concentration",
    "suv_scale_factor",
    "synthetic_cohort",
    "synthetic_ct",
    "tofts_maps",
    "wavelet_coefficients",
    "write_volume",
]
