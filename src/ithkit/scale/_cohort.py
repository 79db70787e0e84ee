"""Running a cohort: one task per patient, serially or on Dask, one writer for the store."""

from __future__ import annotations

import json
import os
import shutil
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit import _names
from ithkit._errors import InputError

# numerical libraries must not oversubscribe the cores Dask already shares out
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS", "SITK_NUM_THREADS")  # fmt: skip


@dataclass(frozen=True)
class CohortRun:
    """What :func:`run_cohort` did.

    Attributes
    ----------
    patients
        One row per manifest: ``manifest, patient_id, status`` (``ok``/``failed``, or
        ``unchanged`` when a resumed run skipped it),
        ``report``, ``error``.
    store
        The cohort store file.
    """

    patients: pd.DataFrame
    store: Path

    @property
    def n_failed(self) -> int:
        """Number of patients that could not be run."""
        return int((self.patients["status"] == "failed").sum())


def find_manifests(source: str | Path) -> list[Path]:
    """The patient manifests of a cohort.

    Parameters
    ----------
    source
        A manifest (``.yaml``/``.yml``), a folder of manifests, or a CSV/TSV with a ``manifest``
        column (paths relative to that file).

    Raises
    ------
    ithkit.InputError
        If nothing usable is found.
    """
    from ithkit.io import read_text

    p = Path(source)
    if not p.exists():
        raise InputError("not found", source=p, fix="give a manifest, a folder or a CSV list")
    if p.is_dir():
        found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        if not found:
            raise InputError(
                "no *.yaml manifest in this folder", source=p, fix="one manifest per patient"
            )
        return found
    if p.suffix.lower() in (".yaml", ".yml"):
        return [p]
    import io as _io

    text = read_text(p)
    sep = "\t" if p.suffix.lower() in (".tsv", ".txt") else ","
    frame = pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    if "manifest" not in frame.columns:
        raise InputError(
            "no 'manifest' column", source=p, fix="list one manifest path per row under 'manifest'"
        )
    paths = []
    for i, value in enumerate(frame["manifest"], start=2):
        path = (p.parent / value.strip()).resolve()
        if not value.strip() or not path.exists():
            raise InputError(
                f"manifest {value!r} not found",
                source=p,
                row=i,
                column="manifest",
                fix="paths are relative to the list",
            )
        paths.append(path)
    if not paths:
        raise InputError("the list has no rows", source=p, fix="add one manifest per row")
    return paths


def _patient_seeds(seed: int, n: int) -> list[int]:
    """Independent per-patient seeds that do not depend on the number of workers."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def process_patient(
    manifest: str,
    out_dir: str,
    work_dir: str,
    seed: int,
    analyses: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One cohort task: analyse and report a patient, leave its tables as Parquet.

    Runs in a worker process: paths in, a small summary out. Bad input is caught and
    returned as a failure so that one patient cannot stop the cohort.
    """
    from ithkit.integrate.patient import build_patient

    row: dict[str, Any] = {"manifest": manifest, "patient_id": None, "status": "failed",
                           "report": None, "error": None}  # fmt: skip
    staging = Path(work_dir) / f".staging-{os.getpid()}-{Path(manifest).stem}"
    if os.environ.get(CRASH_ENV):  # fault-injection tests only: this worker dies here
        _crash_if_named(manifest)
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        result = build_patient(manifest, staging / "report", seed=seed, analyses=analyses)
        pid = result.data.patient_id
        target = Path(out_dir) / _safe(pid)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging / "report"), target)
        tables_dir = Path(work_dir) / "tables" / _safe(pid)
        tables_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in result.tables.items():
            frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
        samples = result.data.samples()
        extra = [c for c in samples.columns if c not in ("sample_id", "modality")]
        samples[extra] = samples[extra].astype(str)  # mixed per-modality attributes
        samples.to_parquet(tables_dir / f"{_names.SAMPLES}.parquet", index=False)
        attributes = {**result.data.attributes, **result.data.summary(), "patient_id": pid}
        (tables_dir / "patient.json").write_text(json.dumps(attributes, default=str))
        row.update(patient_id=pid, status="ok", report=str(target / _names.REPORT_HTML))
    except InputError as exc:
        row["error"] = str(exc)
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        row["error"] = f"unexpected error: {last}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return row


