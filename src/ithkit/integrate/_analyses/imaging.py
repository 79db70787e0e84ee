"""The imaging analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

MAPPED = ("mean", "variance", "entropy")


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Features and volumes of every lesion image; maps and habitats of the largest baseline
    lesion; lesion phenotypes when the baseline has >= 4 lesions.

    Files go to ``out_dir/imaging/``.
    """
    assert data.images is not None
    from ithkit.imaging import (
        FeatureConfig,
        extract_features,
        feature_maps,
        habitats,
        lesion_phenotypes,
        read_image,
        read_mask,
        write_volume,
    )
    from ithkit.imaging._extract import prepare
    from ithkit.io import write_table
    from ithkit.report.imaging import imaging_section

    out = Path(out_dir) / "imaging"
    out.mkdir(parents=True, exist_ok=True)
    cfg = FeatureConfig(
        aggregation=("none", "3d_merged", "3d"),
        discretisation={"method": "fixed_bin_size", "value": 25},
    )
    cfg.write_yaml(out / "features.config.yaml")
    rows = []
    for r in data.images.itertuples(index=False):
        label = None if pd.isna(r.label) else int(r.label)
        t = extract_features(r.image, r.mask, label=label, config=cfg, seed=seed)
        t.insert(0, "timepoint", int(r.timepoint))
        t.insert(0, "lesion_id", str(r.lesion_id))
        t.insert(0, "patient_id", data.patient_id)
        rows.append(t)
    feats = pd.concat(rows, ignore_index=True)
    write_table(feats, out / "features.tsv")
    vol = feats[feats["ibsi_code"] == "RNU0"][["patient_id", "lesion_id", "timepoint", "value"]]
    volumes = vol.rename(columns={"value": "volume_ml"}).assign(
        volume_ml=lambda f: f["volume_ml"] / 1000.0
    )
    write_table(volumes, out / "volumes.tsv")
    tables = {_names.IMAGING_FEATURES: feats, _names.IMAGING_VOLUMES: volumes}
    base_tp = int(data.images["timepoint"].min())
    base = volumes[volumes["timepoint"] == base_tp]
    lid = str(base.sort_values("volume_ml").iloc[-1]["lesion_id"])
    row = data.images[
        (data.images["lesion_id"].astype(str) == lid) & (data.images["timepoint"] == base_tp)
    ].iloc[0]
    label = None if pd.isna(row["label"]) else int(row["label"])
    img, msk = prepare(read_image(row["image"]), read_mask(row["mask"]), label=label, config=cfg)
    maps = feature_maps(img, msk, features=MAPPED, kernel_voxels=5, config=cfg)
    for name, v in maps.items():
        write_volume(v, out / f"{lid}_map_{name}.nii.gz")
    hab = habitats(maps, msk, seed=seed)
    write_volume(hab.labels, out / f"{lid}_habitats.nii.gz")
    htab = hab.table.assign(patient_id=data.patient_id, lesion_id=lid, diversity=hab.diversity)
    write_table(htab, out / "habitats.tsv")
    tables[_names.IMAGING_HABITATS] = htab
    pheno = None
    base_feats = feats[feats["timepoint"] == base_tp]
    if base_feats["lesion_id"].nunique() >= 4:
        wide = base_feats.assign(
            key=base_feats["family"] + ":" + base_feats["feature"] + ":" + base_feats["aggregation"]
        ).pivot_table(index=["patient_id", "lesion_id", "timepoint"], columns="key", values="value")
        pheno = lesion_phenotypes(wide.reset_index(), n_bootstrap=30, seed=seed)
        write_table(pheno.assignments, out / "phenotypes.tsv")
        write_table(pheno.patients, out / "phenotype_patients.tsv")
        tables[_names.IMAGING_PHENOTYPES] = pheno.assignments
    deltas = None
    if data.images.groupby("lesion_id")["timepoint"].nunique().max() >= 2:
        # delta-radiomics: every lesion's change from its baseline scan, feature by feature
        from ithkit.imaging import lesion_deltas

        wide = feats.assign(
            key=feats["family"] + ":" + feats["feature"] + ":" + feats["aggregation"]
        ).pivot_table(index=["patient_id", "lesion_id", "timepoint"], columns="key", values="value")
        wide = wide.reset_index().merge(volumes, on=["patient_id", "lesion_id", "timepoint"])
        deltas = lesion_deltas(wide)
        write_table(deltas, out / "feature_deltas.tsv")
        tables[_names.IMAGING_DELTAS] = deltas
    section = imaging_section(
        volumes=volumes,
        features=base_feats[base_feats["lesion_id"] == lid].drop(
            columns=["patient_id", "lesion_id", "timepoint"]
        ),
        lesion=(lid, img, msk),
        maps=maps,
        habitat=hab,
        phenotypes=pheno,
        deltas=deltas,
    )
    profile = [
        ProfileScore("n_lesions_imaged", int(feats["lesion_id"].nunique()), "lesions",
                     "imaging/features.tsv"),
        ProfileScore("habitat_shannon_mean", float(htab["diversity"].mean()), "nats",
                     "imaging/habitats.tsv", f"largest baseline lesion {lid}"),
    ]  # fmt: skip
    if pheno is not None:
        het = pheno.patients["heterogeneity"]
        profile.append(ProfileScore("interlesional_heterogeneity", float(het.iloc[0]),
                                    "SD units", "imaging/phenotype_patients.tsv"))  # fmt: skip
    else:
        profile.append(ProfileScore("interlesional_heterogeneity", float("nan"), "SD units",
                                    "imaging/features.tsv",
                                    "needs >= 4 lesions at baseline"))  # fmt: skip
    return AnalysisOutput(result=feats, tables=tables, sections=[section], profile=profile)
