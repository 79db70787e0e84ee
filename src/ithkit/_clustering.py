"""Choosing the number of clusters by silhouette: one rule for habitats, lesion phenotypes,
cell states and spatial niches."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class KChoice:
    """The number of clusters chosen by :func:`choose_k_by_silhouette`.

    Attributes
    ----------
    k
        The chosen number of clusters, or None when no candidate beat ``floor``.
    labels
        Labels of the evaluation points for ``k`` (None when ``k`` is None).
    table
        ``k, silhouette`` for every candidate tried (-1 when a candidate gave one cluster).
    """

    k: int | None
    labels: np.ndarray | None
    table: pd.DataFrame


def choose_k_by_silhouette(
    points: np.ndarray,
    candidates: Iterable[int],
    labels_for: Callable[[int], np.ndarray],
    *,
    min_gain: float = 0.0,
    floor: float = -math.inf,
) -> KChoice:
    """Try each candidate k and keep the one with the best mean silhouette.

    A candidate replaces the current best only when its silhouette exceeds the best so far by
    more than ``min_gain`` (so ties and near-ties keep the smaller k); the first must exceed
    ``floor``.

    Parameters
    ----------
    points
        ``(n, d)`` points on which the silhouette is measured (scikit-learn, Euclidean).
    candidates
        Numbers of clusters to try, in order.
    labels_for
        Returns the cluster label of each of ``points`` for a given k.
    min_gain
        Improvement needed over the best so far (silhouette units).
    floor
        Silhouette the first accepted k must exceed (e.g. 0.1: below it, no structure).

    Returns
    -------
    KChoice

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    >>> cut = lambda k: np.digitize(pts[:, 0], np.linspace(0, 5, k + 1)[1:-1])
    >>> choose_k_by_silhouette(pts, [2, 3, 4], cut).k
    2
    """
    from sklearn.metrics import silhouette_score

    rows = []
    best_k: int | None = None
    best_labels: np.ndarray | None = None
    best = floor
    for k in candidates:
        labels = np.asarray(labels_for(k))
        s = float(silhouette_score(points, labels)) if len(np.unique(labels)) > 1 else -1.0
        rows.append({"k": int(k), "silhouette": s})
        if s > best + (min_gain if best_k is not None or math.isfinite(floor) else 0.0):
            best, best_k, best_labels = s, int(k), labels
    return KChoice(best_k, best_labels, pd.DataFrame(rows, columns=["k", "silhouette"]))
