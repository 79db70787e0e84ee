"""A feature table from a cohort MAF: MATH per sample and 0/1 mutation status of chosen genes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError


def maf_features(
    maf: str | Path | pd.DataFrame,
    *,
    genes: Sequence[str] = (),
    math: bool = True,
    vaf_column: str | None = None,
    min_vaf: float = 0.075,
    source: str = "<maf>",
) -> pd.DataFrame:
    """One row per tumour sample of a MAF: MATH and whether each gene is mutated.

    MATH follows maftools' ``math.score`` (:func:`ithkit.genomic.maf_math`: non-synonymous
    variants with VAF >= ``min_vaf``, at least 5 per sample, otherwise missing). A gene is
    mutated (1) in a sample with at least one non-synonymous variant in it (maftools'
    definition of a mutated sample), else 0.

    Parameters
    ----------
    maf
        MAF path or the frame of :func:`ithkit.genomic.read_maf`.
    genes
        Hugo symbols whose mutation status becomes a 0/1 column.
    math
        Add the ``math`` column.
    vaf_column, min_vaf
        As :func:`ithkit.genomic.maf_math`.
    source
        Name of the MAF in error messages.

    Returns
    -------
    pandas.DataFrame
        ``patient_id`` (the ``Tumor_Sample_Barcode``), ``math``, one column per gene.

    Examples
    --------
    >>> maf = pd.DataFrame({"Tumor_Sample_Barcode": ["S1", "S1", "S2"],
    ...     "Hugo_Symbol": ["DNMT3A", "TP53", "TP53"], "Chromosome": "1",
    ...     "Start_Position": ["1", "2", "3"],
    ...     "Variant_Classification": ["Missense_Mutation", "Silent", "Nonsense_Mutation"]})
    >>> maf_features(maf, genes=["DNMT3A", "TP53"], math=False).values.tolist()
    [['S1', 1, 0], ['S2', 0, 1]]
    """
    from ithkit.genomic import maf_math, read_maf
    from ithkit.genomic._maf import NONSYNONYMOUS

    frame = maf if isinstance(maf, pd.DataFrame) else read_maf(maf)
    if not isinstance(maf, pd.DataFrame):
        source = str(maf)
    samples = sorted(frame["Tumor_Sample_Barcode"].astype(str).unique())
    out = pd.DataFrame({"patient_id": samples})
    if math:
        scores = maf_math(frame, vaf_column=vaf_column, min_vaf=min_vaf, source=source)
        out["math"] = out["patient_id"].map(scores.set_index("sample_id")["math"]).astype(float)
    if "Variant_Classification" in frame.columns:
        coding = frame[frame["Variant_Classification"].isin(NONSYNONYMOUS)]
    else:
        coding = frame
    symbols = set(frame["Hugo_Symbol"].astype(str))
    for gene in genes:
        if gene not in symbols:
            raise InputError(
                f"gene {gene!r} has no variant in the MAF",
                source=source,
                column="Hugo_Symbol",
                fix="check the Hugo symbol (case matters)",
            )
        mutated = set(coding.loc[coding["Hugo_Symbol"] == gene, "Tumor_Sample_Barcode"])
        out[gene] = np.isin(out["patient_id"], list(mutated)).astype(int)
    return out
