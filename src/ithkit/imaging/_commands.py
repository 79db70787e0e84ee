"""File-level entry points used by the ``ithkit imaging`` commands (read, compute, write)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ithkit._atomic import atomic_path
from ithkit._errors import InputError
from ithkit._optional import import_optional
from ithkit.imaging._extract import extract_features, prepare
from ithkit.imaging._habitats import HabitatResult
from ithkit.imaging._io import Volume, read_image, read_mask, write_volume
from ithkit.imaging._maps import MAP_FEATURES, expand_map_features, feature_maps
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
    shape: tuple[int, ...],
    n_features: int,
    roi_voxels: int,
    kernel_voxels: int,
    *,
    chunk: int = 20_000,
) -> float:
    """Refuse voxel maps whose memory would exceed half the available memory (before any work).

    Estimate (:func:`ithkit.imaging._maps.map_memory_bytes`): the image, its discretised copy
    and padded ROI box, one float32 map per feature on the image grid, 16 bytes per ROI voxel
    and one chunk's float64 buffer; the ROI is processed in chunks of ``chunk`` voxels, so
    nothing else grows with it. Returns the estimate in bytes.
    """
    from ithkit._resources import check_memory
    from ithkit.imaging._maps import map_memory_bytes

    estimate = map_memory_bytes(shape, n_features, roi_voxels, chunk=chunk)
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
    directions: str = "merged",
    suv: bool | str = True,
) -> list[Path]:
    """Compute feature maps and write one NIfTI per feature (``map_<feature>.nii.gz``).

    ``features``: feature names, family names or ``all``; ``directions``: GLCM/GLRLM
    ``merged`` or ``average`` (see :func:`feature_maps`)."""
    cfg = load_config(config)
    img, msk = prepare(read_image(image, suv=suv), read_mask(mask), label=label, config=cfg)
    names = expand_map_features(features)
    n_roi = int((msk.array > 0).sum())
    estimate = check_map_memory(img.array.shape, len(names), n_roi, kernel_voxels)
    if show_progress and n_roi * len(names) >= 1_000_000:
        import sys

        print(
            f"feature maps: {len(names)} maps, {n_roi:,} ROI voxels, kernel {kernel_voxels}: "
            f"about {estimate / 1e9:.2f} GB of memory",
            file=sys.stderr,
        )
    maps = feature_maps(
        img, msk, features=names, kernel_voxels=kernel_voxels, config=cfg,
        show_progress=show_progress, directions=directions,
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


def read_series(images: Sequence[str | Path]) -> list[Volume]:
    """One volume per file, or the volumes of a single 4D NIfTI (e.g. a multi-b DWI series)."""
    if len(images) != 1:
        return [read_image(p) for p in images]
    p = Path(images[0])
    if p.is_dir() or not p.exists():
        return [read_image(p)]
    sitk = import_optional("SimpleITK", extra="imaging")
    try:
        img = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise InputError(f"cannot read image: {exc}".splitlines()[0], source=p,
                         fix="give a NIfTI/NRRD file") from exc  # fmt: skip
    if img.GetDimension() != 4:
        return [read_image(p)]
    arr = sitk.GetArrayFromImage(img)  # (t, z, y, x)
    d4 = np.asarray(img.GetDirection(), dtype=float).reshape(4, 4)
    geo = (
        tuple(float(v) for v in img.GetSpacing()[:3]),
        tuple(float(v) for v in img.GetOrigin()[:3]),
        tuple(float(v) for v in d4[:3, :3].ravel()),
    )
    return [Volume(arr[i], *geo, source=f"{p}[{i}]") for i in range(arr.shape[0])]  # type: ignore[arg-type]


def adc_to_file(
    images: Sequence[str | Path], b_values: Sequence[float], out: str | Path
) -> tuple[Volume, Path]:
    """ADC map (mm^2/s) from one diffusion image per b-value (or one 4D file), as NIfTI/NRRD."""
    from ithkit.imaging._mri import adc_map

    vol = adc_map(read_series(images), b_values)
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
    signal: Mapping[str, Any] | None = None,
) -> tuple[Any, list[Path]]:
    """Tofts maps from concentration images (one per time); ``aif`` a one-column text file.

    ``signal`` (keyword arguments of :func:`ithkit.imaging.signal_to_concentration`, with
    ``t10_ms`` a number or a T1-map path) marks the images as SPGR signal: they are converted
    to concentration first (``concentration_*.nii.gz`` are not written; the maps are).
    """
    from ithkit.imaging._mri import signal_to_concentration, tofts_maps

    vols = [read_image(p) for p in images]
    cp = None
    if aif is not None:
        try:
            cp = np.loadtxt(aif, dtype=float, ndmin=1)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read AIF: {exc}".splitlines()[0], source=aif,
                             fix="one plasma concentration (mmol/l) per line") from exc  # fmt: skip
    msk = read_mask(mask) if mask is not None else None
    if signal is not None:
        opts = dict(signal)
        if isinstance(opts.get("t10_ms"), (str, Path)):
            opts["t10_ms"] = read_image(opts["t10_ms"])
        vols = signal_to_concentration(vols, mask=msk, **opts)
    res = tofts_maps(vols, times_s, aif=cp, extended=extended, mask=msk)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("ktrans", "ve", "vp", "kep") if extended else ("ktrans", "ve", "kep"):
        p = out / f"{name}.nii.gz"
        write_volume(getattr(res, name), p)
        paths.append(p)
    return res, paths


def habitat_volumes_to_files(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    k: int | None = None,
    seed: int = 0,
) -> tuple[Any, list[Path]]:
    """Habitat volumes over time for every lesion of an image manifest with ``map_*`` columns.

    Each row of the manifest (``ithkit.schema.IMAGES``) names one lesion at one timepoint; the
    extra columns ``map_<name>`` (e.g. ``map_adc``, ``map_ktrans``) hold that timepoint's
    parametric maps (paths relative to the manifest, on the row's mask grid). Habitats are
    defined at each lesion's first timepoint and followed with
    :func:`ithkit.imaging.habitats_over_time`. Writes ``habitat_volumes.tsv``
    (``patient_id, lesion_id, timepoint, habitat, profile, n_voxels, volume_ml,
    volume_fraction``) and returns it with the files written.
    """
    import pandas as pd

    from ithkit.imaging._io import roi_from_mask
    from ithkit.imaging._mri import habitats_over_time
    from ithkit.io import read_image_manifest

    src = Path(manifest)
    from ithkit.schema import IMAGES

    raw_cols = pd.read_csv(src, nrows=0, sep=None, engine="python").columns
    map_cols = [str(c) for c in raw_cols if str(c).startswith("map_") and c not in IMAGES.names]
    if not map_cols:
        raise InputError(
            "the image manifest has no map_<name> column",
            source=src,
            fix="add one column per parametric map, e.g. map_adc, map_ktrans (paths)",
        )
    frame = read_image_manifest(src, keep=map_cols)
    tables = []
    for (pid, lid), group in frame.groupby(["patient_id", "lesion_id"], sort=True):
        maps: dict[int, dict[str, Volume]] = {}
        masks: dict[int, Volume] = {}
        for i, r in group.iterrows():
            tp = int(r["timepoint"])
            msk = read_mask(r["mask"])
            label = None if pd.isna(r.get("label")) else int(r["label"])
            roi = roi_from_mask(msk, label)
            masks[tp] = Volume(roi.astype(np.uint8), msk.spacing, msk.origin, msk.direction,
                               msk.source)  # fmt: skip
            maps[tp] = {}
            for col in map_cols:
                value = r[col]
                if pd.isna(value) or not str(value).strip():
                    raise InputError(f"{col} is empty", source=src, row=int(i) + 2, column=col,
                                     fix="give every timepoint the same maps")  # fmt: skip
                path = src.parent / str(value)
                if not path.exists():
                    raise InputError(f"{col} file {str(value)!r} not found", source=src,
                                     row=int(i) + 2, column=col,
                                     fix="paths are relative to the manifest's folder")  # fmt: skip
                maps[tp][col.removeprefix("map_")] = read_image(path)
        t = habitats_over_time(maps, masks, k=k, seed=seed)
        t.insert(0, "lesion_id", str(lid))
        t.insert(0, "patient_id", str(pid))
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "habitat_volumes.tsv"
    _write_tsv(table, path)
    return table, [path]


def ivim_to_files(
    images: Sequence[str | Path],
    b_values: Sequence[float],
    out_dir: str | Path,
    *,
    mask: str | Path | None = None,
    method: str = "full",
    b_threshold: float = 200.0,
) -> tuple[Any, list[Path]]:
    """IVIM maps (D, D*, f, S0, NRMSE) from one diffusion image per b-value (or one 4D file)."""
    from ithkit.imaging._ivim import ivim_map

    if method not in ("full", "segmented"):
        raise InputError(f"--method {method!r}", source="--method", fix="full or segmented")
    msk = read_mask(mask) if mask is not None else None
    res = ivim_map(read_series(images), b_values, method=method,  # type: ignore[arg-type]
                   b_threshold=b_threshold, mask=msk)  # fmt: skip
    return res, res.write(out_dir)
