"""Biomarker scores per region, per tile and for the slide, as QuPath computes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.pathology import _columns as C

# the regions.tsv contract, in this order
REGION_COLUMNS = (
    "image", "region", "n_cells", "n_positive", "percent_positive", "h_score",
    "allred_proportion", "allred_intensity", "allred_total", "mean_intensity", "n_missing",
)  # fmt: skip
TILE_COLUMNS = (
    "image", "tile_x", "tile_y", "x_um", "y_um", "n_cells", "n_positive", "percent_positive",
    "h_score", "percent_3plus", "mean_intensity", "n_missing",
)  # fmt: skip
ALL = "ALL"
COMPARTMENTS = ("tumour core", "invasive margin", "outside tumour")
_INTENSITY_CLASSES = {"negative": 0, "positive": 1, "1+": 1, "2+": 2, "3+": 3}


def check_thresholds(thresholds: Sequence[float] | str | None) -> tuple[float, ...] | None:
    """One threshold (Positive/Negative) or three increasing ones (1+/2+/3+).

    Examples
    --------
    >>> check_thresholds("0.2,0.4,0.6")
    (0.2, 0.4, 0.6)
    >>> check_thresholds([0.3])
    (0.3,)
    """
    if thresholds is None:
        return None
    if isinstance(thresholds, str):
        try:
            values = tuple(float(t) for t in thresholds.split(",") if t.strip())
        except ValueError:
            raise InputError(
                f"thresholds {thresholds!r} are not numbers", source="--thresholds",
                fix="write e.g. --thresholds 0.2,0.4,0.6",
            ) from None  # fmt: skip
    else:
        values = tuple(float(t) for t in thresholds)
    if len(values) not in (1, 3):
        raise InputError(
            f"{len(values)} thresholds given", source="--thresholds",
            fix="give one threshold (positive/negative) or three (1+, 2+, 3+), as QuPath does",
        )  # fmt: skip
    if not all(np.isfinite(values)) or any(b <= a for a, b in pairwise(values)):
        raise InputError(
            f"thresholds {', '.join(map(str, values))} are not increasing", source="--thresholds",
            fix="give them in increasing order, e.g. 0.2,0.4,0.6",
        )  # fmt: skip
    return values


def _class_parts(cats: Sequence[str]) -> tuple[list[str], list[str]]:
    """Base class and intensity class of each category (``Tumor: 2+`` -> ``Tumor``, ``2+``)."""
    base, inten = [], []
    for c in cats:
        parts = [p.strip() for p in str(c).split(":")]
        last = parts[-1].lower()
        if last in _INTENSITY_CLASSES:
            inten.append(last)
            base.append(":".join(parts[:-1]).strip())
        else:
            inten.append("")
            base.append(str(c).strip())
    return base, inten


def grade_cells(
    cells: pd.DataFrame,
    thresholds: Sequence[float] | None,
    *,
    tumour_class: str | None = None,
    source: str = "detections",
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Intensity grade of every cell and which cells count.

    Parameters
    ----------
    cells
        The detections frame of :func:`read_detections`.
    thresholds
        One (Positive/Negative) or three (1+/2+/3+) thresholds on ``intensity``; a cell is
        positive at a threshold when its value is >= the threshold (QuPath's rule). None takes
        the grades from the ``classification`` column (``Tumor: Positive``, ``Tumor: 2+``...).
    tumour_class
        Score only cells whose class is this one (``Tumor`` matches ``Tumor: Positive``).

    Returns
    -------
    grade : numpy.ndarray of int8
        0 negative, 1 positive or 1+, 2 = 2+, 3 = 3+, -1 missing value.
    counted : numpy.ndarray of bool
        The cells in the scored class (missing ones included).
    graded : bool
        Whether the grades are 1+/2+/3+ (three thresholds) rather than Positive/Negative.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"intensity": [0.1, 0.2, 0.45, 0.7, float("nan")]})
    >>> g, counted, graded = grade_cells(cells, (0.2, 0.4, 0.6))
    >>> g.tolist(), graded
    ([0, 1, 2, 3, -1], True)
    """
    n = len(cells)
    counted = np.ones(n, dtype=bool)
    cls = cells.get(C.CLASS)
    cat = None
    if cls is not None:
        cat = cls if isinstance(cls.dtype, pd.CategoricalDtype) else cls.astype("category")
    if tumour_class:
        if cat is None:
            raise InputError(
                f"--tumour-class {tumour_class!r} given but the table has no Classification",
                source=source, fix="drop --tumour-class or export the cell classes",
            )  # fmt: skip
        base, _ = _class_parts(list(cat.cat.categories))
        keep = np.array([b.lower() == tumour_class.lower() for b in base] + [False])
        codes = cat.cat.codes.to_numpy()
        counted = keep[np.where(codes >= 0, codes, len(keep) - 1)]
        if not counted.any():
            raise InputError(
                f"no cell has class {tumour_class!r}", source=source, column="Classification",
                fix=f"classes present: {', '.join(sorted(set(base))[:8])}",
            )  # fmt: skip
    if thresholds is not None:
        if C.INTENSITY not in cells:
            raise InputError(
                "thresholds given but no marker column was read", source=source,
                fix="give --marker (the intensity column the thresholds apply to)",
            )  # fmt: skip
        x = cells[C.INTENSITY].to_numpy(dtype=float)
        t = np.asarray(thresholds, dtype=float)
        grade = np.searchsorted(t, x, side="right").astype(np.int8)  # value >= t counts
        grade[np.isnan(x)] = -1
        return grade, counted, len(t) == 3
    if cat is None:
        raise InputError(
            "no thresholds and no Classification column", source=source,
            fix="give --thresholds (e.g. 0.2,0.4,0.6) for the marker column",
        )  # fmt: skip
    _, inten = _class_parts(list(cat.cat.categories))
    if not any(inten):
        raise InputError(
            "no thresholds and the classes carry no intensity (Positive/Negative/1+/2+/3+)",
            source=source, column="Classification",
            fix="give --thresholds (e.g. 0.2,0.4,0.6) for the marker column",
        )  # fmt: skip
    graded = any(i in ("1+", "2+", "3+") for i in inten)
    lut = np.array([_INTENSITY_CLASSES.get(i, -1) for i in inten] + [-1], dtype=np.int8)
    codes = cat.cat.codes.to_numpy()
    grade = lut[np.where(codes >= 0, codes, len(lut) - 1)]
    return grade, counted, graded


