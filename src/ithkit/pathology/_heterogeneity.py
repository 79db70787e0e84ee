"""Heterogeneity across regions: spread, cut-point, Moran's I of tiles, the biopsy question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.pathology import _columns as C
from ithkit.pathology._scores import ALL, BiomarkerResult, check_thresholds, grade_cells

CutpointMetric = Literal["percent_positive", "percent_3plus", "h_score"]
DEFAULT_CORE_SIZES_UM = (600.0, 1000.0, 1500.0, 2000.0)


def _call(values: np.ndarray, cutpoint: float, metric: str) -> np.ndarray:
    """The clinical call of each value: >= cut-point (> for HER2's 3+ in > 10 % of cells)."""
    v = np.asarray(values, dtype=float)
    return v > cutpoint if metric == "percent_3plus" else v >= cutpoint


def wilson_interval(k: int, n: int, *, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n`` (95 % by default).

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(10, 100)]
    [0.0552, 0.1744]
    """
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _spread(values: np.ndarray) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), float("nan")
    mean = v.mean()
    cv = float(v.std(ddof=1) / mean) if mean > 0 else float("nan")
    return cv, float(v.max() - v.min())


def tile_weights(tile_x: np.ndarray, tile_y: np.ndarray):
    """Queen-contiguity weights (8 neighbours) between tiles of one grid, as a sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> w = tile_weights(np.array([0, 1, 5]), np.array([0, 1, 5]))
    >>> w.toarray().astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    import scipy.sparse as sp

    tx = np.asarray(tile_x, dtype=np.int64)
    ty = np.asarray(tile_y, dtype=np.int64)
    n = tx.size
    span = int(max(np.ptp(tx), np.ptp(ty))) + 3
    key = (tx - tx.min() + 1) * span + (ty - ty.min() + 1)
    order = np.argsort(key)
    skey = key[order]
    rows, cols = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx == dy == 0:
                continue
            nk = key + dx * span + dy
            pos = np.clip(np.searchsorted(skey, nk), 0, n - 1)
            hit = skey[pos] == nk
            rows.append(np.flatnonzero(hit))
            cols.append(order[pos[hit]])
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))


def _morans(tiles: pd.DataFrame, metric: str) -> tuple[float, float]:
    from ithkit.spatial import morans_i

    if len(tiles) < 3:
        return float("nan"), float("nan")
    w = tile_weights(tiles["tile_x"].to_numpy(), tiles["tile_y"].to_numpy())
    if w.nnz == 0:
        return float("nan"), float("nan")
    try:
        res = morans_i(tiles[metric].to_numpy(dtype=float), w)
    except InputError:  # constant values: no autocorrelation to measure
        return float("nan"), float("nan")
    return float(res.statistic), float(res.pvalue)


def biopsy_discordance(
    xy_um: np.ndarray,
    grade: np.ndarray,
    *,
    whole_call: bool,
    cutpoint: float,
    metric: CutpointMetric = "percent_positive",
    core_um: float = 1000.0,
    n_cores: int = 500,
    min_core_cells: int = 50,
    seed: int | None = 0,
) -> dict[str, float]:
    """Probability that one random core calls the tumour differently from the whole section.

    Core centres are drawn at random among the scored cells (so cores land in the tumour, in
    proportion to its cellularity); a core holds the cells within ``core_um / 2`` of its centre
    and is used when it has at least ``min_core_cells`` cells. The interval is the Wilson 95 %
    interval of the Monte Carlo estimate over the cores used.

    Parameters
    ----------
    xy_um
        n x 2 centroids (µm) of the scored cells.
    grade
        Their grades (0 negative, 1-3 positive; :func:`grade_cells`).
    whole_call
        The whole section's call (value >= cut-point).
    cutpoint, metric
        The clinical cut-point and the score it applies to.
    core_um
        Core diameter, µm (1000 for a core needle biopsy, 600 for a TMA core).
    n_cores
        Random cores drawn.
    min_core_cells
        Cells a core needs to be scored.
    seed
        Seed of the core positions.

    Returns
    -------
    dict
        ``core_um, n_cores, discordance, ci_low, ci_high`` (fractions in 0..1).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = rng.uniform(0, 4000, (4000, 2))
    >>> grade = (xy[:, 0] > 2000).astype(int)    # right half positive, left half negative
    >>> d = biopsy_discordance(xy, grade, whole_call=True, cutpoint=20.0, seed=1)
    >>> 0.3 < d["discordance"] < 0.7
    True
    """
    return biopsy_curve(
        xy_um, grade, [core_um], whole_call=whole_call, cutpoint=cutpoint, metric=metric,
        n_cores=n_cores, min_core_cells=min_core_cells, seed=seed,
    )[0]  # fmt: skip


