"""File-to-file runs of the pathology analyses, as the command line calls them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from ithkit.pathology._heterogeneity import (
    DEFAULT_CORE_SIZES_UM,
    CutpointMetric,
    HeterogeneityResult,
    heterogeneity,
)
from ithkit.pathology._ish import IshResult, her2_ish
from ithkit.pathology._read import read_detections
from ithkit.pathology._scores import BiomarkerResult, biomarker_scores


def biomarker_to_files(
    cells_path: str | Path,
    out: str | Path,
    *,
    marker: str | None = None,
    region_key: str | None = "Parent",
    thresholds: str | Sequence[float] | None = None,
    tile_um: float = 500.0,
    tumour_class: str | None = None,
    pixel_size_um: float | None = None,
    columns: str | None = None,
    boundary: str | None = None,
    margin_um: float = 500.0,
    cutpoint: float | None = None,
    metric: str = "percent_positive",
    core_um: float = 1000.0,
    core_sizes_um: Sequence[float] = DEFAULT_CORE_SIZES_UM,
    n_cores: int = 500,
    hotspot_min_cells: int = 500,
    min_tile_cells: int = 50,
    seed: int | None = 0,
) -> tuple[BiomarkerResult, HeterogeneityResult, int, list[Path]]:
    """Read, score and measure heterogeneity; write every table into ``out``.

    Returns the scores, the heterogeneity, the number of cells read and the files written.
    """
    cells = read_detections(cells_path, marker, region_key=region_key,
                            pixel_size_um=pixel_size_um, columns=columns,
                            boundary=boundary)  # fmt: skip
    scores = biomarker_scores(cells, thresholds=thresholds, tumour_class=tumour_class,
                              tile_um=tile_um, hotspot_min_cells=hotspot_min_cells,
                              margin_um=margin_um)  # fmt: skip
    het = heterogeneity(cells, scores, cutpoint=cutpoint, metric=cast("CutpointMetric", metric),
                        core_um=core_um,
                        core_sizes_um=core_sizes_um, n_cores=n_cores,
                        min_tile_cells=min_tile_cells, seed=seed)  # fmt: skip
    paths = scores.write(out) + het.write(out)
    return scores, het, len(cells), paths


def ish_to_files(
    cells_path: str | Path,
    out: str | Path,
    *,
    columns: str,
    region_key: str | None = "Parent",
    cell_ratio_threshold: float = 2.2,
) -> tuple[IshResult, list[Path]]:
    """HER2 ISH heterogeneity of a per-cell count table, written to ``out/ish.tsv``."""
    cells = read_detections(cells_path, None, region_key=region_key, columns=columns)
    res = her2_ish(cells, cell_ratio_threshold=cell_ratio_threshold, source=str(cells_path))
    Path(out).mkdir(parents=True, exist_ok=True)
    return res, res.write(out)
