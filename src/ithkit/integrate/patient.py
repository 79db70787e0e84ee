"""One patient across modalities: load a manifest, run the analyses, profile, store, report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ithkit import _names
from ithkit._progress import stage
from ithkit.integrate._analyses import REGISTRY, AnalysisSpec, spec
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore
from ithkit.report import Section

# a report section, or a function of the analyses' results that builds one (or None)
ExtraSection = Section | Callable[[PatientResults], Section | None]

__all__ = [
    "AnalysisOutput",
    "PatientData",
    "PatientResult",
    "PatientResults",
    "PatientRun",
    "ProfileScore",
    "analyze_patient",
    "build_patient",
    "input_tables",
    "load_patient",
    "report_sections",
    "run_patient",
]


def _selected(analyses: Sequence[str] | None) -> list[AnalysisSpec]:
    if analyses is None:
        return list(REGISTRY)
    wanted = {spec(name).name for name in analyses}
    return [s for s in REGISTRY if s.name in wanted]


def analyze_patient(
    data: PatientData,
    out_dir: str | Path,
    *,
    seed: int = 0,
    analyses: Sequence[str] | None = None,
    show_progress: bool = False,
) -> PatientResults:
    """Run every registered analysis that applies to the patient's data, in order.

    Parameters
    ----------
    data
        The patient's validated inputs (:func:`load_patient`).
    out_dir
        Run folder; each analysis writes under ``out_dir/<module>/``.
    seed
        Seed handed to every analysis.
    analyses
        Module names to run (default: all registered, see
        :data:`ithkit.integrate._analyses.REGISTRY`); an empty list runs none.
    show_progress
        One line per module with its time (rich), on stderr.

    Returns
    -------
    PatientResults
        Each module's output; modules without data are recorded as skipped, with the reason.
    """
    out = Path(out_dir)
    results = PatientResults()
    chosen = _selected(analyses)
    for s in REGISTRY:
        if s not in chosen:
            results.skip(s.name, "not requested")
        elif not s.applies(data):
            results.skip(s.name, s.reason_missing())
    for s in chosen:
        if not s.applies(data):
            continue
        with stage(s.name, enabled=show_progress):
            output = s.run(data, results, out, seed=seed)
        if output is not None:
            results.add(s.name, output)
    return results


def load_patient(manifest: str | Path) -> PatientData:
    """Read a patient manifest (YAML) and every file it names, validating each.

    Raises
    ------
    ithkit.InputError
        On a bad manifest or any bad table (the message names the file).
    """
    from ithkit import io, schema

    info = io.read_patient_manifest(manifest)
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        "variants": io.read_variants,
        "segments": io.read_segments,
        "purity": io.read_purity,
        "lesions": io.read_lesions,
        "ctdna": io.read_ctdna,
        "images": io.read_image_manifest,
    }
    data = PatientData(
        patient_id=info["patient_id"],
        attributes=dict(info.get("attributes", {})),
        manifest=Path(manifest),
        seed=info.get("seed"),
    )
    for key, reader in readers.items():
        if key in info:
            setattr(data, key, reader(info[key]))
    data.singlecell = info.get("singlecell")
    data.spatial = info.get("spatial")
    data.scenario = info.get("scenario")
    data.extra = {k: info[k] for k in schema.MANIFEST_SECTION_KEYS if k in info}
    if "vcf" in info:
        _variants_from_callers(data, info)
    if "lesion_regions" in data.extra:
        from ithkit.integrate._analyses.imaging import check_lesion_regions

        check_lesion_regions(data)
    if data.scenario is not None:  # validated now: a bad scenario stops the run before any output
        from ithkit.evolution import load_scenario

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


def _variants_from_callers(data: PatientData, info: dict[str, Any]) -> None:
    """The manifest's ``vcf`` + ``copy_number`` -> variants (and segments, purity)."""
    from ithkit.genomic import CallerFile, convert_vcf, one_state

    vcf = info["vcf"]
    cn = info["copy_number"]
    files = [CallerFile(f["caller"], Path(f["path"]), f["sample_id"]) for f in cn["files"]]
    if data.segments is not None:
        files.append(CallerFile("ithkit", Path(info["segments"])))
    purity: Any = [(p["path"], p["sample_id"]) for p in cn["purity"]]
    if not purity:
        purity = data.purity
    result = convert_vcf(
        vcf["paths"], normal=vcf["normal"], samples=vcf["samples"] or None,
        pass_only=vcf["pass_only"], copy_number=files, purity=purity,
    )  # fmt: skip
    data.variants = result.variants
    if result.segments is not None:
        data.segments = one_state(result.segments)
    if data.purity is None:
        data.purity = result.summary[["sample_id", "purity"]].copy()
    data.extra["vcf"] = result  # the genomic analysis writes it next to its results


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


