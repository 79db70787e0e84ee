"""File-level entry points used by the ``ithkit imaging`` commands (read, compute, write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ithkit._atomic import atomic_path
from ithkit._errors import InputError
from ithkit.imaging._extract import extract_features, prepare
from ithkit.imaging._habitats import HabitatResult
from ithkit.imaging._io import Volume, read_image, read_mask, write_volume
from ithkit.imaging._maps import MAP_FEATURES, feature_maps
from ithkit.imaging._phenotypes import PhenotypeResult, lesion_phenotypes, manifest_features
from ithkit.imaging._preprocess import FeatureConfig


def _write_tsv(frame: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g")


def load_config(path: str | Path | None) -> FeatureConfig:
    """The config of a YAML file, or the defaults."""
    return FeatureConfig() if path is None else FeatureConfig.from_yaml(path)


def features_to_file(
    image: str | Path,
    mask: str | Path,
    out: str | Path,
    *,
    label: int | None = None,
    config: str | Path | None = None,
    seed: int = 0,
    suv: bool | str = True,
) -> tuple[Any, Path]:
    """Write the long feature table to ``out`` and the config used beside it.

    ``suv``: PET normalisation of a DICOM series (see :func:`read_image`).
    Returns the table and the config path (``<out stem>.config.yaml``).
    """
    cfg = load_config(config)
    table = extract_features(read_image(image, suv=suv), mask, label=label, config=cfg, seed=seed)
    out_p = Path(out)
    _write_tsv(table, out_p)
    cfg_path = out_p.with_name(out_p.name.split(".")[0] + ".config.yaml")
    cfg.write_yaml(cfg_path)
    return table, cfg_path


def check_map_memory(
    shape: tuple[int, ...], n_features: int, roi_voxels: int, kernel_voxels: int
) -> float:
    """Refuse voxel maps whose memory would exceed half the available memory (before any work).

    Estimate: the float64 image, one float32 map per feature on the image grid, and the
    per-voxel feature matrix of the ROI (float64), times an overhead of 2 for temporaries.
    Returns the estimate in bytes.
    """
    from ithkit._resources import check_memory

    voxels = float(np.prod(shape))
    estimate = 2.0 * (voxels * 8 + voxels * n_features * 4 + roi_voxels * n_features * 8)
    check_memory(
        estimate,
        what=f"{n_features} feature maps of a {'x'.join(map(str, shape))} image "
        f"({roi_voxels:,} ROI voxels, kernel {kernel_voxels})",
        fix="pass fewer --features (e.g. --features mean,entropy), crop the image to the lesion, "
        "or resample to coarser voxels in --config",
    )
    return estimate


def maps_to_files(
    image: str | Path,
    mask: str | Path,
    out_dir: str | Path,
    *,
    label: int | None = None,
    features: Sequence[str] = MAP_FEATURES,
    kernel_voxels: int = 5,
    config: str | Path | None = None,
    show_progress: bool = False,
    suv: bool | str = True,
) -> list[Path]:
    """Compute feature maps and write one NIfTI per feature (``map_<feature>.nii.gz``)."""
    cfg = load_config(config)
    img, msk = prepare(read_image(image, suv=suv), read_mask(mask), label=label, config=cfg)
    check_map_memory(img.array.shape, len(features), int((msk.array > 0).sum()), kernel_voxels)
    maps = feature_maps(
        img, msk, features=features, kernel_voxels=kernel_voxels, config=cfg,
        show_progress=show_progress,
    )  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, vol in maps.items():
        p = out / f"map_{name}.nii.gz"
        write_volume(vol, p)
        paths.append(p)
    cfg.write_yaml(out / "maps.config.yaml")
    return paths


def habitats_to_files(
    maps: Sequence[str | Path],
    mask: str | Path,
    out_dir: str | Path,
    *,
    label: int | None = None,
    k: int | None = None,
    seed: int = 0,
    suv: bool | str = True,
) -> tuple[HabitatResult, list[Path]]:
    """Cluster voxels on map images into habitats; writes ``habitats.nii.gz`` and TSVs."""
    from ithkit.imaging._io import roi_from_mask
    from ithkit.imaging._mri import multiparametric_habitats

    if not maps:
        raise InputError("no map image given", fix="pass the map_*.nii.gz files")
    msk = read_mask(mask)
    vols: dict[str, Volume] = {}
    for m in maps:
        name = Path(m).name.split(".")[0].removeprefix("map_")
        vols[name] = read_image(m, suv=suv)
    roi = roi_from_mask(msk, label)
    m01 = Volume(roi.astype(np.uint8), msk.spacing, msk.origin, msk.direction, msk.source)
    # maps may come from different sequences: each must be on the mask's grid (checked, named)
    res = multiparametric_habitats(vols, m01, k=k, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_volume(res.labels, out / "habitats.nii.gz")
    table = res.table.copy()
    table["diversity"] = res.diversity
    table["evenness"] = res.evenness
    _write_tsv(table, out / "habitats.tsv")
    _write_tsv(res.selection, out / "habitats_k_selection.tsv")
    return res, [out / "habitats.nii.gz", out / "habitats.tsv", out / "habitats_k_selection.tsv"]


def phenotypes_to_files(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    config: str | Path | None = None,
    k: int | None = None,
    batch: str | None = None,
    timepoint: int | None = 0,
    n_bootstrap: int = 50,
    seed: int = 0,
    show_progress: bool = False,
    suv: bool | str = True,
) -> tuple[PhenotypeResult, list[Path]]:
    """Features of every lesion of an image manifest, then phenotypes; writes TSVs.

    ``batch`` names a manifest column (scanner/site) for ComBat harmonisation.
    """

    cfg = load_config(config) if config else None
    wide = manifest_features(
        manifest,
        config=cfg,
        timepoint=timepoint,
        show_progress=show_progress,
        keep=[batch] if batch is not None else [],
        suv=suv,
    )
    res = lesion_phenotypes(wide, k=k, batch=batch, n_bootstrap=n_bootstrap, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "lesion_features.tsv": wide,
        "lesion_phenotypes.tsv": res.assignments,
        "phenotype_stability.tsv": res.stability,
        "patient_heterogeneity.tsv": res.patients,
        "phenotype_k_selection.tsv": res.selection,
    }
    for name, frame in files.items():
        _write_tsv(frame, out / name)
    return res, [out / n for n in files]


def filter_to_file(
    image: str | Path,
    out: str | Path,
    *,
    spec: Any,
    suv: bool | str = True,
) -> tuple[Any, Path]:
    """Apply one IBSI-2 filter and write the response map (NIfTI/NRRD) and its settings.

    Returns the response volume and the settings path (``<out stem>.filter.yaml``).
    """
    import yaml

    from ithkit.imaging._filters import filter_image

    vol = read_image(image, suv=suv)
    resp = filter_image(vol, spec)
    out_p = Path(out)
    write_volume(resp, out_p)
    cfg_path = out_p.with_name(out_p.name.split(".")[0] + ".filter.yaml")
    with atomic_path(cfg_path) as tmp:
        Path(tmp).write_text(yaml.safe_dump({"filters": [spec.to_dict()]}, sort_keys=False))
    return resp, cfg_path


def filtered_features_to_file(
    image: str | Path,
    mask: str | Path,
    out: str | Path,
    *,
    filters: str | Path,
    label: int | None = None,
    config: str | Path | None = None,
    suv: bool | str = True,
) -> Any:
    """Intensity statistics of each filter response (IBSI-2 phase 2) written as a long TSV."""
    from ithkit.imaging._filters import filtered_features, read_filter_specs

    specs = read_filter_specs(filters)
    cfg = load_config(config)
    img, msk = prepare(read_image(image, suv=suv), read_mask(mask), label=label, config=cfg)
    table = filtered_features(img, msk, specs, config=cfg)
    _write_tsv(table, Path(out))
    return table


def adc_to_file(
    images: Sequence[str | Path], b_values: Sequence[float], out: str | Path
) -> tuple[Volume, Path]:
    """ADC map (mm^2/s) from one diffusion image per b-value, written as NIfTI/NRRD."""
    from ithkit.imaging._mri import adc_map

    vol = adc_map([read_image(p) for p in images], b_values)
    write_volume(vol, out)
    return vol, Path(out)


def tofts_to_files(
    images: Sequence[str | Path],
    times_s: Sequence[float],
    out_dir: str | Path,
    *,
    mask: str | Path | None = None,
    extended: bool = True,
    aif: str | Path | None = None,
) -> tuple[Any, list[Path]]:
    """Tofts maps from concentration images (one per time); ``aif`` a one-column text file."""
    from ithkit.imaging._mri import tofts_maps

    vols = [read_image(p) for p in images]
    cp = None
    if aif is not None:
        try:
            cp = np.loadtxt(aif, dtype=float, ndmin=1)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read AIF: {exc}".splitlines()[0], source=aif,
                             fix="one plasma concentration (mmol/l) per line") from exc  # fmt: skip
    msk = read_mask(mask) if mask is not None else None
    res = tofts_maps(vols, times_s, aif=cp, extended=extended, mask=msk)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("ktrans", "ve", "vp", "kep") if extended else ("ktrans", "ve", "kep"):
        p = out / f"{name}.nii.gz"
        write_volume(getattr(res, name), p)
        paths.append(p)
    return res, paths
