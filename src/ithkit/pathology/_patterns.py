"""Morphologic heterogeneity: growth-pattern mix, IASLC 2020 grade, diversity, kappa."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._diversity import shannon, simpson
from ithkit._errors import InputError

# lung adenocarcinoma growth patterns (WHO 2021), low to high grade
PATTERNS = ("lepidic", "acinar", "papillary", "micropapillary", "solid", "cribriform",
            "complex_glandular")  # fmt: skip
HIGH_GRADE = frozenset({"micropapillary", "solid", "cribriform", "complex_glandular"})
_GRADE_OF_PREDOMINANT = {"lepidic": 1, "acinar": 2, "papillary": 2}


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa between two raters' categorical labels of the same items.

    Examples
    --------
    >>> # Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4
    >>> a = ["y"] * 25 + ["n"] * 25
    >>> b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    >>> round(cohen_kappa(a, b), 4)
    0.4
    """
    x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if x.size != y.size or x.size == 0:
        raise InputError("the raters label different numbers of items", source="kappa",
                         fix="give both raters' labels of the same items")  # fmt: skip
    cats = sorted(set(x) | set(y), key=str)
    po = float((x == y).mean())
    pe = sum(float((x == k).mean()) * float((y == k).mean()) for k in cats)
    return float("nan") if pe >= 1 else (po - pe) / (1 - pe)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items x categories table of rater counts (same raters per item).

    Examples
    --------
    >>> # Fleiss (1971) as worked in Wikipedia's article: 10 items, 5 categories, 14 raters
    >>> t = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
    ...      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
    ...      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> round(fleiss_kappa(t), 3)
    0.21
    """
    n = np.asarray(counts, dtype=float)
    m = n.sum(axis=1)
    if n.ndim != 2 or n.shape[0] == 0 or not np.allclose(m, m[0]) or m[0] < 2:
        raise InputError("every item needs the same number (>= 2) of ratings", source="kappa",
                         fix="keep the items that every observer rated")  # fmt: skip
    r = m[0]
    p_item = ((n * n).sum(axis=1) - r) / (r * (r - 1))
    p_cat = n.sum(axis=0) / n.sum()
    pe = float((p_cat**2).sum())
    return float("nan") if pe >= 1 else (float(p_item.mean()) - pe) / (1 - pe)


def iaslc_grade(percent: dict[str, float]) -> int:
    """IASLC 2020 grade of invasive non-mucinous lung adenocarcinoma from pattern percentages.

    Grade 3: >= 20 % high-grade patterns (solid, micropapillary, cribriform, complex glandular)
    or a high-grade predominant pattern; otherwise grade 1 if lepidic predominant, 2 if acinar or
    papillary predominant (Moreira et al., J Thorac Oncol 2020;15:1599).

    Examples
    --------
    >>> iaslc_grade({"lepidic": 70, "acinar": 20, "solid": 10})
    1
    >>> iaslc_grade({"acinar": 60, "lepidic": 20, "micropapillary": 20})
    3
    """
    high = sum(v for k, v in percent.items() if k in HIGH_GRADE)
    pred = predominant(percent)
    if high >= 20 or pred in HIGH_GRADE:
        return 3
    return _GRADE_OF_PREDOMINANT[pred]


def predominant(percent: dict[str, float]) -> str:
    """The pattern with the largest share (ties go to the higher-grade pattern).

    Examples
    --------
    >>> predominant({"acinar": 40, "solid": 40, "lepidic": 20})
    'solid'
    """
    rank = {p: i for i, p in enumerate(PATTERNS)}
    return max(percent, key=lambda k: (percent[k], rank.get(k, -1)))


def round5(percent: np.ndarray) -> np.ndarray:
    """Percentages in 5 % steps as pathologists record them (a present pattern is >= 5 %).

    Examples
    --------
    >>> round5(np.array([61.0, 2.0, 37.0, 0.0])).tolist()
    [60.0, 5.0, 35.0, 0.0]
    """
    p = np.asarray(percent, dtype=float)
    out = np.floor(p / 5 + 0.5) * 5
    return np.where((p > 0) & (out == 0), 5.0, out)


@dataclass(frozen=True)
class PatternResult:
    """Growth-pattern heterogeneity per observer and agreement between observers.

    Attributes
    ----------
    fractions
        ``observer, pattern, area_mm2, fraction, percent_5`` (fraction of the tumour area and its
        percent in 5 % steps; ``fractions.tsv``).
    summary
        ``observer, total_area_mm2, predominant_pattern, high_grade_percent, iaslc_grade,
        shannon, simpson, n_patterns`` (``summary.tsv``).
    agreement
        ``method, observers, n_regions, kappa`` (Cohen's kappa per pair, Fleiss' kappa over all)
        on each region's main pattern; empty with one observer (``agreement.tsv``).
    """

    fractions: pd.DataFrame
    summary: pd.DataFrame
    agreement: pd.DataFrame

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``fractions.tsv``, ``summary.tsv`` and (several observers) ``agreement.tsv``."""
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = [write_table(self.fractions, out / "fractions.tsv"),
                 write_table(self.summary, out / "summary.tsv")]  # fmt: skip
        if len(self.agreement):
            paths.append(write_table(self.agreement, out / "agreement.tsv"))
        return paths


