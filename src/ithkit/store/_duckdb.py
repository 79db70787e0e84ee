"""The cohort store: one DuckDB file holding patients, samples and every module's results."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ithkit import _names
from ithkit._atomic import atomic_path
from ithkit._errors import InputError, StoreBusyError
from ithkit._version import __version__

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_CORE_DDL = {
    _names.PATIENTS: (
        "CREATE TABLE IF NOT EXISTS patients (patient_id VARCHAR PRIMARY KEY, "
        "attributes JSON, created_at TIMESTAMP, updated_at TIMESTAMP)"
    ),
    _names.SAMPLES: (
        "CREATE TABLE IF NOT EXISTS samples (patient_id VARCHAR, sample_id VARCHAR, "
        "modality VARCHAR, attributes JSON, PRIMARY KEY (patient_id, sample_id, modality))"
    ),
    _names.RUNS: (
        "CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, patient_id VARCHAR, "
        "module VARCHAR, tables VARCHAR, ithkit_version VARCHAR, parameters JSON, "
        "finished_at TIMESTAMP)"
    ),
}


@dataclass
class _KnownTable:
    """What a transaction knows of one table: its columns (``None``: not created yet), whether
    it was created in this transaction, and the patients inserted into it since."""

    columns: set[str] | None
    created: bool
    pids: set[str] = field(default_factory=set)


_Known = dict[str, _KnownTable]


def _check_table_name(name: str) -> str:
    if not _IDENT.match(name) or name in _names.CORE_TABLES:
        raise InputError(
            f"table name {name!r} is not allowed",
            source="table",
            fix="use lower-case letters, digits and '_' (e.g. 'genomic_clones'), not a core table",
        )
    return name


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class CohortStore:
    """A cohort store in one DuckDB file.

    Each write is one transaction: patients, samples and result tables of one patient land
    together or not at all, so a crash mid-write leaves the previous state readable. A result
    table holds rows of many patients; writing a patient's rows again replaces them (re-running a
    patient is idempotent). DuckDB allows one writing process per file: parallel workers write
    Parquet files and the driver loads them with :meth:`load_parquet`.

    Parameters
    ----------
    path
        The ``.duckdb`` file; created on the first write.
    read_only
        Open without write access (several readers may share the file).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> store = CohortStore(tempfile.mkdtemp() + "/cohort.duckdb")
    >>> store.write("P1", {"genomic_metrics": pd.DataFrame({"sample_id": ["R1"], "math": [31.5]})})
    >>> store.read("genomic_metrics")[["patient_id", "math"]].values.tolist()
    [['P1', 31.5]]
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only

    # -- connections -------------------------------------------------------------------------
    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Any]:
        import duckdb

        if write and self.read_only:
            raise StoreBusyError(f"{self.path}: store opened read-only")
        if not write and not self.path.exists():
            raise InputError(
                "cohort store not found",
                source=self.path,
                fix="run 'ithkit demo' or 'ithkit run' first, or pass --store PATH",
            )
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path), read_only=not write)
        except duckdb.IOException as exc:
            msg = " ".join(str(exc).split())
            if "lock" in msg.lower():
                raise StoreBusyError(
                    f"{self.path}: the store is being written by another process; "
                    "wait for it, or write Parquet and load it later"
                ) from None
            raise InputError(
                f"cannot open the store ({msg})", source=self.path, fix="is it a DuckDB file?"
            ) from None
        except duckdb.Error as exc:
            raise InputError(
                f"cannot open the store ({' '.join(str(exc).split())})",
                source=self.path,
                fix="is it a DuckDB file written by ithkit?",
            ) from None
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for ddl in _CORE_DDL.values():
                    con.execute(ddl)
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            con.execute("CHECKPOINT")

    def check_writable(self) -> None:
        """Fail now, before any long analysis, when the store is locked by another writer.

        A store that does not exist yet is not created here.

        Raises
        ------
        ithkit.StoreBusyError
            When another process holds the write lock (or the store was opened read-only).
        """
        if self.read_only:
            raise StoreBusyError(f"{self.path}: store opened read-only")
        if not self.path.exists():
            return
        with self._connect(write=True):
            pass

    # -- writing -----------------------------------------------------------------------------
    def write(
        self,
        patient_id: str,
        tables: Mapping[str, pd.DataFrame] | None = None,
        *,
        attributes: Mapping[str, Any] | None = None,
        samples: pd.DataFrame | None = None,
        module: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one patient's rows in a single transaction.

        Parameters
        ----------
        patient_id
            The patient; created or updated.
        tables
            Result table name -> frame. A ``patient_id`` column is added (or checked); the
            patient's previous rows in each table are replaced.
        attributes
            Patient attributes (JSON-serialisable), merged into the stored ones.
        samples
            Frame with ``sample_id, modality`` and any other columns (kept as JSON attributes).
        module
            Module name recorded in the ``runs`` table with ``parameters``.
        parameters
            Parameters of the run (JSON-serialisable).
        """
        pid = str(patient_id)
        tables = dict(tables or {})
        prepared = {_check_table_name(n): self._with_patient(f, pid, n) for n, f in tables.items()}
        with self._transaction() as con:
            self._upsert_patient(con, pid, attributes)
            if samples is not None:
                self._replace_samples(con, pid, samples)
            for name, frame in prepared.items():
                self._replace_rows(con, name, pid, frame)
            if module is not None:
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        f"{pid}:{module}:{_now().isoformat()}",
                        pid,
                        module,
                        ",".join(prepared),
                        __version__,
                        json.dumps(dict(parameters or {}), default=str),
                        _now(),
                    ],
                )

    @staticmethod
    def _with_patient(frame: pd.DataFrame, pid: str, name: str) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                f"table {name!r} is a {type(frame).__name__}", source=name, fix="pass a DataFrame"
            )
        out = frame.copy()
        if "patient_id" in out.columns:
            other = set(out["patient_id"].astype(str)) - {pid}
            if other:
                raise InputError(
                    f"table {name!r} has rows of patient(s) {sorted(other)} while writing {pid!r}",
                    source=name,
                    column="patient_id",
                    fix="write each patient's rows under its own patient_id",
                )
            out = out.drop(columns="patient_id")
        out.insert(0, "patient_id", pid)
        # DuckDB cannot store pandas' nullable string/object mixes reliably: normalise them
        for col in out.columns:
            if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
                out[col] = out[col].astype("string").astype(object).where(out[col].notna(), None)
        return out

    @staticmethod
    def _upsert_patient(con: Any, pid: str, attributes: Mapping[str, Any] | None) -> None:
        row = con.execute("SELECT attributes FROM patients WHERE patient_id = ?", [pid]).fetchone()
        merged: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
        merged.update({str(k): _plain(v) for k, v in dict(attributes or {}).items()})
        payload = json.dumps(merged, default=str)
        if row is None:
            con.execute("INSERT INTO patients VALUES (?, ?, ?, ?)", [pid, payload, _now(), _now()])
        else:
            con.execute(
                "UPDATE patients SET attributes = ?, updated_at = ? WHERE patient_id = ?",
                [payload, _now(), pid],
            )

    @staticmethod
    def _replace_samples(con: Any, pid: str, samples: pd.DataFrame) -> None:
        missing = {"sample_id", "modality"} - set(samples.columns)
        if missing:
            raise InputError(
                f"samples frame lacks {sorted(missing)}",
                source="samples",
                fix="give sample_id and modality columns",
            )
        con.execute("DELETE FROM samples WHERE patient_id = ?", [pid])
        extra = [c for c in samples.columns if c not in ("sample_id", "modality", "patient_id")]
        rows = [
            (
                pid,
                str(r["sample_id"]),
                str(r["modality"]),
                json.dumps({c: _plain(r[c]) for c in extra}),
            )
            for r in samples.to_dict("records")
        ]
        if rows:
            con.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)", rows)

    @staticmethod
    def _replace_rows(
        con: Any, name: str, pid: str, frame: pd.DataFrame, known: _Known | None = None
    ) -> None:
        """Replace ``pid``'s rows of table ``name`` by ``frame`` (created or widened as needed).

        ``known`` (one per transaction, for loads of many patients) remembers each table's
        columns and the patients inserted into a table created in this transaction, so that the
        catalogue is asked once per table and a new table is not scanned for rows to delete.
        """
        con.register("_ithkit_incoming", frame)
        try:
            entry = known.get(name) if known is not None else None
            if entry is None:
                exists = con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
                ).fetchone()[0]
                columns = None
                if exists:
                    columns = {
                        r[0]
                        for r in con.execute(
                            "SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = ?",
                            [name],
                        ).fetchall()
                    }
                entry = _KnownTable(columns=columns, created=not exists)
            new = [c for c in frame.columns if entry.columns is None or c not in entry.columns]
            if new:
                # an all-missing column has DuckDB type NULL: store it as text so that later
                # patients' values fit
                types = {
                    r[0]: ("VARCHAR" if r[1].strip('"') == "NULL" else r[1])
                    for r in con.execute("DESCRIBE SELECT * FROM _ithkit_incoming").fetchall()
                }
                if entry.columns is None:
                    columns_sql = ", ".join(f'"{c}" {t}' for c, t in types.items())
                    con.execute(f'CREATE TABLE "{name}" ({columns_sql})')
                    entry.columns = set()
                else:
                    for col in new:
                        con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {types[col]}')
                entry.columns.update(frame.columns)
            # a table created in this transaction holds only the patients inserted since
            if not entry.created or pid in entry.pids:
                con.execute(f'DELETE FROM "{name}" WHERE patient_id = ?', [pid])
            con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _ithkit_incoming')
            entry.pids.add(pid)
            if known is not None:
                known[name] = entry
        finally:
            with contextlib.suppress(Exception):  # the transaction may already be aborted
                con.unregister("_ithkit_incoming")

    def load_parquet(self, folder: str | Path) -> list[str]:
        """Load result files written by parallel workers, all in one transaction.

        ``folder`` holds one sub-folder per patient with one ``<table>.parquet`` file per result
        table, optionally ``samples.parquet`` (``sample_id, modality``, ...) and ``patient.json``
        (attributes; its ``patient_id`` names the patient, else the folder name does).

        Returns
        -------
        list of str
            The patient ids loaded.
        """
        root = Path(folder)
        if not root.is_dir():
            raise InputError("not a folder", source=root, fix="give the folder workers wrote to")
        loaded = []
        batches: Iterable[tuple[str, dict[str, pd.DataFrame], dict[str, Any]]]
        if (root / f"{_names.PATIENTS}.parquet").is_file():
            # what export_parquet wrote: one file per table, all patients in each
            batches = _export_batches(root)
        else:
            # not a patient's results when it has no Parquet file (e.g. data/, a module's folder)
            folders = [p for p in sorted(root.iterdir()) if p.is_dir() and any(p.glob("*.parquet"))]
            # read one patient at a time: memory does not grow with the cohort
            batches = (_patient_batch(p) for p in folders) if folders else []
        if not batches:
            raise InputError(
                "holds no ithkit results (no <patient>/<table>.parquet files and no "
                "patients.parquet)",
                source=root,
                fix="give the folder that 'ithkit cohort export' or the parallel workers wrote; "
                "an 'ithkit run' output folder is already in its store (OUT/ithkit.duckdb)",
            )
        with self._transaction() as con:
            known: _Known = {}
            for pid, tables, attrs in batches:
                self._upsert_patient(con, pid, attrs)
                samples = tables.pop(_names.SAMPLES, None)
                if samples is not None:
                    self._replace_samples(con, pid, samples)
                runs = tables.pop(_names.RUNS, None)
                if runs is not None and len(runs):
                    con.register("_ithkit_runs", runs)
                    try:
                        con.execute(
                            "INSERT OR REPLACE INTO runs SELECT run_id, patient_id, module, "
                            "tables, ithkit_version, parameters, finished_at FROM _ithkit_runs"
                        )
                    finally:
                        con.unregister("_ithkit_runs")
                for name, frame in tables.items():
                    self._replace_rows(
                        con,
                        _check_table_name(name),
                        pid,
                        self._with_patient(frame, pid, name),
                        known,
                    )
                loaded.append(pid)
        return loaded

    # -- reading -----------------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Names of the tables in the store (core tables first)."""
        if not self.path.exists():
            return []
        with self._connect(write=False) as con:
            names = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables ORDER BY table_name"
                ).fetchall()
            ]
        core = [n for n in _names.CORE_TABLES if n in names]
        return core + [n for n in names if n not in core]

    def read(self, table: str, *, patient_id: str | None = None) -> pd.DataFrame:
        """Rows of ``table`` (all patients, or one)."""
        if not self.path.exists():
            raise InputError(
                "cohort store not found",
                source=self.path,
                fix="run 'ithkit demo' or 'ithkit run' first, or pass --store PATH",
            )
        if table not in self.tables():
            raise InputError(
                f"no table {table!r} in the store",
                source=self.path,
                fix=f"tables are: {', '.join(self.tables()) or 'none yet'}",
            )
        with self._connect(write=False) as con:
            if patient_id is None:
                return con.execute(f'SELECT * FROM "{table}"').df()
            return con.execute(
                f'SELECT * FROM "{table}" WHERE patient_id = ?', [str(patient_id)]
            ).df()

    def patients(self) -> pd.DataFrame:
        """One row per patient: id, number of samples, result tables holding its rows, dates."""
        if _names.PATIENTS not in self.tables():
            return pd.DataFrame(columns=["patient_id", "n_samples", "modules", "updated_at"])
        with self._connect(write=False) as con:
            frame = con.execute(
                "SELECT p.patient_id, count(DISTINCT s.sample_id) AS n_samples, p.updated_at "
                "FROM patients p LEFT JOIN samples s USING (patient_id) "
                "GROUP BY p.patient_id, p.updated_at ORDER BY p.patient_id"
            ).df()
            result_tables = [t for t in self.tables() if t not in _names.CORE_TABLES]
            holders: dict[str, list[str]] = {pid: [] for pid in frame["patient_id"]}
            for t in result_tables:
                for (pid,) in con.execute(f'SELECT DISTINCT patient_id FROM "{t}"').fetchall():
                    holders.setdefault(pid, []).append(t.split("_", 1)[0])
        frame["modules"] = [
            ",".join(sorted(set(holders.get(pid, [])))) for pid in frame["patient_id"]
        ]
        return frame[["patient_id", "n_samples", "modules", "updated_at"]]

    def export_parquet(self, out_dir: str | Path, *, tables: list[str] | None = None) -> list[Path]:
        """Write each table to ``out_dir/<table>.parquet`` (atomically, file by file)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        names = tables or self.tables()
        unknown = sorted(set(names) - set(self.tables()))
        if unknown:
            raise InputError(
                f"no table(s) {unknown} in the store",
                source=self.path,
                fix=f"tables are: {', '.join(self.tables())}",
            )
        written = []
        with self._connect(write=False) as con:
            for name in names:
                target = out / f"{name}.parquet"
                with atomic_path(target, suffix=".parquet") as tmp:
                    con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{tmp}' (FORMAT parquet)")
                written.append(target)
        return written


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(
            f"cannot read Parquet ({' '.join(str(exc).split())[:200]})",
            source=path,
            fix="re-export the file; a partial copy?",
        ) from None


def _patient_batch(folder: Path) -> tuple[str, dict[str, pd.DataFrame], dict[str, Any]]:
    """One worker-written patient folder: its tables, its id and attributes."""
    tables = {f.stem: _read_parquet(f) for f in sorted(folder.glob("*.parquet"))}
    meta_file = folder / "patient.json"
    attrs = _read_json(meta_file) if meta_file.exists() else {}
    return str(attrs.pop("patient_id", folder.name)), tables, attrs


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", source=path, fix="re-write it") from None
    if not isinstance(value, dict):
        raise InputError("is not a JSON object", source=path, fix='write {"patient_id": ...}')
    return value


def _export_batches(root: Path) -> list[tuple[str, dict[str, pd.DataFrame], dict[str, Any]]]:
    """Split the tables of an export (``<table>.parquet``, all patients) by patient."""
    patients = _read_parquet(root / f"{_names.PATIENTS}.parquet")
    if "patient_id" not in patients.columns:
        raise InputError(
            "no patient_id column", source=root / f"{_names.PATIENTS}.parquet",
            fix="give a folder written by 'ithkit cohort export'",
        )  # fmt: skip
    tables: dict[str, pd.DataFrame] = {}
    for f in sorted(root.glob("*.parquet")):
        if f.stem == _names.PATIENTS:
            continue
        frame = _read_parquet(f)
        if "patient_id" not in frame.columns:
            raise InputError(
                "no patient_id column", source=f,
                fix="every exported table carries patient_id; remove other files from the folder",
            )  # fmt: skip
        if f.stem == _names.SAMPLES and "attributes" in frame.columns:
            extra = pd.DataFrame(
                [json.loads(a) if isinstance(a, str) and a else {} for a in frame["attributes"]],
                index=frame.index,
            )
            frame = pd.concat([frame.drop(columns="attributes"), extra], axis=1)
        tables[f.stem] = frame
    batches = []
    for row in patients.to_dict("records"):
        pid = str(row["patient_id"])
        raw = row.get("attributes")
        attrs = json.loads(raw) if isinstance(raw, str) and raw else {}
        own = {
            name: frame[frame["patient_id"].astype(str) == pid].reset_index(drop=True)
            for name, frame in tables.items()
        }
        batches.append((pid, {k: v for k, v in own.items() if len(v)}, attrs))
    return batches


def _plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN/NA to None, others to str."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
