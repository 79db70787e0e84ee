"""Synthetic CT lesions made of habitats of known extent, and multi-lesion cohorts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ithkit.imaging._io import Volume, write_volume

_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

#: (mean HU, noise SD HU, smoothing voxels) of each synthetic habitat: enhancing, viable, necrotic
HABITAT_TISSUE = ((110.0, 12.0, 0.0), (60.0, 35.0, 0.0), (15.0, 6.0, 0.0), (140.0, 50.0, 0.0))


@dataclass(frozen=True)
class SyntheticLesion:
    """A synthetic CT with one lesion: ``image`` (HU), ``mask`` (0/1), ``habitats`` (0, 1..k)."""

    image: Volume
    mask: Volume
    habitats: Volume


def synthetic_ct(
    *,
    shape: tuple[int, int, int] = (48, 64, 64),
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    radius_mm: float = 18.0,
    n_habitats: int = 3,
    tissue: tuple[tuple[float, float, float], ...] = HABITAT_TISSUE,
    seed: int = 0,
) -> SyntheticLesion:
    """A CT volume (HU) with a spherical lesion split into ``n_habitats`` regions.

    Habitats are the Voronoi cells of ``n_habitats`` seeded points inside the lesion; each has
    its own mean attenuation and noise level (``tissue``). Background: soft tissue, 40 HU, SD 10.
    ``shape`` is (z, y, x); ``spacing`` (x, y, z) mm.

    Examples
    --------
    >>> les = synthetic_ct(shape=(16, 16, 16), radius_mm=6, seed=1)
    >>> sorted(int(v) for v in set(les.habitats.array.ravel()))
    [0, 1, 2, 3]
    """
    rng = np.random.default_rng(seed)
    sp = np.asarray(spacing, dtype=float)[::-1]  # z, y, x
    grid = np.stack(np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, sp, strict=True)],
                                indexing="ij"), axis=-1)  # fmt: skip
    centre = (np.asarray(shape) - 1) * sp / 2
    rel = grid - centre
    inside = np.linalg.norm(rel, axis=-1) <= radius_mm
    # habitat seeds spread on a circle in the mid plane, jittered
    angles = np.linspace(0, 2 * np.pi, n_habitats, endpoint=False) + rng.uniform(0, 0.5)
    pts = np.stack(
        [rng.uniform(-0.2, 0.2, n_habitats) * radius_mm,
         0.5 * radius_mm * np.sin(angles), 0.5 * radius_mm * np.cos(angles)], axis=1
    )  # fmt: skip
    d = np.linalg.norm(rel[..., None, :] - pts, axis=-1)
    hab = np.where(inside, np.argmin(d, axis=-1) + 1, 0).astype(np.int16)
    img = 40.0 + 10.0 * rng.standard_normal(shape)
    for h in range(1, n_habitats + 1):
        mu, sd, _ = tissue[(h - 1) % len(tissue)]
        sel = hab == h
        img[sel] = mu + sd * rng.standard_normal(int(sel.sum()))
    geo = (tuple(float(v) for v in spacing), (0.0, 0.0, 0.0), _IDENTITY)
    return SyntheticLesion(
        image=Volume(np.round(img).astype(np.int16), *geo, source="synthetic"),  # type: ignore[arg-type]
        mask=Volume(inside.astype(np.uint8), *geo, source="synthetic"),  # type: ignore[arg-type]
        habitats=Volume(hab, *geo, source="synthetic"),  # type: ignore[arg-type]
    )


#: lesion phenotypes of the synthetic cohort: (mean HU, noise SD, radius mm)
PHENOTYPES = ((30.0, 8.0, 7.0), (90.0, 40.0, 9.0), (160.0, 15.0, 5.0))


def synthetic_cohort(
    out_dir: str | Path,
    *,
    n_patients: int = 4,
    lesions_per_patient: int = 3,
    phenotypes: tuple[tuple[float, float, float], ...] = PHENOTYPES,
    shape: tuple[int, int, int] = (24, 24, 24),
    seed: int = 0,
) -> Any:
    """Write a multi-lesion cohort (NIfTI images + masks + an image manifest ``images.csv``).

    Each lesion is a sphere drawn from one phenotype (attenuation, texture, size, all
    jittered). Returns the truth: DataFrame ``patient_id, lesion_id, timepoint, phenotype``.
    """
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), _IDENTITY)
    zz, yy, xx = np.indices(shape)
    c = (np.asarray(shape) - 1) / 2
    for p in range(n_patients):
        pid = f"P{p + 1:02d}"
        for j in range(lesions_per_patient):
            lid = f"L{j + 1}"
            ph = int(rng.integers(len(phenotypes)))
            mu, sd, rad = phenotypes[ph]
            rad *= rng.uniform(0.9, 1.1)
            inside = (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= rad**2
            img = 40 + 10 * rng.standard_normal(shape)
            img[inside] = mu * rng.uniform(0.95, 1.05) + sd * rng.standard_normal(int(inside.sum()))
            stem = f"{pid}_{lid}"
            write_volume(Volume(np.round(img).astype(np.int16), *geo), out / f"{stem}_ct.nii.gz")
            write_volume(Volume(inside.astype(np.uint8), *geo), out / f"{stem}_mask.nii.gz")
            rows.append(
                {"patient_id": pid, "lesion_id": lid, "timepoint": 0, "label": 1,
                 "image": f"{stem}_ct.nii.gz", "mask": f"{stem}_mask.nii.gz"}
            )  # fmt: skip
            truth.append({"patient_id": pid, "lesion_id": lid, "timepoint": 0, "phenotype": ph + 1})
    pd.DataFrame(rows).to_csv(out / "images.csv", index=False)
    return pd.DataFrame(truth)


def clone_lesions(
    out_dir: str | Path,
    clone_ccf: dict[str, float],
    *,
    patient_id: str = "P01",
    effect_hu: float = 80.0,
    shape: tuple[int, int, int] = (16, 16, 16),
    seed: int = 0,
) -> Any:
    """Write lesions whose attenuation depends on the clone they carry (radiogenomics truth).

    Lesion ``lesion_id`` (a key of ``clone_ccf``) is a sphere of radius 4-5.5 mm (random, not
    linked to the clone) whose mean attenuation is ``50 + effect_hu * ccf`` HU (ccf: the cancer
    cell fraction of the chosen clone in that lesion, 0..1) with noise SD 12 HU, in soft
    tissue (40 HU, SD 10). Writes NIfTI images, masks and ``images.csv``; returns the truth:
    DataFrame ``patient_id, lesion_id, timepoint, ccf, mean_hu``.

    Examples
    --------
    >>> import tempfile
    >>> t = clone_lesions(tempfile.mkdtemp(), {"L1": 0.0, "L2": 1.0}, effect_hu=100)
    >>> t["mean_hu"].round().tolist()
    [50.0, 150.0]
    """
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), _IDENTITY)
    zz, yy, xx = np.indices(shape)
    c = (np.asarray(shape) - 1) / 2
    rows, truth = [], []
    for lid, ccf in clone_ccf.items():
        if not 0 <= ccf <= 1:
            from ithkit._errors import InputError

            raise InputError(f"ccf of lesion {lid} is {ccf}", source="clone_ccf",
                             fix="cancer cell fractions in 0..1")  # fmt: skip
        rad = rng.uniform(4.0, 5.5)
        inside = (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= rad**2
        mu = 50.0 + effect_hu * float(ccf)
        img = 40 + 10 * rng.standard_normal(shape)
        img[inside] = mu + 12.0 * rng.standard_normal(int(inside.sum()))
        stem = f"{patient_id}_{lid}"
        write_volume(Volume(np.round(img).astype(np.int16), *geo), out / f"{stem}_ct.nii.gz")
        write_volume(Volume(inside.astype(np.uint8), *geo), out / f"{stem}_mask.nii.gz")
        rows.append({"patient_id": patient_id, "lesion_id": lid, "timepoint": 0, "label": 1,
                     "image": f"{stem}_ct.nii.gz", "mask": f"{stem}_mask.nii.gz"})  # fmt: skip
        truth.append({"patient_id": patient_id, "lesion_id": lid, "timepoint": 0,
                      "ccf": float(ccf), "mean_hu": mu})  # fmt: skip
    pd.DataFrame(rows).to_csv(out / "images.csv", index=False)
    return pd.DataFrame(truth)
