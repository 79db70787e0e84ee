"""Synthetic QuPath detection exports with planted regional heterogeneity and known truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError

# fractions of negative, 1+, 2+, 3+ tumour cells per annotation: HER2 3+ is frequent in one
# region only (the "hot region"), the margin is nearly negative
DEFAULT_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "tumor core": (0.60, 0.25, 0.10, 0.05),
    "invasive margin": (0.85, 0.10, 0.05, 0.00),
    "hot region": (0.20, 0.15, 0.15, 0.50),
    "mixed region": (0.45, 0.20, 0.15, 0.20),
}
THRESHOLDS = (0.2, 0.4, 0.6)
MARKER = "Nucleus: DAB OD mean"
# marker value bands of each grade; every value is 0.01 or more away from a threshold
_BANDS = ((0.0, 0.19), (0.21, 0.39), (0.41, 0.59), (0.61, 1.0))
_GRADE_NAMES = ("Negative", "1+", "2+", "3+")


@dataclass(frozen=True)
class SimulatedDetections:
    """A synthetic detection export and its truth.

    Attributes
    ----------
    table
        The export with QuPath's column names (``Image, Object type, Name, Classification,
        Parent, ROI, Centroid X µm, Centroid Y µm, Nucleus: DAB OD mean``).
    truth
        Per region and for the slide (``ALL``): ``image, region, n_cells, n_positive,
        percent_positive, h_score, percent_3plus`` of the tumour cells with a marker value.
    thresholds, marker
        The thresholds the classes were made with and the marker column.
    """

    table: pd.DataFrame
    truth: pd.DataFrame
    thresholds: tuple[float, ...] = THRESHOLDS
    marker: str = MARKER
    regions: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def write(self, folder: str | Path, *, name: str = "detections.tsv") -> list[Path]:
        """Write the export (tab-separated, as QuPath does) and ``truth.tsv``."""
        import pyarrow as pa
        from pyarrow import csv as pacsv

        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        target = out / name
        tab = pa.Table.from_pandas(self.table, preserve_index=False)
        tab = tab.cast(pa.schema([
            pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
            for f in tab.schema
        ]))  # fmt: skip
        # QuPath writes no quotes, the header included
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            fh.write(("\t".join(tab.column_names) + "\n").encode("utf-8"))
            options = pacsv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False)
            pacsv.write_csv(tab, fh, options)
        return [target, write_table(self.truth, out / "truth.tsv")]


def _truth(image: str, names: Sequence[str], region: np.ndarray, grade: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, name in [*enumerate(names), (-1, "ALL")]:
        g = grade[(region == i) | (i == -1)]
        g = g[g >= 0]
        n = g.size
        c = np.bincount(g, minlength=4)
        rows.append({
            "image": image, "region": name, "n_cells": n, "n_positive": int(c[1:].sum()),
            "percent_positive": 100.0 * c[1:].sum() / n, "h_score": 100.0 * (c[1] + 2 * c[2]
            + 3 * c[3]) / n, "percent_3plus": 100.0 * c[3] / n,
        })  # fmt: skip
    return pd.DataFrame(rows)


def simulate_detections(
    n_cells: int = 20000,
    *,
    regions: Mapping[str, Sequence[float]] | None = None,
    region_um: float = 2000.0,
    stroma_fraction: float = 0.1,
    missing_fraction: float = 0.0,
    image: str = "sim-1",
    seed: int | None = 0,
) -> SimulatedDetections:
    """A QuPath-like cell-detection export with planted regional heterogeneity.

    The section is a row of square annotations (``Annotation (<name>)``), ``region_um`` wide,
    each with its own mix of negative, 1+, 2+ and 3+ tumour cells; cells lie uniformly at random.
    Marker values fall in a band of each grade away from the thresholds 0.2/0.4/0.6, so
    thresholding gives back the planted classes exactly; ``Classification`` is what QuPath's
    positive cell detection would write (``Tumor: 2+``), ``Stroma`` for stroma cells.

    Parameters
    ----------
    n_cells
        Cells in the section (tumour and stroma).
    regions
        Annotation name -> fractions of negative, 1+, 2+, 3+ tumour cells (summing to 1);
        default :data:`DEFAULT_REGIONS` (HER2 3+ common in one region only).
    region_um
        Side of each square annotation, µm.
    stroma_fraction
        Fraction of cells that are stroma (class ``Stroma``, low marker).
    missing_fraction
        Fraction of tumour cells whose marker value is empty (as when an image lacked the
        measurement); they are classed ``Tumor``.
    image
        Image name.
    seed
        Seed.

    Returns
    -------
    SimulatedDetections

    Examples
    --------
    >>> sim = simulate_detections(2000, seed=1)
    >>> bool(sim.truth.set_index("region").loc["hot region", "percent_3plus"] > 40)
    True
    """
    spec = {k: tuple(float(v) for v in f) for k, f in (regions or DEFAULT_REGIONS).items()}
    for name, frac in spec.items():
        if len(frac) != 4 or min(frac) < 0 or abs(sum(frac) - 1) > 1e-6:
            raise InputError(
                f"region {name!r} fractions {frac} do not sum to 1 over four grades",
                source="regions", fix="give fractions of negative, 1+, 2+, 3+ cells summing to 1",
            )  # fmt: skip
    if n_cells < 1 or not 0 <= stroma_fraction < 1 or not 0 <= missing_fraction < 1:
        raise InputError("n_cells < 1 or a fraction outside [0, 1)", source="simulate_detections",
                         fix="give n_cells >= 1 and fractions in [0, 1)")  # fmt: skip
    rng = np.random.default_rng(seed)
    names = list(spec)
    k = len(names)
    region = rng.integers(0, k, size=n_cells)
    x = (region + rng.random(n_cells)) * region_um
    y = rng.random(n_cells) * region_um
    stroma = rng.random(n_cells) < stroma_fraction
    probs = np.array([spec[n] for n in names])
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    grade = (rng.random(n_cells)[:, None] > cum[region]).sum(axis=1).astype(np.int64)
    lo = np.array([b[0] for b in _BANDS])[grade]
    hi = np.array([b[1] for b in _BANDS])[grade]
    value = lo + (hi - lo) * rng.random(n_cells)
    value[stroma] = rng.uniform(0.0, 0.15, size=int(stroma.sum()))
    missing = ~stroma & (rng.random(n_cells) < missing_fraction)
    value[missing] = np.nan
    cls_names = [f"Tumor: {g}" for g in _GRADE_NAMES] + ["Stroma", "Tumor"]
    cls_code = np.where(stroma, 4, np.where(missing, 5, grade))
    table = pd.DataFrame({
        "Image": pd.Categorical.from_codes(np.zeros(n_cells, np.int8), categories=[image]),
        "Object type": pd.Categorical.from_codes(np.zeros(n_cells, np.int8), categories=["Cell"]),
        "Name": pd.Categorical.from_codes(np.zeros(n_cells, np.int8), categories=[""]),
        "Classification": pd.Categorical.from_codes(cls_code, categories=cls_names),
        "Parent": pd.Categorical.from_codes(
            region, categories=[f"Annotation ({n})" for n in names]),
        "ROI": pd.Categorical.from_codes(np.zeros(n_cells, np.int8), categories=["Polygon"]),
        "Centroid X µm": np.round(x, 1),
        "Centroid Y µm": np.round(y, 1),
        MARKER: np.round(value, 4),
    })  # fmt: skip
    truth_grade = np.where(stroma | missing, -1, grade)
    truth = _truth(image, names, region, truth_grade)
    return SimulatedDetections(table, truth, THRESHOLDS, MARKER, spec)