def biopsy_curve(
    xy_um: np.ndarray,
    grade: np.ndarray,
    core_sizes_um: Sequence[float],
    *,
    whole_call: bool,
    cutpoint: float,
    metric: CutpointMetric = "percent_positive",
    n_cores: int = 500,
    min_core_cells: int = 50,
    seed: int | None = 0,
) -> list[dict[str, float]]:
    """:func:`biopsy_discordance` at several core sizes, with the same core centres.

    The trees of cells are built once; the same random centres serve every size, so the curve
    over core size is smooth (common random numbers).

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).uniform(0, 4000, (4000, 2))
    >>> curve = biopsy_curve(xy, (xy[:, 0] > 2000).astype(int), [600, 2000], whole_call=True,
    ...                      cutpoint=20.0)
    >>> curve[0]["discordance"] > curve[1]["discordance"]
    True
    """
    from scipy.spatial import cKDTree

    xy = np.asarray(xy_um, dtype=float)
    g = np.asarray(grade)
    if min(core_sizes_um) <= 0:
        raise InputError(f"core size {min(core_sizes_um)} µm", source="--core-um",
                         fix="give a size > 0 µm")  # fmt: skip
    if len(xy) == 0:
        raise InputError("no scored cells with coordinates", source="biopsy question",
                         fix="the biopsy question needs cell centroids")  # fmt: skip
    rng = np.random.default_rng(seed)
    centres = xy[rng.integers(0, len(xy), size=n_cores)]
    weights = {1: 1, 2: 2, 3: 3} if metric == "h_score" else None
    if metric == "percent_positive":
        groups = {1: g >= 1}
    elif metric == "percent_3plus":
        groups = {1: g == 3}
    else:
        groups = {k: g == k for k in (1, 2, 3)}
    trees = {k: cKDTree(xy[m]) for k, m in groups.items() if m.any()}
    tree_all = cKDTree(xy)
    out = []
    for size in core_sizes_um:
        r = float(size) / 2.0
        n = tree_all.query_ball_point(centres, r, return_length=True).astype(float)
        hits = np.zeros(n_cores)
        for k, tree in trees.items():
            hits += (weights[k] if weights else 1) * tree.query_ball_point(
                centres, r, return_length=True
            )
        val = 100.0 * hits / np.maximum(n, 1)
        ok = n >= min_core_cells
        used = int(ok.sum())
        disc = int((_call(val[ok], cutpoint, metric) != whole_call).sum())
        lo, hi = wilson_interval(disc, used)
        out.append({
            "core_um": float(size), "n_cores": used,
            "discordance": disc / used if used else float("nan"), "ci_low": lo, "ci_high": hi,
        })  # fmt: skip
    return out


