"""Copy-number and purity files of ASCAT, FACETS, PURPLE and Battenberg (hand-written, in the
column layouts the callers document), and the mutation -> segment lookup."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.genomic import (
    CallerFile,
    OutsideSegmentsWarning,
    caller_variants,
    locate,
    read_caller_purity,
    read_copy_number,
)


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# ASCAT's ascat.output$segments written by R's write.table: quoted, with row names
ASCAT = (
    '"sample"\t"chr"\t"startpos"\t"endpos"\t"nMajor"\t"nMinor"\n'
    '"1"\t"T1"\t"1"\t"1"\t"100"\t"2"\t"0"\n'
    '"2"\t"T1"\t"1"\t"101"\t"500"\t"1"\t"1"\n'
    '"3"\t"T2"\t"chr1"\t"1"\t"500"\t"3"\t"1"\n'
)


def test_ascat_segments_and_sample_mapping(tmp_path: Path) -> None:
    seg, notes = read_copy_number(
        write(tmp_path / "ascat.segments.txt", ASCAT), "ascat", samples={"T1": "R1", "T2": "R2"}
    )
    assert seg["sample_id"].tolist() == ["R1", "R1", "R2"]
    assert seg["chrom"].tolist() == ["1", "1", "1"]  # chr1 and 1 reconciled
    assert seg[["major_cn", "minor_cn"]].values.tolist() == [[2, 0], [1, 1], [3, 1]]
    assert not seg["subclonal"].any() and (seg["ccf"] == 1).all()  # ASCAT is clonal
    assert notes == []


def test_overlapping_segments_are_an_error(tmp_path: Path) -> None:
    text = ASCAT.replace('"101"\t"500"', '"90"\t"500"')
    with pytest.raises(InputError, match=r"line 3: segments 1:1-100 \(line 2\) and 90-500 .*"
                       "overlap"):  # fmt: skip
        read_copy_number(write(tmp_path / "a.txt", text), "ascat")


def test_facets_cncf(tmp_path: Path) -> None:
    # facets-suite cncf columns; lcn.em NA on a segment with too few het SNPs
    text = (
        "ID\tchrom\tloc.start\tloc.end\tseg\tnum.mark\tnhet\tcnlr.median\tmafR\tsegclust\t"
        "cf.em\ttcn.em\tlcn.em\n"
        "T1\t1\t1\t1000\t1\t50\t10\t0.1\t0.2\t1\t0.3\t3\t1\n"
        "T1\t1\t1001\t2000\t2\t50\t10\t0\t0\t2\t1\t2\t1\n"
        "T1\t23\t1\t500\t3\t50\t0\t-0.2\t0\t3\t0.6\t4\tNA\n"
        # emcncf can put the larger allele in lcn.em (8 of 6112 segments of facetsHeatmap's
        # example.cncf): 5 copies with lcn 3 is 3+2
        "T1\t2\t1\t500\t4\t50\t9\t0.3\t0.1\t4\t0.6\t5\t3\n"
    )
    seg, notes = read_copy_number(
        write(tmp_path / "T1.cncf.txt.gz", text), "facets", purity={"T1": 0.6}
    )
    assert seg[["major_cn", "minor_cn"]].values.tolist() == [[2, 1], [1, 1], [2, 2], [3, 2]]
    assert seg["chrom"].tolist() == ["1", "1", "X", "2"]  # FACETS' 23 is X
    # cf.em is a fraction of all cells: CCF = cf / purity (0.3 / 0.6 = 0.5, 0.6 / 0.6 = 1)
    assert seg["ccf"].tolist() == pytest.approx([0.5, 1.0, 1.0, 1.0])
    assert seg["subclonal"].tolist() == [True, False, False, False]
    assert any("without lcn.em" in n for n in notes)
    assert any("1 FACETS segment(s) with lcn.em above" in n for n in notes)
    no_id = text.replace("ID\t", "").replace("T1\t", "")
    with pytest.raises(InputError, match=r"does not say which sample.*--cn facets:SAMPLE="):
        read_copy_number(write(tmp_path / "fit.tsv", no_id), "facets")
    seg2, _ = read_copy_number(write(tmp_path / "fit.tsv", no_id), "facets", sample_id="R9")
    assert set(seg2["sample_id"]) == {"R9"}


def test_purple_rounds_and_reports(tmp_path: Path) -> None:
    text = (
        "chromosome\tstart\tend\tcopyNumber\tbafCount\tobservedBAF\tbaf\tsegmentStartSupport\t"
        "segmentEndSupport\tmethod\tdepthWindowCount\tgcContent\tminStartSupport\t"
        "maxStartSupport\tminorAlleleCopyNumber\tmajorAlleleCopyNumber\n"
        "chr1\t1\t1000\t2.02\t10\t0.5\t0.5\tTELOMERE\tNONE\tBAF_WEIGHTED\t5\t0.4\t0\t0\t"
        "1.01\t1.01\n"
        "chr1\t1001\t5000\t2.9\t10\t0.7\t0.7\tNONE\tCENTROMERE\tBAF_WEIGHTED\t5\t0.4\t0\t0\t"
        "0.05\t2.6\n"
    )
    seg, notes = read_copy_number(write(tmp_path / "T1.purple.cnv.somatic.tsv", text), "purple")
    assert set(seg["sample_id"]) == {"T1"}  # from the file name
    assert seg[["major_cn", "minor_cn"]].values.tolist() == [[1, 1], [3, 0]]
    assert seg["major_cn_raw"].tolist() == [1.01, 2.6]
    # largest shift |2.6 - 3| = 0.4 > 0.25: one segment far from an integer
    assert "largest 0.40 copies; 1 segment(s) more than 0.25" in notes[0]


def test_battenberg_keeps_both_subclonal_states(tmp_path: Path) -> None:
    text = (
        "chr\tstartpos\tendpos\tBAF\tpval\tLogR\tntot\tnMaj1_A\tnMin1_A\tfrac1_A\tnMaj2_A\t"
        "nMin2_A\tfrac2_A\tSDfrac_A\n"
        "1\t1\t1000\t0.5\t1\t0\t2\t1\t1\t1\tNA\tNA\tNA\tNA\n"
        "1\t1001\t2000\t0.4\t0.01\t0.1\t2.6\t2\t1\t0.3\t1\t1\t0.7\t0.05\n"
        "2\t1\t1000\t0.1\t0\t-0.3\t1\t1\t0\t1\tNA\tNA\tNA\tNA\n"
    )
    seg, notes = read_copy_number(write(tmp_path / "T1_subclones.txt", text), "battenberg")
    sub = seg.iloc[1]
    # the state of 70% of the cancer cells (1+1) is first; 2+1 at 30% kept as the second
    assert (sub["major_cn"], sub["minor_cn"], sub["ccf"]) == (1, 1, 0.7)
    assert (sub["major_cn_2"], sub["minor_cn_2"], sub["ccf_2"]) == (2, 1, 0.3)
    assert seg["subclonal"].tolist() == [False, True, False]
    assert pd.isna(seg.loc[0, "major_cn_2"])
    assert "1 subclonal Battenberg segment" in notes[0]


def test_purity_files_of_each_caller(tmp_path: Path) -> None:
    # PURPLE: one row, sample from the file name
    purple = write(tmp_path / "T1.purple.purity.tsv",
                   "purity\tnormFactor\tscore\tdiploidProportion\tploidy\tgender\n"
                   "0.68\t0.9\t0.1\t0.2\t3.1\tFEMALE\n")  # fmt: skip
    assert read_caller_purity(purple).values.tolist() == [["T1", 0.68, 3.1]]
    # Battenberg rho_and_psi: the FRAC_GENOME row (R row names)
    batt = write(
        tmp_path / "T2_rho_and_psi.txt",
        "rho\tpsi\tploidy\tdistance\tis.best\nASCAT\t0.7\t3\t3.1\t0.1\tTRUE\n"
        "FRAC_GENOME\t0.72\t2.9\t3.0\t0.1\tTRUE\nREF_SEG\t0.7\t3\t3\t0.1\tTRUE\n",
    )
    assert read_caller_purity(batt).values.tolist() == [["T2", 0.72, 3.0]]
    # ascatNgs samplestatistics (key value) and FACETS' "# Purity = ..." lines
    ngs = write(tmp_path / "T3.samplestatistics.txt",
                "NormalContamination 0.35\nPloidy 2.4\nrho 0.65\npsi 2.5\n")  # fmt: skip
    assert read_caller_purity(ngs).values.tolist() == [["T3", 0.65, 2.4]]
    fac = write(tmp_path / "fit.out", "# Purity = 0.41\n# Ploidy = 1.9\n# dipLogR = -0.1\n")
    assert read_caller_purity(fac, sample_id="T4", samples={"T4": "R4"}).values.tolist() == [
        ["R4", 0.41, 1.9]
    ]
    # ASCAT's metrics table, rows named by sample
    met = write(
        tmp_path / "ascat.metrics.txt",
        '"sex"\t"purity"\t"ploidy"\n"T5"\t"XX"\t0.5\t2.1\n"T6"\t"XX"\t0.6\t2.2\n',
    )
    assert read_caller_purity(met)["sample_id"].tolist() == ["T5", "T6"]


def test_purity_in_percent_is_an_error(tmp_path: Path) -> None:
    f = write(tmp_path / "purity.tsv", "sample_id\tpurity\nR1\t0.5\nR2\t65\n")
    with pytest.raises(InputError, match=r"line 3: purity 65 of sample R2 looks like a "
                       r"percentage; purity is a fraction 0..1: write 0.65"):  # fmt: skip
        read_caller_purity(f)
    muts = pd.DataFrame({"mutation_id": ["m"], "sample_id": ["R1"], "chrom": ["1"],
                         "pos": [5], "ref_counts": [5], "alt_counts": [5]})  # fmt: skip
    with pytest.raises(InputError, match="looks like a percentage"):
        caller_variants(muts, purity=pd.DataFrame({"sample_id": ["R1"], "purity": [70]}))


def test_locate_matches_a_loop() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for sample in ("R1", "R2"):
        for chrom in ("1", "2"):
            ends = np.sort(rng.choice(np.arange(10, 10_000), 6, replace=False))
            starts = np.r_[1, ends[:-1] + 5]  # gaps of 4 bp between segments
            rows += [(sample, chrom, s, e) for s, e in zip(starts, ends, strict=True)]
    seg = pd.DataFrame(rows, columns=["sample_id", "chrom", "start", "end"]).sample(
        frac=1, random_state=1
    )
    n = 500
    sample = pd.Series(rng.choice(["R1", "R2", "R3"], n))
    chrom = pd.Series(rng.choice(["1", "chr2", "3"], n))
    pos = rng.integers(1, 10_050, n)
    got = locate(seg, sample, chrom, pos)
    for i in range(n):
        c = chrom[i].removeprefix("chr")
        hit = seg.index[(seg["sample_id"] == sample[i]) & (seg["chrom"] == c)
                        & (seg["start"] <= pos[i]) & (seg["end"] >= pos[i])]  # fmt: skip
        want = seg.index.get_loc(hit[0]) if len(hit) else -1
        assert got[i] == want


def test_outside_segments_warns_and_counts() -> None:
    muts = pd.DataFrame({"mutation_id": ["a", "b", "c"], "sample_id": ["R1"] * 3,
                         "chrom": ["chr1", "1", "2"], "pos": [50, 5000, 10],
                         "ref_counts": [50, 50, 50], "alt_counts": [10, 10, 10]})  # fmt: skip
    seg = pd.DataFrame({"sample_id": ["R1", "R1"], "chrom": ["1", "1"], "start": [1, 1001],
                        "end": [1000, 9000], "major_cn": [2, 0], "minor_cn": [0, 0]})  # fmt: skip
    with pytest.warns(OutsideSegmentsWarning, match="1 of 3 mutation x sample row"):
        out = caller_variants(muts, purity=pd.DataFrame({"sample_id": ["R1"], "purity": [0.5]}),
                              segments=seg)  # fmt: skip
    v = out.variants.set_index("mutation_id")
    assert v.loc["a", ["major_cn", "minor_cn"]].tolist() == [2, 0]
    assert v.loc["b", ["major_cn", "minor_cn"]].tolist() == [1, 0]  # 0 copies -> 1+0
    assert v.loc["c", ["major_cn", "minor_cn"]].tolist() == [1, 1]  # outside -> normal
    s = out.summary.iloc[0]
    assert (s["n_mutations"], s["n_loh"], s["n_outside_segments"], s["n_zero_copy"]) == (
        3, 2, 1, 1,
    )  # fmt: skip
    with pytest.raises(InputError, match="no copy-number segments for sample"):
        caller_variants(muts.assign(sample_id="R2"),
                        purity=pd.DataFrame({"sample_id": ["R2"], "purity": [0.5]}),
                        segments=seg)  # fmt: skip


def test_caller_file_spec() -> None:
    assert CallerFile.parse("Battenberg:/x/T1_subclones.txt").caller == "battenberg"
    with pytest.raises(InputError, match="is not CALLER:PATH"):
        CallerFile.parse("sequenza:x.txt")
