"""Caller outputs (VCF or MAF, copy-number segments, purity) -> the PyClone-VI table."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit import schema
from ithkit._errors import InputError
from ithkit.genomic._cn_callers import (
    CLONAL_CCF,
    CN_COLUMNS,
    CallerFile,
    _split_sample,
    locate,
    majority_state,
    read_caller_purity,
    read_copy_number,
)

SUMMARY_COLUMNS = (
    "sample_id", "purity", "n_mutations", "n_loh", "n_gained", "n_subclonal_cn",
    "n_outside_segments", "n_zero_copy",
)  # fmt: skip


class OutsideSegmentsWarning(UserWarning):
    """Mutations fell outside every copy-number segment of their sample (normal state used)."""


@dataclass(frozen=True)
class ConvertedCalls:
    """The PyClone-VI table made from caller outputs, with what went into it.

    Attributes
    ----------
    variants
        :data:`ithkit.schema.VARIANTS`, one row per mutation x sample.
    summary
        Per sample (:data:`SUMMARY_COLUMNS`): mutations, and how many sit in LOH (minor copy
        number 0), gained (more copies than ``normal_cn``) or subclonal segments, outside every
        segment (given the normal state) or on 0-copy segments (given 1+0).
    segments
        The callers' segments in ithkit's wide table (both states of subclonal segments), or
        None without copy number.
    notes
        What was assumed, rounded or left out, one sentence each.
    """

    variants: pd.DataFrame
    summary: pd.DataFrame
    segments: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    def write(
        self, variants_path: str | Path, *, summary_path: str | Path | None = None
    ) -> list[Path]:
        """Write the variants TSV, the summary (default ``<name>.summary.tsv`` beside it) and,
        with copy number, the callers' segments: ``<name>.copy_number.tsv`` (the wide table,
        both states) and ``<name>.segments.tsv`` (:data:`ithkit.schema.SEGMENTS`, for
        ``ithkit genomic analyze --segments``; see :func:`one_state`)."""
        from ithkit.io import write_table

        out = Path(variants_path)
        stem = out.name.removesuffix(".gz").removesuffix(".tsv")
        summary = Path(summary_path) if summary_path else out.with_name(f"{stem}.summary.tsv")
        written = [write_table(self.variants, out), write_table(self.summary, summary)]
        if self.segments is not None:
            wide = self.segments.drop(columns=["subclonal"])
            written.append(write_table(wide, out.with_name(f"{stem}.copy_number.tsv")))
            written.append(
                write_table(one_state(self.segments), out.with_name(f"{stem}.segments.tsv"))
            )
        return [Path(p) for p in written]


def one_state(segments: pd.DataFrame) -> pd.DataFrame:
    """The wide table as :data:`ithkit.schema.SEGMENTS`: one state per segment, the altered one.

    Where the first state is 1+1 and a second state exists, the second (with its ``ccf``) is
    the segment's row, so that :func:`ithkit.genomic.subclonal_genome_fraction` counts it;
    reading the table back (caller ``ithkit``) restores the order.

    Examples
    --------
    >>> wide = pd.DataFrame({"sample_id": ["R1"], "chrom": ["1"], "start": [1], "end": [9],
    ...     "major_cn": [1], "minor_cn": [1], "ccf": [0.7], "major_cn_2": [2],
    ...     "minor_cn_2": [1], "ccf_2": [0.3]})
    >>> one_state(wide)[["major_cn", "minor_cn", "ccf"]].values.tolist()
    [[2.0, 1.0, 0.3]]
    """
    seg = segments.copy()
    second = (
        seg["major_cn_2"].notna().to_numpy()
        & ((seg["major_cn"] == 1) & (seg["minor_cn"] == 1)).to_numpy()
    )
    for a, b in (("major_cn", "major_cn_2"), ("minor_cn", "minor_cn_2"), ("ccf", "ccf_2")):
        seg[a] = np.where(second, seg[b].astype(float), seg[a].astype(float))
    seg["major_cn"] = seg["major_cn"].astype(np.int64)
    seg["minor_cn"] = seg["minor_cn"].astype(np.int64)
    return seg[list(schema.SEGMENTS.names)]


def caller_variants(
    mutations: pd.DataFrame,
    *,
    purity: pd.DataFrame,
    segments: pd.DataFrame | None = None,
    normal_cn: int = 2,
    clonal_ccf: float = CLONAL_CCF,
    source: str = "<mutations>",
) -> ConvertedCalls:
    """Give each mutation the copy number of its segment and the purity of its sample.

    A mutation gets the (major, minor) state of the segment of its sample that holds its
    position (``chr1`` and ``1`` match); outside every segment it gets the normal state 1+1
    and an :class:`OutsideSegmentsWarning` counts them; on a 0-copy segment it gets 1+0.
    Without segments every mutation is at 1+1 (a note says so).

    Parameters
    ----------
    mutations
        ``mutation_id, sample_id, chrom, pos, ref_counts, alt_counts`` (optional ``gene``), as
        :func:`read_vcf` returns.
    purity
        ``sample_id, purity`` (fractions 0..1), one row per sample.
    segments
        Copy-number segments: ithkit's wide table (:func:`read_copy_number`) or
        :data:`ithkit.schema.SEGMENTS`.
    normal_cn
        Copies in normal cells (``normal_cn`` of the PyClone-VI table).
    clonal_ccf
        Segments whose state fewer cancer cells carry count as subclonal in the summary.
    source
        Name used in messages.

    Returns
    -------
    ConvertedCalls

    Raises
    ------
    ithkit.InputError
        A sample without purity, purity in percent, a sample without segments while others
        have them, bad counts (through :data:`ithkit.schema.VARIANTS`).

    Examples
    --------
    >>> muts = pd.DataFrame({"mutation_id": ["1:100:A>T"], "sample_id": ["R1"],
    ...     "chrom": ["chr1"], "pos": [100], "ref_counts": [60], "alt_counts": [40]})
    >>> seg = pd.DataFrame({"sample_id": ["R1"], "chrom": ["1"], "start": [1],
    ...     "end": [1000], "major_cn": [2], "minor_cn": [0]})
    >>> out = caller_variants(muts, purity=pd.DataFrame({"sample_id": ["R1"],
    ...     "purity": [0.8]}), segments=seg)
    >>> out.variants[["major_cn", "minor_cn", "tumour_content"]].values.tolist()
    [[2.0, 0.0, 0.8]]
    >>> int(out.summary.loc[0, "n_loh"])
    1
    """
    notes: list[str] = []
    samples = pd.unique(mutations["sample_id"].astype(str))
    pur = _purity_map(purity, samples)
    n = len(mutations)
    major = np.ones(n, dtype=np.int64)
    minor = np.ones(n, dtype=np.int64)
    subclonal = np.zeros(n, dtype=bool)
    outside = np.zeros(n, dtype=bool)
    seg_table: pd.DataFrame | None = None
    if segments is None:
        notes.append("no copy-number segments: every mutation assumed at 1+1 copies")
    else:
        seg_table = _as_wide(segments, clonal_ccf, notes)
        without = sorted(set(samples) - set(seg_table["sample_id"].astype(str)))
        if without:
            raise InputError(
                f"no copy-number segments for sample(s) {', '.join(without)}",
                source="copy number",
                fix="give each tumour sample's segments (--cn CALLER:SAMPLE=PATH), or map the "
                "caller's sample names to the regions with --samples",
            )
        row = locate(seg_table, mutations["sample_id"], mutations["chrom"],
                     pd.to_numeric(mutations["pos"]).to_numpy())  # fmt: skip
        outside = row < 0
        inside = ~outside
        major[inside] = seg_table["major_cn"].to_numpy()[row[inside]]
        minor[inside] = seg_table["minor_cn"].to_numpy()[row[inside]]
        subclonal[inside] = seg_table["subclonal"].to_numpy(dtype=bool)[row[inside]]
        if outside.any():
            message = (
                f"{int(outside.sum())} of {n} mutation x sample row(s) outside every copy-number "
                f"segment of their sample: given the normal state 1+1"
            )
            notes.append(message)
            warnings.warn(message, OutsideSegmentsWarning, stacklevel=2)
    zero = major < 1
    if zero.any():
        notes.append(f"{int(zero.sum())} mutation x sample row(s) on 0-copy segments: set to 1+0")
        minor = np.where(zero, 0, minor)
        major = np.maximum(major, 1)
    frame = pd.DataFrame(
        {
            "mutation_id": mutations["mutation_id"].astype(str).to_numpy(),
            "sample_id": mutations["sample_id"].astype(str).to_numpy(),
            "ref_counts": mutations["ref_counts"].to_numpy(),
            "alt_counts": mutations["alt_counts"].to_numpy(),
            "major_cn": major,
            "minor_cn": minor,
            "normal_cn": normal_cn,
            "tumour_content": mutations["sample_id"].astype(str).map(pur).to_numpy(),
            "chrom": mutations["chrom"].astype(str).to_numpy(),
            "pos": mutations["pos"].to_numpy(),
        }
    )
    if "gene" in mutations.columns and mutations["gene"].notna().any():
        frame.insert(8, "gene", mutations["gene"].to_numpy())
    variants = schema.validate(frame, schema.VARIANTS, source=source)
    per = pd.DataFrame(
        {
            "sample_id": frame["sample_id"],
            "loh": minor == 0,
            "gained": (major + minor) > normal_cn,
            "subclonal": subclonal,
            "outside": outside,
            "zero": zero,
        }
    ).groupby("sample_id", sort=False)
    summary = pd.DataFrame(
        {
            "sample_id": list(per.groups),
            "purity": [pur[s] for s in per.groups],
            "n_mutations": per.size().to_numpy(),
            "n_loh": per["loh"].sum().to_numpy(),
            "n_gained": per["gained"].sum().to_numpy(),
            "n_subclonal_cn": per["subclonal"].sum().to_numpy(),
            "n_outside_segments": per["outside"].sum().to_numpy(),
            "n_zero_copy": per["zero"].sum().to_numpy(),
        }
    )
    return ConvertedCalls(variants=variants, summary=summary, segments=seg_table,
                          notes=tuple(notes))  # fmt: skip


def _purity_map(purity: pd.DataFrame, samples: Sequence[str]) -> dict[str, float]:
    if "purity" not in purity.columns or "sample_id" not in purity.columns:
        raise InputError(
            "the purity table needs sample_id and purity", source="purity", fix="add them"
        )
    values = purity.assign(sample_id=purity["sample_id"].astype(str)).drop_duplicates("sample_id")
    pur = dict(zip(values["sample_id"], pd.to_numeric(values["purity"]), strict=True))
    missing = [s for s in samples if s not in pur]
    if missing:
        raise InputError(
            f"no purity for sample(s) {', '.join(missing[:5])}",
            source="purity",
            fix="give one purity per tumour sample (--purity), with the region names (or the "
            "caller's names mapped by --samples)",
        )
    for s in samples:
        v = float(pur[s])
        if 1 < v <= 100:
            raise InputError(
                f"purity {v:g} of sample {s} looks like a percentage",
                source="purity",
                fix=f"purity is a fraction 0..1: write {v / 100:g}",
            )
        if not 0 < v <= 1:
            raise InputError(
                f"purity {v:g} of sample {s} is outside (0, 1]",
                source="purity",
                fix="purity is the fraction of tumour cells",
            )
    return {s: float(pur[s]) for s in samples}


def _as_wide(segments: pd.DataFrame, clonal_ccf: float, notes: list[str]) -> pd.DataFrame:
    """A SEGMENTS-contract table or a reader's wide table -> the wide table."""
    if set(CN_COLUMNS) <= set(segments.columns):
        return segments[list(CN_COLUMNS)].reset_index(drop=True)
    typed = schema.validate(segments, schema.SEGMENTS, source="segments")
    wide = majority_state(typed, notes)
    for col in ("major_cn_raw", "minor_cn_raw"):
        wide[col] = np.nan
    ccf = wide["ccf"].to_numpy(dtype=float)
    wide["subclonal"] = ~np.isnan(ccf) & (ccf < clonal_ccf)
    return wide[list(CN_COLUMNS)]


