"""Virtual cohorts with known truth: many virtual patients, sites, missing data and outcomes.

Outcome model (documented in ``docs/cohort.md``; the truth of every patient is in
``truth.tsv``):

* ITH driver: ``z`` = the patient's true fraction of subclonal mutations (mutations outside the
  trunk clone of :func:`ithkit.evolution.virtual_patient`), standardised over the cohort
  (mean 0, SD 1).
* Covariates: age ~ Normal(62, 10) years (clipped to 30-90), stage 1-4 with probabilities
  0.15 / 0.30 / 0.35 / 0.20, site ``S1..SK`` assigned in turn.
* Overall survival: exponential with hazard ``h0 * exp(0.7 z + 0.03 (age - 62) + 0.4 (stage -
  2))``, ``h0 = ln 2 / 720`` per day (median 720 days at the reference). PFS: hazard
  ``ln 2 / 240 * exp(0.7 z + 0.02 (age - 62) + 0.3 (stage - 2))``; PFS ends at progression or
  death.
* Censoring: staggered entry, administrative censoring uniform on 365-1825 days, and loss to
  follow-up exponential with mean 3000 days.
* Response (1 = responder): logistic with ``logit = 0.3 - 1.0 z - 0.3 (stage - 2)``.
* Site effect: lesion voxels on the site's scanner are shifted by ``40 (k - 1)`` HU at site
  ``Sk``; outcome does not depend on site, so an imaging feature that tracks site is a
  batch effect, not a signal.
* Missing modalities (independently per patient): no genomic data with probability 0.1, no
  ctDNA 0.25, no lesion measurements 0.1; CT images of the baseline target lesions for 0.3
  of patients with lesions (needs the ``[imaging]`` extra), single-cell RNA-seq for 0.04
  (``[singlecell]``), a therapy scenario for 0.1 (the evolution analysis).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError

OUTCOME_MODEL: dict[str, Any] = {
    "log_hr_os_per_sd_fraction_subclonal": 0.7,
    "log_hr_pfs_per_sd_fraction_subclonal": 0.7,
    "os_median_days_reference": 720.0,
    "pfs_median_days_reference": 240.0,
    "log_hr_os_per_year_age": 0.03,
    "log_hr_os_per_stage": 0.4,
    "log_hr_pfs_per_year_age": 0.02,
    "log_hr_pfs_per_stage": 0.3,
    "response_intercept": 0.3,
    "response_log_or_per_sd_fraction_subclonal": -1.0,
    "response_log_or_per_stage": -0.3,
    "admin_censoring_days": (365.0, 1825.0),
    "dropout_mean_days": 3000.0,
    "site_offset_hu_per_site": 40.0,
    "age_mean_years": 62.0,
    "age_sd_years": 10.0,
    "stage_probabilities": (0.15, 0.30, 0.35, 0.20),
}

MISSING_PROBABILITY = {"genomic": 0.1, "ctdna": 0.25, "lesions": 0.1}
IMAGES_PROBABILITY = 0.3
SINGLECELL_PROBABILITY = 0.04
SCENARIO_PROBABILITY = 0.1

CLINICAL_COLUMNS = (
    "patient_id",
    "site",
    "age",
    "stage",
    "os_days",
    "os_event",
    "pfs_days",
    "pfs_event",
    "response",
)


@dataclass(frozen=True)
class VirtualCohort:
    """What :func:`virtual_cohort` wrote.

    Attributes
    ----------
    clinical
        ``patient_id, site, age, stage, os_days, os_event, pfs_days, pfs_event, response``.
    truth
        Per patient: true fraction subclonal and its z-score, linear predictors of the outcome
        model, the site's imaging offset (HU) and the modalities present.
    manifests
        Path of each patient's manifest.
    folder
        The cohort folder (``manifests.csv``, ``clinical.tsv``, ``truth.tsv``).
    """

    clinical: pd.DataFrame
    truth: pd.DataFrame
    manifests: list[Path] = field(default_factory=list)
    folder: Path | None = None


def draw_outcomes(
    z: np.ndarray,
    *,
    seed: int | np.random.Generator = 0,
    n_sites: int = 3,
    patient_ids: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clinical table drawn from the outcome model (:data:`OUTCOME_MODEL`) for ITH z-scores.

    Parameters
    ----------
    z
        Standardised ITH driver of each patient (true fraction subclonal, mean 0, SD 1).
    seed
        Seed or generator.
    n_sites
        Number of sites; patient i goes to site ``S{i mod n_sites + 1}``.
    patient_ids
        Identifiers (default ``VC001..``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The clinical table and the per-patient linear predictors (``os_lp, pfs_lp,
        response_logit``).

    Examples
    --------
    >>> clinical, lp = draw_outcomes(np.zeros(4), seed=1, n_sites=2)
    >>> clinical["site"].tolist()
    ['S1', 'S2', 'S1', 'S2']
    """
    m = OUTCOME_MODEL
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    z = np.asarray(z, dtype=float)
    n = z.size
    if n_sites < 1:
        raise InputError(f"n_sites is {n_sites}", source="sites", fix="use 1 or more sites")
    ids = patient_ids or [f"VC{i + 1:03d}" for i in range(n)]
    sites = [f"S{i % n_sites + 1}" for i in range(n)]
    age = np.clip(np.round(rng.normal(m["age_mean_years"], m["age_sd_years"], n)), 30, 90)
    stage = rng.choice([1, 2, 3, 4], size=n, p=m["stage_probabilities"])
    age_c = age - m["age_mean_years"]
    os_lp = (
        m["log_hr_os_per_sd_fraction_subclonal"] * z
        + m["log_hr_os_per_year_age"] * age_c
        + m["log_hr_os_per_stage"] * (stage - 2)
    )
    pfs_lp = (
        m["log_hr_pfs_per_sd_fraction_subclonal"] * z
        + m["log_hr_pfs_per_year_age"] * age_c
        + m["log_hr_pfs_per_stage"] * (stage - 2)
    )
    death = rng.exponential(m["os_median_days_reference"] / math.log(2) * np.exp(-os_lp))
    progression = rng.exponential(m["pfs_median_days_reference"] / math.log(2) * np.exp(-pfs_lp))
    low, high = m["admin_censoring_days"]
    censor = np.minimum(rng.uniform(low, high, n), rng.exponential(m["dropout_mean_days"], n))
    os_days = np.maximum(np.ceil(np.minimum(death, censor)), 1)
    pfs_time = np.minimum(progression, death)
    pfs_days = np.maximum(np.ceil(np.minimum(pfs_time, censor)), 1)
    logit = (
        m["response_intercept"]
        + m["response_log_or_per_sd_fraction_subclonal"] * z
        + m["response_log_or_per_stage"] * (stage - 2)
    )
    response = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    clinical = pd.DataFrame(
        {
            "patient_id": ids,
            "site": sites,
            "age": age.astype(int),
            "stage": stage.astype(int),
            "os_days": os_days.astype(int),
            "os_event": (death <= censor).astype(int),
            "pfs_days": pfs_days.astype(int),
            "pfs_event": (pfs_time <= censor).astype(int),
            "response": response,
        }
    )
    lp = pd.DataFrame(
        {"patient_id": ids, "os_lp": os_lp, "pfs_lp": pfs_lp, "response_logit": logit}
    )
    return clinical, lp


