"""Somatic VCFs (Mutect2 multi-sample, Strelka2) -> read counts; a virtual patient written as
caller outputs converts back to its own PyClone-VI table and gives the same clones."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.evolution import virtual_patient
from ithkit.genomic import analyze, convert_calls, parse_samples, read_vcf

pytest.importorskip("pysam")  # the [vcf] extra; CI installs every extra

MUTECT_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. \
Format: Allele|Consequence|IMPACT|SYMBOL|Gene">
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr17,length=83257441>
##normal_sample=BLOOD
##tumor_sample=T_A
##tumor_sample=T_B
"""


def mutect_vcf(tmp_path: Path, rows: list[str], samples: tuple[str, ...] = ("BLOOD", "T_A", "T_B"),
               header: str = MUTECT_HEADER, name: str = "calls.vcf") -> Path:  # fmt: skip
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)
    path = tmp_path / name
    path.write_text(header + cols + "\n" + "\n".join(rows) + "\n")
    return path


ROWS = [
    "chr1\t1000\t.\tC\tT\t.\tPASS\tCSQ=T|missense_variant|MODERATE|NRAS|ENSG1\tGT:AD\t"
    "0/0:50,0\t0/1:60,40\t0/1:70,10",
    "chr1\t2000\t.\tG\tA,T\t.\tPASS\t.\tGT:AD\t0/0:40,0,0\t0/1:30,12,3\t0/1:35,0,9",
    "chr17\t7577120\t.\tCA\tC\t.\tweak_evidence\t.\tGT:AD\t0/0:30,0\t0/1:40,2\t0/1:33,1",
    "chr17\t7578000\t.\tT\tG\t.\tPASS\t.\tGT:AD\t0/0:30,0\t0/1:20,20\t./.:.",
]


def test_mutect2_multisample(tmp_path: Path) -> None:
    muts, notes = read_vcf(mutect_vcf(tmp_path, ROWS), normal="BLOOD",
                           samples=parse_samples("T_A=R1,T_B=R2"))  # fmt: skip
    t = muts.set_index(["mutation_id", "sample_id"])
    assert t.loc[("chr1:1000:C>T", "R1"), ["ref_counts", "alt_counts"]].tolist() == [60, 40]
    assert t.loc[("chr1:1000:C>T", "R2"), ["ref_counts", "alt_counts"]].tolist() == [70, 10]
    assert t.loc[("chr1:1000:C>T", "R1"), "gene"] == "NRAS"  # VEP CSQ SYMBOL
    # multi-allelic split: each ALT with the reference reads
    assert t.loc[("chr1:2000:G>A", "R1"), ["ref_counts", "alt_counts"]].tolist() == [30, 12]
    assert t.loc[("chr1:2000:G>T", "R2"), ["ref_counts", "alt_counts"]].tolist() == [35, 9]
    assert "chr17:7577120:CA>C" not in muts["mutation_id"].tolist()  # not PASS
    assert ("chr17:7578000:T>G", "R2") not in t.index  # AD '.': no row
    assert set(muts["sample_id"]) == {"R1", "R2"}  # the normal left out
    assert any("without FILTER=PASS" in n for n in notes)
    everything, _ = read_vcf(mutect_vcf(tmp_path, ROWS), normal="BLOOD", pass_only=False)
    assert "chr17:7577120:CA>C" in everything["mutation_id"].tolist()
    assert set(everything["sample_id"]) == {"T_A", "T_B"}  # VCF names without a mapping