def _allred(n: np.ndarray, npos: np.ndarray, mean_grade: np.ndarray, graded: bool):
    """QuPath's Allred proportion (0-5) and intensity (0-3) scores."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, npos / np.maximum(n, 1), np.nan)
    prop = np.select(
        [p >= 2 / 3, p >= 1 / 3, p >= 0.1, p >= 0.01, p > 0], [5, 4, 3, 2, 1], default=0
    )
    if graded:
        inten = np.select([mean_grade > 7 / 3, mean_grade > 5 / 3], [3, 2], default=1)
    else:  # QuPath: a Positive class has no graded intensity, its mean counts as weak
        inten = np.ones_like(prop)
    inten = np.where(prop > 0, inten, 0)
    return prop, inten


def score_counts(counts: np.ndarray, intensity_sum: np.ndarray, graded: bool) -> pd.DataFrame:
    """Scores from per-group counts ``[missing, negative, 1+, 2+, 3+]``.

    Examples
    --------
    >>> import numpy as np
    >>> t = score_counts(np.array([[0, 50, 20, 20, 10]]), np.array([30.0]), True)
    >>> t[["percent_positive", "h_score", "allred_total"]].to_numpy().tolist()
    [[50.0, 90.0, 6.0]]
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = counts[:, 1:].sum(axis=1)
    npos = counts[:, 2:].sum(axis=1)
    n1, n2, n3 = counts[:, 2], counts[:, 3], counts[:, 4]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n > 0, 100.0 * npos / n, np.nan)
        h = np.where(n > 0, 100.0 * (n1 + 2 * n2 + 3 * n3) / n, np.nan) if graded else np.nan
        p3 = np.where(n > 0, 100.0 * n3 / n, np.nan) if graded else np.nan
        mean_grade = np.where(npos > 0, (n1 + 2.0 * n2 + 3.0 * n3) / np.maximum(npos, 1), 0.0)
        mean_int = np.where(n > 0, intensity_sum / np.maximum(n, 1), np.nan)
    prop, inten = _allred(n, npos, mean_grade, graded)
    return pd.DataFrame({
        "n_cells": n, "n_positive": npos, "percent_positive": pct,
        "h_score": np.broadcast_to(h, n.shape).astype(float),
        "allred_proportion": prop.astype(np.int64), "allred_intensity": inten.astype(np.int64),
        "allred_total": (prop + inten).astype(np.int64), "mean_intensity": mean_int,
        "n_missing": counts[:, 0], "n_1plus": n1 if graded else npos,
        "n_2plus": n2 if graded else 0, "n_3plus": n3 if graded else 0,
        "percent_3plus": np.broadcast_to(p3, n.shape).astype(float),
    })  # fmt: skip


