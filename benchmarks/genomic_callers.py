"""Caller outputs that packages ship publicly, read by ithkit.genomic (nothing here is committed).

The files are taken from local git mirrors of the repositories (``/work/.mirror/<owner>+<name>``,
or ``--mirrors DIR``); a file that is not reachable is reported as such.

* PURPLE (hmftools), from umccr/gpgr's test data: ``purple.cnv.somatic.tsv``,
  ``purple.purity.tsv`` and a PURPLE-annotated somatic VCF (single tumour sample, AD, VEP CSQ).
  The VCF's ``PURPLE_CN`` disagrees with the segment file (they come from different runs), so
  the copy number ithkit assigns cannot be checked against PURPLE's here: reading only.
* FACETS, from mskcc/facetsHeatmap's ``example.cncf`` (facets-suite cncf, many samples,
  ``lcn.em`` NA on segments with few heterozygous SNPs).
* Battenberg, the ``subclones.txt`` example printed in SVclone's README.
* MuTect, SVclone's ``example_data/tumour_p80_DEL_snvs.vcf`` (unfiltered, FILTER '.') with its
  ``purity_ploidy.txt``.
* ASCAT: its repository ships input examples only (LogR/BAF), no segment output: not tested.

Run: ``python benchmarks/genomic_callers.py``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit.genomic import (
    OutsideSegmentsWarning,
    caller_variants,
    convert_calls,
    read_caller_purity,
    read_copy_number,
    read_vcf,
)

GPGR_PURPLE = {  # path -> a commit of umccr/gpgr that still holds the file (later ones use DVC)
    "purple.cnv.somatic.tsv": "dae583570a080e186cf34a55b8c9f9842be85afb",
    "purple.purity.tsv": "e062ab405d8037372c62d194698f067aea50ce93",
    "purple.somatic.vcf.gz": "a2144ad1d4d326a15fd7976ee47a1e60caaf8115",
}


def git_file(mirrors: Path, repo: str, commit: str, path: str, out: Path) -> Path | None:
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    if not git_dir.exists():
        return None
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True
    )
    if done.returncode != 0 or done.stdout.startswith(b"version https://git-lfs"):
        return None
    out.write_bytes(done.stdout)
    return out


def purple(mirrors: Path, tmp: Path) -> list[dict[str, object]]:
    files = {}
    for name, commit in GPGR_PURPLE.items():
        files[name] = git_file(mirrors, "umccr/gpgr", commit, f"inst/extdata/purple/{name}",
                               tmp / f"SEQC.{name}")  # fmt: skip
    if any(f is None for f in files.values()):
        return [{"caller": "purple", "source": "umccr/gpgr", "result": "not reachable"}]
    t0 = time.perf_counter()
    muts, notes = read_vcf(files["purple.somatic.vcf.gz"], samples=None)
    t_vcf = time.perf_counter() - t0
    sample = muts["sample_id"].iloc[0]
    t0 = time.perf_counter()
    seg, cn_notes = read_copy_number(files["purple.cnv.somatic.tsv"], "purple",
                                     samples={"SEQC": sample})  # fmt: skip
    pur = read_caller_purity(files["purple.purity.tsv"], samples={"SEQC": sample})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutsideSegmentsWarning)
        res = caller_variants(muts, purity=pur, segments=seg)
    t_cn = time.perf_counter() - t0
    # PURPLE's own copy number at each variant (INFO/PURPLE_CN), read with pysam
    import pysam

    pysam.set_verbosity(0)
    purple_cn = {}
    with pysam.VariantFile(str(files["purple.somatic.vcf.gz"])) as vf:
        for rec in vf:
            if "PURPLE_CN" in rec.info:
                for alt in rec.alts or ():
                    purple_cn[f"{rec.chrom}:{rec.pos}:{rec.ref}>{alt}"] = float(
                        rec.info["PURPLE_CN"]
                    )
    v = res.variants
    total = (v["major_cn"] + v["minor_cn"]).to_numpy()
    theirs = v["mutation_id"].map(purple_cn).to_numpy(dtype=float)
    ok = ~np.isnan(theirs)
    agree = float(np.mean(total[ok] == np.rint(theirs[ok])))
    baseline = float(np.mean(np.rint(theirs[ok]) == 2))
    s = res.summary.iloc[0]
    return [
        {"caller": "purple+vcf", "source": "umccr/gpgr",
         "result": f"{len(muts)} PASS variants (AD, VEP SYMBOL for "
                   f"{int(muts['gene'].notna().sum())}), {len(seg)} segments, purity "
                   f"{float(pur['purity'].iloc[0]):.2f}: {s['n_gained']} gained, {s['n_loh']} LOH, "
                   f"{s['n_outside_segments']} outside. Total CN = round(PURPLE_CN) for only "
                   f"{agree:.1%} (all 1+1: {baseline:.1%}): gpgr's VCF (SEQC-II) and segment "
                   "file (PURPLE v2.51) come from different runs, so this is no accuracy check",
         "time_s": f"vcf {t_vcf:.2f}, cn+convert {t_cn:.2f}",
         "notes": "; ".join([*notes, *cn_notes])[:160]},
    ]  # fmt: skip


def facets(mirrors: Path, tmp: Path) -> list[dict[str, object]]:
    # the first version of the example holds every facets-suite column (cf.em included)
    f = git_file(mirrors, "mskcc/facetsHeatmap", "9e9c800cd7c0b6b643b79e187d87a51d50cab027",
                 "inst/extdata/example.cncf", tmp / "example.cncf")  # fmt: skip
    if f is None:
        return [{"caller": "facets", "source": "mskcc/facetsHeatmap", "result": "not reachable"}]
    t0 = time.perf_counter()
    seg, notes = read_copy_number(f, "facets")
    dt = time.perf_counter() - t0
    raw = pd.read_csv(f, sep="\t")
    # purity as FACETS reports it: the largest cf.em of a sample's aberrant segments
    pur = raw.groupby("sid")["cf.em"].max()
    seg2, _ = read_copy_number(f, "facets", purity=pur.to_dict())
    n_sub = int(seg2["subclonal"].sum())
    known = raw["lcn.em"].notna().to_numpy()
    lower = np.minimum(raw["lcn.em"], raw["tcn.em"] - raw["lcn.em"]).to_numpy()
    same = bool(
        (seg["major_cn"] + seg["minor_cn"] == raw["tcn.em"].to_numpy()).all()
        and (seg.loc[known, "minor_cn"].to_numpy() == lower[known]).all()
    )
    return [
        {"caller": "facets", "source": "mskcc/facetsHeatmap example.cncf",
         "result": f"{seg['sample_id'].nunique()} samples, {len(seg)} segments; tcn/lcn kept "
                   f"exactly: {same}; {n_sub} subclonal (cf.em / purity < 0.95)",
         "time_s": f"{dt:.2f}", "notes": "; ".join(notes)[:160]},
    ]  # fmt: skip


def battenberg_and_mutect(mirrors: Path, tmp: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    readme = git_file(mirrors, "mcmero/SVclone", "HEAD", "README.md", tmp / "README.md")
    if readme is None:
        return [{"caller": "battenberg", "source": "mcmero/SVclone", "result": "not reachable"}]
    text = readme.read_text()
    block = re.search(r"subclones\.txt example:\s*```\s*\n(.*?)```", text, re.S)
    if block is None:
        rows.append({"caller": "battenberg", "source": "SVclone README", "result": "no example"})
    else:
        f = tmp / "example_subclones.txt"
        f.write_text(block.group(1))
        seg, notes = read_copy_number(f, "battenberg")
        first = seg.iloc[1]
        rows.append(
            {"caller": "battenberg", "source": "SVclone README subclones.txt",
             "result": f"{len(seg)} segments, {int(seg['subclonal'].sum())} subclonal; segment 2: "
                       f"{first['major_cn']}+{first['minor_cn']} at {first['ccf']:.3f} and "
                       f"{first['major_cn_2']}+{first['minor_cn_2']} at {first['ccf_2']:.3f}",
             "notes": "; ".join(notes)[:160]}
        )  # fmt: skip
    vcf = git_file(mirrors, "mcmero/SVclone", "HEAD", "example_data/tumour_p80_DEL_snvs.vcf",
                   tmp / "tumour_p80_DEL_snvs.vcf")  # fmt: skip
    pp = git_file(mirrors, "mcmero/SVclone", "HEAD", "example_data/purity_ploidy.txt",
                  tmp / "purity_ploidy.txt")  # fmt: skip
    if vcf is not None and pp is not None:
        try:
            read_vcf(vcf)
            default = "read"
        except Exception as exc:  # the default PASS filter refuses an unfiltered VCF
            default = str(exc).split(";")[0].split(": ", 1)[-1]
        t0 = time.perf_counter()
        muts, notes = read_vcf(vcf, pass_only=False)
        pur = read_caller_purity(pp)
        dt = time.perf_counter() - t0
        vaf = muts["alt_counts"] / (muts["alt_counts"] + muts["ref_counts"])
        rows.append(
            {"caller": "mutect (v1) vcf", "source": "SVclone example_data",
             "result": f"default: {default[:70]}...; with all filters: {len(muts)} SNVs, "
                       f"median VAF {vaf.median():.2f}; purity file {pur.iloc[0, 1]:.2f} "
                       f"(sample {pur.iloc[0, 0]})",
             "time_s": f"{dt:.2f}", "notes": "; ".join(notes)[:160]}
        )  # fmt: skip
    return rows


def synthetic_speed(tmp: Path, n_records: int = 50_000, n_tumours: int = 4) -> dict[str, object]:
    """A bgzipped Mutect2-like VCF of ``n_records`` x (normal + ``n_tumours``) and ASCAT
    segments (300 per sample): time to read, and to give every mutation its segment."""
    import pysam

    rng = np.random.default_rng(0)
    chrom = rng.integers(1, 23, n_records)
    pos = rng.integers(1, 150_000_000, n_records)
    order = np.lexsort((pos, chrom))
    names = [f"T{i}" for i in range(1, n_tumours + 1)]
    head = (
        "##fileformat=VCFv4.2\n"
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
        + "".join(f"##contig=<ID=chr{c}>\n" for c in range(1, 23))
        + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN\t"
        + "\t".join(names)
        + "\n"
    )
    alt = rng.binomial(100, 0.2, (n_records, n_tumours))
    lines = [
        f"chr{chrom[i]}\t{pos[i]}\t.\tA\tT\t.\tPASS\t.\tAD\t100,0\t"
        + "\t".join(f"{100 - a},{a}" for a in alt[i])
        for i in order
    ]
    plain = tmp / "big.vcf"
    plain.write_text(head + "\n".join(lines) + "\n")
    pysam.tabix_compress(str(plain), str(tmp / "big.vcf.gz"), force=True)
    bounds = np.sort(rng.integers(1, 150_000_000, (n_tumours, 22, 13)), axis=2)
    rows = [
        (t, c + 1, int(bounds[k, c, j]) + 1 if j else 1, int(bounds[k, c, j + 1]), 2, 1)
        for k, t in enumerate(names) for c in range(22) for j in range(12)
    ]  # fmt: skip
    seg = pd.DataFrame(rows, columns=["sample", "chr", "startpos", "endpos", "nMajor", "nMinor"])
    seg.to_csv(tmp / "big.ascat.txt", sep="\t", index=False)
    pur = pd.DataFrame({"sample": names, "purity": 0.6})
    pur.to_csv(tmp / "big.purity.txt", sep="\t", index=False)
    t0 = time.perf_counter()
    muts, _ = read_vcf(tmp / "big.vcf.gz", normal="N")
    t_vcf = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutsideSegmentsWarning)
        out = convert_calls(
            muts, copy_number=[f"ascat:{tmp / 'big.ascat.txt'}"], purity=[tmp / "big.purity.txt"]
        )
    t_cn = time.perf_counter() - t0
    return {
        "caller": "synthetic", "source": f"{n_records} records x {n_tumours} tumours",
        "result": f"{len(out.variants)} rows, {len(seg)} segments",
        "time_s": f"vcf {t_vcf:.2f}, cn+convert {t_cn:.2f}",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows += purple(args.mirrors, tmp)
        rows += facets(args.mirrors, tmp)
        rows += battenberg_and_mutect(args.mirrors, tmp)
        rows.append(synthetic_speed(tmp))
    none = "no segment output shipped (input examples only): not tested"
    rows.append({"caller": "ascat", "source": "VanLoo-lab/ascat", "result": none})
    table = pd.DataFrame(rows).fillna("")
    with pd.option_context("display.max_colwidth", 400, "display.width", 250):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