def report_sections(
    data: PatientData, results: PatientResults | None = None, *, show_identifiers: bool = False
) -> list[Section]:
    """The input sections of the report (the analyses' sections follow them).

    Identifying manifest attributes (names, birth dates, record numbers... see
    :data:`ithkit.report.sections.IDENTIFYING_KEY_PATTERNS`) are shown only with
    ``show_identifiers``. The regions table comes with the genomic analysis.
    """
    from ithkit.report import sections

    out = [
        sections.patient_section(
            data.patient_id, data.summary(), data.attributes, show_identifiers=show_identifiers
        )
    ]
    if data.ctdna is not None and (results is None or "liquid" not in results):
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
    """One patient analysed and reported, not yet stored (see :func:`build_patient`).

    Attributes
    ----------
    data
        The validated inputs.
    tables
        Cohort-store table name -> frame (inputs, results, ``profiles``...).
    report
        The report file.
    results
        Every analysis' output, in memory.
    profile
        The patient ITH profile (``profile.tsv``).
    """

    data: PatientData
    tables: dict[str, pd.DataFrame]
    report: Path
    results: PatientResults | None = None
    profile: pd.DataFrame | None = None


def build_patient(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    extra_sections: Sequence[ExtraSection] = (),
    extra_tables: dict[str, pd.DataFrame] | None = None,
    seed: int | None = None,
    analyses: Sequence[str] | None = None,
    show_progress: bool = False,
    show_identifiers: bool = False,
) -> PatientResult:
    """Validate a patient's files, run every analysis, write the profile, the concordance,
    the findings and ``out_dir/report.html``.

    Nothing is written to a cohort store: :func:`run_patient` does that, and the cohort runner
    of :mod:`ithkit.scale` hands the tables to the store as Parquet. ``seed`` defaults to the
    manifest's ``seed`` (0 when it has none). The report shows the manifest's pseudonymous
    ``patient_id``; identifying attributes appear only with ``show_identifiers``.
    """
    from ithkit.integrate.findings import patient_findings
    from ithkit.integrate.profile import concordance, patient_profile
    from ithkit.io import write_table
    from ithkit.report import write_report
    from ithkit.report.summary import concordance_section, first_screen

    data = load_patient(manifest)
    if seed is None:
        seed = data.seed if data.seed is not None else 0
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = analyze_patient(data, out, seed=seed, analyses=analyses, show_progress=show_progress)
    profile = patient_profile(data, results)
    write_table(profile, out / _names.PROFILE_TSV)
    conc = concordance(data, results)
    write_table(conc, out / _names.CONCORDANCE_TSV)
    findings = patient_findings(data, results, profile, conc)
    write_table(findings, out / _names.FINDINGS_TSV)
    tables = {**input_tables(data), **(extra_tables or {})}
    for output in results.outputs.values():
        tables.update(output.tables)
    tables[_names.PROFILES] = profile
    tables[_names.CONCORDANCE] = conc
    tables[_names.FINDINGS] = findings
    sections = [first_screen(data.patient_id, profile, findings, conc)]
    sections += report_sections(data, results, show_identifiers=show_identifiers)
    conc_section = concordance_section(conc)
    if conc_section is not None:
        sections.append(conc_section)
    for extra in extra_sections:  # a callable builds its section from the results
        built = extra(results) if callable(extra) else extra
        if built is not None:
            sections.append(built)
    for output in results.outputs.values():
        sections.extend(output.sections)
    report = write_report(
        sections,
        out / _names.REPORT_HTML,
        title=f"ithkit report · {data.patient_id}",
        subtitle="Intratumor heterogeneity across modalities",
    )
    return PatientResult(data, tables, report, results, profile)