def convert_calls(
    mutations: pd.DataFrame,
    *,
    copy_number: Sequence[CallerFile | str] = (),
    purity: Sequence[str | Path | tuple[str | Path, str | None]] | pd.DataFrame = (),
    samples: Mapping[str, str] | None = None,
    normal_cn: int = 2,
    clonal_ccf: float = CLONAL_CCF,
    source: str = "<mutations>",
) -> ConvertedCalls:
    """Read the copy-number and purity files of the callers and convert ``mutations``.

    Parameters
    ----------
    mutations
        From :func:`read_vcf` (or any frame with its columns).
    copy_number
        Caller files: :class:`CallerFile` or ``"CALLER:PATH"`` / ``"CALLER:SAMPLE=PATH"``
        strings (``ascat``, ``facets``, ``purple``, ``battenberg``, ``ithkit``). One sample's
        segments must come from one file.
    purity
        Purity files (``PATH`` / ``SAMPLE=PATH`` or ``(PATH, SAMPLE)``; any format
        :func:`read_caller_purity` reads) or a ``sample_id, purity`` frame.
    samples
        Caller sample name -> region id (the VCF's mapping), applied to the copy-number and
        purity files' sample names.
    normal_cn, clonal_ccf, source
        As in :func:`caller_variants`.

    Returns
    -------
    ConvertedCalls
        With the callers' notes first.
    """
    notes: list[str] = []
    if isinstance(purity, pd.DataFrame):
        pur = purity
    else:
        parts = []
        for item in purity:
            if isinstance(item, tuple):
                path, sample = Path(item[0]), item[1]
            else:
                sample, text = _split_sample(str(item))
                path = Path(text)
            parts.append(read_caller_purity(path, sample_id=sample, samples=samples))
        if not parts:
            raise InputError(
                "no purity given", source="--purity", fix="give the callers' purity files"
            )
        pur = pd.concat(parts, ignore_index=True)
        dup = pur["sample_id"].duplicated()
        if dup.any():
            raise InputError(
                f"purity of sample {pur.loc[dup, 'sample_id'].iloc[0]} given twice",
                source="--purity",
                fix="give one purity per sample",
            )
    pur_map = dict(zip(pur["sample_id"].astype(str), pd.to_numeric(pur["purity"]), strict=True))
    seg_parts = []
    seen: dict[str, Path] = {}
    for item in copy_number:
        spec = CallerFile.parse(item) if isinstance(item, str) else item
        seg, cn_notes = read_copy_number(
            spec.path, spec.caller,  # type: ignore[arg-type]
            sample_id=spec.sample_id, samples=samples, purity=pur_map, clonal_ccf=clonal_ccf,
        )  # fmt: skip
        for s in pd.unique(seg["sample_id"]):
            if s in seen:
                raise InputError(
                    f"copy number of sample {s} given twice ({seen[s].name} and {spec.path.name})",
                    source="--cn",
                    fix="give one caller file per sample",
                )
            seen[s] = spec.path
        seg_parts.append(seg)
        notes += cn_notes
    segments = pd.concat(seg_parts, ignore_index=True) if seg_parts else None
    result = caller_variants(
        mutations, purity=pur, segments=segments, normal_cn=normal_cn, clonal_ccf=clonal_ccf,
        source=source,
    )  # fmt: skip
    return ConvertedCalls(
        variants=result.variants,
        summary=result.summary,
        segments=result.segments,
        notes=(*notes, *result.notes),
    )