CRASH_ENV = "ITHKIT_TEST_CRASH_PATIENT"  # tests: manifest stem whose worker dies (os._exit)
WORKER_DIED = (
    "the worker process died while running this patient (killed, out of memory or a crash), "
    "on the first try and on its one retry"
)
WORKER_DIED_CLUSTER = (  # --scheduler: the scheduler's own configuration counts the tries
    "the worker process died while running this patient (killed, out of memory or a crash), "
    "on every try the scheduler allows (its distributed.scheduler.allowed-failures: 3 retries "
    "by default)"
)


def _crash_if_named(manifest: str) -> None:
    """Fault injection for the tests: ``os._exit`` when ``manifest`` is the one named in
    ``ITHKIT_TEST_CRASH_PATIENT``; each try is logged (one line) to ``ITHKIT_TEST_CRASH_LOG``."""
    if Path(manifest).stem != os.environ.get(CRASH_ENV):
        return
    log = os.environ.get("ITHKIT_TEST_CRASH_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
    os._exit(17)


RUN_STATE = "run_state.json"  # out_dir/: input checksums of the patients that finished


def _referenced_files(manifest: Path) -> list[Path]:
    """The manifest and every existing file it names (and the images an image table names)."""
    import yaml

    folder = manifest.parent
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return [manifest]
    found: list[Path] = [manifest]

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)
        elif isinstance(value, str) and value and len(value) < 4096:
            path = folder / value
            try:
                if path.is_file():
                    found.append(path)
            except OSError:
                return

    visit({k: v for k, v in data.items() if k not in ("patient_id", "attributes")}
          if isinstance(data, dict) else {})  # fmt: skip
    for path in list(found[1:]):
        if path.suffix.lower() in (".csv", ".tsv") and path.stem.startswith("images"):
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            try:
                table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
            except Exception:
                continue
            for col in ("image", "mask"):
                for value in table.get(col, pd.Series(dtype=str)):
                    candidate = path.parent / value
                    if value and candidate.is_file():
                        found.append(candidate)
    return found


def input_checksum(manifest: str | Path, *, seed: int, analyses: Sequence[str] | None) -> str:
    """SHA-256 over a patient's input files, its seed, the analyses and the ithkit version.

    Two runs with the same checksum compute the same results, so a finished patient with an
    unchanged checksum can be skipped when a cohort run is resumed.
    """
    import hashlib

    from ithkit._version import __version__

    digest = hashlib.sha256()
    key = {"seed": int(seed), "analyses": None if analyses is None else list(analyses),
           "ithkit": __version__}  # fmt: skip
    digest.update(json.dumps(key, sort_keys=True).encode())
    manifest = Path(manifest)
    for path in _referenced_files(manifest):
        name = str(path.relative_to(manifest.parent)) if path != manifest else "<manifest>"
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


DONE = "done"  # out_dir/.ithkit-work/done/: one record per patient finished by this run


def _read_done(folder: Path) -> dict[str, Any]:
    """Records of patients that a run (killed before it stored them) had finished."""
    records: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = _read_state(path)
        if isinstance(record.get("row"), dict) and "manifest" in record:
            records[str(record["manifest"])] = record
    return records


def _resumable(record: Any, checksum: str, work: Path) -> bool:
    """A finished patient of a killed run whose inputs did not change and whose report and
    tables are still there."""
    if not isinstance(record, dict) or record.get("checksum") != checksum:
        return False
    row = record["row"]
    pid = row.get("patient_id")
    return (
        row.get("status") == "ok"
        and isinstance(pid, str)
        and Path(str(row.get("report"))).exists()
        and (work / "tables" / _safe(pid) / "patient.json").exists()
    )


def _clean_work(work: Path, keep: set[str]) -> None:
    """Empty the work folder but for the tables of the resumed patients ``keep``."""
    work.mkdir(parents=True, exist_ok=True)
    for child in work.iterdir():
        if child.name == "tables" and child.is_dir():
            for folder in child.iterdir():
                if folder.name not in keep:
                    shutil.rmtree(folder, ignore_errors=True)
        elif child.name != DONE:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
    (work / DONE).mkdir(exist_ok=True)