@dataclass(frozen=True)
class HeterogeneityResult:
    """Heterogeneity of a biomarker across the regions and tiles of each image.

    Attributes
    ----------
    table
        Long table ``image, scheme, metric, value`` (``heterogeneity.tsv``); schemes
        ``annotation`` (the annotation regions), ``tile`` (the tile map), ``compartment`` (tumour
        core minus invasive margin, with a boundary) and ``section`` (the biopsy question and the
        Ki-67 hot spot).
    biopsy
        The biopsy-question curve: ``image, core_um, n_cores, discordance, ci_low, ci_high,
        whole_call`` (``biopsy.tsv``); empty without coordinates or cut-point.
    cutpoint, metric
        The cut-point and the score it applies to.
    """

    table: pd.DataFrame
    biopsy: pd.DataFrame
    cutpoint: float | None
    metric: str

    def value(self, metric: str, *, scheme: str = "section", image: str | None = None) -> float:
        """One number of the table (the first image by default).

        Examples
        --------
        >>> r = HeterogeneityResult(pd.DataFrame({"image": ["s"], "scheme": ["tile"],
        ...     "metric": ["morans_i"], "value": [0.4]}), pd.DataFrame(), None, "percent_positive")
        >>> r.value("morans_i", scheme="tile")
        0.4
        """
        t = self.table[(self.table["scheme"] == scheme) & (self.table["metric"] == metric)]
        if image is not None:
            t = t[t["image"] == image]
        return float(t["value"].iloc[0]) if len(t) else float("nan")

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``heterogeneity.tsv`` and ``biopsy.tsv`` into ``folder``."""
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = [write_table(self.table, out / "heterogeneity.tsv")]
        if len(self.biopsy):
            paths.append(write_table(self.biopsy, out / "biopsy.tsv"))
        return paths


def heterogeneity(
    cells: pd.DataFrame,
    scores: BiomarkerResult,
    *,
    cutpoint: float | None = None,
    metric: CutpointMetric = "percent_positive",
    core_um: float = 1000.0,
    core_sizes_um: Sequence[float] = DEFAULT_CORE_SIZES_UM,
    n_cores: int = 500,
    min_core_cells: int = 50,
    min_tile_cells: int = 50,
    seed: int | None = 0,
) -> HeterogeneityResult:
    """Spread of a biomarker across regions and tiles, and the biopsy question.

    Per image and region scheme (annotation regions, tiles with >= ``min_tile_cells`` cells):
    coefficient of variation (sample SD / mean) and range of percent positive and H-score; with a
    cut-point, the fraction of regions on each side of it; for tiles, Moran's I of percent
    positive over queen-contiguous tiles (:func:`ithkit.spatial.morans_i`). With a cut-point and
    coordinates, the biopsy question (:func:`biopsy_discordance`) at ``core_um`` and over
    ``core_sizes_um`` (the curve).

    Parameters
    ----------
    cells
        The detections frame the scores came from.
    scores
        :func:`biomarker_scores` of those cells.
    cutpoint
        Clinical cut-point on ``metric`` (percent; e.g. Ki-67 20, ER 1, HER2 3+ 10).
    metric
        ``percent_positive``, ``percent_3plus`` (called when > the cut-point, ASCO/CAP's "3+ in
        > 10 % of cells") or ``h_score``.
    core_um, core_sizes_um
        Core diameter of the headline biopsy question, and the sizes of the curve (µm).
    n_cores, min_core_cells, min_tile_cells, seed
        Random cores per size, cells a core and a tile need, seed of the cores.

    Returns
    -------
    HeterogeneityResult

    Examples
    --------
    >>> from ithkit.pathology import simulate_detections, read_detections, biomarker_scores
    >>> sim = simulate_detections(6000, seed=0)
    >>> cells = read_detections(sim.table, sim.marker)
    >>> s = biomarker_scores(cells, thresholds=sim.thresholds)
    >>> h = heterogeneity(cells, s, cutpoint=10, metric="percent_3plus", n_cores=200)
    >>> h.value("fraction_below_cutpoint", scheme="annotation")
    0.5
    """
    if metric not in ("percent_positive", "percent_3plus", "h_score"):
        raise InputError(f"unknown cut-point metric {metric!r}", source="metric",
                         fix="use percent_positive, percent_3plus or h_score")  # fmt: skip
    if metric in ("percent_3plus", "h_score") and not scores.graded:
        raise InputError(
            f"{metric} needs 1+/2+/3+ grades but the scores have one threshold",
            source="--cutpoint-metric", fix="give three thresholds, or use percent_positive",
        )  # fmt: skip
    if cutpoint is not None and not (np.isfinite(cutpoint) and 0 <= cutpoint <= 300):
        raise InputError(f"cut-point {cutpoint}", source="--cutpoint",
                         fix="give a percent (0-100) or an H-score (0-300)")  # fmt: skip
    rows: list[tuple[str, str, str, float]] = []
    curves: list[dict] = []
    regs = scores.regions
    images = list(dict.fromkeys(regs["image"]))
    has_xy = C.X_UM in cells and C.Y_UM in cells
    if has_xy and cutpoint is not None:
        grade, counted, _ = grade_cells(cells, check_thresholds(scores.thresholds),
                                        tumour_class=scores.tumour_class)  # fmt: skip
        keep = counted & (grade >= 0)
    for image in images:
        per = regs[(regs["image"] == image) & (regs["region"] != ALL)]
        schemes = [("annotation", per)]
        if scores.tiles is not None:
            t = scores.tiles
            schemes.append(("tile", t[(t["image"] == image) & (t["n_cells"] >= min_tile_cells)]))
        for scheme, frame in schemes:
            rows.append((image, scheme, "n_regions", float(len(frame))))
            for col in ("percent_positive", "h_score"):
                cv, rng_ = _spread(frame[col].to_numpy())
                rows += [(image, scheme, f"{col}_cv", cv), (image, scheme, f"{col}_range", rng_)]
            if cutpoint is not None and len(frame):
                call = _call(frame[metric].to_numpy(), cutpoint, metric)
                above = float(call.mean())
                rows += [(image, scheme, "fraction_below_cutpoint", 1.0 - above),
                         (image, scheme, "fraction_at_or_above_cutpoint", above)]  # fmt: skip
            if scheme == "tile":
                mi, mp = _morans(frame, "percent_positive")
                rows += [(image, scheme, "morans_i", mi), (image, scheme, "morans_i_pvalue", mp)]
        slide = scores.slide(image)
        if scores.compartments is not None:
            comp = scores.compartments[scores.compartments["image"] == image].set_index("region")
            if {"tumour core", "invasive margin"} <= set(comp.index):
                for col in ("percent_positive", "h_score"):
                    diff = comp.loc["tumour core", col] - comp.loc["invasive margin", col]
                    rows.append((image, "compartment", f"core_minus_margin_{col}", float(diff)))
        if scores.hotspot is not None:
            hs = scores.hotspot[scores.hotspot["image"] == image].iloc[0]
            rows += [(image, "section", "hotspot_percent", float(hs["hotspot_percent"])),
                     (image, "section", "hotspot_difference_points",
                      float(hs["difference_points"]))]  # fmt: skip
        if cutpoint is None:
            continue
        whole = bool(_call(np.array([slide[metric]]), cutpoint, metric)[0])
        rows.append((image, "section", "whole_section_call", float(whole)))
        if not has_xy:
            continue
        sel = keep & (cells[C.IMAGE] == image).to_numpy()
        xy = np.column_stack([cells[C.X_UM].to_numpy()[sel], cells[C.Y_UM].to_numpy()[sel]])
        sizes = sorted({float(core_um), *map(float, core_sizes_um)})
        curve = biopsy_curve(
            xy, grade[sel], sizes, whole_call=whole, cutpoint=cutpoint, metric=metric,
            n_cores=n_cores, min_core_cells=min_core_cells, seed=seed,
        )  # fmt: skip
        for d in curve:
            curves.append({"image": image, **d, "whole_call": whole})
            if d["core_um"] == float(core_um):
                rows += [(image, "section", "single_core_discordance", d["discordance"]),
                         (image, "section", "single_core_discordance_ci_low", d["ci_low"]),
                         (image, "section", "single_core_discordance_ci_high", d["ci_high"]),
                         (image, "section", "core_um", d["core_um"])]  # fmt: skip
    table = pd.DataFrame(rows, columns=["image", "scheme", "metric", "value"])
    if cutpoint is not None:
        table = pd.concat([table, pd.DataFrame(
            [(im, "section", "cutpoint", float(cutpoint)) for im in images],
            columns=table.columns)], ignore_index=True)  # fmt: skip
    biopsy = pd.DataFrame(
        curves,
        columns=["image", "core_um", "n_cores", "discordance", "ci_low", "ci_high", "whole_call"],
    )
    return HeterogeneityResult(table, biopsy, cutpoint, metric)
