"""Readers and writers for the contracts of :mod:`ithkit.schema`.

Each ``read_*`` function reads a file, validates it and returns a typed DataFrame, or raises
:class:`ithkit.InputError` with the file, line, column and fix.

Examples
--------
>>> import tempfile, pathlib
>>> from ithkit import io
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> header = "mutation_id sample_id ref_counts alt_counts major_cn minor_cn normal_cn"
>>> header += " tumour_content"
>>> row = "m1 R1 90 10 1 1 2 0.8"
>>> _ = (d / "v.tsv").write_text(header.replace(" ", "\\t") + "\\n" + row.replace(" ", "\\t"))
>>> io.read_variants(d / "v.tsv")[["mutation_id", "alt_counts"]].values.tolist()
[['m1', 10]]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ithkit import schema
from ithkit._errors import InputError
from ithkit.io._tables import read_table, read_text

__all__ = [
    "read_ctdna",
    "read_image_manifest",
    "read_lesions",
    "read_patient_manifest",
    "read_purity",
    "read_segments",
    "read_table",
    "read_text",
    "read_variants",
    "write_table",
]


def read_variants(path: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Read a multi-region variant table in the PyClone-VI format (:data:`schema.VARIANTS`)."""
    return read_table(path, schema.VARIANTS, strict=strict)


