"""Heterogeneity scores: MATH, clone diversity, subclonal fractions, subclonal genome.

Shannon and Gini-Simpson come from :mod:`ithkit._diversity` (one definition package-wide).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ithkit._diversity import shannon, simpson
from ithkit._errors import InputError

MAD_CONSTANT = 1.4826  # makes the MAD a consistent estimate of the SD under normality


def math_score(vaf: np.ndarray | pd.Series) -> float:
    """Mutant-allele tumour heterogeneity (MATH) of one sample.

    .. math:: \\mathrm{MATH} = 100 \\times \\frac{1.4826\\,\\mathrm{median}(|v - \\tilde v|)}
              {\\tilde v}

    with :math:`\\tilde v` the median VAF (Mroz & Rocco, Oral Oncol 2013). VAFs are fractions
    0..1; missing values are ignored.

    Examples
    --------
    >>> round(math_score([0.1, 0.2, 0.3, 0.4, 0.5]), 4)
    49.42
    """
    v = np.asarray(vaf, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    med = float(np.median(v))
    if med <= 0:
        return float("nan")
    return float(100.0 * MAD_CONSTANT * np.median(np.abs(v - med)) / med)


# MATH counts only mutations with VAF >= this floor and needs this many of them, as maftools'
# math.score does (its defaults): one rule for `genomic analyze` and `genomic math`.
MATH_MIN_VAF = 0.075
MATH_MIN_VARIANTS = 5


def sample_math(
    vaf: np.ndarray | pd.Series,
    *,
    min_vaf: float = MATH_MIN_VAF,
    min_variants: int = MATH_MIN_VARIANTS,
) -> tuple[float, int]:
    """MATH of one sample by maftools' rule, and the number of mutations it used.

    Parameters
    ----------
    vaf
        Variant allele fractions (0..1) of the sample's detected mutations.
    min_vaf
        Mutations with a VAF below this floor are left out (maftools: 0.075).
    min_variants
        Fewer mutations than this above the floor give NaN (maftools: 5).

    Returns
    -------
    tuple
        ``(math, n_variants)``.

    Examples
    --------
    >>> m, n = sample_math([0.01, 0.1, 0.2, 0.3, 0.4, 0.5])
    >>> round(m, 2), n
    (49.42, 5)
    """
    v = np.asarray(vaf, dtype=float)
    v = v[~np.isnan(v) & (v >= min_vaf)]
    n = int(v.size)
    return (math_score(v) if n >= min_variants else float("nan")), n


def heterogeneity_metrics(
    mutation_ccf: pd.DataFrame,
    classes: pd.Series,
    fish: pd.DataFrame,
    *,
    min_fraction: float = 0.01,
    math_min_vaf: float = MATH_MIN_VAF,
) -> pd.DataFrame:
    """Per-sample and whole-tumour heterogeneity scores.

    Parameters
    ----------
    mutation_ccf
        ``mutation_id, sample_id, vaf, is_clonal, ...`` (from :func:`cancer_cell_fraction`).
    classes
        truncal/shared/private per mutation (:func:`mutation_classes`).
    fish
        Clone prevalences ``clone_id, sample_id, fraction`` (:func:`fish_table`).
    min_fraction
        A clone counts as present in a sample when its CCF exceeds this.
    math_min_vaf
        VAF floor of MATH (:func:`sample_math`, maftools' rule; ``ithkit genomic math`` uses
        the same).

    Returns
    -------
    pandas.DataFrame
        ``sample_id, math, n_clones, shannon, simpson, fraction_subclonal``: one row per sample
        (MATH over the mutations present in that sample with VAF >= ``math_min_vaf``, NaN
        with fewer than 5 of them; diversity of the clone
        prevalences; fraction of its detected mutations that are subclonal there) and a row
        ``ALL`` (MATH over every detected mutation-sample pair, clones in the tumour,
        diversity of the prevalences averaged over samples, fraction of mutations that are not
        truncal).
    """
    rows = []
    from ithkit.genomic._ccf import is_present

    detected = mutation_ccf[is_present(mutation_ccf)]
    for sample in dict.fromkeys(mutation_ccf["sample_id"]):
        det = detected[detected["sample_id"] == sample]
        prev = fish[fish["sample_id"] == sample]
        rows.append(
            {
                "sample_id": str(sample),
                "math": sample_math(det["vaf"], min_vaf=math_min_vaf)[0],
                "n_clones": int((prev["ccf"] > min_fraction).sum()),
                "shannon": shannon(prev["fraction"]),
                "simpson": simpson(prev["fraction"]),
                "fraction_subclonal": float((~det["is_clonal"]).mean()) if len(det) else np.nan,
            }
        )
    mean_prev = fish.groupby("clone_id")["fraction"].mean()
    present = fish.groupby("clone_id")["ccf"].max() > min_fraction
    rows.append(
        {
            "sample_id": "ALL",
            "math": sample_math(detected["vaf"], min_vaf=math_min_vaf)[0],
            "n_clones": int(present.sum()),
            "shannon": shannon(mean_prev),
            "simpson": simpson(mean_prev),
            "fraction_subclonal": float((classes != "truncal").mean()),
        }
    )
    return pd.DataFrame(rows).astype({"sample_id": "string"})


def subclonal_genome_fraction(segments: pd.DataFrame, *, clonal_ccf: float = 0.95) -> pd.Series:
    """Fraction of the genome (by length) with a subclonal copy-number state, per sample.

    A segment is subclonal when it departs from 1+1 copies and its ``ccf`` is below
    ``clonal_ccf`` (TRACERx-style). Segments without ``ccf`` count as clonal.

    Returns
    -------
    pandas.Series
        Indexed by ``sample_id``, fractions 0..1.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"sample_id": ["R1", "R1"], "chrom": ["1", "2"], "start": [1, 1],
    ...                     "end": [100, 300], "major_cn": [2, 1], "minor_cn": [1, 1],
    ...                     "ccf": [0.4, 1.0]})
    >>> float(subclonal_genome_fraction(seg)["R1"])
    0.25
    """
    if "ccf" not in segments.columns:
        raise InputError(
            "segments have no ccf column",
            source="segments",
            column="ccf",
            fix="add the fraction of cancer cells carrying each state (1 = clonal)",
        )
    length = (segments["end"] - segments["start"] + 1).astype(float)
    altered = (segments["major_cn"] != 1) | (segments["minor_cn"] != 1)
    sub = altered & (segments["ccf"].fillna(1.0) < clonal_ccf)
    total = length.groupby(segments["sample_id"]).sum()
    part = length.where(sub, 0.0).groupby(segments["sample_id"]).sum()
    return (part / total).rename("subclonal_genome_fraction")
