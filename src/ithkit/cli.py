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


# ---------------------------------------------------------------------------------------------
# demo and run


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo_out"),
    seed: Annotated[int, typer.Option(help="Seed of the virtual patient.")] = 7,
    regions: Annotated[int, typer.Option(help="Number of sequenced regions (1-10).")] = 4,
    store: Annotated[
        Path | None, typer.Option(help="Cohort store file (default OUT/ithkit.duckdb).")
    ] = None,
) -> None:
    """Run a virtual patient end to end: data files, cohort store and report.html."""
    from rich.console import Console

    from ithkit.integrate import run_demo

    console = Console(stderr=True)
    with console.status("Simulating a virtual patient and writing the report..."):
        result = run_demo(out, seed=seed, n_regions=regions, store=store)
    typer.echo(f"patient   {result.patient_id}")
    typer.echo(f"data      {out / 'data'}")
    typer.echo(f"store     {result.store}")
    typer.echo(f"report    {result.report}")


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
    seed: Annotated[int, typer.Option(help="Seed for every random step.")] = 0,
    workers: Annotated[
        int, typer.Option(help="Cohorts: local worker processes (Dask if > 1).")
    ] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Cohorts: address of a running Dask scheduler.")
    ] = None,
) -> None:
    """Analyse a patient (or a cohort), add it to the cohort store and write report.html."""
    from rich.console import Console

    if manifest.is_file() and manifest.suffix.lower() in (".yaml", ".yml"):
        from ithkit.integrate import run_patient

        with Console(stderr=True).status(f"Running {manifest}..."):
            result = run_patient(manifest, out, store=store, seed=seed)
        typer.echo(f"patient   {result.patient_id}")
        typer.echo(f"store     {result.store}")
        typer.echo(f"report    {result.report}")
        return

    from ithkit.scale import run_cohort

    cohort = run_cohort(manifest, out, store=store, workers=workers, scheduler=scheduler, seed=seed)
    ok = cohort.patients[cohort.patients["status"] == "ok"]
    typer.echo(f"patients  {len(ok)} of {len(cohort.patients)} run")
    typer.echo(f"store     {cohort.store}")
    typer.echo(f"summary   {out / 'patients.tsv'}")
    if cohort.n_failed:
        failed = cohort.patients[cohort.patients["status"] == "failed"].iloc[0]
        raise InputError(
            f"{cohort.n_failed} patient(s) failed, first: {failed['error']}",
            fix=f"see {out / 'patients.tsv'}; the other patients were stored",
        )


# ---------------------------------------------------------------------------------------------
# cohort

cohort_app = typer.Typer(
    help="The cohort store (DuckDB): list, export, load.", no_args_is_help=True
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
    seed: Annotated[int, typer.Option(help="Seed of the clustering restarts.")] = 0,
    segments: Annotated[
        Path | None, typer.Option(help="Copy-number segments with ccf (subclonal genome).")
    ] = None,
    max_clones: Annotated[int, typer.Option(help="Upper bound on the clones.")] = 20,
    restarts: Annotated[int, typer.Option(help="Clustering restarts.")] = 5,
    precision: Annotated[
        float | None, typer.Option(help="Beta-binomial precision for overdispersed reads.")
    ] = None,
) -> None:
    """CCF, clones, tree, metrics and sampling adequacy of one tumour."""
    from rich.console import Console

    from ithkit import io
    from ithkit.genomic import analyze

    frame = io.read_variants(variants)
    seg = io.read_segments(segments) if segments is not None else None
    with Console(stderr=True).status("Clustering mutations and searching trees..."):
        result = analyze(
            frame, segments=seg, seed=seed, max_clones=max_clones, n_restarts=restarts,
            precision=precision,
        )  # fmt: skip
    files = result.write(out)
    typer.echo(f"clones    {result.clones['clone_id'].nunique()}")
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
    maf: Annotated[Path, typer.Argument(help="MAF with t_ref_count / t_alt_count.")],
    purity: Annotated[Path, typer.Option(help="Purity table (sample_id, purity).")],
    out: Annotated[Path, typer.Option("--out", help="Output variants TSV.")],
    segments: Annotated[Path | None, typer.Option(help="Copy-number segments.")] = None,
) -> None:
    """Convert MAF + segments + purity to the multi-region variant table."""
    from ithkit import io
    from ithkit.genomic import maf_to_variants, read_maf

    frame, notes = maf_to_variants(
        read_maf(maf), purity=io.read_purity(purity),
        segments=io.read_segments(segments) if segments is not None else None, source=str(maf),
    )  # fmt: skip
    io.write_table(frame, out)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"{len(frame)} rows -> {out}")


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