def test_vcf_errors(tmp_path: Path) -> None:
    vcf = mutect_vcf(tmp_path, ROWS)
    msg = (
        r"sample 'BLOOD' looks like the matched normal \(the VCF header names it "
        r"##normal_sample\); name it with --normal BLOOD"
    )
    with pytest.raises(InputError, match=msg):
        read_vcf(vcf)
    with pytest.raises(InputError, match=r"sample 'T_C' \(--samples\) is not in the VCF; the "
                       r"VCF's samples are BLOOD, T_A, T_B"):  # fmt: skip
        read_vcf(vcf, normal="BLOOD", samples={"T_A": "R1", "T_C": "R2"})
    with pytest.raises(InputError, match=r"'NORMAL' \(--normal\) is not in the VCF"):
        read_vcf(vcf, normal="NORMAL")
    # a normal named by its name only (no header line)
    no_line = MUTECT_HEADER.replace("##normal_sample=BLOOD\n", "")
    plain = mutect_vcf(tmp_path, ROWS, samples=("P1-normal", "T_A", "T_B"), header=no_line,
                       name="b.vcf")  # fmt: skip
    with pytest.raises(InputError, match="'P1-normal' looks like the matched normal"):
        read_vcf(plain)
    no_ad = mutect_vcf(tmp_path, [r.replace("GT:AD", "GT") for r in ROWS],
                       header=MUTECT_HEADER.replace("##FORMAT=<ID=AD", "##FORMAT=<ID=XX"),
                       name="c.vcf")  # fmt: skip
    with pytest.raises(InputError, match="no read counts: the VCF has no FORMAT/AD"):
        read_vcf(no_ad, normal="BLOOD")
    unfiltered = mutect_vcf(tmp_path, [r.replace("PASS", ".") for r in ROWS[:2]], name="d.vcf")
    with pytest.raises(InputError, match=r"no PASS record among 2 \(2 have FILTER '.'"):
        read_vcf(unfiltered, normal="BLOOD")
    with pytest.raises(InputError, match="not VCFNAME=REGION"):
        parse_samples("T_A:R1")
    broken = mutect_vcf(tmp_path, [*ROWS[:1], ROWS[1].replace("2000", "two")], name="e.vcf")
    with pytest.raises(InputError, match=r"e\.vcf: cannot read a record"):
        read_vcf(broken, normal="BLOOD")
    # the same calls given twice (e.g. one VCF passed as SNVs and as indels)
    from ithkit.genomic import convert_vcf

    (tmp_path / "p.tsv").write_text("sample_id\tpurity\nT_A\t0.5\nT_B\t0.6\n")
    with pytest.raises(InputError, match="duplicate row for"):
        convert_vcf([vcf, vcf], normal="BLOOD", purity=[tmp_path / "p.tsv"])


def test_normal_recognised_by_its_reads(tmp_path: Path) -> None:
    header = MUTECT_HEADER.replace("##normal_sample=BLOOD\n", "")
    rows = [f"chr1\t{1000 + i}\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/0:60,0\t0/1:50,20\t0/1:40,15"
            for i in range(12)]  # fmt: skip
    vcf = mutect_vcf(tmp_path, rows, samples=("S0", "S1", "S2"), header=header)
    with pytest.raises(InputError, match=r"'S0' looks like the matched normal \(it has 0 alt "
                       "reads in 720 at the 12 somatic sites"):  # fmt: skip
        read_vcf(vcf)
    muts, _ = read_vcf(vcf, samples={"S1": "R1", "S2": "R2"})  # mapped: S0 left out
    assert set(muts["sample_id"]) == {"R1", "R2"}


STRELKA_HEADER = """##fileformat=VCFv4.1
##source=strelka
##FILTER=<ID=PASS,Description="All filters passed">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth for tier1">
##FORMAT=<ID=AU,Number=2,Type=Integer,Description="Number of 'A' alleles used in tiers 1,2">
##FORMAT=<ID=CU,Number=2,Type=Integer,Description="Number of 'C' alleles used in tiers 1,2">
##FORMAT=<ID=GU,Number=2,Type=Integer,Description="Number of 'G' alleles used in tiers 1,2">
##FORMAT=<ID=TU,Number=2,Type=Integer,Description="Number of 'T' alleles used in tiers 1,2">
##FORMAT=<ID=TAR,Number=2,Type=Integer,Description="Reads strongly supporting alternate allele \
for tiers 1,2">
##FORMAT=<ID=TIR,Number=2,Type=Integer,Description="Reads strongly supporting indel allele for \
tiers 1,2">
##contig=<ID=1,length=248956422>
"""


def test_strelka2_tier1_counts(tmp_path: Path) -> None:
    rows = [
        "1\t500\t.\tA\tG\t.\tPASS\t.\tDP:AU:CU:GU:TU\t40:40,42:0,0:0,0:0,0\t50:35,37:0,0:15,16:0,1",
        "1\t900\t.\tAT\tA\t.\tPASS\t.\tDP:TAR:TIR\t30:30,31:0,0\t40:28,30:11,12",
    ]
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOR\n"
    vcf = tmp_path / "strelka.vcf"
    vcf.write_text(STRELKA_HEADER + cols + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="'NORMAL' looks like the matched normal"):
        read_vcf(vcf)
    muts, _ = read_vcf(vcf, normal="NORMAL", samples={"TUMOR": "R1"})
    t = muts.set_index("mutation_id")
    assert t.loc["1:500:A>G", ["ref_counts", "alt_counts"]].tolist() == [35, 15]  # AU, GU tier 1
    assert t.loc["1:900:AT>A", ["ref_counts", "alt_counts"]].tolist() == [28, 11]  # TAR, TIR