def _true_fraction_subclonal(clones: pd.DataFrame) -> float:
    total = float(clones["n_mutations"].sum())
    trunk = float(clones.loc[clones["parent"].isna(), "n_mutations"].sum())
    return 1.0 - trunk / total


def virtual_cohort(
    n_patients: int,
    out_dir: str | Path,
    *,
    seed: int = 0,
    n_sites: int = 3,
    n_mutations: int = 100,
    show_progress: bool = True,
) -> VirtualCohort:
    """Write a virtual cohort: one folder and manifest per patient, clinical outcomes, truth.

    Each patient is a :func:`ithkit.evolution.virtual_patient` with its own seed (spawned from
    ``seed``), 1-5 sequenced regions, its own clone tree and therapy dynamics; some modalities
    are missing as in real cohorts. Outcomes follow the documented model of this module
    (:data:`OUTCOME_MODEL`): log hazard ratio 0.7 per SD of the true fraction of subclonal
    mutations, a site offset on imaging intensities, censoring.

    Parameters
    ----------
    n_patients
        Number of patients (>= 2).
    out_dir
        Cohort folder: ``<patient_id>/patient.yaml`` (+ data), ``manifests.csv``,
        ``clinical.tsv``, ``truth.tsv``.
    seed
        Cohort seed.
    n_sites
        Number of sites (hospitals).
    n_mutations
        Somatic mutations per patient (small keeps the cohort fast to analyse).
    show_progress
        Show a progress bar.

    Returns
    -------
    VirtualCohort

    Examples
    --------
    >>> import tempfile
    >>> vc = virtual_cohort(3, tempfile.mkdtemp(), seed=1, n_sites=2, show_progress=False)
    >>> vc.clinical.columns.tolist()[:4]
    ['patient_id', 'site', 'age', 'stage']
    """
    import yaml
    from rich.progress import Progress

    from ithkit.evolution import virtual_patient
    from ithkit.io import write_table

    if n_patients < 2:
        raise InputError(f"cohort size is {n_patients}", source="cohort", fix="use 2 or more")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seqs = np.random.SeedSequence(seed).spawn(n_patients + 1)
    has_images = importlib.util.find_spec("SimpleITK") is not None
    has_anndata = importlib.util.find_spec("anndata") is not None
    rows: list[dict[str, Any]] = []
    manifests: list[Path] = []
    ids = [f"VC{i + 1:03d}" for i in range(n_patients)]
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task("virtual patients", total=n_patients)
        for i, pid in enumerate(ids):
            rng = np.random.default_rng(seqs[i])
            pseed = int(seqs[i].generate_state(1)[0] % (2**31))
            n_regions = int(rng.integers(1, 6))
            vp = virtual_patient(
                seed=pseed,
                patient_id=pid,
                n_regions=n_regions,
                n_mutations=n_mutations,
                n_followups=4,
            )
            folder = out / pid
            files = vp.to_files(folder)
            manifest = yaml.safe_load(files["manifest"].read_text())
            site_k = i % n_sites + 1
            offset = OUTCOME_MODEL["site_offset_hu_per_site"] * (site_k - 1)
            present = {"genomic": True, "ctdna": True, "lesions": True}
            for key, p in MISSING_PROBABILITY.items():
                if rng.uniform() < p:
                    present[key] = False
            if not present["genomic"]:
                for key in ("variants", "segments", "purity"):
                    manifest.pop(key, None)
            if not present["ctdna"]:
                manifest.pop("ctdna", None)
            if not present["lesions"]:
                manifest.pop("lesions", None)
            if rng.uniform() >= SCENARIO_PROBABILITY or not present["lesions"]:
                manifest.pop("scenario", None)
            images = present["lesions"] and has_images and rng.uniform() < IMAGES_PROBABILITY
            if images:
                manifest["images"] = _write_images(folder, vp.lesions, offset, pseed)
            singlecell = has_anndata and rng.uniform() < SINGLECELL_PROBABILITY
            if singlecell:
                from ithkit.singlecell import simulate_scrna

                simulate_scrna(300, 500, n_subclones=2, seed=pseed).write_h5ad(
                    folder / "singlecell.h5ad"
                )
                manifest["singlecell"] = "singlecell.h5ad"
            manifest.setdefault("attributes", {}).update(
                {"site": f"S{site_k}", "virtual_cohort": True}
            )
            files["manifest"].write_text(yaml.safe_dump(manifest, sort_keys=False))
            manifests.append(files["manifest"])
            rows.append(
                {
                    "patient_id": pid,
                    "seed": pseed,
                    "site": f"S{site_k}",
                    "n_regions": n_regions,
                    "n_clones": len(vp.clones),
                    "true_fraction_subclonal": _true_fraction_subclonal(vp.clones),
                    "site_offset_hu": offset,
                    "modalities": ",".join(
                        [k for k in ("genomic", "lesions", "ctdna") if present[k]]
                        + (["images"] if images else [])
                        + (["singlecell"] if singlecell else [])
                        + (["scenario"] if "scenario" in manifest else [])
                    ),
                }
            )
            progress.advance(task)
    truth = pd.DataFrame(rows)
    f = truth["true_fraction_subclonal"]
    sd = float(f.std(ddof=1)) if len(f) > 1 and f.std(ddof=1) > 0 else 1.0
    truth["z_fraction_subclonal"] = (f - f.mean()) / sd
    clinical, lp = draw_outcomes(
        truth["z_fraction_subclonal"].to_numpy(),
        seed=np.random.default_rng(seqs[-1]),
        n_sites=n_sites,
        patient_ids=ids,
    )
    truth = truth.merge(lp, on="patient_id")
    write_table(clinical, out / "clinical.tsv")
    write_table(truth, out / "truth.tsv")
    listing = pd.DataFrame(
        {
            "patient_id": ids,
            "manifest": [str(m.relative_to(out)) for m in manifests],
        }
    )
    write_table(listing, out / "manifests.csv")
    return VirtualCohort(clinical, truth, manifests, out)