def run_patient(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    store: str | Path | None = None,
    extra_sections: Sequence[ExtraSection] = (),
    extra_tables: dict[str, pd.DataFrame] | None = None,
    seed: int | None = None,
    analyses: Sequence[str] | None = None,
    show_progress: bool = False,
    show_identifiers: bool = False,
) -> PatientRun:
    """Validate a patient's files, analyse them, store them and write ``out_dir/report.html``.

    Parameters
    ----------
    manifest
        The patient manifest (YAML).
    out_dir
        Output folder (created): one folder per analysis, ``profile.tsv``,
        ``concordance.tsv``, ``findings.tsv``, ``report.html``.
    store
        Cohort store file; ``out_dir/ithkit.duckdb`` by default. Its lock is taken before any
        analysis runs, so a busy store fails at once.
    extra_sections, extra_tables
        Further report sections (or functions of the :class:`PatientResults` returning one,
        e.g. a virtual patient's truth mapped onto the inferred clones) and store tables.
    seed
        Seed handed to every analysis (clustering restarts, permutations...); default: the
        manifest's ``seed``, else 0.
    analyses
        Module names to run (default: every registered one); an empty list stores and reports
        the inputs only.
    show_progress
        One line per module with its time, on stderr.
    show_identifiers
        Show identifying manifest attributes (names, birth dates, record numbers...) in the
        report; by default only the pseudonymous ``patient_id`` identifies the patient.

    Returns
    -------
    PatientRun
        The patient, the report and store paths, and the tables stored.

    Examples
    --------
    >>> import tempfile
    >>> from ithkit.evolution import virtual_patient
    >>> d = tempfile.mkdtemp()
    >>> files = virtual_patient(seed=3, n_regions=2).to_files(d)
    >>> run = run_patient(files["manifest"], d + "/out", analyses=["response"])  # doctest: +SKIP
    """
    return _run_atomically(
        lambda tmp: Path(manifest),
        out_dir,
        store=store,
        extra_sections=extra_sections,
        extra_tables=extra_tables,
        seed=seed,
        analyses=analyses,
        show_progress=show_progress,
        show_identifiers=show_identifiers,
    )


def _run_atomically(
    prepare: Callable[[Path], Path],
    out_dir: str | Path,
    *,
    store: str | Path | None,
    extra_sections: Sequence[ExtraSection],
    extra_tables: dict[str, pd.DataFrame] | None,
    seed: int | None,
    analyses: Sequence[str] | None,
    show_progress: bool,
    show_identifiers: bool,
) -> PatientRun:
    """Build a patient into a temporary folder beside ``out_dir``, swap it in, then store it.

    ``prepare(tmp)`` returns the manifest to read (it may write it inside ``tmp``, as the demo
    does). Bad input or a crash leaves ``out_dir`` as it was (or absent): the analyses and
    the report land in it only when all of them are written (:func:`ithkit._atomic.atomic_dir`).
    The store (by default ``out_dir/ithkit.duckdb``, which the swap keeps) is written after
    the swap, in its own transaction; its lock is checked before anything runs.
    """
    from ithkit._atomic import atomic_dir
    from ithkit.store import CohortStore

    out = Path(out_dir)
    store_path = Path(store) if store is not None else out / _names.DEFAULT_STORE
    cohort = CohortStore(store_path)
    cohort.check_writable()
    with atomic_dir(out) as tmp:
        manifest = prepare(tmp)
        result = build_patient(
            manifest,
            tmp,
            extra_sections=extra_sections,
            extra_tables=extra_tables,
            seed=seed,
            analyses=analyses,
            show_progress=show_progress,
            show_identifiers=show_identifiers,
        )
    if manifest.is_relative_to(tmp):  # written by prepare: now inside out
        manifest = out / manifest.relative_to(tmp)
    report = out / result.report.relative_to(tmp)
    data = result.data
    used_seed = seed if seed is not None else (data.seed if data.seed is not None else 0)
    cohort.write(
        data.patient_id,
        result.tables,
        attributes={**data.attributes, **data.summary()},
        samples=data.samples(),
        module="run",
        parameters={"manifest": str(manifest), "seed": used_seed},
    )
    return PatientRun(data.patient_id, report, store_path, tuple(result.tables))


def _profile_rows(module: str, scores: Sequence[ProfileScore]) -> list[dict[str, Any]]:
    return [
        {"modality": module, "score": s.score, "value": s.value, "unit": s.unit,
         "source": s.source, "note": s.note}
        for s in scores
    ]  # fmt: skip
