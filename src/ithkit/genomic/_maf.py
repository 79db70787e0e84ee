"""MAF input: conversion to the multi-region table, and MATH from VAF-only MAFs."""

from __future__ import annotations

import io as _io
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit import schema
from ithkit._errors import InputError
from ithkit.genomic._metrics import MATH_MIN_VAF, MATH_MIN_VARIANTS, sample_math

# maftools' default non-synonymous classes (the variants math.score and oncoplots use)
NONSYNONYMOUS = (
    "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site", "Translation_Start_Site",
    "Nonsense_Mutation", "Nonstop_Mutation", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation",
)  # fmt: skip
MAF_REQUIRED = ("Tumor_Sample_Barcode", "Hugo_Symbol", "Chromosome", "Start_Position")
VAF_COLUMNS = ("t_vaf", "i_TumorVAF_WU", "tumor_f", "VAF", "vaf")


def read_maf(path: str | Path) -> pd.DataFrame:
    """Read a MAF (tab-separated, ``#`` comment lines allowed, gzip allowed) as text columns."""
    from ithkit.io import read_text

    p = Path(path)
    text = read_text(p)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    if not any(line.strip() for line in lines):
        raise InputError(
            "the MAF has no header line", source=p, fix="a MAF is a tab-separated table"
        )
    try:
        frame = pd.read_csv(
            _io.StringIO("\n".join(lines)), sep="\t", dtype=str, keep_default_na=False, quoting=3
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"cannot parse the MAF ({' '.join(str(exc).split())[:160]})",
            source=p,
            fix="every row needs the same number of tabs as the header",
        ) from None
    missing = [c for c in MAF_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing MAF column(s) {', '.join(missing)}",
            source=p,
            fix="a MAF needs Tumor_Sample_Barcode, Hugo_Symbol, Chromosome, Start_Position",
        )
    if frame.empty:
        raise InputError("the MAF has no rows", source=p, fix="add variants")
    return frame


def _vaf_column(maf: pd.DataFrame, vaf_column: str | None, source: str) -> pd.Series:
    if vaf_column is None:
        if {"t_alt_count", "t_ref_count"} <= set(maf.columns):
            alt = pd.to_numeric(maf["t_alt_count"], errors="coerce")
            ref = pd.to_numeric(maf["t_ref_count"], errors="coerce")
            return alt / (alt + ref)
        vaf_column = next((c for c in VAF_COLUMNS if c in maf.columns), None)
        if vaf_column is None:
            raise InputError(
                "no read counts and no VAF column",
                source=source,
                fix=f"give t_ref_count/t_alt_count or a VAF column ({', '.join(VAF_COLUMNS)})",
            )
    if vaf_column not in maf.columns:
        raise InputError(
            f"no column {vaf_column!r}", source=source, column=vaf_column, fix="check --vaf-column"
        )
    blank = maf[vaf_column].str.strip().str.upper().isin(["", "NA", "NAN", "."])
    vaf = pd.to_numeric(maf[vaf_column].where(~blank), errors="coerce")
    bad = vaf.isna() & ~blank
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"VAF {maf[vaf_column].iloc[row]!r} is not a number",
            source=source,
            column=vaf_column,
            row=row + 2,
            fix="VAF must be a fraction 0..1 or a percentage 0..100",
        )
    if vaf.max() > 1:  # percentages, as in TCGA's WashU calls
        vaf = vaf / 100.0
    return vaf


def maf_math(
    maf: pd.DataFrame,
    *,
    vaf_column: str | None = None,
    min_vaf: float = MATH_MIN_VAF,
    min_variants: int = MATH_MIN_VARIANTS,
    nonsynonymous_only: bool = True,
    source: str = "<maf>",
) -> pd.DataFrame:
    """MATH score per tumour sample of a MAF, as maftools' ``math.score`` computes it.

    Variants are restricted to the non-synonymous classes (maftools' default), VAFs in percent
    are divided by 100, VAFs below ``min_vaf`` are dropped, and samples with fewer than
    ``min_variants`` variants get NaN.

    Returns
    -------
    pandas.DataFrame
        ``sample_id, n_variants, math``.
    """
    frame = maf
    if nonsynonymous_only and "Variant_Classification" in frame.columns:
        frame = frame[frame["Variant_Classification"].isin(NONSYNONYMOUS)]
    vaf = _vaf_column(frame, vaf_column, source)
    frame = frame.assign(_vaf=vaf.to_numpy())
    frame = frame[frame["_vaf"] >= min_vaf]
    rows = []
    for sample, part in frame.groupby("Tumor_Sample_Barcode", sort=True):
        math, n = sample_math(part["_vaf"], min_vaf=min_vaf, min_variants=min_variants)
        rows.append({"sample_id": str(sample), "n_variants": n, "math": math})
    return pd.DataFrame(rows, columns=["sample_id", "n_variants", "math"])