def _write_images(folder: Path, lesions: pd.DataFrame, offset_hu: float, seed: int) -> str:
    """Baseline CT of each target lesion, lesion attenuation shifted by the site's offset."""
    import dataclasses

    from ithkit.imaging import synthetic_ct, write_volume
    from ithkit.io import write_table

    (folder / "images").mkdir(exist_ok=True)
    chosen = lesions[
        (lesions["lesion_class"].astype(str) == "target")
        & (lesions["timepoint"] == 0)
        & (lesions["diameter_mm"] >= 5)
    ]
    rows = []
    for j, r in enumerate(chosen.itertuples(index=False)):
        radius = min(float(r.diameter_mm) / 2, 20.0)
        n = math.ceil(radius / 2) * 2 + 6
        lesion = synthetic_ct(
            shape=(n, n, n), spacing=(2.0, 2.0, 2.0), radius_mm=radius, seed=seed + j
        )
        # the site's scanner reads the lesion offset_hu brighter (background unchanged)
        shifted = lesion.image.array + np.where(lesion.mask.array > 0, offset_hu, 0)
        image = dataclasses.replace(lesion.image, array=shifted.astype(lesion.image.array.dtype))
        stem = f"{r.lesion_id}_t0"
        write_volume(image, folder / "images" / f"{stem}_ct.nii.gz")
        write_volume(lesion.mask, folder / "images" / f"{stem}_mask.nii.gz")
        rows.append(
            (
                r.patient_id,
                r.lesion_id,
                0,
                f"images/{stem}_ct.nii.gz",
                f"images/{stem}_mask.nii.gz",
                1,
            )
        )
    columns = ["patient_id", "lesion_id", "timepoint", "image", "mask", "label"]
    write_table(pd.DataFrame(rows, columns=columns), folder / "images.csv")
    return "images.csv"
