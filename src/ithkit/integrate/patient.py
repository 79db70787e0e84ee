"""One patient across modalities: load a manifest, store its data, build its report."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ithkit import _names
from ithkit.report import Section


@dataclass
class PatientData:
    """The validated inputs of one patient; any modality may be missing (None).

    Frames follow the contracts of :mod:`ithkit.schema`.
    """

    patient_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    variants: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    purity: pd.DataFrame | None = None
    lesions: pd.DataFrame | None = None
    ctdna: pd.DataFrame | None = None
    images: pd.DataFrame | None = None
    singlecell: Path | None = None  # .h5ad, read by ithkit.singlecell's analysis
    spatial: Path | None = None  # .h5ad, read by ithkit.spatial's analysis
    scenario: Path | None = None  # therapy scenario YAML, run by ithkit.evolution's analysis

    @property
    def modalities(self) -> list[str]:
        """Names of the modalities present."""
        names = ("variants", "segments", "purity", "lesions", "ctdna", "images")
        return [n for n in names if getattr(self, n) is not None]

    def samples(self) -> pd.DataFrame:
        """One row per sample: regions (genomic), lesions (imaging) and blood draws (liquid)."""
        rows: list[dict[str, Any]] = []
        if self.variants is not None:
            per = self.variants.groupby("sample_id", sort=False)["tumour_content"].first()
            rows += [
                {"sample_id": str(s), "modality": "genomic", "purity": float(p)}
                for s, p in per.items()
            ]
        if self.lesions is not None:
            first = self.lesions.sort_values("timepoint").groupby("lesion_id", sort=False).first()
            rows += [
                {"sample_id": str(lid), "modality": "lesion", "organ": str(r["organ"]),
                 "lesion_class": str(r["lesion_class"])}
                for lid, r in first.iterrows()
            ]  # fmt: skip
        if self.ctdna is not None:
            rows += [
                {"sample_id": f"plasma-t{int(tp)}", "modality": "liquid", "timepoint": int(tp)}
                for tp in sorted(self.ctdna["timepoint"].unique())
            ]
        return pd.DataFrame(rows, columns=None if rows else ["sample_id", "modality"])

    def summary(self) -> dict[str, Any]:
        """Headline counts of the data available."""
        out: dict[str, Any] = {"modalities": ", ".join(self.modalities)}
        if self.variants is not None:
            out["regions"] = int(self.variants["sample_id"].nunique())
            out["mutations"] = int(self.variants["mutation_id"].nunique())
        if self.lesions is not None:
            out["lesions"] = int(self.lesions["lesion_id"].nunique())
            out["assessments"] = int(self.lesions["timepoint"].nunique())
        if self.ctdna is not None:
            out["blood_draws"] = int(self.ctdna["timepoint"].nunique())
            out["ctdna_variants"] = int(self.ctdna["mutation_id"].nunique())
        return out


@dataclass(frozen=True)
class AnalysisOutput:
    """What one module's analysis of a patient gives the store and the report.

    Attributes
    ----------
    tables
        Cohort-store table name (see :mod:`ithkit._names`) -> tidy frame of this patient.
    sections
        Report sections, in display order.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)


class PatientAnalysis(Protocol):
    """A module's per-patient analysis: returns None when the patient lacks its inputs."""

    def __call__(
        self, data: PatientData, out_dir: Path, *, seed: int
    ) -> AnalysisOutput | None: ...  # pragma: no cover


# The analyses ``ithkit run`` and ``ithkit demo`` apply, in report order, as "module:function".
# Each analysis module adds its own line; the function writes its files under out_dir/<module>/.
ANALYSES: tuple[str, ...] = (
    "ithkit.genomic._patient:analyze_patient",
    "ithkit.response._patient:analyze_patient",
    "ithkit.liquid._patient:analyze_patient",
    "ithkit.singlecell._patient:analyze_patient",
    "ithkit.spatial._patient:analyze_patient",
    "ithkit.imaging._patient:analyze_patient",
    "ithkit.evolution._patient:analyze_patient",
)


def _resolve(spec: str) -> PatientAnalysis:
    module, _, name = spec.partition(":")
    func: PatientAnalysis = getattr(importlib.import_module(module), name)
    return func


def analyze_patient(
    data: PatientData, out_dir: str | Path, *, seed: int = 0, analyses: Sequence[str] | None = None
) -> list[AnalysisOutput]:
    """Run every registered analysis that applies to the patient's data."""
    out = Path(out_dir)
    results = []
    for spec in ANALYSES if analyses is None else analyses:
        result = _resolve(spec)(data, out, seed=seed)
        if result is not None:
            results.append(result)
    return results


