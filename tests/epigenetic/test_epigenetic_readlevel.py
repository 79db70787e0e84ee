"""Read-level metrics on hand-computed epiallele counts, streaming and bad input."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.epigenetic import (
    LOCI_COLUMNS,
    SUMMARY_COLUMNS,
    read_calls,
    read_heterogeneity,
)

POSITIONS = (100, 108, 115, 131)


def _calls(patterns: list[str], *, chrom: str = "chr1", positions=POSITIONS) -> pd.DataFrame:
    """One read per pattern string ('1' = methylated), CpG t at positions[t]."""
    rows = []
    for r, pat in enumerate(patterns):
        for t, ch in enumerate(pat):
            rows.append((f"r{r}", chrom, positions[t], ch == "1"))
    return pd.DataFrame(rows, columns=["read_id", "chrom", "position", "methylated"])


def _bismark_text(patterns: list[str], positions=POSITIONS, chrom: str = "chr1") -> str:
    lines = ["Bismark methylation extractor version v0.24.2"]
    for r, pat in enumerate(patterns):
        for t, ch in enumerate(pat):
            lines.append(f"read{r}\t{'+' if ch == '1' else '-'}\t{chrom}\t{positions[t]}\t"
                         f"{'Z' if ch == '1' else 'z'}")  # fmt: skip
    return "\n".join(lines) + "\n"


# MHL of a locus whose reads all carry one 4-CpG pattern, computed by hand from Guo et al. 2017
# (Nat Genet 49:635, Methods): MHL = sum_l l * P(MH_l) / sum_l l, with P(MH_l) = fully methylated
# length-l substrings / (4 - l + 1) substrings, weights l = 1..4 (sum 10).
HAND_MHL = {
    "0000": 0.0,
    "0001": (1 / 4) / 10,
    "0010": (1 / 4) / 10,
    "0011": (2 / 4 + 2 * 1 / 3) / 10,  # 2 single Cs, one "11" of 3 pairs
    "0100": (1 / 4) / 10,
    "0101": (2 / 4) / 10,
    "0110": (2 / 4 + 2 * 1 / 3) / 10,
    "0111": (3 / 4 + 2 * 2 / 3 + 3 * 1 / 2) / 10,  # "11" twice, "111" once of 2 triples
    "1000": (1 / 4) / 10,
    "1001": (2 / 4) / 10,
    "1010": (2 / 4) / 10,
    "1011": (3 / 4 + 2 * 1 / 3) / 10,
    "1100": (2 / 4 + 2 * 1 / 3) / 10,
    "1101": (3 / 4 + 2 * 1 / 3) / 10,
    "1110": (3 / 4 + 2 * 2 / 3 + 3 * 1 / 2) / 10,
    "1111": (1 + 2 + 3 + 4) / 10,
}


@pytest.mark.parametrize("pattern", sorted(HAND_MHL))
def test_every_single_epiallele_by_hand(pattern: str) -> None:
    res = read_heterogeneity(_calls([pattern] * 10), sample_ids="s", min_reads=10)
    row = res.loci.iloc[0]
    assert (row.chrom, row.start, row.end, row.n_cpgs, row.n_reads) == ("chr1", 100, 131, 4, 10)
    # Landau 2014: a read is discordant unless all its CpGs share one state
    assert row.pdr == (0.0 if pattern in ("0000", "1111") else 1.0)
    # one epiallele: no polymorphism (Landan 2012), no entropy (Xie 2011), no discordant pair
    assert row.epipolymorphism == 0.0
    assert row.entropy == 0.0
    assert row.fdrp == 0.0 and row.qfdrp == 0.0
    assert row.mean_methylation == pattern.count("1") / 4
    assert row.mhl == pytest.approx(HAND_MHL[pattern], abs=1e-12)


def test_all_sixteen_epialleles_once() -> None:
    pats = sorted(HAND_MHL)
    row = read_heterogeneity(_calls(pats), sample_ids="s", min_reads=16).loci.iloc[0]
    assert row.n_reads == 16
    assert row.pdr == 14 / 16  # all but 0000 and 1111 discordant (Landau 2014)
    assert row.epipolymorphism == 1 - 16 * (1 / 16) ** 2  # 1 - sum p_i^2 (Landan 2012)
    assert row.entropy == pytest.approx(math.log2(16) / 4)  # uniform over 16: log2(16)/4 = 1
    # MHL: P1 = 1/2, P2 = 1/4, P3 = 1/8, P4 = 1/16 -> (0.5 + 0.5 + 0.375 + 0.25) / 10
    assert row.mhl == pytest.approx(0.1625)
    # Scherer 2020: every pair differs (FDRP 1); mean Hamming distance 4*8*8/120 over 4 CpGs
    assert row.fdrp == 1.0
    assert row.qfdrp == pytest.approx(256 / 480)
    assert row.mean_methylation == 0.5


def test_two_epialleles_by_hand() -> None:
    row = read_heterogeneity(_calls(["1111"] * 6 + ["0000"] * 4), min_reads=10).loci.iloc[0]
    assert row.pdr == 0.0
    assert row.epipolymorphism == pytest.approx(1 - 0.6**2 - 0.4**2)
    h = -(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4))
    assert row.entropy == pytest.approx(h / 4)
    assert row.mhl == pytest.approx(0.6)
    # pairs: 45; concordant 15 + 6 = 21 -> FDRP 24/45; each differing pair differs at all 4 CpGs
    assert row.fdrp == pytest.approx(24 / 45)
    assert row.qfdrp == pytest.approx(24 / 45)


def test_sliding_windows_and_skipped_cpgs() -> None:
    pos6 = (10, 20, 30, 40, 50, 60)
    calls = _calls(["110011"] * 3, positions=pos6)
    res = read_heterogeneity(calls, min_reads=3)
    assert res.loci[["start", "end"]].values.tolist() == [[10, 40], [20, 50], [30, 60]]
    assert res.loci["pdr"].tolist() == [1.0, 1.0, 1.0]
    # a read missing CpG 30 forms its own locus (10, 20, 40, 50), not the (10..40) one
    skip = _calls(["1111"] * 3, positions=(10, 20, 40, 50))
    skip["read_id"] = "s" + skip["read_id"]
    res2 = read_heterogeneity(pd.concat([calls, skip]), min_reads=3)
    assert len(res2.loci) == 4
    assert (res2.loci["n_reads"] == 3).all()


def test_min_reads_and_window_options_in_output() -> None:
    res = read_heterogeneity(_calls(["1111"] * 5), sample_ids="s", min_reads=6)
    assert res.loci.empty
    assert res.summary.loc[0, "n_loci"] == 0 and res.summary.loc[0, "min_reads"] == 6
    assert math.isnan(res.summary.loc[0, "median_pdr"])
    res3 = read_heterogeneity(_calls(["1111"] * 5), cpgs_per_locus=3, min_reads=5)
    assert res3.summary.loc[0, "cpgs_per_locus"] == 3 and len(res3.loci) == 2


def test_file_streaming_equals_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pats = ["".join(rng.choice(["0", "1"], size=4)) for _ in range(60)]
    text = _bismark_text(pats)
    p = tmp_path / "CpG_context_R1.txt.gz"
    p.write_bytes(gzip.compress(text.encode()))
    whole = read_heterogeneity(p, min_reads=1)
    tiny = read_heterogeneity(p, min_reads=1, chunk_bytes=97)  # many chunks, reads cut
    mem = read_heterogeneity(_calls(pats), sample_ids="R1", min_reads=1)
    assert whole.summary.loc[0, "sample_id"] == "R1"
    pd.testing.assert_frame_equal(whole.loci, tiny.loci)
    pd.testing.assert_frame_equal(whole.loci, mem.loci)
    assert whole.summary.loc[0, "n_reads"] == 60 and whole.summary.loc[0, "n_calls"] == 240
    cp = whole.cpgs
    assert cp["position"].tolist() == list(POSITIONS)
    assert cp["n_methylated"].tolist() == [sum(p[t] == "1" for p in pats) for t in range(4)]
    assert len(read_calls(p)) == 240


def test_write_interface_columns(tmp_path: Path) -> None:
    res = read_heterogeneity(_calls(["1010"] * 10), sample_ids="s")
    files = res.write(tmp_path)
    loci = pd.read_csv(files["loci"], sep="\t")
    assert tuple(loci.columns) == LOCI_COLUMNS
    assert tuple(pd.read_csv(files["summary"], sep="\t").columns) == SUMMARY_COLUMNS
    assert "fdrp" in pd.read_csv(files["loci_detail"], sep="\t").columns


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("\tz\n", "\tx\n", 1), r"line 3, column call: .*'x' is not a CpG"),
        (lambda t: t.replace("\t108\t", "\t99\t", 1), r"line 3, column position: .*out of order"),
        (lambda t: t.replace("chr1\t108", "chr2\t108", 1), r"line 3, column chrom: .*two chrom"),
        (lambda t: t.replace("read2\t", "read0\t", 1), r"line 10, column read_id: .*not togeth"),
        (lambda t: t.replace("\t108\t", "\tabc\t", 1), r"not a Bismark CpG-context file"),
    ],
)
def test_bad_calls(tmp_path: Path, edit, match: str) -> None:
    p = tmp_path / "calls.txt"
    p.write_text(edit(_bismark_text(["1011", "0000", "1111"])))
    with pytest.raises(InputError, match=match):
        read_heterogeneity(p)


def test_bad_options() -> None:
    with pytest.raises(InputError, match="cpgs_per_locus"):
        read_heterogeneity(_calls(["1111"]), cpgs_per_locus=1)
    with pytest.raises(InputError, match="min_reads"):
        read_heterogeneity(_calls(["1111"]), min_reads=0)
    with pytest.raises(InputError, match="2 sample ids for 1"):
        read_heterogeneity(_calls(["1111"]), sample_ids=["a", "b"])


def test_bam_matches_text(tmp_path: Path) -> None:
    pysam = pytest.importorskip("pysam")
    header = {"HD": {"VN": "1.0"}, "SQ": [{"SN": "chr1", "LN": 1000}]}
    bam = tmp_path / "s.bam"
    pats = ["1011", "0000", "1111", "0110"] * 3
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for r, pat in enumerate(pats):
            a = pysam.AlignedSegment()
            a.query_name = f"q{r}"
            a.reference_id = 0
            a.reference_start = 99  # 0-based: first base at position 100
            a.query_sequence = "A" * 40
            a.cigarstring = "40M"
            a.mapping_quality = 40
            xm = ["."] * 40
            for t, ch in enumerate(pat):
                xm[POSITIONS[t] - 100] = "Z" if ch == "1" else "z"
            xm[3] = "h"  # a CHH call, ignored
            a.set_tag("XM", "".join(xm))
            out.write(a)
    from_bam = read_heterogeneity(bam, sample_ids="s", min_reads=1)
    from_mem = read_heterogeneity(_calls(pats), sample_ids="s", min_reads=1)
    pd.testing.assert_frame_equal(from_bam.loci, from_mem.loci)


def test_bam_gapped_reads_and_mapq(tmp_path: Path) -> None:
    pysam = pytest.importorskip("pysam")
    header = {"HD": {"VN": "1.0"}, "SQ": [{"SN": "chr1", "LN": 1000}]}
    bam = tmp_path / "g.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for name, cigar, calls, mapq in (
            ("del", "4M2D36M", {1: "Z", 10: "z"}, 40),  # query 10 -> ref 99 + 10 + 2
            ("ins", "5M2I33M", {5: "Z", 10: "Z"}, 40),  # query 5 is inserted: no position
            ("low", "40M", {1: "Z", 2: "Z"}, 3),  # below min_mapq
        ):
            a = pysam.AlignedSegment()
            a.query_name, a.reference_id, a.reference_start = name, 0, 99
            a.query_sequence, a.cigarstring, a.mapping_quality = "A" * 40, cigar, mapq
            xm = ["."] * 40
            for i, c in calls.items():
                xm[i] = c
            a.set_tag("XM", "".join(xm))
            out.write(a)
    from ithkit.epigenetic import read_calls

    calls = read_calls(bam)
    # 1-based positions: del read 100 + 1, 100 + 10 + 2; ins read 100 + 10 - 2
    assert calls["position"].tolist() == [101, 112, 108]
    assert calls["methylated"].tolist() == [True, False, True]
    assert calls["read_id"].tolist() == [0, 0, 1]
