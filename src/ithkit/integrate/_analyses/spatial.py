"""The spatial analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit._errors import InputError
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

_LABEL_KEYS = ("cell_type", "celltype", "label", "phenotype", "clone", "subclone")


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Spatial heterogeneity of the patient's section.

    The label column is ``.uns['ithkit']['label_key']`` or the first of ``cell_type``,
    ``celltype``, ``label``, ``phenotype``, ``clone``, ``subclone``. Files go to
    ``out_dir/spatial/``.
    """
    path = data.spatial
    assert path is not None
    from ithkit.report.spatial import spatial_section
    from ithkit.singlecell import read_h5ad
    from ithkit.spatial import heterogeneity

    adata = read_h5ad(path)
    label_key = adata.uns.get(_names.UNS_ITHKIT, {}).get(_names.UNS_LABEL_KEY)
    if label_key is None:
        label_key = next((k for k in _LABEL_KEYS if k in adata.obs.columns), None)
    if label_key is None:
        raise InputError(
            f"no label column among {list(_LABEL_KEYS)} in .obs", source=path,
            fix="name the cell type column cell_type, or set .uns['ithkit']['label_key']",
        )  # fmt: skip
    result = heterogeneity(adata, str(label_key), n_perms=200, seed=seed, source=str(path))
    result.write(Path(out_dir) / "spatial")
    summary = result.summary.assign(
        value=pd.to_numeric(result.summary["value"], errors="coerce"),
        text=result.summary["value"].map(lambda v: v if isinstance(v, str) else None),
    )
    tables = {_names.SPATIAL_SUMMARY: summary, _names.SPATIAL_ENRICHMENT: result.enrichment}
    return AnalysisOutput(
        result=result,
        tables=tables,
        sections=[spatial_section(result, seed=seed)],
        profile=spatial_profile(result.summary),
    )


def spatial_profile(summary: pd.DataFrame) -> list[ProfileScore]:
    """Immune infiltration, mean local Shannon diversity and tumour-immune enrichment."""
    m = dict(zip(summary["metric"], summary["value"], strict=True))
    src = "spatial/summary.tsv"
    out = []
    if "infiltration_category" in m:
        out.append(ProfileScore("immune_infiltration", str(m["infiltration_category"]),
                                "category", src))  # fmt: skip
    for metric, score, unit in (
        ("mean_local_shannon", "local_shannon_mean", "nats"),
        ("tumour_immune_enrichment_z", "tumour_immune_enrichment_z", "z-score"),
    ):
        if metric in m:
            out.append(ProfileScore(score, float(m[metric]), unit, src))
    return out