def _write_caller_outputs(vp, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    """The virtual patient as a caller would write it: a bgzipped multi-sample Mutect2 VCF,
    Battenberg subclones.txt and rho_and_psi.txt per region (names T_<region>)."""
    import pysam

    v = vp.variants
    regions = list(pd.unique(v["sample_id"]))
    wide = v.pivot(index="mutation_id", columns="sample_id", values=["ref_counts", "alt_counts"])
    order = list(pd.unique(v["mutation_id"]))
    lines = []
    for mid in order:
        chrom, pos, change = mid.split(":")
        ref, alt = change.split(">")
        refs = [int(wide.loc[mid, ("ref_counts", r)]) for r in regions]
        alts = [int(wide.loc[mid, ("alt_counts", r)]) for r in regions]
        calls = [f"0/0:{refs[0] + alts[0]},0"]  # the normal: every read reference
        calls += [f"0/1:{a},{b}" for a, b in zip(refs, alts, strict=True)]
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT:AD\t" + "\t".join(calls))
    contigs = "".join(f"##contig=<ID=chr{c}>\n" for c in [*range(1, 23), "X"])
    header = MUTECT_HEADER.split("##contig")[0] + contigs
    text = header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\t"
    text += "\t".join(f"T_{r}" for r in regions) + "\n" + "\n".join(lines) + "\n"
    plain = folder / "calls.vcf"
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(folder / "calls.vcf.gz"), force=True)
    purity = v.groupby("sample_id")["tumour_content"].first()
    for r in regions:
        seg = vp.segments[vp.segments["sample_id"] == r]
        sub = seg["ccf"] < 1
        table = pd.DataFrame(
            {
                "chr": "chr" + seg["chrom"].astype(str),
                "startpos": seg["start"], "endpos": seg["end"],
                "BAF": 0.5, "pval": 1, "LogR": 0, "ntot": 2,
                "nMaj1_A": seg["major_cn"], "nMin1_A": seg["minor_cn"],
                "frac1_A": seg["ccf"],
                "nMaj2_A": np.where(sub, 1, np.nan), "nMin2_A": np.where(sub, 1, np.nan),
                "frac2_A": np.where(sub, 1 - seg["ccf"], np.nan),
            }
        )  # fmt: skip
        table.to_csv(folder / f"T_{r}_subclones.txt", sep="\t", index=False, na_rep="NA")
        (folder / f"T_{r}_rho_and_psi.txt").write_text(
            f"rho\tpsi\tploidy\tdistance\tis.best\nFRAC_GENOME\t{purity[r]}\t2.1\t2.1\t0.1\tTRUE\n"
        )
    return folder / "calls.vcf.gz"