def _maf_ids(maf: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(chromosome without ``chr``, mutation id) of each MAF row."""
    chrom = maf["Chromosome"].str.replace("^chr", "", regex=True)
    if {"Reference_Allele", "Tumor_Seq_Allele2"} <= set(maf.columns):
        mid = chrom + ":" + maf["Start_Position"] + ":" + maf["Reference_Allele"] + ">" + maf[
            "Tumor_Seq_Allele2"
        ]  # fmt: skip
    else:
        mid = maf["Hugo_Symbol"] + ":" + chrom + ":" + maf["Start_Position"]
    return chrom, mid


def maf_mutations(maf: pd.DataFrame, *, source: str = "<maf>") -> pd.DataFrame:
    """The read counts of a MAF as :func:`ithkit.genomic.read_vcf` returns them.

    ``mutation_id, sample_id, chrom, pos, ref_counts, alt_counts, gene``, ids as
    :func:`maf_to_variants` makes them; for :func:`ithkit.genomic.convert_calls` (a MAF with a
    copy-number caller's segments).

    Examples
    --------
    >>> maf = pd.DataFrame({"Hugo_Symbol": ["TP53"], "Chromosome": ["chr17"],
    ...     "Start_Position": ["7577120"], "Tumor_Sample_Barcode": ["R1"],
    ...     "t_ref_count": ["60"], "t_alt_count": ["40"]})
    >>> maf_mutations(maf)[["mutation_id", "alt_counts"]].values.tolist()
    [['TP53:17:7577120', 40]]
    """
    for col in ("t_ref_count", "t_alt_count"):
        if col not in maf.columns:
            raise InputError(
                f"missing MAF column {col}",
                source=source,
                fix="conversion needs read counts; for VAF-only MAFs use 'ithkit genomic math'",
            )
    chrom, mid = _maf_ids(maf)
    counts = {}
    for col, name in (("t_ref_count", "ref_counts"), ("t_alt_count", "alt_counts"),
                      ("Start_Position", "pos")):  # fmt: skip
        values = pd.to_numeric(maf[col], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError(
                f"value {maf[col].iloc[row]!r} is not a number",
                source=source,
                row=row + 2,
                column=col,
                fix=f"{col} must be a whole number",
            )
        counts[name] = values.astype(np.int64).to_numpy()
    return pd.DataFrame(
        {
            "mutation_id": mid.to_numpy(),
            "sample_id": maf["Tumor_Sample_Barcode"].to_numpy(),
            "chrom": chrom.to_numpy(),
            "pos": counts["pos"],
            "ref_counts": counts["ref_counts"],
            "alt_counts": counts["alt_counts"],
            "gene": maf["Hugo_Symbol"].to_numpy(),
        }
    )


def maf_to_variants(
    maf: pd.DataFrame,
    *,
    purity: pd.DataFrame,
    segments: pd.DataFrame | None = None,
    normal_cn: int = 2,
    source: str = "<maf>",
) -> tuple[pd.DataFrame, list[str]]:
    """Convert a MAF with read counts (+ segments + purity) to the multi-region table.

    Each variant gets the allele-specific copy number of the segment of its sample that
    overlaps its position; without segments (or outside them) 1+1 copies are assumed, and the
    assumptions are returned as notes. ``mutation_id`` is
    ``<Chromosome>:<Start_Position>:<Reference_Allele>><Tumor_Seq_Allele2>`` (or
    ``<Hugo_Symbol>:<Chromosome>:<Start_Position>`` without alleles).

    Returns
    -------
    (variants, notes)
        The validated :data:`ithkit.schema.VARIANTS` frame and what was assumed.
    """
    notes: list[str] = []
    for col in ("t_ref_count", "t_alt_count"):
        if col not in maf.columns:
            raise InputError(
                f"missing MAF column {col}",
                source=source,
                fix="conversion needs read counts; for VAF-only MAFs use 'ithkit genomic math'",
            )
    chrom, mid = _maf_ids(maf)
    sample = maf["Tumor_Sample_Barcode"]
    pur = purity.set_index("sample_id")["purity"]
    unknown = sorted(set(sample) - set(pur.index))
    if unknown:
        raise InputError(
            f"no purity for sample(s) {', '.join(unknown[:5])}",
            source="purity",
            fix="add one row per Tumor_Sample_Barcode to the purity table",
        )
    pos = pd.to_numeric(maf["Start_Position"], errors="coerce")
    major = np.ones(len(maf), dtype=np.int64)
    minor = np.ones(len(maf), dtype=np.int64)
    if segments is None:
        notes.append("no copy-number segments: every variant assumed at 1+1 copies")
    else:
        seg_chrom = segments["chrom"].astype(str).str.replace("^chr", "", regex=True)
        seg = segments.assign(chrom=seg_chrom)
        found = np.zeros(len(maf), dtype=bool)
        for (s, c), part in seg.groupby(["sample_id", "chrom"]):
            rows = np.flatnonzero(((sample == s) & (chrom == c)).to_numpy())
            if rows.size == 0:
                continue
            starts = part["start"].to_numpy()
            ends = part["end"].to_numpy()
            p = pos.to_numpy()[rows][:, None]
            hit = (p >= starts[None, :]) & (p <= ends[None, :])
            has = hit.any(axis=1)
            first = hit.argmax(axis=1)
            major[rows[has]] = part["major_cn"].to_numpy()[first[has]]
            minor[rows[has]] = part["minor_cn"].to_numpy()[first[has]]
            found[rows[has]] = True
        if (~found).any():
            notes.append(f"{int((~found).sum())} variant(s) outside every segment: 1+1 assumed")
        if (major < 1).any():
            notes.append(f"{int((major < 1).sum())} variant(s) on 0-copy segments: set to 1+0")
            minor = np.where(major < 1, 0, minor)
            major = np.maximum(major, 1)
    frame = pd.DataFrame(
        {
            "mutation_id": mid,
            "sample_id": sample,
            "ref_counts": maf["t_ref_count"],
            "alt_counts": maf["t_alt_count"],
            "major_cn": major,
            "minor_cn": minor,
            "normal_cn": normal_cn,
            "tumour_content": sample.map(pur).to_numpy(),
            "gene": maf["Hugo_Symbol"],
            "chrom": chrom,
            "pos": maf["Start_Position"],
        }
    )
    return schema.validate(frame, schema.VARIANTS, source=source), notes