def _clean(table: pd.DataFrame, source: str) -> pd.DataFrame:
    need = ["region_id", "pattern", "area_mm2"]
    missing = [c for c in need if c not in table]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}", source=source, column=missing[0],
            fix="the table needs region_id, pattern, area_mm2 (+ observer)",
        )  # fmt: skip
    t = table.copy()
    t["region_id"] = t["region_id"].astype(str)
    t["observer"] = t["observer"].astype(str) if "observer" in t else "1"
    norm = t["pattern"].astype(str).str.strip().str.lower().str.replace(r"[\s-]+", "_", regex=True)
    for i, p in enumerate(norm):
        if p not in PATTERNS:
            close = difflib.get_close_matches(p, PATTERNS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(f"unknown pattern {table['pattern'].iloc[i]!r}", source=source,
                             row=i + 2, column="pattern",
                             fix=f"{hint}patterns are {', '.join(PATTERNS)}")  # fmt: skip
    t["pattern"] = norm
    area = pd.to_numeric(t["area_mm2"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(area) | (area < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"area {table['area_mm2'].iloc[i]!r} is not a number >= 0",
                         source=source, row=i + 2, column="area_mm2",
                         fix="give each region's area in mm² (e.g. 0.35)")  # fmt: skip
    if area.max() > 1e4:
        raise InputError(f"area {area.max()} mm² is implausible", source=source,
                         column="area_mm2", fix="areas are in mm², not µm²")  # fmt: skip
    t["area_mm2"] = area
    return t


def patterns(table: pd.DataFrame | str | Path, *, source: str | None = None) -> PatternResult:
    """Growth-pattern fractions, predominant pattern, IASLC 2020 grade, diversity and kappa.

    Parameters
    ----------
    table
        Rows ``region_id, pattern, area_mm2`` (+ ``observer``): the area of each pattern in each
        region as an observer scored it; a DataFrame or a TSV/CSV path.
    source
        Name used in error messages.

    Returns
    -------
    PatternResult
        Diversity is Shannon's (natural log) and Simpson's (1 - sum p²) over area fractions; the
        grade uses the percentages in 5 % steps, as pathologists record them. Agreement compares
        each region's main pattern (largest area) across the observers who rated every region.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region_id": ["r1", "r2", "r3"],
    ...                   "pattern": ["acinar", "solid", "lepidic"],
    ...                   "area_mm2": [6.0, 2.5, 1.5]})
    >>> s = patterns(t).summary.iloc[0]
    >>> s["predominant_pattern"], float(s["high_grade_percent"]), int(s["iaslc_grade"])
    ('acinar', 25.0, 3)
    """
    if not isinstance(table, pd.DataFrame):
        src = str(table)
        p = Path(table)
        if not p.exists():
            raise InputError("file not found", source=p, fix="check the path")
        sep = "," if p.suffix.lower() == ".csv" else "\t"
        table = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    else:
        src = source or "patterns"
    if len(table) == 0:
        raise InputError("the table has no rows", source=src, fix="add one row per region")
    t = _clean(table, source or src)
    frac_rows, sum_rows = [], []
    for obs, g in t.groupby("observer", sort=True):
        area = g.groupby("pattern")["area_mm2"].sum()
        total = float(area.sum())
        if total <= 0:
            raise InputError(f"observer {obs!r} has total area 0", source=src,
                             column="area_mm2", fix="give areas > 0")  # fmt: skip
        frac = area / total
        pct5 = round5(100 * frac.to_numpy())
        for pat, f, p5 in zip(frac.index, frac.to_numpy(), pct5, strict=True):
            frac_rows.append({"observer": obs, "pattern": pat, "area_mm2": float(area[pat]),
                              "fraction": float(f), "percent_5": float(p5)})  # fmt: skip
        percent = dict(zip(frac.index, pct5, strict=True))
        pf = frac.to_numpy()
        pf = pf[pf > 0]
        sum_rows.append({
            "observer": obs, "total_area_mm2": total, "predominant_pattern": predominant(percent),
            "high_grade_percent": float(sum(v for k, v in percent.items() if k in HIGH_GRADE)),
            "iaslc_grade": iaslc_grade(percent), "shannon": shannon(pf),
            "simpson": simpson(pf), "n_patterns": int(pf.size),
        })  # fmt: skip
    agree_rows = []
    observers = sorted(t["observer"].unique())
    if len(observers) > 1:
        main = (t.sort_values("area_mm2", ascending=False)
                .drop_duplicates(["observer", "region_id"])
                .pivot(index="region_id", columns="observer", values="pattern")
                .dropna())  # fmt: skip
        for a, b in combinations(observers, 2):
            kappa = cohen_kappa(main[a].tolist(), main[b].tolist())
            agree_rows.append({"method": "cohen", "observers": f"{a},{b}", "n_regions": len(main),
                               "kappa": kappa})  # fmt: skip
        cats = list(PATTERNS)
        counts = np.stack([(main.to_numpy() == c).sum(axis=1) for c in cats], axis=1)
        agree_rows.append({"method": "fleiss", "observers": ",".join(observers),
                           "n_regions": len(main), "kappa": fleiss_kappa(counts)})  # fmt: skip
    agreement = pd.DataFrame(agree_rows, columns=["method", "observers", "n_regions", "kappa"])
    return PatternResult(pd.DataFrame(frac_rows), pd.DataFrame(sum_rows), agreement)