def test_virtual_patient_round_trip_gives_the_same_clones(tmp_path: Path) -> None:
    vp = virtual_patient(seed=3, n_regions=3, n_mutations=80, n_clones=4, depth=200)
    vcf = _write_caller_outputs(vp, tmp_path)
    regions = list(pd.unique(vp.variants["sample_id"]))
    mapping = {f"T_{r}": r for r in regions}
    muts, _ = read_vcf(vcf, normal="NORMAL", samples=mapping)
    out = convert_calls(
        muts,
        copy_number=[f"battenberg:{tmp_path / f'T_{r}_subclones.txt'}" for r in regions],
        purity=[tmp_path / f"T_{r}_rho_and_psi.txt" for r in regions],
        samples=mapping,
    )
    truth = vp.variants.drop(columns=["error_rate"])
    mine = out.variants.set_index(["mutation_id", "sample_id"])
    ref = truth.set_index(["mutation_id", "sample_id"]).loc[mine.index]
    assert len(mine) == len(truth)
    for col in ("ref_counts", "alt_counts", "major_cn", "minor_cn", "normal_cn", "tumour_content"):
        assert (mine[col].to_numpy() == ref[col].to_numpy()).all(), col
    subclonal = int(out.summary["n_subclonal_cn"].sum())
    assert subclonal > 0  # the patient has subclonal segments, and mutations in them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze(out.variants, seed=0, n_restarts=2)
        b = analyze(truth, seed=0, n_restarts=2)
    assert a.mutations.sort_values("mutation_id")["clone_id"].tolist() == (
        b.mutations.sort_values("mutation_id")["clone_id"].tolist()
    )
    assert a.clones["ccf"].to_numpy() == pytest.approx(b.clones["ccf"].to_numpy())
    files = out.write(tmp_path / "variants.tsv")
    names = ["variants.tsv", "variants.summary.tsv", "variants.copy_number.tsv",
             "variants.segments.tsv"]  # fmt: skip
    assert [f.name for f in files] == names
    # the SEGMENTS file gives back the patient's own segments (the altered state, its ccf)
    back = pd.read_csv(files[-1], sep="\t", dtype={"chrom": str})
    own = vp.segments.sort_values(["sample_id", "chrom", "start"]).reset_index(drop=True)
    back = back.sort_values(["sample_id", "chrom", "start"]).reset_index(drop=True)
    assert (
        back[["major_cn", "minor_cn"]].values.tolist()
        == own[["major_cn", "minor_cn"]].values.tolist()
    )
    assert back["ccf"].to_numpy() == pytest.approx(own["ccf"].to_numpy())


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from ithkit.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_cli_from_vcf_and_callers_to_analyze(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    vp = virtual_patient(seed=5, n_regions=2, n_mutations=40, n_clones=2, depth=150)
    vcf = _write_caller_outputs(vp, tmp_path)
    regions = list(pd.unique(vp.variants["sample_id"]))
    args = ["genomic", "convert", "--vcf", str(vcf), "--normal", "NORMAL", "--samples",
            ",".join(f"T_{r}={r}" for r in regions), "--out", str(tmp_path / "v.tsv")]  # fmt: skip
    for r in regions:
        args += ["--cn", f"battenberg:{tmp_path / f'T_{r}_subclones.txt'}"]
        args += ["--purity", str(tmp_path / f"T_{r}_rho_and_psi.txt")]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert f"{len(vp.variants)} rows -> " in out and "R1 " in out
    summary = pd.read_csv(tmp_path / "v.summary.tsv", sep="\t")
    assert summary["n_mutations"].tolist() == [40, 40]
    code, out, err = run(["genomic", "analyze", str(tmp_path / "v.tsv"), "--out",
                          str(tmp_path / "g"), "--segments", str(tmp_path / "v.segments.tsv"),
                          "--restarts", "1"], capsys)  # fmt: skip
    assert code == 0, err
    # bad input: one line, exit 2; pysam missing: exit 3 naming the extra
    code, _, err = run([("NOPE" if a == "NORMAL" else a) for a in args], capsys)
    assert code == 2 and "'NOPE' (--normal) is not in the VCF" in err and err.count("\n") == 1


def test_cli_without_pysam_names_the_extra(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "pysam", None)  # import pysam -> ImportError
    (tmp_path / "p.tsv").write_text("sample_id\tpurity\nT_A\t0.5\n")
    code, _, err = run(["genomic", "convert", "--vcf", str(mutect_vcf(tmp_path, ROWS)),
                        "--purity", str(tmp_path / "p.tsv"), "--out", str(tmp_path / "v.tsv")],
                       capsys)  # fmt: skip
    assert code == 3 and "pip install 'ithkit[vcf]'" in err


def test_cli_maf_with_a_callers_segments(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    maf = tmp_path / "x.maf"
    maf.write_text(
        "Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
        "Tumor_Sample_Barcode\tt_ref_count\tt_alt_count\n"
        "TP53\tchr17\t7577120\tC\tT\tT1\t60\t40\nKRAS\tchr12\t25398284\tC\tA\tT1\t70\t30\n"
    )
    seg = tmp_path / "ascat.txt"
    seg.write_text("sample\tchr\tstartpos\tendpos\tnMajor\tnMinor\nT1\t17\t1\t20000000\t2\t0\n")
    (tmp_path / "T1.samplestatistics.txt").write_text("rho 0.6\nPloidy 2.3\n")
    code, out, err = run(["genomic", "convert", "--maf", str(maf), "--cn", f"ascat:{seg}",
                          "--purity", str(tmp_path / "T1.samplestatistics.txt"),
                          "--out", str(tmp_path / "v.tsv")], capsys)  # fmt: skip
    assert code == 0, err
    v = pd.read_csv(tmp_path / "v.tsv", sep="\t").set_index("gene")
    assert v.loc["TP53", ["major_cn", "minor_cn"]].tolist() == [2, 0]
    assert v.loc["KRAS", ["major_cn", "minor_cn"]].tolist() == [1, 1]  # chr12: no segment
    assert "1 of 2 mutation x sample row(s) outside every copy-number segment" in err
    assert "2 mutations: 1 in LOH" in out


def test_manifest_vcf_and_copy_number(tmp_path: Path) -> None:
    from ithkit import io, schema

    vcf = mutect_vcf(tmp_path, ROWS)
    (tmp_path / "T_A_subclones.txt").write_text("x")
    (tmp_path / "T_A_rho_and_psi.txt").write_text("x")
    (tmp_path / "p.yaml").write_text(
        "patient_id: P1\n"
        "vcf: {path: calls.vcf, normal: BLOOD, samples: {T_A: R1}}\n"
        "copy_number:\n"
        "  caller: battenberg\n"
        "  files: {R1: T_A_subclones.txt}\n"
        "  purity: {R1: T_A_rho_and_psi.txt}\n"
    )
    info = io.read_patient_manifest(tmp_path / "p.yaml")
    assert info["vcf"] == {"paths": [vcf.resolve()], "normal": "BLOOD",
                           "samples": {"T_A": "R1"}, "pass_only": True}  # fmt: skip
    cn = info["copy_number"]
    assert cn["files"] == [{"caller": "battenberg", "path": (tmp_path / "T_A_subclones.txt")
                            .resolve(), "sample_id": "R1"}]  # fmt: skip
    assert cn["purity"][0]["sample_id"] == "R1"
    short = schema.validate_manifest(
        {
            "patient_id": "P",
            "vcf": "c.vcf",
            "copy_number": "facets:R1=x/R1.cncf.txt",
            "purity": "p.tsv",
        }
    )
    assert short["copy_number"]["files"] == [
        {"caller": "facets", "path": "x/R1.cncf.txt", "sample_id": "R1"}
    ]
    bad = [
        ({"vcf": "c.vcf"}, "vcf without purity"),
        ({"vcf": "c.vcf", "variants": "v.tsv", "purity": "p"}, "both variants and vcf"),
        ({"copy_number": "ascat:x", "variants": "v.tsv"}, "copy_number without vcf"),
        ({"vcf": "c.vcf", "purity": "p", "copy_number": "cnvkit:x"}, "caller 'cnvkit'"),
        ({"vcf": {"path": "c.vcf", "nromal": "N"}, "purity": "p"}, "unknown vcf key"),
    ]
    for extra, message in bad:
        with pytest.raises(InputError, match=message):
            schema.validate_manifest({"patient_id": "P", **extra}, source="p.yaml")


def test_ithkit_run_from_caller_outputs(tmp_path: Path) -> None:
    from ithkit.integrate.patient import load_patient

    vp = virtual_patient(seed=5, n_regions=2, n_mutations=40, n_clones=2, depth=150)
    _write_caller_outputs(vp, tmp_path)
    regions = list(pd.unique(vp.variants["sample_id"]))
    files = ", ".join(f"{r}: T_{r}_subclones.txt" for r in regions)
    purity = ", ".join(f"{r}: T_{r}_rho_and_psi.txt" for r in regions)
    samples = ", ".join(f"T_{r}: {r}" for r in regions)
    (tmp_path / "p.yaml").write_text(
        f"patient_id: P9\nvcf: {{path: calls.vcf.gz, normal: NORMAL, samples: {{{samples}}}}}\n"
        f"copy_number: {{caller: battenberg, files: {{{files}}}, purity: {{{purity}}}}}\n"
    )
    data = load_patient(tmp_path / "p.yaml")
    assert data.variants is not None and len(data.variants) == len(vp.variants)
    assert data.segments is not None and set(data.segments["sample_id"]) == set(regions)
    assert data.purity is not None and len(data.purity) == len(regions)
    from ithkit.integrate.patient import analyze_patient

    results = analyze_patient(data, tmp_path / "out", seed=0, analyses=["genomic"])
    assert (tmp_path / "out" / "genomic" / "callers" / "variants.summary.tsv").exists()
    notes = (tmp_path / "out" / "genomic" / "callers" / "notes.txt").read_text()
    assert "subclonal Battenberg segment" in notes
    out = results.outputs["genomic"]
    assert "genomic_conversion" in out.tables
    assert [s.key for s in out.sections] == ["regions", "genomic", "genomic-callers"]