def _group_counts(
    group: np.ndarray, n_groups: int, grade: np.ndarray, intensity: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Counts per group and grade (missing, 0..3) and the intensity sum of scored cells."""
    key = group.astype(np.int64) * 5 + (grade.astype(np.int64) + 1)
    counts = np.bincount(key, minlength=n_groups * 5).reshape(n_groups, 5)
    if intensity is None:
        isum = np.full(n_groups, np.nan)
    else:
        scored = grade >= 0
        isum = np.bincount(group[scored], weights=intensity[scored], minlength=n_groups)
    return counts, isum


@dataclass(frozen=True)
class BiomarkerResult:
    """Biomarker scores of a detections table.

    Attributes
    ----------
    regions
        One row per image x region and per image (region ``ALL``): the ``regions.tsv`` columns
        (:data:`REGION_COLUMNS`) plus ``n_1plus, n_2plus, n_3plus, percent_3plus``.
    tiles
        One row per occupied tile of the ``tile_um`` grid (:data:`TILE_COLUMNS`; ``x_um, y_um``
        the tile centre), or None without coordinates.
    hotspot
        Per image: ``hotspot_percent`` (highest percent positive of a tile with at least
        ``hotspot_min_cells`` cells), ``global_percent``, ``difference_points`` and
        ``difference_grade`` (``<5``, ``5-10``, ``>=10`` points); None without coordinates.
    marker, thresholds, graded, tile_um, tumour_class
        What was scored and how.
    compartments
        With a tumour boundary: the ``regions.tsv`` columns for ``tumour core`` (signed distance
        < -margin), ``invasive margin`` (within the margin of the border) and ``outside tumour``
        (> margin) of each image (``compartments.tsv``); None without.
    """

    regions: pd.DataFrame
    tiles: pd.DataFrame | None
    hotspot: pd.DataFrame | None
    marker: str
    thresholds: tuple[float, ...] | None
    graded: bool
    tile_um: float
    tumour_class: str | None = None
    compartments: pd.DataFrame | None = None

    def regions_table(self) -> pd.DataFrame:
        """The ``regions.tsv`` table: exactly the contract's columns."""
        return self.regions.loc[:, list(REGION_COLUMNS)]

    def slide(self, image: str | None = None) -> pd.Series:
        """The whole-slide (``ALL``) row of one image (the first by default)."""
        rows = self.regions[self.regions["region"] == ALL]
        if image is not None:
            rows = rows[rows["image"] == image]
        return rows.iloc[0]

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``regions.tsv``, ``tiles.tsv`` and ``hotspot.tsv`` into ``folder``."""
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = [write_table(self.regions_table(), out / "regions.tsv")]
        if self.tiles is not None:
            paths.append(write_table(self.tiles, out / "tiles.tsv"))
        if self.hotspot is not None:
            paths.append(write_table(self.hotspot, out / "hotspot.tsv"))
        if self.compartments is not None:
            cols = list(REGION_COLUMNS)
            paths.append(write_table(self.compartments[cols], out / "compartments.tsv"))
        return paths


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return cat.cat.codes.to_numpy().astype(np.int64), [str(c) for c in cat.cat.categories]


def _hotspot_grade(diff: float) -> str:
    if not np.isfinite(diff):
        return "n/a"
    return "<5" if diff < 5 else ("5-10" if diff < 10 else ">=10")


def biomarker_scores(
    cells: pd.DataFrame,
    *,
    thresholds: Sequence[float] | str | None = None,
    tumour_class: str | None = None,
    tile_um: float = 500.0,
    hotspot_min_cells: int = 500,
    margin_um: float = 500.0,
    source: str | None = None,
) -> BiomarkerResult:
    """Percent positive, H-score and Allred score per region, per tile and for the slide.

    Positivity follows QuPath's positive cell detection: a cell is positive when its marker
    value is >= the threshold; three thresholds grade cells 1+/2+/3+. H-score =
    1 x %1+ + 2 x %2+ + 3 x %3+ (0-300; empty with a single threshold, where QuPath has no
    grades). Allred proportion (0 none, 1 < 1 %, 2 1-10 %, 3 10-33 %, 4 33-67 %, 5 >= 67 %)
    and intensity (0-3, the mean grade of positive cells, > 7/3 strong, > 5/3 moderate)
    follow QuPath's ``DetectionPathClassCounts``. Cells with an empty marker value are counted
    in ``n_missing`` and left out of every percentage.

    Parameters
    ----------
    cells
        The detections frame of :func:`read_detections`.
    thresholds
        One or three increasing thresholds on the marker (e.g. ``(0.2, 0.4, 0.6)``); None uses
        the export's ``Classification`` (``Tumor: Positive``, ``Tumor: 1+``...).
    tumour_class
        Score only cells of this class (e.g. ``Tumor``).
    tile_um
        Side of the square tiles of the tile map, µm.
    hotspot_min_cells
        Cells a tile needs to be a Ki-67 hot-spot candidate.
    margin_um
        Half-width of the invasive margin around the tumour border, µm (500: the 1 mm band of
        Galon et al. 2006 and the Immunoscore); used when the cells carry
        ``boundary_distance_um`` (``read_detections(..., boundary="Tumor")``).
    source
        Name used in error messages (default: the file the cells came from).

    Returns
    -------
    BiomarkerResult

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"image": "s", "region": ["a"] * 4 + ["b"] * 4,
    ...                       "intensity": [0.1, 0.3, 0.5, 0.7, 0.1, 0.1, 0.1, 0.7]})
    >>> r = biomarker_scores(cells, thresholds=(0.2, 0.4, 0.6))
    >>> r.regions_table()[["region", "percent_positive", "h_score"]].to_numpy().tolist()
    [['a', 75.0, 150.0], ['b', 25.0, 75.0], ['ALL', 50.0, 112.5]]
    """
    src = source or str(cells.attrs.get("source", "detections"))
    thr = check_thresholds(thresholds)
    if tile_um <= 0 or not np.isfinite(tile_um):
        raise InputError(f"tile size {tile_um} µm", source="--tile-um", fix="give a size > 0 µm")
    for col in (C.IMAGE, C.REGION):
        if col not in cells:
            raise InputError(f"the detections frame has no {col!r} column", source=src,
                             fix="read it with ithkit.pathology.read_detections")  # fmt: skip
    grade, counted, graded = grade_cells(cells, thr, tumour_class=tumour_class, source=src)
    intensity = cells[C.INTENSITY].to_numpy(dtype=float) if C.INTENSITY in cells else None
    img, img_names = _codes(cells[C.IMAGE])
    reg, reg_names = _codes(cells[C.REGION])
    n_img, n_reg = len(img_names), len(reg_names)
    present = np.bincount(img * n_reg + reg, minlength=n_img * n_reg) > 0
    sel = counted
    g, gi = grade[sel], (intensity[sel] if intensity is not None else None)
    counts, isum = _group_counts(img[sel] * n_reg + reg[sel], n_img * n_reg, g, gi)
    idx = np.flatnonzero(present)
    table = score_counts(counts[idx], isum[idx], graded)
    table.insert(0, "region", [reg_names[i % n_reg] for i in idx])
    table.insert(0, "image", [img_names[i // n_reg] for i in idx])
    empty = table["n_cells"].to_numpy() == 0
    if empty.any():
        row = table.loc[empty].iloc[0]
        what = f"{tumour_class} cells" if tumour_class else "cells"
        raise InputError(
            f"region {row['region']!r} of image {row['image']!r} has no {what} with a marker "
            f"value ({int(row['n_missing'])} missing)", source=src, column="Parent",
            fix="remove the region, or check --tumour-class and the marker column",
        )  # fmt: skip
    c_all, s_all = _group_counts(img[sel], n_img, g, gi)
    slide = score_counts(c_all, s_all, graded)
    slide.insert(0, "region", ALL)
    slide.insert(0, "image", img_names)
    regions = pd.concat([table, slide], ignore_index=True)
    order = np.argsort(regions["image"].map({n: i for i, n in enumerate(img_names)}), kind="stable")
    regions = regions.iloc[order].reset_index(drop=True)

    tiles = hotspot = None
    if C.X_UM in cells and C.Y_UM in cells:
        x = cells[C.X_UM].to_numpy(dtype=float)[sel]
        y = cells[C.Y_UM].to_numpy(dtype=float)[sel]
        ix = np.floor(x / tile_um).astype(np.int64)
        iy = np.floor(y / tile_um).astype(np.int64)
        ox, oy = ix.min(), iy.min()
        span = int(max(ix.max() - ox, iy.max() - oy)) + 1
        key = (img[sel] * span + (ix - ox)) * span + (iy - oy)
        uniq, tile_of = np.unique(key, return_inverse=True)
        tcounts, tsum = _group_counts(tile_of, len(uniq), g, gi)
        tiles = score_counts(tcounts, tsum, graded)
        tx = (uniq // span) % span + ox
        ty = uniq % span + oy
        tiles.insert(0, "image", [img_names[i] for i in uniq // (span * span)])
        tiles.insert(1, "tile_x", tx)
        tiles.insert(2, "tile_y", ty)
        tiles.insert(3, "x_um", (tx + 0.5) * tile_um)
        tiles.insert(4, "y_um", (ty + 0.5) * tile_um)
        tiles = tiles.loc[:, list(TILE_COLUMNS)]
        rows = []
        for name in img_names:
            t = tiles[(tiles["image"] == name) & (tiles["n_cells"] >= hotspot_min_cells)]
            glob = float(slide.loc[slide["image"] == name, "percent_positive"].iloc[0])
            if len(t):
                best = t.loc[t["percent_positive"].idxmax()]
                hot, hx, hy, hn = (float(best["percent_positive"]), float(best["x_um"]),
                                   float(best["y_um"]), int(best["n_cells"]))  # fmt: skip
            else:
                hot = hx = hy = float("nan")
                hn = 0
            rows.append({
                "image": name, "hotspot_percent": hot, "global_percent": glob,
                "difference_points": hot - glob, "difference_grade": _hotspot_grade(hot - glob),
                "hotspot_x_um": hx, "hotspot_y_um": hy, "hotspot_n_cells": hn,
                "tile_um": tile_um, "min_cells": hotspot_min_cells,
            })  # fmt: skip
        hotspot = pd.DataFrame(rows)
    compartments = None
    if C.DISTANCE_UM in cells:
        if not (np.isfinite(margin_um) and margin_um > 0):
            raise InputError(f"margin {margin_um} µm", source="--margin-um",
                             fix="give a half-width > 0 µm, e.g. 500")  # fmt: skip
        d = cells[C.DISTANCE_UM].to_numpy(dtype=float)[sel]
        comp = np.select([d < -margin_um, d <= margin_um, d > margin_um], [0, 1, 2], default=-1)
        ok = comp >= 0
        cc, cs = _group_counts(img[sel][ok] * 3 + comp[ok], n_img * 3, g[ok],
                               None if gi is None else gi[ok])  # fmt: skip
        compartments = score_counts(cc, cs, graded)
        compartments.insert(0, "region", [COMPARTMENTS[i % 3] for i in range(n_img * 3)])
        compartments.insert(0, "image", [img_names[i // 3] for i in range(n_img * 3)])
        keep = (compartments["n_cells"] + compartments["n_missing"]).to_numpy() > 0
        compartments = compartments.loc[keep].reset_index(drop=True)
    marker = str(cells.attrs.get("marker") or ("Classification" if thr is None else "intensity"))
    return BiomarkerResult(
        regions, tiles, hotspot, marker, thr, graded, float(tile_um), tumour_class, compartments
    )
