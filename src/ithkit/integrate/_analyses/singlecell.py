"""The single-cell analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ithkit import _names
from ithkit._errors import InputError
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

_CELL_TYPE_KEYS = ("cell_type", "celltype", "cell_types", "CellType", "annotation")


def reference_of(adata: Any) -> tuple[str, list[str]] | None:
    """The reference key and normal categories: from ``.uns['ithkit']`` or guessed.

    ``.uns['ithkit'] = {'reference_key': ..., 'reference': [...]}`` wins; otherwise the first
    cell-type column whose immune categories (T/B/NK cells, macrophages...) can serve.
    """
    from ithkit.spatial import guess_labels

    info = adata.uns.get(_names.UNS_ITHKIT, {})
    if _names.UNS_REFERENCE_KEY in info and _names.UNS_REFERENCE in info:
        ref = info[_names.UNS_REFERENCE]
        return str(info[_names.UNS_REFERENCE_KEY]), [str(r) for r in ref]
    for key in _CELL_TYPE_KEYS:
        if key in adata.obs.columns:
            _, immune = guess_labels(list(adata.obs[key].astype(str).unique()))
            if immune:
                return key, sorted(immune)
    return None


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """CNV subclones and ITH scores of the patient's scRNA-seq.

    Files go to ``out_dir/singlecell/`` (``cnv.h5ad``, ``subclones.tsv``, ``metrics.tsv``).
    """
    path = data.singlecell
    assert path is not None
    from ithkit.io import write_table
    from ithkit.io._anndata import write_h5ad
    from ithkit.report.singlecell import singlecell_section
    from ithkit.singlecell import infer_cnv, ith_scores, read_h5ad, subclone_tree

    adata = read_h5ad(path)
    out = Path(out_dir) / "singlecell"
    out.mkdir(parents=True, exist_ok=True)
    ref = reference_of(adata)
    if ref is None:
        # no silent skip of the CNV step: say which keys were looked for and which exist
        present = [str(c) for c in adata.obs.columns]
        raise InputError(
            "no reference cells for CNV inference: no obs column "
            f"{'/'.join(_CELL_TYPE_KEYS)} with immune categories, and no "
            f".uns['{_names.UNS_ITHKIT}']['{_names.UNS_REFERENCE_KEY}']",
            source=str(path),
            column="obs",
            fix=f"obs columns present: {', '.join(present[:12]) or 'none'}; name the cell-type "
            f"column (e.g. adata.uns['ithkit'] = {{'reference_key': 'my_types', "
            "'reference': ['T cell', 'B cell']}) or rename it cell_type",
        )
    tables = {}
    tree = None
    if ref is not None:
        window = min(100, max(15, adata.n_vars // 80))
        infer_cnv(adata, reference_key=ref[0], reference=ref[1], window=window,
                  step=max(1, window // 10), seed=seed, source=str(path))  # fmt: skip
        subclones = adata.uns["cnv"]["subclones"]
        write_table(subclones, out / "subclones.tsv")
        tables[_names.SINGLECELL_SUBCLONES] = subclones
        if len(subclones):  # the tree the report draws is a file of the run
            tree = subclone_tree(subclones)
            write_table(tree, out / "subclone_tree.tsv")
    if "malignant" in adata.obs.columns:
        metrics = ith_scores(adata, seed=seed, source=str(path))
    else:
        import pandas as pd

        metrics = pd.DataFrame({"metric": ["n_cells"], "value": [float(adata.n_obs)]})
    write_table(metrics, out / "metrics.tsv")
    write_h5ad(adata, out / "cnv.h5ad")
    tables[_names.SINGLECELL_METRICS] = metrics
    return AnalysisOutput(
        result=adata,
        tables=tables,
        sections=[singlecell_section(adata, metrics, tree=tree, seed=seed)],
        profile=singlecell_profile(metrics),
    )


def singlecell_profile(metrics: Any) -> list[ProfileScore]:
    """CNV subclones, their diversity and the malignant fraction, from ``metrics.tsv``."""
    m = dict(zip(metrics["metric"], metrics["value"], strict=True))
    src = "singlecell/metrics.tsv"
    spec = (
        ("n_subclones", "n_cnv_subclones", "subclones"),
        ("subclone_shannon", "subclone_shannon", "nats"),
        ("malignant_fraction", "malignant_fraction", "fraction"),
    )
    return [
        ProfileScore(score, float(m[metric]), unit, src)
        for metric, score, unit in spec
        if metric in m
    ]
