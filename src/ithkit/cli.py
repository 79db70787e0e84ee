"""The ``ithkit`` command line: one sub-command group per module; no computation here.

Every command calls module functions and writes their results. Heavy libraries are imported
inside the commands, so ``ithkit --help`` stays fast. Bad input becomes one line on stderr and
exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ithkit._atomic import atomic_dir
from ithkit._errors import InputError, OptionalDependencyError, StoreBusyError
from ithkit._version import __version__

app = typer.Typer(
    name="ithkit",
    help="Intratumor heterogeneity from sequencing, single-cell, imaging, response and ctDNA data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ithkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """ithkit: measure intratumor heterogeneity and what it means for treatment."""


def _echo(message: str) -> None:
    typer.echo(message, err=True)


def _seed(value: int | None) -> int | None:
    """--seed of every command: an integer >= 0 (one line and exit 2 otherwise)."""
    if value is not None and value < 0:
        raise InputError(f"--seed is {value}", source="--seed", fix="give an integer >= 0")
    return value


def _record_options(folder: Path, command: str, **options: Any) -> Path:
    """Write ``folder/options.json``: the command and the options that change how input is read
    (``--units``, ``--force``...), so that the outputs say how they were made."""
    import json

    path = folder / "options.json"
    payload = {"command": f"ithkit {command}", "ithkit_version": __version__, **options}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# demo and run


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo_out"),
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the virtual patient.")] = 7,
    regions: Annotated[int, typer.Option(help="Number of sequenced regions (1-10).")] = 4,
    store: Annotated[
        Path | None, typer.Option(help="Cohort store file (default OUT/ithkit.duckdb).")
    ] = None,
    show_identifiers: Annotated[
        bool,
        typer.Option(
            "--show-identifiers",
            help="Show identifying manifest attributes (names, birth dates, record numbers) in "
            "the report; by default only the pseudonymous patient_id.",
        ),
    ] = False,
    cohort: Annotated[
        int | None,
        typer.Option(
            "--cohort", help="Write a virtual cohort of N patients instead (no analysis)."
        ),
    ] = None,
    sites: Annotated[int, typer.Option("--sites", help="Cohort: number of sites.")] = 3,
) -> None:
    """Run a virtual patient end to end: data files, cohort store and report.html.

    With --cohort N: write N virtual patients (manifests, manifests.csv, clinical.tsv,
    truth.tsv) whose outcomes follow a documented model; run them with 'ithkit run'.
    """
    if cohort is not None:
        from ithkit.cohort import virtual_cohort

        if seed < 0:
            raise InputError(f"--seed is {seed}", source="--seed", fix="give an integer >= 0")
        vc = virtual_cohort(cohort, out, seed=seed, n_sites=sites)
        typer.echo(f"patients  {len(vc.clinical)} at {sites} site(s)")
        typer.echo(f"manifests {out / 'manifests.csv'}")
        typer.echo(f"clinical  {out / 'clinical.tsv'}")
        typer.echo(f"truth     {out / 'truth.tsv'}")
        return

    from ithkit.integrate import run_demo

    if seed < 0:
        raise InputError(f"--seed is {seed}", source="--seed", fix="give an integer >= 0")
    result = run_demo(
        out,
        seed=seed,
        n_regions=regions,
        store=store,
        show_progress=True,
        show_identifiers=show_identifiers,
    )
    typer.echo(f"data      {out / 'data'}")
    _print_run(result)


@app.command("run")
def run(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="Patient manifest (YAML), or a cohort: a folder of manifests or a CSV with a "
            "'manifest' column."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    store: Annotated[
        Path | None, typer.Option(help="Cohort store file (default OUT/ithkit.duckdb).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for every random step (default: the manifest's seed, else 0)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Cohorts: local worker processes (Dask if > 1).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Cohorts: address of a running Dask scheduler (tcp://HOST:8786; start one "
            "with 'dask scheduler' and workers with 'dask worker tcp://HOST:8786')."
        ),
    ] = None,
    show_identifiers: Annotated[
        bool,
        typer.Option(
            "--show-identifiers",
            help="Show identifying manifest attributes (names, birth dates, record numbers) in "
            "the report; by default only the pseudonymous patient_id.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Cohorts: rerun patients whose inputs did not change since the last run.",
        ),
    ] = False,
) -> None:
    """Analyse a patient (or a cohort), add it to the cohort store and write report.html."""
    if seed is not None and seed < 0:
        raise InputError(f"--seed is {seed}", source="--seed", fix="give an integer >= 0")
    if manifest.is_file() and manifest.suffix.lower() in (".yaml", ".yml"):
        from ithkit.integrate import run_patient

        result = run_patient(
            manifest,
            out,
            store=store,
            seed=seed,
            show_progress=True,
            show_identifiers=show_identifiers,
        )
        _print_run(result)
        return

    from ithkit.scale import run_cohort

    cohort = run_cohort(
        manifest,
        out,
        store=store,
        workers=workers,
        scheduler=scheduler,
        seed=seed or 0,
        force=force,
    )
    ok = cohort.patients[cohort.patients["status"] == "ok"]
    unchanged = int((cohort.patients["status"] == "unchanged").sum())
    typer.echo(f"patients  {len(ok)} of {len(cohort.patients)} run")
    if unchanged:
        typer.echo(f"unchanged {unchanged} (inputs as in the last run; --force reruns them)")
    typer.echo(f"store     {cohort.store}")
    typer.echo(f"summary   {out / 'patients.tsv'}")
    if cohort.n_failed:
        failed = cohort.patients[cohort.patients["status"] == "failed"].iloc[0]
        raise InputError(
            f"{cohort.n_failed} patient(s) failed, first: {failed['error']}",
            fix=f"see {out / 'patients.tsv'}; the other patients were stored",
        )


def _print_run(result: Any) -> None:
    out = Path(result.report).parent
    typer.echo(f"patient   {result.patient_id}")
    typer.echo(f"profile   {out / 'profile.tsv'}")
    typer.echo(f"findings  {out / 'findings.tsv'}")
    typer.echo(f"store     {result.store}")
    typer.echo(f"report    {result.report}")


# ---------------------------------------------------------------------------------------------
# cohort

cohort_app = typer.Typer(
    help="The cohort store (list, export, load) and cohort statistics (survival, predict, report).",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")

StoreOption = Annotated[Path, typer.Option("--store", help="Cohort store file (.duckdb).")]


@cohort_app.command("ls")
def cohort_ls(
    store: StoreOption,
    tables: Annotated[bool, typer.Option("--tables", help="List tables, not patients.")] = False,
) -> None:
    """List the patients (or tables) in a cohort store."""
    from ithkit.store import CohortStore

    cohort = CohortStore(store, read_only=True)
    if not store.exists():
        raise InputError("cohort store not found", source=store, fix="check --store")
    if tables:
        for name in cohort.tables():
            typer.echo(name)
        return
    frame = cohort.patients()
    typer.echo(frame.to_csv(sep="\t", index=False, date_format="%Y-%m-%dT%H:%M:%S").rstrip())


@cohort_app.command("export")
def cohort_export(
    store: StoreOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet files.")],
    tables: Annotated[
        str | None, typer.Option(help="Comma-separated tables (default: all).")
    ] = None,
) -> None:
    """Export store tables to Parquet, one file per table."""
    from ithkit.store import CohortStore

    if not store.exists():
        raise InputError("cohort store not found", source=store, fix="check --store")
    names = [t.strip() for t in tables.split(",")] if tables else None
    for path in CohortStore(store, read_only=True).export_parquet(out, tables=names):
        typer.echo(str(path))


@cohort_app.command("load")
def cohort_load(
    folder: Annotated[Path, typer.Argument(help="Folder of per-patient Parquet results.")],
    store: StoreOption,
) -> None:
    """Load Parquet results written by parallel workers (one sub-folder per patient)."""
    from ithkit.store import CohortStore

    loaded = CohortStore(store).load_parquet(folder)
    typer.echo(f"loaded {len(loaded)} patient(s) into {store}")


# cohort statistics (ithkit.cohort): survival, prediction, the cohort report

ClinicalOption = Annotated[
    Path, typer.Option("--clinical", help="Clinical table: one row per patient (TSV/CSV).")
]
FeaturesOption = Annotated[
    Path | None,
    typer.Option("--features", help="Feature table: patient_id + numeric columns (0/1 binary)."),
]
CohortStoreOption = Annotated[
    Path | None, typer.Option("--store", help="Cohort store: its profile scores are the features.")
]
ScoresOption = Annotated[
    str | None,
    typer.Option("--scores", help="With --store: comma-separated scores (modality.score) to use."),
]
IdColumnOption = Annotated[
    str, typer.Option("--id-column", help="Patient identifier column of the tables.")
]
DropUnmatchedOption = Annotated[
    bool,
    typer.Option("--drop-unmatched", help="Drop patients present in one table only (reported)."),
]


def _names_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@cohort_app.command("survival")
def cohort_survival(
    clinical: ClinicalOption,
    time: Annotated[str, typer.Option("--time", help="Follow-up column (days).")],
    event: Annotated[str, typer.Option("--event", help="Event column (1 = event, 0 = censored).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    features: FeaturesOption = None,
    store: CohortStoreOption = None,
    scores: ScoresOption = None,
    covariates: Annotated[
        str | None, typer.Option("--covariates", help="Comma-separated clinical adjusters.")
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="median or a value: high/low groups of a feature.")
    ] = "median",
    per_sd: Annotated[
        bool, typer.Option("--per-sd", help="Hazard ratios per SD of continuous features.")
    ] = False,
    id_column: IdColumnOption = "patient_id",
    drop_unmatched: DropUnmatchedOption = False,
) -> None:
    """Cox, log-rank and Kaplan-Meier of ITH features vs survival (lifelines); report.html."""
    from ithkit.cohort import survival
    from ithkit.report.cohort import write_survival_report

    result = survival(
        clinical, time=time, event=event, features=features, store=store,
        scores=_names_list(scores) or None, covariates=_names_list(covariates), split=split,
        per_sd=per_sd, id_column=id_column, drop_unmatched=drop_unmatched,
    )  # fmt: skip
    files = result.write(out)
    write_survival_report(result, out / "report.html")
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"patients  {result.n_patients} ({result.n_events} events)")
    for r in result.cox.itertuples():
        if r.model != "multivariable" and not pd_isna(r.hr):
            typer.echo(f"{r.feature}\tHR {r.hr:.3g} ({r.hr_low:.3g}-{r.hr_high:.3g}) p={r.p:.3g}")
    typer.echo(f"written   {len(files) + 1} files in {out}")


def pd_isna(value: Any) -> bool:
    """True for None and NaN (without importing pandas at start-up)."""
    return value is None or value != value


@cohort_app.command("features")
def cohort_features(
    maf: Annotated[Path, typer.Argument(help="Cohort MAF (one tumour sample per patient).")],
    out: Annotated[Path, typer.Option("--out", help="Output feature table (TSV).")],
    genes: Annotated[
        str | None, typer.Option("--genes", help="Comma-separated genes: 0/1 mutation status.")
    ] = None,
    vaf_column: Annotated[
        str | None, typer.Option(help="VAF column (fraction or percent); default: counts.")
    ] = None,
    min_vaf: Annotated[float, typer.Option(help="MATH: drop variants below this VAF.")] = 0.075,
) -> None:
    """Feature table from a MAF: MATH per sample and mutation status of genes."""
    from ithkit.cohort import maf_features
    from ithkit.io import write_table

    table = maf_features(maf, genes=_names_list(genes), vaf_column=vaf_column, min_vaf=min_vaf)
    write_table(table, out)
    typer.echo(f"{len(table)} samples, {table.shape[1] - 1} features -> {out}")


@cohort_app.command("predict")
def cohort_predict(
    clinical: ClinicalOption,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    features: FeaturesOption = None,
    store: CohortStoreOption = None,
    scores: ScoresOption = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Binary outcome column (1/0).")
    ] = None,
    time: Annotated[str | None, typer.Option("--time", help="Survival: time (days).")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Survival: event (1/0).")] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Hold out each level of this column (site).")
    ] = None,
    covariates: Annotated[
        str | None, typer.Option("--covariates", help="Comma-separated clinical predictors.")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="linear or boosting.")] = "linear",
    folds: Annotated[int, typer.Option("--folds", help="Outer cross-validation folds.")] = 5,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples.")] = 200,
    horizon_days: Annotated[
        float | None, typer.Option("--horizon-days", help="Survival: risk horizon (days).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of folds, bootstrap, permutations.")] = 0,
    id_column: IdColumnOption = "patient_id",
    drop_unmatched: DropUnmatchedOption = False,
) -> None:
    """Nested-CV and held-out-group validated prediction from ITH features; report.html."""
    from ithkit.cohort import predict
    from ithkit.report.cohort import write_prediction_report

    result = predict(
        clinical, features=features, store=store, scores=_names_list(scores) or None,
        outcome=outcome, time=time, event=event, group=group,
        covariates=_names_list(covariates), model=model,  # type: ignore[arg-type]
        n_outer=folds, n_bootstrap=bootstrap, horizon_days=horizon_days, seed=seed,
        id_column=id_column, drop_unmatched=drop_unmatched, show_progress=True,
    )  # fmt: skip
    files = result.write(out)
    write_prediction_report(result, out / "report.html")
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for scheme in ("nested_cv", "held_out_group"):
        for r in result.summary(scheme).itertuples():
            typer.echo(f"{scheme}\t{r.metric}\t{r.value:.3f} ({r.low:.3f}-{r.high:.3f})")
    typer.echo(f"written   {len(files) + 1} files in {out}")


@cohort_app.command("report")
def cohort_report(
    store: StoreOption,
    out: Annotated[Path, typer.Option("--out", help="Output HTML file (tables beside it).")],
    clinical: Annotated[
        Path | None, typer.Option("--clinical", help="Clinical table: adds survival/prediction.")
    ] = None,
    time: Annotated[str | None, typer.Option("--time", help="Survival time column.")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Survival event column.")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Binary outcome column: adds prediction.")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Prediction: hold out each level (site).")
    ] = None,
    patients: Annotated[
        Path | None, typer.Option("--patients", help="patients.tsv of 'ithkit run' (failures).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the prediction.")] = 0,
) -> None:
    """Cohort report: score distributions, cross-modal correlations, survival, prediction."""
    from ithkit.cohort import failed_patients, overview, predict, survival
    from ithkit.report.cohort import (
        cohort_report as write_cohort_report,
    )
    from ithkit.report.cohort import (
        overview_sections,
        prediction_section,
        survival_section,
    )

    view = overview(store)
    tables = out.parent / (out.stem + "_tables")
    view.write(tables)
    failed = failed_patients(patients) if patients is not None else None
    sections = overview_sections(view, failed=failed)
    if clinical is not None and time and event:
        surv = survival(clinical, time=time, event=event, store=store, drop_unmatched=True)
        surv.write(tables / "survival")
        sections.append(survival_section(surv))
    if clinical is not None and outcome:
        pred = predict(
            clinical, store=store, outcome=outcome, group=group, seed=seed,
            drop_unmatched=True, show_progress=True,
        )  # fmt: skip
        pred.write(tables / "prediction")
        sections.append(prediction_section(pred))
    write_cohort_report(sections, out, subtitle=f"{view.n_patients} patients")
    typer.echo(f"patients  {view.n_patients}")
    typer.echo(f"scores    {len(view.distributions)}")
    typer.echo(f"tables    {tables}")
    typer.echo(f"report    {out}")


# ---------------------------------------------------------------------------------------------
# genomic

genomic_app = typer.Typer(
    help="Multi-region sequencing: CCF, clones, tree, MATH, sampling adequacy.",
    no_args_is_help=True,
)
app.add_typer(genomic_app, name="genomic")


@genomic_app.command("analyze")
def genomic_analyze(
    variants: Annotated[
        Path, typer.Argument(help="PyClone-VI-format TSV (one row per mutation x sample).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the clustering restarts.")] = 0,
    segments: Annotated[
        Path | None, typer.Option(help="Copy-number segments with ccf (subclonal genome).")
    ] = None,
    max_clones: Annotated[int, typer.Option(help="Upper bound on the clones.")] = 20,
    restarts: Annotated[int, typer.Option(help="Clustering restarts.")] = 5,
    precision: Annotated[
        str,
        typer.Option(
            help="Read model: auto (estimate the overdispersion from the data), binomial, or "
            "a beta-binomial precision such as 60 (smaller = more overdispersed)."
        ),
    ] = "auto",
    math_min_vaf: Annotated[
        float, typer.Option(help="VAF floor of MATH (maftools' rule, as 'genomic math').")
    ] = 0.075,
) -> None:
    """CCF, clones, tree, metrics and sampling adequacy of one tumour."""
    from rich.console import Console

    from ithkit import io
    from ithkit._resources import check_memory
    from ithkit.genomic._analyze import analyze, analyze_memory_bytes

    frame = io.read_variants(variants)
    seg = io.read_segments(segments) if segments is not None else None
    need = analyze_memory_bytes(len(frame))
    check_memory(need, what=f"{len(frame):,} mutation x sample rows", source=str(variants),
                 fix="analyse fewer mutations or free memory")  # fmt: skip
    Console(stderr=True).print(
        f"{frame['mutation_id'].nunique():,} mutations x {frame['sample_id'].nunique()} samples;"
        f" about {need / 1e9:.1f} GB of memory", highlight=False,
    )  # fmt: skip
    result = analyze(
        frame, segments=seg, seed=seed, max_clones=max_clones, n_restarts=restarts,
        precision=precision, math_min_vaf=math_min_vaf, show_progress=True,
    )  # fmt: skip
    with atomic_dir(out) as tmp:
        files = result.write(tmp)
    typer.echo(f"clones    {result.clones['clone_id'].nunique()}")
    how = "estimated" if result.precision_estimated else "given"
    model = (
        "binomial" if result.precision is None else f"beta-binomial, precision {result.precision:g}"
    )
    typer.echo(f"reads     {model} ({how})")
    typer.echo(f"trees     {result.tree.n_consistent} consistent; best {result.tree.newick()}")
    typer.echo(f"sampling  {result.adequacy.summary()}")
    typer.echo(f"written   {len(files)} files in {out}")


@genomic_app.command("math")
def genomic_math(
    maf: Annotated[Path, typer.Argument(help="MAF with read counts or a VAF column.")],
    out: Annotated[Path, typer.Option("--out", help="Output TSV (sample_id, n_variants, math).")],
    vaf_column: Annotated[
        str | None, typer.Option(help="VAF column (fraction or percent); default: counts.")
    ] = None,
    min_vaf: Annotated[float, typer.Option(help="Drop variants below this VAF.")] = 0.075,
    all_variants: Annotated[
        bool, typer.Option("--all-variants", help="Keep synonymous variants too.")
    ] = False,
) -> None:
    """MATH score per sample of a MAF (maftools' math.score defaults)."""
    from ithkit.genomic import maf_math, read_maf
    from ithkit.io import write_table

    table = maf_math(
        read_maf(maf), vaf_column=vaf_column, min_vaf=min_vaf,
        nonsynonymous_only=not all_variants, source=str(maf),
    )  # fmt: skip
    write_table(table, out)
    typer.echo(f"{table['math'].notna().sum()} of {len(table)} samples scored -> {out}")


@genomic_app.command("convert")
def genomic_convert(
    out: Annotated[Path, typer.Option("--out", help="Output variants TSV (PyClone-VI format).")],
    purity: Annotated[
        list[str],
        typer.Option(
            metavar="[SAMPLE=]PATH",
            help="Purity: ithkit's sample_id/purity table or a caller's purity file (ASCAT, "
            "FACETS, PURPLE, Battenberg); SAMPLE=PATH for a single-sample file. Repeatable.",
        ),
    ],
    maf_arg: Annotated[
        Path | None,
        typer.Argument(metavar="[MAF]", help="MAF with t_ref_count / t_alt_count (as --maf)."),
    ] = None,
    maf: Annotated[
        Path | None, typer.Option("--maf", help="MAF with t_ref_count / t_alt_count.")
    ] = None,
    vcf: Annotated[
        list[Path] | None,
        typer.Option(
            "--vcf",
            metavar="PATH",
            help="Somatic VCF (Mutect2, Strelka2; .vcf or .vcf.gz). Repeatable "
            "(Strelka2's SNV and indel files).",
        ),
    ] = None,
    normal: Annotated[
        str | None, typer.Option(help="VCF: the normal sample's name (left out).")
    ] = None,
    samples: Annotated[
        str | None,
        typer.Option(help="VCF: VCFNAME=REGION,... (only these samples, renamed)."),
    ] = None,
    cn: Annotated[
        list[str] | None,
        typer.Option(
            "--cn",
            metavar="CALLER:[SAMPLE=]PATH",
            help="Copy number: CALLER:PATH or CALLER:SAMPLE=PATH, CALLER one of ascat, facets, "
            "purple, battenberg, ithkit. Repeatable (one file per sample).",
        ),
    ] = None,
    segments: Annotated[
        Path | None, typer.Option(help="ithkit's copy-number segment table.")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option(help="Summary TSV (default OUT's name + .summary.tsv).")
    ] = None,
    all_filters: Annotated[
        bool, typer.Option("--all-filters", help="VCF: keep records that failed a filter.")
    ] = False,
) -> None:
    """Caller outputs (VCF or MAF, copy number, purity) -> the multi-region variant table."""
    import warnings

    from ithkit import io
    from ithkit.genomic import (
        OutsideSegmentsWarning,
        convert_calls,
        convert_vcf,
        maf_mutations,
        maf_to_variants,
        parse_samples,
        read_maf,
    )

    if maf_arg is not None and maf is not None:
        raise InputError("MAF given twice", source="--maf", fix="give the MAF once")
    maf = maf if maf is not None else maf_arg
    if (maf is None) == (not vcf):
        raise InputError(
            "give the mutations as one VCF (--vcf) or one MAF (--maf)",
            source="genomic convert",
            fix="e.g. --vcf calls.vcf.gz --normal NORMAL",
        )
    cn_files = list(cn or []) + ([f"ithkit:{segments}"] if segments is not None else [])
    if maf is not None and not cn and len(purity) == 1 and "=" not in purity[0]:
        # the MAF conversion as before: ithkit's segment and purity tables
        frame, notes = maf_to_variants(
            read_maf(maf), purity=io.read_purity(purity[0]),
            segments=io.read_segments(segments) if segments is not None else None,
            source=str(maf),
        )  # fmt: skip
        io.write_table(frame, out)
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        typer.echo(f"{len(frame)} rows -> {out}")
        return
    mapping = parse_samples(samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutsideSegmentsWarning)  # printed from the notes
        if maf is not None:
            result = convert_calls(
                maf_mutations(read_maf(maf), source=str(maf)), copy_number=cn_files,
                purity=purity, samples=mapping, source=str(maf),
            )  # fmt: skip
        else:
            result = convert_vcf(
                vcf or [], normal=normal, samples=mapping, pass_only=not all_filters,
                copy_number=cn_files, purity=purity,
            )  # fmt: skip
    files = result.write(out, summary_path=summary)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for row in result.summary.itertuples(index=False):
        typer.echo(
            f"{row.sample_id:<10} purity {row.purity:.2f}  {row.n_mutations} mutations: "
            f"{row.n_loh} in LOH, {row.n_gained} gained, {row.n_subclonal_cn} subclonal CN, "
            f"{row.n_outside_segments} outside segments"
        )
    typer.echo(f"{len(result.variants)} rows -> {', '.join(str(f) for f in files)}")


# ---------------------------------------------------------------------------------------------
# response

response_app = typer.Typer(
    help="Response assessment: RECIST 1.1, iRECIST, volumetric and mixed response.",
    no_args_is_help=True,
)
app.add_typer(response_app, name="response")


@response_app.command("recist")
def response_recist(
    measurements: Annotated[
        Path, typer.Argument(help="Lesion measurements CSV (or SDTM TR with --sdtm-tu).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    criteria: Annotated[str, typer.Option(help="recist1.1 or irecist.")] = "recist1.1",
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Require CR/PR confirmation (>= 4 weeks).")
    ] = False,
    sd_min_days: Annotated[int, typer.Option(help="Minimum SD duration (days).")] = 42,
    after_cr: Annotated[str, typer.Option(help="pd (RECIST 1.1) or measure.")] = "pd",
    sdtm_tu: Annotated[
        Path | None, typer.Option(help="SDTM TU domain (CSV/XPT); MEASUREMENTS is then TR.")
    ] = None,
    rs: Annotated[bool, typer.Option("--rs", help="Also write SDTM RS records (rs.csv).")] = False,
    units: Annotated[
        str, typer.Option(help="Units of the diameters: mm (checked) or cm (x 10).")
    ] = "mm",
    force: Annotated[
        bool,
        typer.Option("--force", help="Skip the cm check (recorded in options.json)."),
    ] = False,
) -> None:
    """RECIST 1.1 / iRECIST timepoint and best responses, per-lesion and mixed response."""
    import warnings

    from ithkit import io
    from ithkit.response import RecistWarning, read_sdtm_tumor, recist, to_rs
    from ithkit.schema import check_diameter_units

    if sdtm_tu is not None:
        frame = check_diameter_units(
            read_sdtm_tumor(sdtm_tu, measurements), source=str(measurements), units=units,
            force=force,
        )  # fmt: skip
    else:
        frame = io.read_lesions(measurements, units=units, force=force)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore", RecistWarning)
        result = recist(
            frame, criteria=criteria, confirm=confirm, sd_min_days=sd_min_days,  # type: ignore[arg-type]
            after_cr=after_cr, on_violation="ignore", source=str(measurements),  # type: ignore[arg-type]
        )  # fmt: skip
    with atomic_dir(out) as tmp:
        files = list(result.write(tmp))
        if rs:
            io.write_table(to_rs(result), tmp / "rs.csv")
        _record_options(tmp, "response recist", units=units, force=force)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for r in result.best_response.itertuples():
        typer.echo(
            f"{r.patient_id}\t{r.best_overall_response}\tconfirmed={str(r.confirmed).lower()}"
        )
    typer.echo(f"written   {len(files) + int(rs)} files in {out}")


# ---------------------------------------------------------------------------------------------
# liquid

liquid_app = typer.Typer(
    help="Liquid biopsy: ctDNA tumour fraction, molecular response, emerging variants.",
    no_args_is_help=True,
)
app.add_typer(liquid_app, name="liquid")


@liquid_app.command("track")
def liquid_track(
    ctdna: Annotated[Path, typer.Argument(help="ctDNA series CSV.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    error_rate: Annotated[float, typer.Option(help="Background error rate per site.")] = 5e-4,
    error_rates: Annotated[
        Path | None, typer.Option(help="Per-site error rates TSV (mutation_id, error_rate).")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Level of the detection and change tests.")] = 1e-3,
    interval: Annotated[str, typer.Option(help="wilson or clopper-pearson.")] = "wilson",
    clones: Annotated[
        Path | None, typer.Option(help="mutation_id, clone_id table (genomic mutations.tsv).")
    ] = None,
    lesions: Annotated[
        Path | None, typer.Option(help="Lesion CSV: adds the lead time over RECIST PD.")
    ] = None,
) -> None:
    """VAF intervals, detection vs error, tumour fraction, molecular response, lead time."""
    from ithkit import io
    from ithkit.liquid import lead_time, read_clones, read_error_rates, track_ctdna

    series = io.read_ctdna(ctdna)
    rates: float | object = error_rate
    if error_rates is not None:
        rates = read_error_rates(error_rates)
    clone_map = read_clones(clones) if clones is not None else None
    result = track_ctdna(
        series, error_rate=rates, alpha=alpha, interval=interval, clones=clone_map,  # type: ignore[arg-type]
        source=str(ctdna),
    )  # fmt: skip
    with atomic_dir(out) as tmp:
        files = result.write(tmp)
        if lesions is not None:
            from ithkit.response import recist

            lesion_frame = io.read_lesions(lesions)
            lead = lead_time(result, recist(lesion_frame, on_violation="ignore").timepoints)
            io.write_table(lead, tmp / "lead_time.tsv")
    for r in result.progression.itertuples():
        date = r.molecular_progression_date
        when = "none" if date is None or str(date) in ("NaT", "<NA>") else str(date)[:10]
        typer.echo(f"{r.patient_id}\tmolecular progression: {when}")
    if lesions is not None:
        for r in lead.itertuples():
            typer.echo(f"{r.patient_id}\tlead time (days): {r.lead_time_days}")
    typer.echo(f"written   {len(files) + int(lesions is not None)} files in {out}")


# ---------------------------------------------------------------------------------------------
# singlecell and spatial

singlecell_app = typer.Typer(
    help="Single-cell ITH: expression CNV subclones, ITH scores, single-cell DNA trees.",
    no_args_is_help=True,
)
app.add_typer(singlecell_app, name="singlecell")
spatial_app = typer.Typer(
    help="Spatial ITH: local diversity, autocorrelation, enrichment, infiltration, niches.",
    no_args_is_help=True,
)
app.add_typer(spatial_app, name="spatial")


def _csv_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@singlecell_app.command("cnv")
def singlecell_cnv(
    h5ad: Annotated[Path, typer.Argument(help="AnnData with counts (.X or layers['counts']).")],
    reference_key: Annotated[str, typer.Option(help=".obs column of cell types.")],
    reference: Annotated[str, typer.Option(help="Normal reference categories, comma-separated.")],
    out: Annotated[Path, typer.Option("--out", help="Output .h5ad.")],
    layer: Annotated[str | None, typer.Option(help="Layer to read instead.")] = None,
    gtf: Annotated[Path | None, typer.Option(help="GTF with gene positions.")] = None,
    window: Annotated[int, typer.Option(help="Genes per smoothing window.")] = 100,
    step: Annotated[int, typer.Option(help="Genes between window starts.")] = 10,
    n_subclones: Annotated[int | None, typer.Option(help="Fixed number of CNV clusters.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Cells processed at a time.")] = 5000,
    backed: Annotated[
        bool | None,
        typer.Option(
            "--backed/--in-memory",
            help="Read .X block by block from the file, or load it (default: load when it "
            "fits in half the available memory).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the clustering.")] = 0,
) -> None:
    """CNV profiles, malignant calls and CNV subclones (.obsm['X_cnv'], .obs)."""
    from ithkit.io._anndata import write_backed_h5ad, write_h5ad
    from ithkit.singlecell import infer_cnv, plan_cnv, read_h5ad

    if not h5ad.exists():
        raise InputError("file not found", source=h5ad, fix="check the path of the .h5ad file")
    plan = plan_cnv(h5ad, layer=layer, window=window, step=step, chunk_size=chunk_size,
                    backed=backed)  # fmt: skip
    if plan.n_cells:
        typer.echo(f"memory    {plan.describe()}")
    adata = read_h5ad(h5ad, backed=plan.backed)
    refs = _csv_list(reference) or []
    infer_cnv(
        adata, reference_key=reference_key, reference=refs, layer=layer, gtf=gtf, window=window,
        step=step, n_subclones=n_subclones, chunk_size=chunk_size, seed=seed,
        show_progress=True, source=str(h5ad),
    )  # fmt: skip
    if plan.backed:
        write_backed_h5ad(adata, out)
    else:
        write_h5ad(adata, out)
    info = adata.uns["cnv"]
    typer.echo(f"input     assumed {info['input_assumed']}")
    typer.echo(f"genes     {info['n_genes_used']} positioned and expressed")
    typer.echo(f"malignant {int(adata.obs['malignant'].sum())} of {adata.n_obs} cells")
    for _, row in info["subclones"].iterrows():
        typer.echo(
            f"subclone  {row['subclone']}: {row['n_cells']} cells, gains [{row['gains']}], "
            f"losses [{row['losses']}]"
        )
    typer.echo(f"written   {out}")


@singlecell_app.command("ith")
def singlecell_ith(
    h5ad: Annotated[Path, typer.Argument(help="AnnData with .obs malignant and subclone.")],
    out: Annotated[Path, typer.Option("--out", help="Output TSV (metric, value).")],
    malignant_key: Annotated[str, typer.Option(help=".obs malignant column.")] = "malignant",
    subclone_key: Annotated[str, typer.Option(help=".obs subclone column.")] = "subclone",
    n_sample: Annotated[int, typer.Option(help="Malignant cells subsampled.")] = 2000,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the subsample.")] = 0,
) -> None:
    """Single-cell ITH scores of one tumour (subclone diversity, ITH score, states)."""
    from ithkit.io import write_table
    from ithkit.singlecell import ith_scores, read_h5ad

    table = ith_scores(
        read_h5ad(h5ad), malignant_key=malignant_key, subclone_key=subclone_key,
        n_sample=n_sample, seed=seed, source=str(h5ad),
    )  # fmt: skip
    write_table(table, out)
    typer.echo(f"{len(table)} metrics -> {out}")


@singlecell_app.command("scdna")
def singlecell_scdna(
    matrix: Annotated[Path, typer.Argument(help="TSV: cell_id, then 0/1/NA per mutation.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    fp: Annotated[float, typer.Option(help="False-positive rate.")] = 0.01,
    fn: Annotated[float, typer.Option(help="False-negative (dropout) rate.")] = 0.2,
    iterations: Annotated[int, typer.Option(help="MCMC steps per chain.")] = 5000,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the search.")] = 0,
) -> None:
    """Mutation tree, cell genotypes and clone sizes from single-cell DNA genotypes."""
    from ithkit.singlecell import mutation_tree
    from ithkit.singlecell._scdna import read_genotypes, write_tree

    tree = mutation_tree(
        read_genotypes(matrix), fp=fp, fn=fn, n_iter=iterations, seed=seed, source=str(matrix)
    )
    files = write_tree(tree, out)
    typer.echo(f"clones    {len(tree.clones)}; log-likelihood {tree.log_likelihood:.1f}")
    typer.echo(f"written   {len(files)} files in {out}")


def _spatial_memory_line(adata: Any, radius: float | None, neighbours: int | None,
                         label_key: str, estimate: Any, source: str) -> str:  # fmt: skip
    """One line before a big section starts: cells, neighbours and the memory it will take.

    Refuses (InputError) a section that would need more than half the available memory."""
    import numpy as np

    xy = np.asarray(adata.obsm["spatial"], dtype=float)[:, :2]
    if radius is not None:  # neighbours per cell from 2,000 cells spread over the section
        from scipy.spatial import cKDTree

        sample = xy[:: max(1, len(xy) // 2000)]
        per_cell = float(np.mean(cKDTree(xy).query_ball_point(sample, radius, return_length=True)))
    else:
        per_cell = float(neighbours or 10)
    n_labels = adata.obs[label_key].nunique() if label_key in adata.obs.columns else 1
    need = estimate(adata.n_obs, per_cell, n_labels)
    from ithkit._resources import available_memory_bytes, check_memory

    check_memory(need * 1e6, what=f"a section of {adata.n_obs:,} cells", source=source,
                 fix="fewer --neighbours, a smaller --radius, or one region at a time")  # fmt: skip
    return (f"{adata.n_obs:,} cells, ~{per_cell:.0f} neighbours each: needs about "
            f"{need:,.0f} MB beyond the loaded section "
            f"({available_memory_bytes() / 1e6:,.0f} MB available)")  # fmt: skip


@spatial_app.command("heterogeneity")
def spatial_heterogeneity(
    h5ad: Annotated[Path, typer.Argument(help="AnnData with .obsm['spatial'] and a label.")],
    label_key: Annotated[str, typer.Option(help=".obs column of cell types or clones.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    radius: Annotated[float | None, typer.Option(help="Neighbourhood radius.")] = None,
    neighbours: Annotated[int | None, typer.Option(help="Neighbourhood: k nearest.")] = None,
    tumour: Annotated[str | None, typer.Option(help="Tumour labels (comma-separated).")] = None,
    immune: Annotated[str | None, typer.Option(help="Immune labels (comma-separated).")] = None,
    region_key: Annotated[str | None, typer.Option(help=".obs region column.")] = None,
    perms: Annotated[int, typer.Option(help="Enrichment permutations.")] = 500,
    jobs: Annotated[
        int, typer.Option(help="Threads for the neighbour search and permutations (0: all cores).")
    ] = 0,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
) -> None:
    """Local diversity, enrichment, autocorrelation, infiltration and niches of a section."""
    from ithkit.singlecell import read_h5ad
    from ithkit.spatial import heterogeneity
    from ithkit.spatial._analyze import BIG_SECTION, estimate_memory_mb

    if radius is not None and neighbours is not None:
        raise InputError("--radius and --neighbours both given", fix="pass one of them")
    if jobs < 0:
        raise InputError(f"--jobs is {jobs}", source="--jobs", fix="use 0 (all cores) or more")
    adata = read_h5ad(h5ad)
    if adata.n_obs >= BIG_SECTION and "spatial" in adata.obsm:
        typer.echo(_spatial_memory_line(adata, radius, neighbours, label_key, estimate_memory_mb,
                                        str(h5ad)), err=True)  # fmt: skip
    result = heterogeneity(
        adata, label_key, radius=radius, n_neighbors=neighbours,
        tumour=_csv_list(tumour), immune=_csv_list(immune), region_key=region_key,
        n_perms=perms, n_jobs=jobs or None, seed=seed, show_progress=True, source=str(h5ad),
    )  # fmt: skip
    files = result.write(out, h5ad_name=Path(h5ad).name)
    for _, row in result.summary.iterrows():
        value = row["value"]
        typer.echo(f"{row['metric']:<28} {value:.4g}" if isinstance(value, float)
                   else f"{row['metric']:<28} {value}")  # fmt: skip
    typer.echo(f"written   {len(files)} files in {out}")


# ---------------------------------------------------------------------------------------------
# evolution

from typer.core import TyperGroup  # noqa: E402  (light: typer is already imported)


class _EvolveGroup(TyperGroup):
    """``ithkit evolve SCENARIO.yaml ...`` runs ``simulate``; sub-command names route as usual."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["simulate", *args]
        return super().parse_args(ctx, args)


evolve_app = typer.Typer(
    cls=_EvolveGroup,
    help="Evolution under therapy: simulate a scenario (ithkit evolve SCENARIO.yaml --out DIR), "
    "compare policies, fit a patient's biomarker series.",
    no_args_is_help=True,
)
app.add_typer(evolve_app, name="evolve")


@evolve_app.command("simulate")
def evolve_simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see docs/evolution.md).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    replicates: Annotated[int, typer.Option(help="Stochastic replicates.")] = 1,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the stochastic engine.")] = 0,
    engine: Annotated[str | None, typer.Option(help="Override the engine: ode|stochastic.")] = None,
) -> None:
    """Simulate a scenario: trajectory.tsv, summary.json, replicates.tsv."""
    from ithkit.evolution import simulate

    sim = simulate(
        scenario, seed=seed, replicates=replicates, engine=engine,  # type: ignore[arg-type]
        show_progress=True,
    )  # fmt: skip
    with atomic_dir(out) as tmp:
        files = sim.write(tmp)
    s = sim.summary
    ttp = s["time_to_progression_days"]
    typer.echo(f"policy    {s['policy']} ({s['engine']}, {s['replicates']} run(s))")
    typer.echo(f"ttp       {'none' if ttp is None else f'{ttp:.1f} days'}")
    typer.echo(f"dose      {s['cumulative_dose']:.1f} ({s['dose_per_day']:.3f} per day)")
    typer.echo(f"switches  {s['n_switches']}; extinct {str(s['extinct']).lower()}")
    typer.echo(f"written   {len(files)} files in {out}")


@evolve_app.command("compare")
def evolve_compare(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    policies: Annotated[
        str, typer.Option(help="Comma-separated: continuous,adaptive,intermittent,...")
    ] = "continuous,adaptive",
    replicates: Annotated[int, typer.Option(help="Stochastic replicates.")] = 1,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the stochastic engine.")] = 0,
    engine: Annotated[str | None, typer.Option(help="Override the engine: ode|stochastic.")] = None,
) -> None:
    """Run one scenario under several policies: comparison.tsv plus one folder per policy."""
    from ithkit.evolution import compare

    names = [p.strip() for p in policies.split(",") if p.strip()]
    result = compare(
        scenario, names, seed=seed, replicates=replicates, engine=engine,  # type: ignore[arg-type]
        show_progress=True,
    )  # fmt: skip
    files = result.write(out)
    typer.echo(result.table.to_csv(sep="\t", index=False, float_format="%.4g").rstrip())
    typer.echo(f"written   {len(files)} files in {out}")


@evolve_app.command("fit")
def evolve_fit(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (the model to fit).")],
    series: Annotated[
        Path, typer.Argument(help="TSV/CSV: time_days, biomarker[, therapy] (one patient).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    free: Annotated[
        list[str], typer.Option(help="Free parameter PATH=LOW:HIGH (repeat the option).")
    ],
    policies: Annotated[
        str | None, typer.Option(help="Then compare these policies for the fitted patient.")
    ] = None,
    starts: Annotated[int, typer.Option(help="Optimiser starts.")] = 3,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the random starts.")] = 0,
) -> None:
    """Fit free parameters to a biomarker series: fit.tsv, params.json [, comparison]."""
    from ithkit.evolution import fit_series_file

    result = fit_series_file(
        scenario, series, out, free=free, policies=policies, n_starts=starts, seed=seed
    )
    for key, value in result.params_.items():
        typer.echo(f"{key:<36} {value:.4g}")
    typer.echo(f"rmse(log10) {result.rmse_log10:.3f}; r2(log) {result.r2_log:.3f}")
    typer.echo(f"written   {out}")


# ---------------------------------------------------------------------------------------------
# imaging

imaging_app = typer.Typer(
    help="IBSI radiomics, voxel-wise feature maps, habitats and lesion phenotypes.",
    no_args_is_help=True,
)
app.add_typer(imaging_app, name="imaging")

#: PET DICOM series: SUV normalisation (ithkit.imaging.read_image's suv=)
_SuvOption = Annotated[
    str,
    typer.Option(
        "--suv",
        help="PET DICOM series: bw (body weight), lbm (SUL, Janmahasatian), lbm-james, "
        "bsa (body surface area) or none (Bq/ml).",
    ),
]


@imaging_app.command("features")
def imaging_features(
    image: Annotated[Path, typer.Argument(help="Image: NIfTI, NRRD or a DICOM series folder.")],
    mask: Annotated[Path, typer.Argument(help="Mask: label image, DICOM-SEG or RTSTRUCT.")],
    out: Annotated[Path, typer.Option("--out", help="Output TSV (long feature table).")],
    label: Annotated[int | None, typer.Option(help="Mask label of the ROI.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML preprocessing config.")] = None,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
    filters: Annotated[
        Path | None,
        typer.Option(help="YAML list of IBSI-2 filters: statistics of each response map."),
    ] = None,
    suv: _SuvOption = "bw",
) -> None:
    """IBSI-1 features of one ROI: feature, ibsi_code, family, aggregation, value.

    With --filters, the 18 intensity statistics of each filter's response map (IBSI-2) instead,
    with a leading ``filter`` column.
    """
    if filters is not None:
        from ithkit.imaging._commands import filtered_features_to_file

        t = filtered_features_to_file(
            image, mask, out, filters=filters, label=label, config=config, suv=suv
        )
        typer.echo(f"{len(t)} features of {t['filter'].nunique()} response maps -> {out}")
        return
    from ithkit.imaging._commands import features_to_file

    table, cfg = features_to_file(image, mask, out, label=label, config=config, seed=seed, suv=suv)
    typer.echo(f"{len(table)} features -> {out} (config {cfg})")


@imaging_app.command("map")
def imaging_map(
    image: Annotated[Path, typer.Argument(help="Image (NIfTI, NRRD, DICOM folder).")],
    mask: Annotated[Path, typer.Argument(help="Mask (label image, DICOM-SEG, RTSTRUCT).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for map_*.nii.gz.")],
    label: Annotated[int | None, typer.Option(help="Mask label of the ROI.")] = None,
    features: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated map features, texture families (first_order, glcm, glrlm, "
            "glszm, gldzm, ngtdm, ngldm) or all; default: the 6 first-order and 4 GLCM maps."
        ),
    ] = None,
    kernel: Annotated[int, typer.Option(help="Kernel size in voxels (odd).")] = 5,
    config: Annotated[Path | None, typer.Option(help="YAML preprocessing config.")] = None,
    directions: Annotated[
        str,
        typer.Option(
            help="GLCM/GLRLM maps: merged (13 directions' matrices summed, IBSI 3d_merged) or "
            "average (features averaged over the directions, 3d_average, as PyRadiomics)."
        ),
    ] = "merged",
    suv: _SuvOption = "bw",
) -> None:
    """Voxel-wise feature maps (sliding kernel) written as NIfTI on the image grid."""
    from ithkit.imaging import MAP_FEATURES
    from ithkit.imaging._commands import maps_to_files

    names = _csv_list(features) or list(MAP_FEATURES)
    paths = maps_to_files(
        image, mask, out, label=label, features=names, kernel_voxels=kernel, config=config,
        show_progress=True, directions=directions, suv=suv,
    )  # fmt: skip
    typer.echo(f"{len(paths)} maps -> {out}")


@imaging_app.command("habitats")
def imaging_habitats(
    mask: Annotated[Path, typer.Argument(help="Mask of the lesion.")],
    maps: Annotated[list[Path], typer.Argument(help="Feature-map images (map_*.nii.gz).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    label: Annotated[int | None, typer.Option(help="Mask label of the ROI.")] = None,
    k: Annotated[int | None, typer.Option(help="Habitats (default: best silhouette).")] = None,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
    suv: _SuvOption = "bw",
) -> None:
    """Cluster lesion voxels on their map values into habitats."""
    from ithkit.imaging._commands import habitats_to_files

    res, files = habitats_to_files(maps, mask, out, label=label, k=k, seed=seed, suv=suv)
    typer.echo(f"habitats  {res.k}; diversity {res.diversity:.3f} (evenness {res.evenness:.3f})")
    typer.echo(f"written   {len(files)} files in {out}")


@imaging_app.command("habitats-over-time")
def imaging_habitats_over_time(
    images: Annotated[
        Path,
        typer.Argument(help="Image manifest CSV with map_<name> columns (map_adc, ...)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    k: Annotated[int | None, typer.Option(help="Habitats (default: best silhouette).")] = None,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
) -> None:
    """Habitats defined at each lesion's first scan, followed over time: volumes + figure."""
    from ithkit.imaging._commands import habitat_volumes_to_files

    with atomic_dir(out) as tmp:
        table, files = habitat_volumes_to_files(images, tmp, k=k, seed=seed)
        try:
            from ithkit.report.figures import to_svg
            from ithkit.report.imaging import habitat_volumes

            (tmp / "habitat_volumes.svg").write_text(to_svg(habitat_volumes(table)), "utf-8")
            files.append(tmp / "habitat_volumes.svg")
        except OptionalDependencyError as exc:  # matplotlib (the report extra) not installed
            typer.echo(f"figure skipped: {exc}")
    n_les = table.groupby(["patient_id", "lesion_id"]).ngroups
    typer.echo(f"lesions   {n_les}; habitats {table['habitat'].nunique()}; "
               f"timepoints {table['timepoint'].nunique()}")  # fmt: skip
    typer.echo(f"written   {len(files)} files in {out}")


@imaging_app.command("phenotypes")
def imaging_phenotypes(
    lesions: Annotated[
        Path, typer.Argument(help="Image manifest CSV (patient_id, lesion_id, ...).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    config: Annotated[Path | None, typer.Option(help="YAML preprocessing config.")] = None,
    k: Annotated[int | None, typer.Option(help="Phenotypes (default: best silhouette).")] = None,
    batch: Annotated[str | None, typer.Option(help="Manifest column for ComBat.")] = None,
    timepoint: Annotated[int, typer.Option(help="Timepoint whose lesions are used.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 50,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
    suv: _SuvOption = "bw",
) -> None:
    """Lesion phenotypes, their stability and per-patient interlesional heterogeneity."""
    from ithkit.imaging._commands import phenotypes_to_files

    res, files = phenotypes_to_files(
        lesions, out, config=config, k=k, batch=batch, timepoint=timepoint,
        n_bootstrap=bootstrap, seed=seed, show_progress=True, suv=suv,
    )  # fmt: skip
    typer.echo(f"phenotypes {len(res.stability)} over {len(res.assignments)} lesions")
    typer.echo(f"written   {len(files)} files in {out}")


@imaging_app.command("filter")
def imaging_filter(
    image: Annotated[Path, typer.Argument(help="Image: NIfTI, NRRD or a DICOM series folder.")],
    out: Annotated[Path, typer.Option("--out", help="Response map (.nii.gz / .nrrd).")],
    filter: Annotated[
        str, typer.Option("--filter", help="mean, log, laws, gabor, wavelet, simoncelli, riesz.")
    ],
    sigma_mm: Annotated[float | None, typer.Option(help="LoG/Gabor sigma (mm).")] = None,
    size: Annotated[int, typer.Option(help="Mean filter support (voxels, odd).")] = 5,
    boundary: Annotated[
        str, typer.Option(help="Padding: constant, nearest, periodic, mirror.")
    ] = "mirror",
    three_d: Annotated[
        bool, typer.Option("--3d/--2d", help="Volumetric kernel or axial slice by slice.")
    ] = True,
    laws_kernel: Annotated[str | None, typer.Option(help="Laws kernel, e.g. E5L5S5.")] = None,
    energy_distance: Annotated[
        int | None, typer.Option(help="Laws energy window (Chebyshev distance, voxels).")
    ] = None,
    rotation_invariant: Annotated[
        bool, typer.Option("--rotation-invariant", help="Pool over rotated kernels.")
    ] = False,
    pooling: Annotated[str, typer.Option(help="Pooling: max, mean or min.")] = "max",
    wavelength_mm: Annotated[float | None, typer.Option(help="Gabor wavelength (mm).")] = None,
    gamma: Annotated[float, typer.Option(help="Gabor aspect ratio.")] = 1.0,
    theta_deg: Annotated[float, typer.Option(help="Gabor orientation (degrees).")] = 0.0,
    theta_step_deg: Annotated[
        float | None, typer.Option(help="Gabor orientation step when pooling.")
    ] = None,
    wavelet: Annotated[str, typer.Option(help="Wavelet: haar, db2, coif1, ...")] = "haar",
    subband: Annotated[str | None, typer.Option(help="Wavelet sub-band, e.g. LHL.")] = None,
    level: Annotated[int, typer.Option(help="Wavelet / Simoncelli level.")] = 1,
    riesz_order: Annotated[
        str | None, typer.Option(help="Riesz order per axis x,y,z, e.g. 1,0,0.")
    ] = None,
    riesz_base: Annotated[str, typer.Option(help="Riesz base filter: log or simoncelli.")] = "log",
    decimated: Annotated[
        bool,
        typer.Option(
            "--decimated",
            help="Wavelet: decimated (pywt.dwtn) sub-band, mapped back to the image grid.",
        ),
    ] = False,
    suv: _SuvOption = "bw",
) -> None:
    """IBSI-2 convolutional filter: the response map on the image grid (+ its settings YAML)."""
    from ithkit.imaging._commands import filter_to_file
    from ithkit.imaging._filters import FilterSpec

    settings: dict[str, Any] = {
        "filter": filter, "dims": 3 if three_d else 2, "boundary": boundary, "size": size,
        "sigma_mm": sigma_mm, "laws_kernel": laws_kernel, "energy_distance": energy_distance,
        "rotation_invariant": rotation_invariant, "pooling": pooling,
        "wavelength_mm": wavelength_mm, "gamma": gamma, "theta_deg": theta_deg,
        "theta_step_deg": theta_step_deg, "wavelet": wavelet, "subband": subband,
        "level": level, "riesz_base": riesz_base,
    }  # fmt: skip
    if decimated:
        settings["decimated"] = True
    if riesz_order is not None:
        try:
            settings["riesz_order"] = [int(v) for v in riesz_order.split(",")]
        except ValueError as exc:
            raise InputError(f"riesz order {riesz_order!r}", source="--riesz-order",
                             fix="integers separated by commas, e.g. 1,0,0") from exc  # fmt: skip
    spec = FilterSpec.from_dict(settings, source="ithkit imaging filter")
    resp, cfg = filter_to_file(image, out, spec=spec, suv=suv)
    arr = resp.array
    typer.echo(f"{spec.tag}: range {float(arr.min()):.4g} .. {float(arr.max()):.4g}")
    typer.echo(f"written   {out} (settings {cfg})")


@imaging_app.command("delta")
def imaging_delta(
    images: Annotated[
        Path, typer.Argument(help="Image manifest CSV with >= 2 timepoints per lesion.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    config: Annotated[Path | None, typer.Option(help="YAML preprocessing config.")] = None,
    icc_threshold: Annotated[
        float, typer.Option(help="Features with test-retest ICC below it are flagged.")
    ] = 0.75,
    icc: Annotated[str, typer.Option(help="ICC deciding: icc3 (3,1) or icc2 (2,1).")] = "icc3",
    lesions: Annotated[
        Path | None, typer.Option(help="Lesion table (diameters) for RECIST beside it.")
    ] = None,
    suv: _SuvOption = "bw",
) -> None:
    """Delta-radiomics: per-lesion feature change, test-retest ICC, response; + figure."""
    from ithkit.imaging._commands import load_config
    from ithkit.imaging._delta import delta_radiomics

    cfg = load_config(config) if config else None
    res = delta_radiomics(images, config=cfg, icc_threshold=icc_threshold, icc_kind=icc,
                          lesions=lesions, show_progress=True, suv=suv)  # fmt: skip
    files = res.write(out)
    try:
        from ithkit.report.imaging import feature_trajectories

        fig = feature_trajectories(res)
        fig.savefig(out / "trajectories.svg")
        files.append(out / "trajectories.svg")
    except OptionalDependencyError:  # matplotlib (the report extra) not installed
        pass
    n_les = res.features.groupby(["patient_id", "lesion_id"]).ngroups
    typer.echo(f"lesions   {n_les}; features {res.deltas['feature'].nunique()}")
    if len(res.repeatability):
        bad = int((~res.repeatability["repeatable"].astype(bool)).sum())
        typer.echo(f"ICC < {icc_threshold}: {bad} of {len(res.repeatability)} features flagged")
    typer.echo(f"written   {len(files)} files in {out}")


@imaging_app.command("adc")
def imaging_adc(
    images: Annotated[list[Path], typer.Argument(help="Diffusion images, one per b-value.")],
    out: Annotated[Path, typer.Option("--out", help="ADC map (.nii.gz), mm^2/s.")],
    b_values: Annotated[
        str, typer.Option("--b-values", help="b-values in s/mm^2, comma-separated, e.g. 0,800.")
    ] = "",
) -> None:
    """ADC map by a mono-exponential log-linear fit of the diffusion series."""
    import numpy as np

    from ithkit.imaging._commands import adc_to_file

    b = _b_values(b_values)
    vol, path = adc_to_file(images, b, out)
    med = float(np.nanmedian(vol.array))
    typer.echo(f"ADC median {med:.3g} mm^2/s -> {path}")


@imaging_app.command("tofts")
def imaging_tofts(
    images: Annotated[list[Path], typer.Argument(help="Concentration images, one per time.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (ktrans, ve, vp, kep).")],
    times_s: Annotated[
        str, typer.Option("--times-s", help="Acquisition times (s), comma-separated.")
    ] = "",
    mask: Annotated[Path | None, typer.Option(help="Voxels to fit.")] = None,
    standard: Annotated[bool, typer.Option("--standard", help="Standard Tofts (no vp).")] = False,
    aif: Annotated[
        Path | None, typer.Option(help="Plasma AIF (mmol/l per line); default Parker.")
    ] = None,
    signal: Annotated[
        bool, typer.Option("--signal", help="Images are SPGR signal: convert to mmol/l first.")
    ] = False,
    t10_ms: Annotated[
        str | None, typer.Option("--t10-ms", help="--signal: pre-contrast T1 (ms) or T1-map file.")
    ] = None,
    flip_angle_deg: Annotated[
        float | None, typer.Option("--flip-angle-deg", help="--signal: flip angle (deg).")
    ] = None,
    tr_ms: Annotated[float | None, typer.Option("--tr-ms", help="--signal: TR (ms).")] = None,
    r1: Annotated[
        float, typer.Option("--r1", help="--signal: relaxivity (1/mM/s); Gd at 1.5 T: 4.5.")
    ] = 4.5,
    baseline_frames: Annotated[
        int, typer.Option("--baseline-frames", help="--signal: pre-contrast frames (first N).")
    ] = 3,
) -> None:
    """Ktrans, ve (vp) maps: linearised (extended) Tofts model, population AIF by default."""
    import numpy as np

    from ithkit.imaging._commands import tofts_to_files

    t = _float_list(times_s, "--times-s")
    sig_opts: dict[str, object] | None = None
    if not signal and (t10_ms, flip_angle_deg, tr_ms) != (None, None, None):
        raise InputError(
            "--t10-ms/--flip-angle-deg/--tr-ms given without --signal", source="--signal",
            fix="add --signal if the images are SPGR signal",
        )  # fmt: skip
    if signal:
        for opt, val in (("--t10-ms", t10_ms), ("--flip-angle-deg", flip_angle_deg),
                         ("--tr-ms", tr_ms)):  # fmt: skip
            if val is None:
                raise InputError(
                    f"--signal needs {opt}", source=opt,
                    fix="e.g. --t10-ms 1000 --flip-angle-deg 15 --tr-ms 5",
                )  # fmt: skip
        try:
            t10: object = float(str(t10_ms))
        except ValueError:
            t10 = Path(str(t10_ms))
        sig_opts = {"t10_ms": t10, "flip_angle_deg": flip_angle_deg, "tr_ms": tr_ms,
                    "r1_per_mm_s": r1, "baseline_frames": baseline_frames}  # fmt: skip
    res, files = tofts_to_files(
        images, t, out, mask=mask, extended=not standard, aif=aif, signal=sig_opts
    )
    typer.echo(f"Ktrans median {float(np.nanmedian(res.ktrans.array)):.3g} /min")
    typer.echo(f"written   {len(files)} maps in {out}")


@imaging_app.command("ivim")
def imaging_ivim(
    images: Annotated[
        list[Path], typer.Argument(help="Diffusion images, one per b-value, or one 4D NIfTI.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (ivim_d, _d_star, _f, ...).")],
    b_values: Annotated[
        str,
        typer.Option(
            "--b-values", "--bvalues", help="b-values (s/mm^2), e.g. 0,50,200,800, or a .bval file."
        ),
    ] = "",
    mask: Annotated[Path | None, typer.Option(help="Voxels to fit.")] = None,
    method: Annotated[
        str, typer.Option(help="full (segmented start + bi-exponential NLLS) or segmented.")
    ] = "full",
    b_threshold: Annotated[
        float, typer.Option("--b-threshold", help="b (s/mm^2) from which D is fitted.")
    ] = 200.0,
) -> None:
    """IVIM maps (D, D*, f, S0 and fit NRMSE) by the bi-exponential model of Le Bihan."""
    import numpy as np

    from ithkit.imaging._commands import ivim_to_files

    b = _b_values(b_values)
    res, files = ivim_to_files(images, b, out, mask=mask, method=method, b_threshold=b_threshold)
    med = {}
    for k in ("d", "d_star", "f"):
        v = np.asarray(getattr(res, k).array)
        med[k] = float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")
    typer.echo(f"D median {med['d']:.3g} mm^2/s, D* {med['d_star']:.3g} mm^2/s, f {med['f']:.3g}")
    typer.echo(f"written   {len(files)} maps in {out}")


def _b_values(text: str) -> list[float]:
    """``--b-values``: numbers separated by commas, or an FSL ``.bval`` file (whitespace)."""
    p = Path(text.strip())
    if text.strip() and "," not in text and p.is_file():
        try:
            return [float(v) for v in p.read_text().split()]
        except ValueError as exc:
            raise InputError(
                "b-value file holds non-numbers", source=p,
                fix="one line of b-values (s/mm^2) separated by spaces",
            ) from exc  # fmt: skip
    return _float_list(text, "--b-values")


def _float_list(text: str, option: str) -> list[float]:
    if not text.strip():
        raise InputError(f"{option} missing", source=option, fix="e.g. 0,800")
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise InputError(f"{option} {text!r} is not numbers", source=option,
                         fix="numbers separated by commas") from exc  # fmt: skip


# ---------------------------------------------------------------------------------------------
# pathology

pathology_app = typer.Typer(
    help="Digital pathology: biomarker and growth-pattern heterogeneity from cell detections.",
    no_args_is_help=True,
)
app.add_typer(pathology_app, name="pathology")


@pathology_app.command("biomarker")
def pathology_biomarker(
    cells: Annotated[Path, typer.Argument(help="Cell detections (QuPath export, TSV/CSV).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    marker: Annotated[
        str | None, typer.Option(help="Intensity column, e.g. 'Nucleus: DAB OD mean'.")
    ] = None,
    region_key: Annotated[str, typer.Option(help="Column naming each cell's region.")] = "Parent",
    thresholds: Annotated[
        str | None, typer.Option(help="One or three thresholds, e.g. 0.2,0.4,0.6.")
    ] = None,
    tile_um: Annotated[float, typer.Option(help="Tile side of the tile map, µm.")] = 500.0,
    tumour_class: Annotated[str | None, typer.Option(help="Score only this class.")] = None,
    pixel_size: Annotated[
        float | None, typer.Option(help="µm per pixel (centroids in px).")
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Column mapping: x=...,y=...,marker=...,region=...")
    ] = None,
    boundary: Annotated[
        str | None,
        typer.Option(help="Tumour annotation class of QuPath's signed distance (core vs margin)."),
    ] = None,
    margin_um: Annotated[float, typer.Option(help="Invasive margin half-width, µm.")] = 500.0,
    cutpoint: Annotated[
        float | None, typer.Option(help="Clinical cut-point, e.g. 20 (Ki-67 %).")
    ] = None,
    cutpoint_metric: Annotated[
        str, typer.Option(help="percent_positive, percent_3plus or h_score.")
    ] = "percent_positive",
    core_um: Annotated[float, typer.Option(help="Biopsy core diameter, µm (TMA 600).")] = 1000.0,
    hotspot_min_cells: Annotated[int, typer.Option(help="Cells a hot-spot tile needs.")] = 500,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the random cores.")] = 0,
) -> None:
    """Percent positive, H-score, Allred per region/tile/slide; heterogeneity; biopsy question."""
    from ithkit.pathology._commands import biomarker_to_files

    scores, het, n, paths = biomarker_to_files(
        cells, out, marker=marker, region_key=region_key, thresholds=thresholds,
        tile_um=tile_um, tumour_class=tumour_class, pixel_size_um=pixel_size, columns=columns,
        boundary=boundary, margin_um=margin_um, cutpoint=cutpoint, metric=cutpoint_metric,
        core_um=core_um,
        hotspot_min_cells=hotspot_min_cells, seed=seed,
    )  # fmt: skip
    for _, row in scores.regions[scores.regions["region"] == "ALL"].iterrows():
        typer.echo(
            f"{row['image']}: {int(row['n_cells'])} cells ({int(row['n_missing'])} without a "
            f"value), {row['percent_positive']:.1f} % positive, H-score {row['h_score']:.0f}, "
            f"Allred {int(row['allred_total'])}"
        )
    if scores.tiles is None:
        typer.echo("no centroids: the tile map, hot spot, Moran's I and the biopsy question need "
                   "coordinates (Centroid X/Y, or --columns x=...,y=...)")  # fmt: skip
    elif cutpoint is not None:
        d = het.value("single_core_discordance")
        typer.echo(f"one {core_um:.0f} µm core calls differently: {100 * d:.1f} % of cores")
    typer.echo(f"{len(paths)} files  {out}  ({n} rows read)")


@pathology_app.command("ish")
def pathology_ish(
    cells: Annotated[Path, typer.Argument(help="Per-cell HER2/CEP17 signal counts.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    columns: Annotated[
        str, typer.Option(help="Count columns: her2=...,cep17=... (+ region=..., image=...).")
    ],
    region_key: Annotated[str, typer.Option(help="Column naming each cell's region.")] = "Parent",
) -> None:
    """HER2 ISH: ratio, copy number, ASCO/CAP group and percent of amplified cells."""
    from ithkit.pathology._commands import ish_to_files

    res, paths = ish_to_files(cells, out, columns=columns, region_key=region_key)
    for _, row in res.table[res.table["region"] == "ALL"].iterrows():
        typer.echo(
            f"{row['image']}: ratio {row['her2_cep17_ratio']:.2f}, HER2 "
            f"{row['mean_her2_copies']:.1f} copies, group {int(row['asco_cap_group'])}, "
            f"{row['percent_amplified_cells']:.1f} % amplified cells"
            + (" (heterogeneous)" if row["heterogeneous"] else "")
        )
    typer.echo(f"written   {paths[0]}")


@pathology_app.command("patterns")
def pathology_patterns(
    regions: Annotated[Path, typer.Argument(help="TSV: region_id, pattern, area_mm2 (+observer).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
) -> None:
    """Growth-pattern fractions, predominant pattern, IASLC 2020 grade, diversity, kappa."""
    from ithkit.pathology import patterns

    res = patterns(regions)
    for _, row in res.summary.iterrows():
        typer.echo(
            f"observer {row['observer']}: {row['predominant_pattern']} predominant, "
            f"{row['high_grade_percent']:.0f} % high grade, IASLC grade {row['iaslc_grade']}, "
            f"Shannon {row['shannon']:.2f}"
        )
    for _, row in res.agreement.iterrows():
        typer.echo(f"{row['method']} kappa ({row['observers']}): {row['kappa']:.3f}")
    paths = res.write(out)
    typer.echo(f"{len(paths)} files  {out}")


@pathology_app.command("simulate")
def pathology_simulate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    cells: Annotated[int, typer.Option(help="Number of cells.")] = 20000,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed.")] = 0,
) -> None:
    """A synthetic QuPath export with planted regional heterogeneity (+ truth.tsv)."""
    from ithkit.pathology import simulate_detections

    paths = simulate_detections(cells, seed=seed).write(out)
    typer.echo(f"written   {paths[0]} and {paths[1]}")


@imaging_app.command("radiogenomics")
def imaging_radiogenomics(
    features: Annotated[
        Path, typer.Argument(help="Lesion features: patient_id, lesion_id, feature columns.")
    ],
    genomic: Annotated[
        Path, typer.Argument(help="Lesion genomic state: patient_id, lesion_id, variables.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output TSV of associations.")],
    fdr: Annotated[float, typer.Option(help="False discovery rate (Benjamini-Hochberg).")] = 0.1,
) -> None:
    """Imaging feature vs genomic state of the same lesions, with FDR control."""
    import pandas as pd

    from ithkit._atomic import atomic_path
    from ithkit.imaging import radiogenomics

    frames = []
    for path in (features, genomic):
        if not path.exists():
            raise InputError("file not found", source=path, fix="check the path")
        sep = "," if path.suffix == ".csv" else "\t"
        frames.append(pd.read_csv(path, sep=sep, dtype={"patient_id": str, "lesion_id": str}))
    res = radiogenomics(frames[0], frames[1], fdr=fdr)
    with atomic_path(out) as tmp:
        res.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    typer.echo(f"{len(res)} tests; {int(res['significant'].sum())} with q <= {fdr}")
    for line in res.loc[res["significant"], "summary"].head(5):
        typer.echo(f"  {line}")
    typer.echo(f"written   {out}")


# ---------------------------------------------------------------------------------------------
# functional heterogeneity: dose-response fits, collateral sensitivity, therapy design

functional_app = typer.Typer(
    help="Functional heterogeneity: dose-response fits per sample and drug, collateral "
    "sensitivity of derived lines, monitoring and steering.",
    no_args_is_help=True,
)
app.add_typer(functional_app, name="functional")


@functional_app.command("example")
def functional_example(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the simulated counts.")] = 0,
) -> None:
    """Write example inputs with known truth: responses.tsv, derivatives.tsv, landscapes.tsv."""
    from ithkit.functional import write_example

    files = write_example(out, seed=seed)
    typer.echo(f"written   {len(files)} files in {out}")


@functional_app.command("fit")
def functional_fit(
    responses: Annotated[
        Path,
        typer.Argument(help="TSV/CSV: sample_id, drug, concentration_um, response (or counts)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    derivatives: Annotated[
        Path | None,
        typer.Option(help="TSV/CSV: sample_id, parent, selected_with (collateral sensitivity)."),
    ] = None,
    metric: Annotated[
        str, typer.Option(help="Collateral metric: ic50 (absolute), gr50 or aac.")
    ] = "ic50",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap refits for 95 % intervals.")] = 200,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the bootstrap.")] = 0,
    top: Annotated[float | None, typer.Option(help="Fix the top asymptote (e.g. 1).")] = None,
    bottom: Annotated[float | None, typer.Option(help="Fix the bottom asymptote.")] = None,
    figures: Annotated[bool, typer.Option(help="Write one SVG per drug.")] = True,
) -> None:
    """Fit dose-response curves: fits.tsv, curves.tsv, points.tsv [, collateral.tsv], figures."""
    from ithkit.functional import fit_responses, read_responses

    table = read_responses(responses)
    deriv = None
    if derivatives is not None:
        from ithkit.functional import check_derivatives, read_derivatives

        deriv = read_derivatives(derivatives)
        check_derivatives(deriv, table, source=derivatives)
    res = fit_responses(table, n_bootstrap=bootstrap, seed=seed, top=top, bottom=bottom,
                        source=str(responses), show_progress=True)  # fmt: skip
    files = list(res.write(out).values())
    coll = None
    if deriv is not None:
        from ithkit.functional import collateral_sensitivity

        coll = collateral_sensitivity(res, deriv, metric=metric,  # type: ignore[arg-type]
                                      n_bootstrap=bootstrap, seed=seed)  # fmt: skip
        files.extend(coll.write(out).values())
    if figures:
        from ithkit._errors import OptionalDependencyError

        try:
            from ithkit.report.functional import write_figures

            files.extend(write_figures(res, out, None if coll is None else coll.table))
        except OptionalDependencyError as exc:
            typer.echo(f"figures skipped: {exc}")
    f = res.fits
    typer.echo(f"curves    {len(f)} ({int(f['flat'].sum())} flat, "
               f"{int(f['ic50_extrapolated'].sum())} IC50 outside the tested range)")  # fmt: skip
    if coll is not None:
        pairs = ", ".join(f"{a}/{b}" for a, b in coll.double_bind_pairs) or "none"
        typer.echo(f"double-bind pairs  {pairs}")
    typer.echo(f"written   {len(files)} files in {out}")


@functional_app.command("monitor")
def functional_monitor(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML with a double_bind policy.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    intervals: Annotated[str, typer.Option(help="Days between blood draws.")] = "7,14,28,56",
    depths: Annotated[str, typer.Option(help="Sequencing depths (reads).")] = "500,2000,10000",
    error_rate: Annotated[float, typer.Option(help="Per-base error rate.")] = 1e-3,
    tumour_fraction: Annotated[
        float, typer.Option(help="Plasma tumour fraction at the start (0..1).")
    ] = 0.1,
    seed: Annotated[int, typer.Option(callback=_seed, help="Seed of the read counts.")] = 0,
) -> None:
    """Simulate the monitored double bind per draw interval and depth: monitoring.tsv, figure."""
    from ithkit.functional import simulate_monitoring

    try:
        iv = tuple(float(v) for v in intervals.split(",") if v.strip())
        dp = tuple(int(v) for v in depths.split(",") if v.strip())
    except ValueError:
        raise InputError(
            "intervals/depths must be comma-separated numbers",
            source="--depths",
            fix="e.g. --intervals 7,28 --depths 500,5000",
        ) from None
    mon = simulate_monitoring(scenario, intervals_days=iv, depths=dp, error_rate=error_rate,
                              tumour_fraction=tumour_fraction, seed=seed)  # fmt: skip
    files = list(mon.write(out).values())
    from ithkit._errors import OptionalDependencyError

    try:
        from ithkit.report.figures import to_svg
        from ithkit.report.functional import monitoring_figure

        (out / "monitoring.svg").write_text(to_svg(monitoring_figure(mon.table)), encoding="utf-8")
        files.append(out / "monitoring.svg")
    except OptionalDependencyError as exc:
        typer.echo(f"figure skipped: {exc}")
    typer.echo(mon.table.to_csv(sep="\t", index=False, float_format="%.4g").rstrip())
    typer.echo(f"written   {len(files)} files in {out}")


@functional_app.command("steer")
def functional_steer(
    landscapes: Annotated[Path, typer.Argument(help="TSV/CSV: drug, genotype, fitness.")],
    target: Annotated[str, typer.Option(help="The drug whose most resistant genotype to avoid.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    max_steps: Annotated[int, typer.Option(help="Longest steering sequence (0-3).")] = 3,
) -> None:
    """Evolutionary steering (SSWM chain): steering.tsv, steering_endpoints.tsv, highest_peak."""
    from ithkit.functional import read_landscapes, steer

    res = steer(read_landscapes(landscapes), target, max_steps=max_steps)
    files = res.write(out)
    typer.echo(res.sequences.to_csv(sep="\t", index=False, float_format="%.4f").rstrip())
    typer.echo(f"written   {len(files)} files in {out}")


@evolve_app.command("design")
def evolve_design(
    fits: Annotated[Path, typer.Argument(help="fits.tsv of ithkit functional fit.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    exposure: Annotated[
        list[str] | None,
        typer.Option(help="DRUG=CONC_UM reached in the tumour (repeat; default: top dose)."),
    ] = None,
    derivatives: Annotated[
        Path | None, typer.Option(help="sample_id, parent, selected_with (founder, monitor).")
    ] = None,
    drugs: Annotated[str | None, typer.Option(help="The two drugs, first first: A,B.")] = None,
    assay_hours: Annotated[float, typer.Option(help="Viability assay duration (h).")] = 72.0,
    growth_per_day: Annotated[
        float, typer.Option(help="Untreated net growth per day where no DIP rate was measured.")
    ] = 0.05,
    switching: Annotated[float, typer.Option(help="Founder -> other line, per division.")] = 1e-6,
    horizon_days: Annotated[float, typer.Option(help="Simulated days.")] = 1825.0,
    periods: Annotated[str, typer.Option(help="Alternation cycle lengths (days).")] = "7,14,28",
) -> None:
    """Design a schedule from measurements: scenario.yaml, policies.tsv, recommendation.txt."""
    from ithkit.functional import design_scenario, design_therapy, read_derivatives, read_fits

    table = read_fits(fits)
    exp: dict[str, float] = {}
    for item in exposure or []:
        name, _, value = item.partition("=")
        try:
            exp[name.strip()] = float(value)
        except ValueError:
            raise InputError(
                f"exposure {item!r}",
                source="--exposure",
                fix="write DRUG=CONC_UM, e.g. --exposure A=1.5",
            ) from None
    dip_path = fits.parent / "dip.tsv"
    dip = _functional_read_tsv(dip_path) if dip_path.is_file() else None
    design = design_scenario(
        table, exposure_um=exp, dip=dip,
        derivatives=None if derivatives is None else read_derivatives(derivatives),
        drugs=None if drugs is None else [d.strip() for d in drugs.split(",")],
        assay_hours=assay_hours, growth_per_day=growth_per_day, switching=switching,
        horizon_days=horizon_days,
    )  # fmt: skip
    try:
        cycle = tuple(float(p) for p in periods.split(",") if p.strip())
    except ValueError:
        raise InputError(f"periods {periods!r}", source="--periods", fix="e.g. 7,14,28") from None
    result = design_therapy(design, periods_days=cycle)
    files = result.write(out)
    typer.echo(result.policies.to_csv(sep="\t", index=False, float_format="%.4g").rstrip())
    typer.echo(f"fraction on {design.drugs[0]} that balances the two lines: "
               f"{result.fraction.fraction_on_a:.3f}")  # fmt: skip
    typer.echo(result.recommendation)
    typer.echo(f"written   {len(files)} files in {out}")


def _functional_read_tsv(path: Path) -> Any:
    """A TSV as a pandas frame (pandas imported only when a command needs it)."""
    import pandas as pd

    return pd.read_csv(path, sep="\t")


# ---------------------------------------------------------------------------------------------
# epigenetic

epigenetic_app = typer.Typer(
    help="Epigenetic ITH: read-level methylation diversity and methylation ITH across regions.",
    no_args_is_help=True,
)
app.add_typer(epigenetic_app, name="epigenetic")

_COVERAGE_SUFFIXES = (".cov", ".cov.gz", ".bedgraph", ".bedgraph.gz", ".bg", ".bg.gz")


@epigenetic_app.command("heterogeneity")
def epigenetic_heterogeneity(
    calls: Annotated[
        list[Path], typer.Argument(help="Bismark CpG-context files (.txt/.txt.gz) or BAMs.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    sample_id: Annotated[
        list[str] | None, typer.Option(help="Sample id per input (default: file name).")
    ] = None,
    cpgs_per_locus: Annotated[int, typer.Option(help="CpGs per locus (2-16).")] = 4,
    min_reads: Annotated[int, typer.Option(help="Fewest reads per locus.")] = 10,
    min_mapq: Annotated[int, typer.Option(help="BAM: fewest mapping quality of a read.")] = 10,
) -> None:
    """PDR, epipolymorphism, entropy, MHL, FDRP per locus -> loci.tsv, summary.tsv."""
    from ithkit.epigenetic import read_heterogeneity

    res = read_heterogeneity(
        calls, sample_ids=sample_id or None, cpgs_per_locus=cpgs_per_locus,
        min_reads=min_reads, min_mapq=min_mapq, show_progress=True,
    )  # fmt: skip
    files = res.write(out)
    for r in res.summary.itertuples():
        typer.echo(
            f"{r.sample_id}\tloci {r.n_loci}\tmedian PDR {r.median_pdr:.3f}\t"
            f"epipolymorphism {r.median_epipolymorphism:.3f}\tMHL {r.median_mhl:.3f}"
        )
    typer.echo(f"written   {len(files)} files in {out}")


@epigenetic_app.command("regions")
def epigenetic_regions(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="One file per region: CpG-context calls, BAM, Bismark .cov/bedGraph."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("epigenetic_out"),
    betas: Annotated[
        Path | None, typer.Option(help="Array beta matrix (probes x regions) instead of files.")
    ] = None,
    region_id: Annotated[
        list[str] | None, typer.Option(help="Region id per input (default: file name).")
    ] = None,
    clones: Annotated[
        Path | None,
        typer.Option(help="clone_id, sample_id, ccf[, n_mutations] (genomic clones.tsv)."),
    ] = None,
    min_coverage: Annotated[int, typer.Option(help="Fewest reads per CpG and region.")] = 5,
    variable_threshold: Annotated[
        float, typer.Option(help="Beta range that makes a CpG variably methylated.")
    ] = 0.2,
    min_shared: Annotated[int, typer.Option(help="Fewest CpGs shared by two regions.")] = 10,
    cpgs_per_locus: Annotated[int, typer.Option(help="CpGs per read-level locus.")] = 4,
    min_reads: Annotated[int, typer.Option(help="Fewest reads per read-level locus.")] = 10,
    min_mapq: Annotated[int, typer.Option(help="BAM: fewest mapping quality of a read.")] = 10,
) -> None:
    """Distances, variably methylated CpGs, NJ tree (vs the genetic tree) -> regions.tsv,
    distance.tsv, ith.tsv, tree.nwk."""
    from ithkit import InputError
    from ithkit.epigenetic import (
        methylation_ith,
        read_beta_matrix,
        read_clone_ccf,
        read_coverage,
        read_heterogeneity,
        region_betas,
    )
    from ithkit.epigenetic._readlevel import _sample_id

    files = list(inputs or [])
    if (betas is None) == (not files):
        raise InputError(
            "give either region files or --betas", source="inputs",
            fix="ithkit epigenetic regions R1.txt.gz R2.txt.gz ... or --betas betas.tsv",
        )  # fmt: skip
    read_summary = None
    n_written = 0
    if betas is not None:
        matrix = read_beta_matrix(betas)
        source = str(betas)
    else:
        ids = list(region_id) if region_id else [_sample_id(f) for f in files]
        if len(ids) != len(files):
            raise InputError(
                f"{len(ids)} region ids for {len(files)} files", source="--region-id",
                fix="one --region-id per file",
            )  # fmt: skip
        is_cov = [f.name.lower().endswith(_COVERAGE_SUFFIXES) for f in files]
        tables = {}
        reads = [(i, f) for i, f, c in zip(ids, files, is_cov, strict=True) if not c]
        if reads:
            rl = read_heterogeneity(
                [f for _, f in reads], sample_ids=[i for i, _ in reads],
                cpgs_per_locus=cpgs_per_locus, min_reads=min_reads, min_mapq=min_mapq,
                show_progress=True,
            )  # fmt: skip
            n_written += len(rl.write(out))
            read_summary = rl.summary
            tables.update(dict(iter(rl.cpgs.groupby("sample_id", sort=False))))
        for i, f, c in zip(ids, files, is_cov, strict=True):
            if c:
                tables[i] = read_coverage(f)
        matrix = region_betas({i: tables[i] for i in ids}, min_coverage=min_coverage)
        source = "regions"
    ccf = read_clone_ccf(clones) if clones is not None else None
    res = methylation_ith(
        matrix, variable_threshold=variable_threshold, min_shared=min_shared, clone_ccf=ccf,
        read_level=read_summary, source=source,
    )  # fmt: skip
    n_written += len(res.write(out))
    s = res.summary.to_dict("records")[0]
    typer.echo(
        f"regions {s['n_regions']}\tshared CpGs {s['n_cpgs_shared']}\tvariable "
        f"{s['fraction_variable']:.3f}\tmean distance {s['distance_mean']:.4f}"
    )
    typer.echo(f"methylation tree {res.tree.newick()}")
    if res.genetic_tree is not None:
        typer.echo(f"genetic tree     {res.genetic_tree.newick()}")
        typer.echo(f"Robinson-Foulds  {s['tree_rf']} of {s['tree_rf_max']}")
    typer.echo(f"written   {n_written} files in {out}")


@epigenetic_app.command("simulate")
def epigenetic_simulate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[
        int, typer.Option(callback=_seed, help="Seed of the virtual patient and the reads.")
    ] = 1,
    regions: Annotated[int, typer.Option(help="Number of regions (1-10).")] = 4,
    n_loci: Annotated[int, typer.Option(help="Loci of 4 CpGs.")] = 300,
    depth: Annotated[float, typer.Option(help="Mean reads per locus and region.")] = 30.0,
    drift: Annotated[float, typer.Option(help="Per-call flip probability.")] = 0.02,
) -> None:
    """A virtual patient's regions as Bismark CpG-context files + clones.tsv + the truth."""
    from ithkit import io
    from ithkit.epigenetic import simulate_methylation
    from ithkit.evolution import virtual_patient

    vp = virtual_patient(seed=seed, n_regions=regions)
    sim = simulate_methylation(
        vp.clones, vp.clone_ccf, purity=vp.purity, n_loci=n_loci, depth=depth, drift=drift,
        seed=seed,
    )  # fmt: skip
    files = sim.write(out)
    clones = vp.clone_ccf[["clone_id", "sample_id", "ccf"]].merge(
        vp.clones[["clone_id", "parent", "n_mutations"]], on="clone_id"
    )
    io.write_table(clones, out / "clones.tsv")
    io.write_table(sim.epialleles, out / "truth_epialleles.tsv")
    io.write_table(sim.mixtures, out / "truth_mixtures.tsv")
    io.write_table(sim.loci, out / "truth_loci.tsv")
    typer.echo(f"{vp.patient_id}\tregions {len(files)}\treads {sim.calls['read_id'].nunique()}")
    typer.echo(f"written   {len(files) + 4} files in {out}")


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app, turning bad input into one line on stderr and exit code 2."""
    try:
        return app(args=argv, prog_name="ithkit", standalone_mode=True)
    except InputError as exc:
        _echo(f"error: {exc}")
        sys.exit(2)
    except OptionalDependencyError as exc:
        _echo(f"error: {exc}")
        sys.exit(3)
    except StoreBusyError as exc:
        _echo(f"error: {exc}")
        sys.exit(4)


if __name__ == "__main__":  # pragma: no cover
    main()
