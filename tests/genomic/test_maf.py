"""MAF input: maftools-compatible MATH and conversion to the multi-region table."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.genomic import maf_math, maf_to_variants, math_score, read_maf

HEADER = (
    "Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
    "Variant_Classification\tTumor_Sample_Barcode\tt_ref_count\tt_alt_count\ti_TumorVAF_WU"
)


def write_maf(tmp_path: Path, rows: list[str], *, gz: bool = False) -> Path:
    text = "#version 2.4\n" + HEADER + "\n" + "\n".join(rows) + "\n"
    path = tmp_path / ("x.maf.gz" if gz else "x.maf")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def rows_for(sample: str, vafs: list[float], cls: str = "Missense_Mutation") -> list[str]:
    return [
        f"G{i}\t1\t{1000 + i}\tA\tT\t{cls}\t{sample}\t{100 - round(v * 100)}\t{round(v * 100)}\t"
        f"{v * 100:.2f}"
        for i, v in enumerate(vafs)
    ]


def test_math_follows_maftools_filters(tmp_path: Path) -> None:
    vafs = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    rows = rows_for("S1", vafs) + rows_for("S1", [0.9], cls="Silent") + rows_for("S2", [0.3] * 4)
    maf = read_maf(write_maf(tmp_path, rows, gz=True))
    table = maf_math(maf, vaf_column="i_TumorVAF_WU").set_index("sample_id")
    # percent -> fraction, VAF < 0.075 and the silent variant dropped (maftools' math.score)
    assert table.loc["S1", "n_variants"] == 5
    assert table.loc["S1", "math"] == pytest.approx(math_score([0.1, 0.2, 0.3, 0.4, 0.5]))
    assert np.isnan(table.loc["S2", "math"])  # fewer than 5 variants
    counts = maf_math(maf).set_index("sample_id")  # VAF from read counts
    assert counts.loc["S1", "math"] == pytest.approx(table.loc["S1", "math"], rel=0.02)


def test_conversion_with_segments_and_purity(tmp_path: Path) -> None:
    rows = rows_for("S1", [0.3, 0.2]) + rows_for("S2", [0.1, 0.4])
    maf = read_maf(write_maf(tmp_path, rows))
    purity = pd.DataFrame({"sample_id": ["S1", "S2"], "purity": [0.6, 0.8]})
    segments = pd.DataFrame({"sample_id": ["S1"], "chrom": ["chr1"], "start": [1], "end": [1000],
                             "major_cn": [2], "minor_cn": [0]})  # fmt: skip
    variants, notes = maf_to_variants(maf, purity=purity, segments=segments)
    assert variants["mutation_id"].tolist()[0] == "1:1000:A>T"
    s1 = variants[variants["sample_id"] == "S1"].set_index("pos")
    assert s1.loc[1000, "major_cn"] == 2 and s1.loc[1000, "minor_cn"] == 0
    assert s1.loc[1001, "major_cn"] == 1  # outside the segment: 1+1 assumed
    assert any("outside every segment" in n for n in notes)
    assert variants.set_index("sample_id").loc["S2", "tumour_content"].tolist() == [0.8, 0.8]


def test_conversion_errors(tmp_path: Path) -> None:
    maf = read_maf(write_maf(tmp_path, rows_for("S1", [0.3])))
    with pytest.raises(InputError, match="no purity for sample"):
        maf_to_variants(maf, purity=pd.DataFrame({"sample_id": ["X"], "purity": [0.5]}))
    with pytest.raises(InputError, match="missing MAF column t_ref_count"):
        maf_to_variants(maf.drop(columns="t_ref_count"),
                        purity=pd.DataFrame({"sample_id": ["S1"], "purity": [0.5]}))  # fmt: skip
    bad = tmp_path / "bad.maf"
    bad.write_text("Hugo_Symbol\tChromosome\nTP53\t17\n")
    with pytest.raises(InputError, match="missing MAF column"):
        read_maf(bad)
    with pytest.raises(InputError, match="VAF 'high' is not a number"):
        maf_math(maf.assign(i_TumorVAF_WU="high"), vaf_column="i_TumorVAF_WU")
