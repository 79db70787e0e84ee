"""Somatic VCFs (Mutect2, Strelka2): read counts per mutation and tumour sample.

Read with pysam's ``VariantFile`` (htslib), the optional extra ``ithkit[vcf]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._optional import import_optional

MUTATION_COLUMNS = (
    "mutation_id", "sample_id", "chrom", "pos", "ref", "alt", "ref_counts", "alt_counts", "gene",
)  # fmt: skip

# sample names that say "normal": normal/germline/blood/N/N1, TCGA's normal tissue codes 10-14
_NORMAL_NAME = re.compile(
    r"(^|[^a-z])(normal|germline|blood|buffy|pbmc|gl)([^a-z]|$)|(^|[-_.])n\d*$"
    r"|^TCGA-\w\w-\w{4}-1[0-4]",
    re.IGNORECASE,
)
_STRELKA_BASES = ("A", "C", "G", "T")


def parse_samples(text: str | None, *, source: str = "--samples") -> dict[str, str]:
    """Read ``VCFNAME=REGION,VCFNAME=REGION`` into a mapping.

    Examples
    --------
    >>> parse_samples("TUMOR=R1, T2=R2")
    {'TUMOR': 'R1', 'T2': 'R2'}
    """
    if text is None or not text.strip():
        return {}
    out: dict[str, str] = {}
    for item in text.split(","):
        name, sep, region = item.partition("=")
        if not sep or not name.strip() or not region.strip():
            raise InputError(
                f"{item.strip()!r} is not VCFNAME=REGION",
                source=source,
                fix="write e.g. --samples TUMOR_A=R1,TUMOR_B=R2",
            )
        if name.strip() in out:
            raise InputError(f"{name.strip()!r} is mapped twice", source=source, fix="map once")
        out[name.strip()] = region.strip()
    if len(set(out.values())) < len(out):
        raise InputError(
            "two VCF samples map to the same region", source=source, fix="give distinct regions"
        )
    return out


def read_vcf(
    path: str | Path,
    *,
    normal: str | None = None,
    samples: Mapping[str, str] | None = None,
    pass_only: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """Read counts per somatic mutation and tumour sample from a Mutect2 or Strelka2 VCF.

    Counts come from ``FORMAT/AD`` (Mutect2 and most callers: reference, then one count per
    ALT allele) or, without AD, Strelka2's tier-1 counts: ``AU/CU/GU/TU`` for SNVs (the counts
    of the REF and ALT bases), ``TAR/TIR`` for indels. Multi-allelic records are split, one
    mutation per ALT allele (depth = its reads + the reference reads). The mutation id is
    ``chrom:pos:ref>alt`` with the VCF's spelling of the chromosome. A gene symbol is taken
    from a VEP ``CSQ`` (``SYMBOL``) or snpEff ``ANN`` annotation when present.

    Parameters
    ----------
    path
        VCF, plain or bgzipped.
    normal
        The normal sample's name in the VCF; it is left out. Without it, a sample that looks
        like a normal (named so by the header's ``##normal_sample``, by its name, or carrying
        almost no alt reads) is an error.
    samples
        VCF sample name -> region id. With a mapping, only the mapped samples are read; every
        name must be in the VCF. Without one, every non-normal sample is a region, under its
        VCF name.
    pass_only
        Keep records whose FILTER is PASS only (the default); ``False`` keeps every record.

    Returns
    -------
    (mutations, notes)
        One row per mutation x tumour sample (:data:`MUTATION_COLUMNS`), and what was dropped.
        A sample without reads at a mutation (``AD=.``) has no row.

    Raises
    ------
    ithkit.InputError
        Unreadable VCF, ``normal`` or a mapped sample absent from the VCF, an unnamed normal,
        no read counts (no AD, no Strelka2 counts), no record left after the filter.
    ithkit._errors.OptionalDependencyError
        pysam is not installed (``pip install 'ithkit[vcf]'``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> vcf = pathlib.Path(tempfile.mkdtemp()) / "calls.vcf"
    >>> _ = vcf.write_text(
    ...     "##fileformat=VCFv4.2\\n##contig=<ID=chr1,length=1000>\\n"
    ...     '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="depth per allele">\\n'
    ...     "#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\tFORMAT\\tN\\tT1\\n"
    ...     "chr1\\t100\\t.\\tA\\tT\\t.\\tPASS\\t.\\tAD\\t40,0\\t30,10\\n")
    >>> muts, notes = read_vcf(vcf, normal="N", samples={"T1": "R1"})
    >>> muts[["mutation_id", "sample_id", "ref_counts", "alt_counts"]].values.tolist()
    [['chr1:100:A>T', 'R1', 30, 10]]
    """
    pysam = import_optional("pysam", extra="vcf")
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p, fix="check the path")
    # htslib prints lines for a bgzipped VCF without index or contigs missing from the header
    quiet = pysam.set_verbosity(0)
    try:
        try:
            vf = pysam.VariantFile(str(p))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"not a readable VCF ({' '.join(str(exc).split())})",
                source=p,
                fix="give a VCF (plain or bgzipped) with a #CHROM header line",
            ) from None
        with vf:
            try:
                return _read(vf, p, normal=normal, samples=samples or {}, pass_only=pass_only)
            except (OSError, ValueError) as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(
                    f"cannot read a record ({' '.join(str(exc).split())})",
                    source=p,
                    fix="check the VCF with bcftools view; fix or drop the broken record",
                ) from None
    finally:
        pysam.set_verbosity(quiet)


def _read(
    vf: Any, path: Path, *, normal: str | None, samples: Mapping[str, str], pass_only: bool
) -> tuple[pd.DataFrame, list[str]]:
    header = vf.header
    names = list(header.samples)
    if not names:
        raise InputError(
            "the VCF has no sample columns",
            source=path,
            fix="give the caller's VCF with its FORMAT and sample columns",
        )
    declared = _header_values(header, "normal_sample")
    for name, what in [(normal, "--normal"), *[(s, "--samples") for s in samples]]:
        if name is not None and name not in names:
            raise InputError(
                f"sample {name!r} ({what}) is not in the VCF",
                source=path,
                fix=f"the VCF's samples are {', '.join(names)}",
            )
    if normal is not None and normal in samples:
        raise InputError(
            f"{normal!r} is both the normal and a mapped region",
            source="--samples",
            fix="leave the normal out of --samples",
        )
    formats = set(header.formats.keys())
    has_ad = "AD" in formats
    strelka = {"AU", "CU", "GU", "TU"} <= formats or {"TAR", "TIR"} <= formats
    if not has_ad and not strelka:
        raise InputError(
            "no read counts: the VCF has no FORMAT/AD (nor Strelka2's AU/CU/GU/TU, TAR/TIR)",
            source=path,
            fix="give the caller's somatic VCF with per-sample allele depths (Mutect2 writes "
            "AD), or add AD with bcftools +fill-tags",
        )
    csq_symbol = _csq_symbol_index(header)
    tumours = [s for s in names if s != normal and (not samples or s in samples)]
    ignored = [s for s in names if s != normal and samples and s not in samples]
    notes: list[str] = []
    if ignored:
        notes.append(f"VCF sample(s) not in --samples, left out: {', '.join(ignored)}")

    chrom: list[str] = []
    pos: list[int] = []
    ref: list[str] = []
    alt: list[str] = []
    gene: list[str | None] = []
    counts: list[list[tuple[int, int] | None]] = []
    n_filtered = n_symbolic = n_records = 0
    n_unfiltered = 0
    for rec in vf:
        n_records += 1
        filters = list(rec.filter.keys())
        if pass_only and filters != ["PASS"]:
            n_filtered += 1
            n_unfiltered += not filters
            continue
        alts = rec.alts or ()
        for i, a in enumerate(alts, start=1):
            if a.startswith("<") or a in ("*", ".") or "[" in a or "]" in a:
                n_symbolic += 1
                continue
            row = [_counts(rec, s, i, a, has_ad) for s in tumours]
            chrom.append(rec.chrom)
            pos.append(rec.pos)
            ref.append(rec.ref)
            alt.append(a)
            gene.append(_gene(rec, i, a, csq_symbol))
            counts.append(row)
    if n_records == 0:
        raise InputError("the VCF has no records", source=path, fix="give the somatic calls")
    if not chrom:
        extra = (
            f" ({n_unfiltered} have FILTER '.', i.e. were never filtered: run the caller's "
            "filter step, e.g. FilterMutectCalls, or keep every record)"
            if n_unfiltered
            else ""
        )
        raise InputError(
            f"no PASS record among {n_records}{extra}",
            source=path,
            fix="check the VCF, or keep all records (--all-filters / pass_only=False)",
        )
    if n_filtered:
        notes.append(f"{n_filtered} record(s) without FILTER=PASS left out")
    if n_symbolic:
        notes.append(f"{n_symbolic} symbolic or breakend ALT allele(s) left out")

    _check_normal(path, names, tumours, counts, normal=normal, declared=declared,
                  mapped=bool(samples))  # fmt: skip
    n_mut = len(chrom)
    n_s = len(tumours)
    ref_c = np.full((n_mut, n_s), -1, dtype=np.int64)
    alt_c = np.full((n_mut, n_s), -1, dtype=np.int64)
    for i, row in enumerate(counts):
        for j, c in enumerate(row):
            if c is not None:
                ref_c[i, j], alt_c[i, j] = c
    mids = [f"{c}:{p}:{r}>{a}" for c, p, r, a in zip(chrom, pos, ref, alt, strict=True)]
    if len(set(mids)) < len(mids):
        dup = pd.Series(mids)[pd.Series(mids).duplicated()].iloc[0]
        raise InputError(
            f"mutation {dup} appears twice",
            source=path,
            fix="normalise the VCF (bcftools norm -m -any; bcftools norm -d exact)",
        )
    regions = [samples.get(s, s) for s in tumours]
    frame = pd.DataFrame(
        {
            "mutation_id": np.repeat(mids, n_s),
            "sample_id": np.tile(regions, n_mut),
            "chrom": np.repeat(chrom, n_s),
            "pos": np.repeat(pos, n_s),
            "ref": np.repeat(ref, n_s),
            "alt": np.repeat(alt, n_s),
            "ref_counts": ref_c.ravel(),
            "alt_counts": alt_c.ravel(),
            "gene": np.repeat(np.array(gene, dtype=object), n_s),
        }
    )
    missing = frame["ref_counts"] < 0
    if missing.any():
        notes.append(f"{int(missing.sum())} mutation x sample cell(s) without read counts")
        frame = frame.loc[~missing].reset_index(drop=True)
    return frame, notes


def _header_values(header: Any, key: str) -> list[str]:
    return [str(r.value) for r in header.records if r.key == key and r.value]


def _counts(rec: Any, sample: str, i: int, alt: str, has_ad: bool) -> tuple[int, int] | None:
    """(ref, alt) reads of ALT allele ``i`` in ``sample``, or None when the VCF has none."""
    call = rec.samples[sample]
    if has_ad and "AD" in call:
        ad = call["AD"]
        if ad is None or len(ad) <= i or ad[0] is None or ad[i] is None:
            return None
        return int(ad[0]), int(ad[i])
    snv = len(rec.ref) == 1 and len(alt) == 1
    if snv and rec.ref.upper() in _STRELKA_BASES and alt.upper() in _STRELKA_BASES:
        r, a = f"{rec.ref.upper()}U", f"{alt.upper()}U"
        if r in call and a in call and call[r] is not None and call[a] is not None:
            return int(call[r][0]), int(call[a][0])  # tier-1 counts
    elif "TAR" in call and "TIR" in call and call["TAR"] is not None:
        return int(call["TAR"][0]), int(call["TIR"][0])
    return None


def _check_normal(
    path: Path,
    names: Sequence[str],
    tumours: Sequence[str],
    counts: Sequence[Sequence[tuple[int, int] | None]],
    *,
    normal: str | None,
    declared: Sequence[str],
    mapped: bool,
) -> None:
    """A normal sample must be named (--normal); samples mapped by --samples are tumours."""
    if normal is not None:
        return
    for j, s in enumerate(tumours):
        if mapped:
            break  # every kept sample was declared a region
        reason = None
        if s in declared:
            reason = "the VCF header names it ##normal_sample"
        elif _NORMAL_NAME.search(s):
            reason = "its name says normal"
        else:
            seen = [c[j] for c in counts]
            pairs = [x for x in seen if x is not None]
            alt = sum(a for _, a in pairs)
            depth = sum(r + a for r, a in pairs)
            n = len(pairs)
            if n >= 10 and depth > 0 and alt / depth < 0.01 and len(tumours) > 1:
                reason = f"it has {alt} alt reads in {depth} at the {n} somatic sites"
        if reason is not None:
            raise InputError(
                f"sample {s!r} looks like the matched normal ({reason})",
                source=path,
                fix=f"name it with --normal {s} (or list the tumour samples with --samples "
                "VCFNAME=REGION,...)",
            )


def _csq_symbol_index(header: Any) -> tuple[str, int] | None:
    """(key, field index) of the gene symbol in VEP's CSQ or snpEff's ANN, if annotated."""
    info = header.info
    if "CSQ" in info:
        desc = str(info["CSQ"].description)
        fields = desc.split("Format:")[-1].strip().strip('"').split("|")
        if "SYMBOL" in fields:
            return "CSQ", fields.index("SYMBOL")
    if "ANN" in info:
        return "ANN", 3  # snpEff: Allele | Annotation | Impact | Gene_Name | ...
    return None


def _gene(rec: Any, i: int, alt: str, where: tuple[str, int] | None) -> str | None:
    if where is None:
        return None
    key, index = where
    try:
        values = rec.info[key]
    except (KeyError, ValueError):
        return None
    if values is None:
        return None
    if isinstance(values, str):
        values = (values,)
    chosen = None
    for v in values:
        fields = str(v).split("|")
        if len(fields) > index and fields[index]:
            if key == "ANN" and fields[0] != alt:
                chosen = chosen or fields[index]
                continue
            return fields[index]
    return chosen