def convert_vcf(
    paths: str | Path | Sequence[str | Path],
    *,
    purity: Sequence[str | Path | tuple[str | Path, str | None]] | pd.DataFrame,
    copy_number: Sequence[CallerFile | str] = (),
    normal: str | None = None,
    samples: Mapping[str, str] | None = None,
    pass_only: bool = True,
    normal_cn: int = 2,
    clonal_ccf: float = CLONAL_CCF,
) -> ConvertedCalls:
    """Somatic VCF(s) + copy-number and purity files -> the PyClone-VI table, in one call.

    :func:`read_vcf` on each VCF (Strelka2 writes SNVs and indels to two files), then
    :func:`convert_calls`. This is what ``ithkit genomic convert --vcf`` and the manifest's
    ``vcf``/``copy_number`` keys run.

    Parameters
    ----------
    paths
        One VCF or several (their mutations must not repeat).
    purity, copy_number, samples, normal_cn, clonal_ccf
        As in :func:`convert_calls`.
    normal, pass_only
        As in :func:`read_vcf`.

    Returns
    -------
    ConvertedCalls
        Notes of the VCFs first (prefixed by the file name).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "calls.vcf").write_text(
    ...     "##fileformat=VCFv4.2\\n##contig=<ID=1,length=1000>\\n"
    ...     '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="depth per allele">\\n'
    ...     "#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\tFORMAT\\tNORMAL\\tT1\\n"
    ...     "1\\t100\\t.\\tA\\tT\\t.\\tPASS\\t.\\tAD\\t40,0\\t30,10\\n")
    >>> _ = (d / "T1.samplestatistics.txt").write_text("rho 0.7\\nPloidy 2.1\\n")
    >>> _ = (d / "ascat.txt").write_text("sample chr startpos endpos nMajor nMinor\\n"
    ...                                  "T1 1 1 1000 2 1\\n")
    >>> out = convert_vcf(d / "calls.vcf", normal="NORMAL", samples={"T1": "R1"},
    ...                   copy_number=[f"ascat:{d / 'ascat.txt'}"],
    ...                   purity=[d / "T1.samplestatistics.txt"])
    >>> out.variants[["mutation_id", "sample_id", "major_cn", "tumour_content"]].values.tolist()
    [['1:100:A>T', 'R1', 2, 0.7]]
    """
    from ithkit.genomic._vcf import read_vcf

    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    for item in items:
        part, vcf_notes = read_vcf(item, normal=normal, samples=samples, pass_only=pass_only)
        parts.append(part)
        notes += [f"{Path(item).name}: {n}" for n in vcf_notes]
    result = convert_calls(
        pd.concat(parts, ignore_index=True),
        copy_number=copy_number,
        purity=purity,
        samples=samples,
        normal_cn=normal_cn,
        clonal_ccf=clonal_ccf,
        source=str(items[0]),
    )
    return ConvertedCalls(
        variants=result.variants,
        summary=result.summary,
        segments=result.segments,
        notes=(*notes, *result.notes),
    )
