"""The pathology analysis of one patient, as ``ithkit run`` applies it.

The manifest key ``pathology:`` is either the path of a cell-detection export (scored from its
``Classification``) or a mapping::

    pathology:
      detections: cells.tsv            # QuPath "Export measurements" (path, required)
      marker: "Nucleus: DAB OD mean"   # intensity column
      thresholds: [0.2, 0.4, 0.6]      # one or three (or "0.2,0.4,0.6")
      tumour_class: Tumor
      cutpoint: 10                     # clinical cut-point (percent or H-score)
      cutpoint_metric: percent_3plus   # percent_positive | percent_3plus | h_score
      tile_um: 500
      core_um: 1000
      # also: region_key, pixel_size_um, columns, boundary, margin_um, hotspot_min_cells
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from ithkit import _names
from ithkit._errors import InputError
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

OPTIONS = {
    "detections": "path", "marker": "text", "thresholds": "list", "tumour_class": "text",
    "cutpoint": "number", "cutpoint_metric": "text", "tile_um": "number", "core_um": "number",
    "region_key": "text", "pixel_size_um": "number", "columns": "text", "boundary": "text",
    "margin_um": "number", "hotspot_min_cells": "number",
}  # fmt: skip


def settings(value: Any, *, source: str = "manifest") -> dict[str, Any]:
    """The ``pathology:`` manifest value as keyword settings, checked.

    Examples
    --------
    >>> settings({"detections": Path("c.tsv"), "thresholds": [0.2, 0.4, 0.6], "cutpoint": 10})
    {'detections': PosixPath('c.tsv'), 'thresholds': (0.2, 0.4, 0.6), 'cutpoint': 10.0}
    """
    if isinstance(value, (str, Path)):
        return {"detections": Path(value)}
    if not isinstance(value, dict) or "detections" not in value:
        raise InputError(
            "pathology needs a detections file", source=source, column="pathology",
            fix="write 'pathology:' with an indented 'detections: cells.tsv'",
        )  # fmt: skip
    out: dict[str, Any] = {}
    for key, v in value.items():
        kind = OPTIONS.get(key)
        if kind is None:
            raise InputError(f"unknown pathology setting {key!r}", source=source,
                             column=f"pathology.{key}",
                             fix=f"settings are {', '.join(OPTIONS)}")  # fmt: skip
        if kind == "number":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"pathology.{key} must be a number, got {v!r}", source=source,
                                 column=f"pathology.{key}", fix="write e.g. 500")  # fmt: skip
            v = float(v)
        elif kind == "list":
            from ithkit.pathology import check_thresholds

            v = check_thresholds(v if isinstance(v, str) else [float(x) for x in v])
        elif kind == "text":
            v = str(v)
        out[key] = v
    return out


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Biomarker scores and heterogeneity of the patient's cell detections.

    Files go to ``out_dir/pathology/`` (``regions.tsv``, ``tiles.tsv``, ``hotspot.tsv``,
    ``heterogeneity.tsv``, ``biopsy.tsv``); the store gets the regions and the heterogeneity;
    the report gets the tile map, the per-region bars with the cut-point and the biopsy curve.
    """
    from ithkit.pathology import biomarker_scores, heterogeneity, read_detections
    from ithkit.report.pathology import pathology_section

    source = str(data.manifest or "manifest")
    opts = settings(data.extra["pathology"], source=source)
    cells = read_detections(
        opts["detections"], opts.get("marker"), region_key=opts.get("region_key", "Parent"),
        pixel_size_um=opts.get("pixel_size_um"), columns=opts.get("columns"),
        boundary=opts.get("boundary"),
    )  # fmt: skip
    scores = biomarker_scores(
        cells, thresholds=opts.get("thresholds"), tumour_class=opts.get("tumour_class"),
        tile_um=opts.get("tile_um", 500.0),
        hotspot_min_cells=int(opts.get("hotspot_min_cells", 500)),
        margin_um=opts.get("margin_um", 500.0),
    )  # fmt: skip
    metric = opts.get("cutpoint_metric", "percent_positive")
    het = heterogeneity(
        cells, scores, cutpoint=opts.get("cutpoint"), metric=cast(Any, metric),
        core_um=opts.get("core_um", 1000.0), seed=seed,
    )  # fmt: skip
    folder = Path(out_dir) / "pathology"
    scores.write(folder)
    het.write(folder)
    tables = {_names.PATHOLOGY_REGIONS: scores.regions_table(),
              _names.PATHOLOGY_HETEROGENEITY: het.table}  # fmt: skip
    return AnalysisOutput(
        result=(scores, het),
        tables=tables,
        sections=[pathology_section(scores, het)],
        profile=pathology_profile(scores, het),
    )


def pathology_profile(scores: Any, het: Any) -> list[ProfileScore]:
    """Percent positive, H-score CV, regions below the cut-point, one-core discordance.

    The spread is across annotations when the slide has two or more, else across tiles.
    """
    slide = scores.slide()
    out = [ProfileScore("percent_positive", float(slide["percent_positive"]), "percent",
                        "pathology/regions.tsv", f"marker {scores.marker}")]  # fmt: skip
    n_regions = het.value("n_regions", scheme="annotation")
    scheme = "annotation" if n_regions >= 2 else "tile"
    src = "pathology/heterogeneity.tsv"
    cv = het.value("h_score_cv", scheme=scheme)
    if np.isfinite(cv):
        out.append(ProfileScore("hscore_cv", cv, "ratio", src, f"across {scheme}s"))
    below = het.value("fraction_below_cutpoint", scheme=scheme)
    if np.isfinite(below):
        out.append(ProfileScore("regions_below_cutpoint_fraction", below, "fraction", src,
                                f"{het.metric} cut-point {het.cutpoint:g}, {scheme}s"))  # fmt: skip
    d = het.value("single_core_discordance")
    if np.isfinite(d):
        lo = het.value("single_core_discordance_ci_low")
        hi = het.value("single_core_discordance_ci_high")
        core = het.value("core_um")
        out.append(ProfileScore("single_core_discordance", d, "fraction", src,
                                f"{core:.0f} µm core; 95% CI {lo:.3f}-{hi:.3f}"))  # fmt: skip
    return out
