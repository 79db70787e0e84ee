"""Habitats: clusters of ROI voxels on their feature-map values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._diversity import shannon
from ithkit._errors import InputError
from ithkit.imaging._io import Volume


@dataclass(frozen=True)
class HabitatResult:
    """Habitat labels and summary.

    Attributes
    ----------
    labels
        Volume with 0 outside the ROI and habitats 1..k inside (ordered by mean of the first map).
    k
        Number of habitats.
    table
        DataFrame ``habitat, n_voxels, volume_ml, volume_fraction`` plus the mean of each map.
    selection
        DataFrame ``k, silhouette`` of the candidates (the criterion).
    diversity
        Shannon entropy of the volume fractions (nats).
    evenness
        ``diversity / log(k)`` in 0..1 (1 when habitats are equally large).
    """

    labels: Volume
    k: int
    table: Any
    selection: Any
    diversity: float
    evenness: float


def habitats(
    maps: Mapping[str, Volume],
    mask: Volume,
    *,
    k: int | None = None,
    k_range: Sequence[int] = (2, 3, 4, 5, 6),
    sample: int = 4000,
    seed: int = 0,
) -> HabitatResult:
    """Cluster ROI voxels into habitats with k-means on standardised map values.

    ``k`` is chosen, unless given, as the candidate of ``k_range`` with the highest mean
    silhouette width (computed on a seeded sample of ``sample`` voxels).

    Examples
    --------
    >>> import numpy as np
    >>> from ithkit.imaging import Volume
    >>> a = np.zeros((4, 4, 8)); a[:, :, 4:] = 5.0
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    >>> res = habitats({"mean": Volume(a, *geo)}, Volume(np.ones_like(a), *geo), seed=0)
    >>> res.k, round(res.evenness, 3)
    (2, 1.0)
    """
    import pandas as pd
    from sklearn.cluster import KMeans

    if not maps:
        raise InputError("no feature map given", fix="compute maps with feature_maps()")
    roi = np.asarray(mask.array) > 0
    names = list(maps)
    x = np.stack([np.asarray(maps[n].array, dtype=float)[roi] for n in names], axis=1)
    ok = np.all(np.isfinite(x), axis=1)
    if ok.sum() < 2:
        raise InputError("fewer than 2 ROI voxels have finite map values", source="maps")
    sd = x[ok].std(axis=0)
    z = (x - x[ok].mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    z[~ok] = 0.0
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(ok)
    sub = idx if idx.size <= sample else rng.choice(idx, sample, replace=False)
    n_distinct = np.unique(z[ok], axis=0).shape[0]
    candidates = [k] if k is not None else [c for c in k_range if 2 <= c <= n_distinct]
    if not candidates:
        raise InputError("map values are constant over the ROI", source="maps")
    from threadpoolctl import threadpool_limits

    from ithkit._clustering import choose_k_by_silhouette

    models: dict[int, Any] = {}

    def labels_for(c: int) -> np.ndarray:
        with threadpool_limits(1):  # small problem: OpenMP threads only add contention
            models[c] = KMeans(n_clusters=c, n_init=4, random_state=seed).fit(z[ok])
        if len(np.unique(models[c].labels_)) < 2:
            return np.zeros(len(sub), dtype=int)
        return np.asarray(models[c].predict(z[sub]))

    choice = choose_k_by_silhouette(z[sub], candidates, labels_for)
    k_best = choice.k if choice.k is not None else candidates[0]
    km = models[k_best]
    rows = choice.table.to_dict("records")
    lab = km.predict(z)
    # order habitats by the mean of the first map
    order = np.argsort([x[ok][km.labels_ == c, 0].mean() for c in range(k_best)])
    rank = np.empty(k_best, dtype=int)
    rank[order] = np.arange(1, k_best + 1)
    lab = rank[lab]
    arr = np.zeros(roi.shape, dtype=np.int16)
    arr[roi] = lab
    vox_ml = float(np.prod(mask.spacing)) / 1000.0
    counts = np.bincount(lab, minlength=k_best + 1)[1:]
    frac = counts / counts.sum()
    table = pd.DataFrame(
        {
            "habitat": np.arange(1, k_best + 1),
            "n_voxels": counts,
            "volume_ml": counts * vox_ml,
            "volume_fraction": frac,
        }
    )
    for j, n in enumerate(names):
        table[f"mean_{n}"] = [float(np.nanmean(x[lab == h, j])) for h in range(1, k_best + 1)]
    div = shannon(frac)
    return HabitatResult(
        labels=Volume(arr, mask.spacing, mask.origin, mask.direction, "habitats"),
        k=k_best,
        table=table,
        selection=pd.DataFrame(rows),
        diversity=div,
        evenness=float(div / np.log(k_best)) if k_best > 1 else 0.0,
    )


def dice(a: NDArray[Any], b: NDArray[Any]) -> float:
    """Dice overlap of two boolean arrays.

    Examples
    --------
    >>> import numpy as np
    >>> dice(np.array([1, 1, 0], bool), np.array([1, 0, 0], bool))
    0.6666666666666666
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    s = a.sum() + b.sum()
    return float(2 * np.logical_and(a, b).sum() / s) if s else 1.0


def habitat_dice(truth: NDArray[Any], labels: NDArray[Any]) -> Any:
    """Best one-to-one matching (Hungarian) of true and found habitats, with each pair's Dice.

    Returns a DataFrame ``true_habitat, habitat, dice``.
    """
    import pandas as pd
    from scipy.optimize import linear_sum_assignment

    t_ids = [int(v) for v in np.unique(truth) if v > 0]
    f_ids = [int(v) for v in np.unique(labels) if v > 0]
    d = np.array([[dice(truth == t, labels == f) for f in f_ids] for t in t_ids])
    r, c = linear_sum_assignment(-d)
    rows = [
        {"true_habitat": t_ids[i], "habitat": f_ids[j], "dice": d[i, j]}
        for i, j in zip(r, c, strict=True)
    ]
    return pd.DataFrame(rows)
