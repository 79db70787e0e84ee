"""The imaging analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

MAPPED = ("mean", "variance", "entropy")
RADIOGENOMIC_FDR = 0.1  # Benjamini-Hochberg false discovery rate of the lesion associations


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
    radio = None  # lesion features vs genomic state, when lesions were also sequenced
    if data.has("lesion_regions") and results.get("genomic") is not None:
        radio = lesion_radiogenomics(data, results.get("genomic"), feats)
        write_table(radio, out / "radiogenomics.tsv")
        tables[_names.IMAGING_RADIOGENOMICS] = radio.assign(patient_id=data.patient_id)
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
        radiogenomics=radio,
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
    if radio is not None:
        n_sig = int(radio["significant"].sum())
        profile.append(ProfileScore("n_radiogenomic_associations", n_sig, "associations",
                                    "imaging/radiogenomics.tsv",
                                    f"q <= {RADIOGENOMIC_FDR} of {len(radio)} tested"))  # fmt: skip
    return AnalysisOutput(result=feats, tables=tables, sections=[section], profile=profile)


def check_lesion_regions(data: PatientData) -> dict[str, str]:
    """The manifest's ``lesion_regions`` (region sample_id -> lesion_id), checked.

    Every region must be a ``sample_id`` of the variants and every lesion a ``lesion_id`` of
    the images table (when the patient has them).

    Raises
    ------
    ithkit.InputError
        A region or lesion the patient's tables do not have, or a value that is not a name.

    Examples
    --------
    >>> d = PatientData("P", extra={"lesion_regions": {"R1": "L1"}})
    >>> check_lesion_regions(d)
    {'R1': 'L1'}
    """
    from ithkit._errors import InputError

    source = str(data.manifest) if data.manifest is not None else "<manifest>"
    mapping = data.extra.get("lesion_regions") or {}
    out: dict[str, str] = {}
    for region, lesion in mapping.items():
        if not isinstance(lesion, str | int) or isinstance(lesion, bool):
            raise InputError(f"lesion_regions.{region} is {lesion!r}", source=source,
                             column=f"lesion_regions.{region}",
                             fix="write 'REGION: LESION_ID', one region per line")  # fmt: skip
        out[str(region)] = str(lesion)
    if data.variants is not None:
        regions = set(data.variants["sample_id"].astype(str))
        unknown = sorted(set(out) - regions)
        if unknown:
            known = ", ".join(sorted(regions))
            raise InputError(f"lesion_regions names region {unknown[0]!r}, not in the variants",
                             source=source, column="lesion_regions",
                             fix=f"regions are the variants' sample_id: {known}")  # fmt: skip
    if data.images is not None:
        lesions = set(data.images["lesion_id"].astype(str))
        unknown = sorted(set(out.values()) - lesions)
        if unknown:
            known = ", ".join(sorted(lesions))
            raise InputError(f"lesion_regions names lesion {unknown[0]!r}, not in the images",
                             source=source, column="lesion_regions",
                             fix=f"lesions are the images' lesion_id: {known}")  # fmt: skip
    return out


def lesion_genomic_state(result: object, lesion_regions: dict[str, str]) -> pd.DataFrame:
    """One row per sequenced lesion: ``lesion_id``, ``ccf_clone_<id>`` (each clone's cancer
    cell fraction, mean over the lesion's regions, 0..1) and ``fraction_subclonal`` (mean).

    ``result`` is the patient's :class:`ithkit.genomic.GenomicResult` (its ``clones`` and
    ``metrics`` tables).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> clones = pd.DataFrame({"clone_id": [1, 2, 1, 2], "sample_id": ["R1", "R1", "R2", "R2"],
    ...                        "ccf": [1.0, 0.2, 1.0, 0.6]})
    >>> metrics = pd.DataFrame({"sample_id": ["R1", "R2"], "fraction_subclonal": [0.1, 0.3]})
    >>> s = lesion_genomic_state(SimpleNamespace(clones=clones, metrics=metrics),
    ...                          {"R1": "L1", "R2": "L1"})
    >>> s.round(2).to_dict("records")
    [{'lesion_id': 'L1', 'ccf_clone_1': 1.0, 'ccf_clone_2': 0.4, 'fraction_subclonal': 0.2}]
    """
    clones = result.clones  # type: ignore[attr-defined]
    metrics = result.metrics  # type: ignore[attr-defined]
    regions = pd.Series(lesion_regions, name="lesion_id").rename_axis("sample_id").reset_index()
    c = clones.assign(sample_id=clones["sample_id"].astype(str)).merge(regions, on="sample_id")
    wide = c.pivot_table(index="lesion_id", columns="clone_id", values="ccf", aggfunc="mean")
    wide.columns = [f"ccf_clone_{k}" for k in wide.columns]
    m = metrics.assign(sample_id=metrics["sample_id"].astype(str)).merge(regions, on="sample_id")
    sub = m.groupby("lesion_id")["fraction_subclonal"].mean()
    out = wide.join(sub, how="outer").reset_index()
    out.columns.name = None
    return out


def lesion_radiogenomics(data: PatientData, genomic: object, feats: pd.DataFrame) -> pd.DataFrame:
    """Each lesion's features at its first scan against the lesions' genomic state
    (:func:`ithkit.imaging.radiogenomics`, Benjamini-Hochberg at :data:`RADIOGENOMIC_FDR`);
    an empty table when fewer than 6 lesions are both imaged and sequenced."""
    from ithkit.imaging import radiogenomics

    state = lesion_genomic_state(genomic, check_lesion_regions(data))
    key = feats["family"] + ":" + feats["feature"] + ":" + feats["aggregation"]
    wide = feats.assign(key=key).pivot_table(
        index=["patient_id", "lesion_id", "timepoint"], columns="key", values="value"
    )
    wide = wide.loc[:, wide.nunique() > 1].reset_index()
    wide.columns.name = None
    state.insert(0, "patient_id", data.patient_id)
    return radiogenomics(wide, state, fdr=RADIOGENOMIC_FDR)
