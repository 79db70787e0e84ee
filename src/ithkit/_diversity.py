"""Diversity of fractions or counts: one definition of Shannon, Gini-Simpson and Rao's entropy.

Clone prevalences (genomic), CNV subclones and cell states (single cell), neighbourhood
compositions (spatial), habitats (imaging), pathology patterns: every module's diversity is
computed here, so a score has one meaning and one edge-case behaviour across the package:
fractions are normalised to sum 1, zeros are ignored, an empty input gives 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _fractions(values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    p = np.asarray(values, dtype=float)
    p = p[np.isfinite(p) & (p > 0)]
    total = p.sum()
    return p / total if total > 0 else p


def shannon(fractions: np.ndarray | pd.Series | list[float]) -> float:
    """Shannon diversity :math:`-\\sum p_i \\ln p_i` (nats) of fractions or counts.

    Values are normalised to sum 1; zeros (and NaN) are ignored; no positive value gives 0.

    Examples
    --------
    >>> round(shannon([0.5, 0.5]), 4)
    0.6931
    >>> shannon([3, 0]), shannon([])
    (0.0, 0.0)
    """
    p = _fractions(fractions)
    return float(-(p * np.log(p)).sum()) + 0.0 if p.size else 0.0  # + 0.0: no -0.0


def simpson(fractions: np.ndarray | pd.Series | list[float]) -> float:
    """Gini-Simpson index :math:`1 - \\sum p_i^2`: the chance that two random members differ.

    Values are normalised to sum 1; zeros are ignored; no positive value gives 0.

    Examples
    --------
    >>> simpson([0.5, 0.5]), simpson([2, 2])
    (0.5, 0.5)
    """
    p = _fractions(fractions)
    return float(1.0 - (p**2).sum()) if p.size else 0.0


def row_diversity(
    counts: np.ndarray, dist: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shannon, Gini-Simpson and Rao's quadratic entropy of each row of a count matrix.

    Parameters
    ----------
    counts
        ``(n, k)`` non-negative counts (rows: cells, regions, lesions; columns: categories).
    dist
        ``(k, k)`` distances between categories for Rao's entropy (default 1 off the diagonal:
        Rao = Gini-Simpson).

    Returns
    -------
    tuple of numpy.ndarray
        ``(shannon, simpson, rao)``, each of length ``n``; a row of zeros gives 0.

    Examples
    --------
    >>> sh, si, rao = row_diversity(np.array([[1.0, 1.0], [2.0, 0.0]]))
    >>> sh.round(4).tolist(), si.tolist(), rao.tolist()
    ([0.6931, 0.0], [0.5, 0.0], [0.5, 0.0])
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=1, keepdims=True)
    p = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(p > 0, np.log(p), 0.0)
    sh = -(p * logs).sum(axis=1) + 0.0
    si = np.where(total[:, 0] > 0, 1.0 - (p**2).sum(axis=1), 0.0)
    k = counts.shape[1]
    d = 1.0 - np.eye(k) if dist is None else np.asarray(dist, dtype=float)
    rao = np.einsum("ij,jk,ik->i", p, d, p)
    return sh, si, rao