def load_patient(manifest: str | Path) -> PatientData:
    """Read a patient manifest (YAML) and every file it names, validating each.

    Raises
    ------
    ithkit.InputError
        On a bad manifest or any bad table (the message names the file).
    """
    from ithkit import io

    info = io.read_patient_manifest(manifest)
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        "variants": io.read_variants,
        "segments": io.read_segments,
        "purity": io.read_purity,
        "lesions": io.read_lesions,
        "ctdna": io.read_ctdna,
        "images": io.read_image_manifest,
    }
    data = PatientData(patient_id=info["patient_id"], attributes=dict(info.get("attributes", {})))
    for key, reader in readers.items():
        if key in info:
            setattr(data, key, reader(info[key]))
    data.singlecell = info.get("singlecell")
    data.spatial = info.get("spatial")
    data.scenario = info.get("scenario")
    if data.scenario is not None:  # validated now: a bad scenario stops the run before any output
        from ithkit.evolution._scenario import load_scenario

        load_scenario(data.scenario)
    for key, frame in (("lesions", data.lesions), ("ctdna", data.ctdna)):
        if frame is not None:
            other = set(frame["patient_id"].astype(str)) - {data.patient_id}
            if other:
                from ithkit._errors import InputError

                raise InputError(
                    f"rows of other patient(s) {sorted(other)} in a manifest for "
                    f"{data.patient_id!r}",
                    source=str(info[key]),
                    column="patient_id",
                    fix="one manifest per patient: split the file or fix patient_id",
                )
    return data


def input_tables(data: PatientData) -> dict[str, pd.DataFrame]:
    """The patient's input tables under their cohort-store names."""
    tables: dict[str, pd.DataFrame] = {}
    if data.variants is not None:
        tables[_names.GENOMIC_VARIANTS] = data.variants
    if data.segments is not None:
        tables[_names.GENOMIC_SEGMENTS] = data.segments
    if data.lesions is not None:
        tables[_names.RESPONSE_MEASUREMENTS] = data.lesions
    if data.ctdna is not None:
        tables[_names.LIQUID_CTDNA] = data.ctdna
    return tables


def report_sections(data: PatientData) -> list[Section]:
    """Report sections for the data a patient brings (analysis modules append their own)."""
    from ithkit.report import sections

    out = [sections.patient_section(data.patient_id, {**data.attributes, **data.summary()})]
    if data.variants is not None:
        out.append(sections.regions_section(data.variants, data.purity))
    if data.lesions is not None:
        out.append(sections.lesions_section(data.lesions))
    if data.ctdna is not None:
        out.append(sections.ctdna_section(data.ctdna))
    return out


@dataclass(frozen=True)
class PatientRun:
    """What :func:`run_patient` wrote."""

    patient_id: str
    report: Path
    store: Path
    tables: tuple[str, ...]


@dataclass(frozen=True)
class PatientResult:
    """One patient analysed and reported, not yet stored (see :func:`build_patient`)."""

    data: PatientData
    tables: dict[str, pd.DataFrame]
    report: Path


def build_patient(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    extra_sections: Sequence[Section] = (),
    extra_tables: dict[str, pd.DataFrame] | None = None,
    seed: int = 0,
    analyses: Sequence[str] | None = None,
) -> PatientResult:
    """Validate a patient's files, run every analysis and write ``out_dir/report.html``.

    Nothing is written to a cohort store: :func:`run_patient` does that, and the cohort runner
    of :mod:`ithkit.scale` hands the tables to the store as Parquet.
    """
    from ithkit.report import write_report

    data = load_patient(manifest)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outputs = analyze_patient(data, out, seed=seed, analyses=analyses)
    tables = {**input_tables(data), **(extra_tables or {})}
    for result in outputs:
        tables.update(result.tables)
    sections = report_sections(data)
    sections[1:1] = list(extra_sections)
    for result in outputs:
        sections.extend(result.sections)
    report = write_report(
        sections,
        out / _names.REPORT_HTML,
        title=f"ithkit report · {data.patient_id}",
        subtitle="Intratumor heterogeneity across modalities",
    )
    return PatientResult(data, tables, report)


def run_patient(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    store: str | Path | None = None,
    extra_sections: Sequence[Section] = (),
    extra_tables: dict[str, pd.DataFrame] | None = None,
    seed: int = 0,
    analyses: Sequence[str] | None = None,
) -> PatientRun:
    """Validate a patient's files, analyse them, store them and write ``out_dir/report.html``.

    Parameters
    ----------
    manifest
        The patient manifest (YAML).
    out_dir
        Output folder (created).
    store
        Cohort store file; ``out_dir/ithkit.duckdb`` by default.
    extra_sections, extra_tables
        Further report sections and store tables (e.g. a virtual patient's truth).
    seed
        Seed handed to every analysis (clustering restarts, permutations...).
    analyses
        The analyses to run as ``"module:function"`` (default: every registered one,
        :data:`ANALYSES`); an empty list stores and reports the inputs only.
    """
    from ithkit.store import CohortStore

    out = Path(out_dir)
    store_path = Path(store) if store is not None else out / _names.DEFAULT_STORE
    result = build_patient(
        manifest,
        out,
        extra_sections=extra_sections,
        extra_tables=extra_tables,
        seed=seed,
        analyses=analyses,
    )
    data = result.data
    CohortStore(store_path).write(
        data.patient_id,
        result.tables,
        attributes={**data.attributes, **data.summary()},
        samples=data.samples(),
        module="run",
        parameters={"manifest": str(manifest), "seed": seed},
    )
    return PatientRun(data.patient_id, result.report, store_path, tuple(result.tables))