def read_segments(path: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Read an allele-specific copy-number segment table (:data:`schema.SEGMENTS`)."""
    return read_table(path, schema.SEGMENTS, strict=strict)


def read_purity(path: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Read a purity table ``sample_id, purity[, ploidy]`` (:data:`schema.PURITY`)."""
    return read_table(path, schema.PURITY, strict=strict)


def read_lesions(
    path: str | Path, *, strict: bool = False, units: str = "mm", force: bool = False
) -> pd.DataFrame:
    """Read lesion measurements (:data:`schema.LESIONS`): diameters in mm, volumes in ml.

    ``units="cm"`` reads ``diameter_mm`` as centimetres (multiplied by 10). In mm, a patient
    whose baseline targets are all below 10 mm is refused as probably cm
    (:func:`ithkit.schema.check_diameter_units`) unless ``force``.
    """
    frame = read_table(path, schema.LESIONS, strict=strict)
    return schema.check_diameter_units(frame, source=str(path), units=units, force=force)


def read_ctdna(path: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Read a ctDNA series (:data:`schema.CTDNA`)."""
    return read_table(path, schema.CTDNA, strict=strict)


def read_image_manifest(
    path: str | Path, *, check_files: bool = True, keep: Sequence[str] = ()
) -> pd.DataFrame:
    """Read an image manifest; ``image`` and ``mask`` become absolute paths.

    Paths are relative to the manifest's folder. With ``check_files`` a missing image or mask
    is an :class:`ithkit.InputError` naming the line. ``keep`` names extra columns to keep
    (e.g. the scanner or site column used as a ComBat batch).
    """
    p = Path(path)
    frame = read_table(p, schema.IMAGES, strict=False, keep=keep)
    base = p.parent
    for col in ("image", "mask"):
        resolved = [str((base / v).resolve()) for v in frame[col]]
        if check_files:
            for i, f in enumerate(resolved):
                if not Path(f).exists():
                    raise InputError(
                        f"{col} file {frame.loc[i, col]!r} not found",
                        source=p,
                        row=i + 2,
                        column=col,
                        fix="paths are relative to the manifest's folder",
                    )
        frame[col] = pd.Series(resolved, dtype="string")
    return frame


def read_patient_manifest(path: str | Path) -> dict[str, Any]:
    """Read a patient manifest (YAML); file paths become absolute and must exist.

    Paths are relative to the manifest's folder. A path that leaves that folder (``../``, an
    absolute path elsewhere) is read, and listed in the patient attribute
    ``paths_outside_manifest_folder`` (stored and shown in the report), so that a manifest
    from elsewhere cannot read other files unnoticed.

    Examples
    --------
    A manifest looks like::

        patient_id: P001
        variants: variants.tsv
        lesions: lesions.csv
        ctdna: ctdna.csv

    Instead of ``variants``, the callers' outputs (``vcf``, ``copy_number``; normalised by
    :func:`ithkit.schema.validate_manifest`, their paths resolved here too)::

        vcf: {path: calls.vcf.gz, normal: NORMAL, samples: {TUMOR_A: R1}}
        copy_number: ascat:ascat.segments.txt
        purity: purity.tsv
    """
    import yaml

    p = Path(path)
    text = read_text(p)
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # bad timestamps raise ValueError
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            source=p,
            row=None if mark is None else mark.line + 1,
            fix="check indentation and 'key: value' syntax",
        ) from None
    manifest = schema.validate_manifest(data, source=str(p))
    home = p.parent.resolve()
    outside: list[str] = []

    def note_outside(name: str, f: Path) -> None:
        if not f.is_relative_to(home):
            outside.append(f"{name}={f}")

    for key in schema.MANIFEST_FILE_KEYS:
        if key in manifest:
            f = (p.parent / manifest[key]).resolve()
            note_outside(key, f)
            if not f.exists():
                raise InputError(
                    f"{key} file {manifest[key]!r} not found",
                    source=p,
                    column=key,
                    fix="paths are relative to the manifest's folder",
                )
            manifest[key] = f
    for key, paths in schema.MANIFEST_SECTION_KEYS.items():
        if key not in manifest:
            continue
        value = manifest[key]
        entries = {"": value} if isinstance(value, str) else value
        resolved: dict[str, Any] = {}
        for sub, v in entries.items():
            if sub == "" or "*" in paths or sub in paths:
                f = (p.parent / str(v)).resolve()
                note_outside(key if sub == "" else f"{key}.{sub}", f)
                if not f.exists():
                    name = key if sub == "" else f"{key}.{sub}"
                    raise InputError(
                        f"{name} file {v!r} not found",
                        source=p,
                        column=name,
                        fix="paths are relative to the manifest's folder",
                    )
                resolved[sub] = f
            else:
                resolved[sub] = v
        manifest[key] = resolved[""] if isinstance(value, str) else resolved
    if "vcf" in manifest:  # the callers' outputs (normalised by the schema)

        def resolve(key: str, name: str) -> Path:
            f = (p.parent / name).resolve()
            note_outside(key, f)
            if not f.exists():
                raise InputError(
                    f"{key} file {name!r} not found",
                    source=p,
                    column=key,
                    fix="paths are relative to the manifest's folder",
                )
            return f

        vcf = manifest["vcf"]
        vcf["paths"] = [resolve("vcf", name) for name in vcf["paths"]]
        for entry in (*manifest["copy_number"]["files"], *manifest["copy_number"]["purity"]):
            entry["path"] = resolve("copy_number", entry["path"])
    if outside:
        # read as written (absolute paths and ../ are legitimate), but said in the outputs:
        # the attribute reaches the store's patients table and the report's patient section
        manifest["attributes"] = {
            **dict(manifest.get("attributes") or {}),
            OUTSIDE_ATTRIBUTE: "; ".join(outside),
        }
    return manifest


#: patient attribute listing manifest paths outside the manifest's folder (``key=path; ...``)
OUTSIDE_ATTRIBUTE = "paths_outside_manifest_folder"


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically: TSV (``.tsv``, ``.txt``), CSV (``.csv``) or ``.parquet``.

    The file appears complete or not at all (written to a temporary name, then renamed).
    Booleans are written ``true``/``false`` and dates as ISO 8601, as the contracts say.
    """
    from ithkit._atomic import atomic_path

    p = Path(path)
    with atomic_path(p) as tmp:
        if p.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            out = frame.copy()
            for col in out.columns:
                if pd.api.types.is_bool_dtype(out[col].dtype):
                    out[col] = out[col].map({True: "true", False: "false"})
                elif pd.api.types.is_datetime64_any_dtype(out[col].dtype):
                    out[col] = out[col].dt.strftime("%Y-%m-%d")
            sep = "," if p.suffix == ".csv" else "\t"
            out.to_csv(tmp, sep=sep, index=False, lineterminator="\n")
    return p