def _record_done(row: dict[str, Any], checksums: dict[str, str], work: Path) -> dict[str, Any]:
    """Note a finished patient in ``work/done`` so that a killed run can be resumed."""
    if row["status"] == "ok":
        import hashlib

        from ithkit._atomic import atomic_path

        name = hashlib.sha256(row["manifest"].encode()).hexdigest()[:16]
        record = {"manifest": row["manifest"], "checksum": checksums[row["manifest"]], "row": row}
        with atomic_path(work / DONE / f"{name}.json") as tmp:
            tmp.write_text(json.dumps(record), encoding="utf-8")
    return row


def _absolute(path: str) -> str:
    return str(Path(path).resolve())


def _safe(pid: str) -> str:
    """A folder name for a patient id."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in pid) or "patient"


def run_cohort(
    source: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    store: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    seed: int = 0,
    analyses: Sequence[str] | None = None,
    show_progress: bool = True,
    force: bool = False,
) -> CohortRun:
    """Run every patient of a cohort and load all results into one cohort store.

    Each patient is one task (paths in, a summary out): its report goes to
    ``out_dir/<patient_id>/report.html`` and its tables to Parquet, which the driver then loads
    into the store in one transaction (DuckDB takes one writer). With ``workers > 1`` or a
    ``scheduler`` address the tasks run on Dask (``[scale]`` extra); results do not depend on
    the number of workers.

    Parameters
    ----------
    source
        A manifest, a folder of manifests, a CSV list, or a sequence of manifest paths.
    out_dir
        Output folder; ``out_dir/ithkit.duckdb`` is the default store.
    store
        Cohort store file.
    workers
        Number of local worker processes (1 = run serially, no Dask).
    scheduler
        Address of a running Dask scheduler (e.g. ``tcp://10.0.0.5:8786``); overrides
        ``workers``.
    seed
        Cohort seed; each patient gets its own seed derived from it.
    analyses
        Analyses to run (``"module:function"``; default every registered one).
    show_progress
        Show a progress bar.
    force
        Rerun every patient. By default a run resumes: a patient whose input checksum
        (:func:`input_checksum`: its files, seed, analyses and ithkit version) equals that of a
        finished run in ``out_dir/run_state.json``, and who is still in the store with its
        report, is skipped (status ``unchanged``). After a run killed before it stored its
        patients, those it had finished (recorded in ``out_dir/.ithkit-work/done``, with
        their tables) are not run again: they are stored with the rest (status ``ok``).

    Returns
    -------
    CohortRun
        Per-patient status; failed patients carry the one-line error and are not stored.
    """
    from rich.progress import Progress

    from ithkit.store import CohortStore

    if workers < 1:
        raise InputError(f"workers is {workers}", source="workers", fix="use 1 or more")
    if isinstance(source, str | Path):
        manifests = find_manifests(source)
    else:
        manifests = [Path(m) for m in source]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".ithkit-work"
    if force and work.exists():
        shutil.rmtree(work)
    # patients a killed run finished (tables in work/tables, a record in work/done) are kept
    finished_before = {} if force else _read_done(work / DONE)
    store_path = Path(store) if store is not None else out / _names.DEFAULT_STORE
    seeds = _patient_seeds(seed, len(manifests))
    state_path = out / RUN_STATE
    state = {} if force else _read_state(state_path)
    stored: set[str] = set()
    if state and store_path.exists():
        stored = set(CohortStore(store_path, read_only=True).patients()["patient_id"].astype(str))
    checksums = {str(m): input_checksum(m, seed=s, analyses=analyses)
                 for m, s in zip(manifests, seeds, strict=True)}  # fmt: skip
    rows: list[dict[str, Any]] = []
    args = []
    for m, s in zip(manifests, seeds, strict=True):
        done = state.get(str(m))
        unchanged = (
            isinstance(done, dict)
            and done.get("checksum") == checksums[str(m)]
            and done.get("patient_id") in stored
            and Path(str(done.get("report"))).exists()
        )
        if unchanged:
            assert isinstance(done, dict)
            rows.append(
                {
                    "manifest": str(m),
                    "patient_id": done["patient_id"],
                    "status": "unchanged",
                    "report": done["report"],
                    "error": None,
                }
            )
        elif _resumable(finished_before.get(str(m)), checksums[str(m)], work):
            rows.append(dict(finished_before[str(m)]["row"]))
        else:
            args.append((str(m), str(out), str(work), s, analyses))
    _clean_work(work, {_safe(r["patient_id"]) for r in rows if r["status"] == "ok"})
    with Progress(disable=not show_progress, transient=False) as progress:
        task = progress.add_task(
            f"patients ({len(rows)} unchanged)" if rows else "patients", total=len(args)
        )
        if workers == 1 and scheduler is None:
            for a in args:
                rows.append(_record_done(process_patient(*a), checksums, work))
                progress.advance(task)
        else:
            # workers may run in other folders (or on other machines, on a shared file
            # system): hand them absolute paths, and report the manifests as given
            remote = [(_absolute(m), _absolute(o), _absolute(w), s, a) for m, o, w, s, a in args]
            given = {r[0]: a[0] for r, a in zip(remote, args, strict=True)}
            for row in _run_dask(remote, workers=workers, scheduler=scheduler):
                row["manifest"] = given[row["manifest"]]
                rows.append(_record_done(row, checksums, work))
                progress.advance(task)
    order = {str(m): i for i, m in enumerate(manifests)}
    rows.sort(key=lambda r: order[r["manifest"]])
    frame = pd.DataFrame(rows, columns=["manifest", "patient_id", "status", "report", "error"])
    duplicated = frame["patient_id"].notna() & frame["patient_id"].duplicated(keep=False)
    if duplicated.any():
        pid = frame.loc[duplicated, "patient_id"].iloc[0]
        shutil.rmtree(work, ignore_errors=True)
        raise InputError(
            f"patient_id {pid!r} appears in more than one manifest",
            source=str(frame.loc[duplicated, "manifest"].iloc[1]),
            fix="give every patient its own patient_id",
        )
    if (frame["status"] == "ok").any():
        CohortStore(store_path).load_parquet(work / "tables")
    shutil.rmtree(work, ignore_errors=True)
    from ithkit._atomic import atomic_path
    from ithkit.io import write_table

    finished = {r.manifest: {"checksum": checksums[r.manifest], "patient_id": r.patient_id,
                             "report": r.report}
                for r in frame.itertuples() if r.status in ("ok", "unchanged")}  # fmt: skip
    with atomic_path(state_path) as tmp:
        tmp.write_text(json.dumps(finished, indent=1), encoding="utf-8")

    write_table(frame, out / "patients.tsv")
    return CohortRun(frame, store_path)


def _run_dask(
    args: list[tuple[str, str, str, int, Sequence[str] | None]],
    *,
    workers: int,
    scheduler: str | None,
) -> Any:
    from ithkit._optional import import_optional

    import_optional("dask", extra="scale")
    distributed = import_optional("distributed", extra="scale")
    import dask

    env = {var: "1" for var in _THREAD_VARS}
    # distributed's Nanny writes pre-spawn-environ into *this* process's os.environ and never
    # takes it back: restored when the run ends, or numba here would later refuse to compile
    # ("cannot set NUMBA_NUM_THREADS ... once the threads have been launched")
    environ_before = dict(os.environ)
    # a patient whose worker dies is tried once more (allowed-failures 1: Dask's retries do
    # not cover a dead worker), then errs with KilledWorker and is reported as failed;
    # ``retries=1`` does the same for an exception that escapes process_patient. The
    # allowed-failures setting reaches only a LocalCluster's scheduler: a running scheduler
    # (``scheduler=``) keeps its own (3 by default: four tries)
    config = {
        "distributed.nanny.pre-spawn-environ": env,
        "distributed.scheduler.allowed-failures": 1,
    }
    with dask.config.set(config):
        if scheduler is not None:
            client = distributed.Client(scheduler)
            cluster = None
        else:
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: 8787 may be taken by another cluster
                silence_logs=40,
            )
            client = distributed.Client(cluster)
        try:
            futures = {client.submit(process_patient, *a, pure=False, retries=1): a for a in args}
            for future in distributed.as_completed(list(futures)):
                try:
                    yield future.result()
                except distributed.KilledWorker:
                    died = WORKER_DIED if cluster is not None else WORKER_DIED_CLUSTER
                    yield {"manifest": futures[future][0], "patient_id": None,
                           "status": "failed", "report": None, "error": died}  # fmt: skip
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            os.environ.clear()
            os.environ.update(environ_before)
