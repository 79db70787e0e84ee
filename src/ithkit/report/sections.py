"""Report sections for the data every patient brings (one builder per kind of input or result).

Builders take tables that were already computed or read and return a
:class:`~ithkit.report.Section`; figures are drawn by :mod:`ithkit.report.figures`. Without the
``[report]`` extra the figures are replaced by a note and the tables remain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import OptionalDependencyError
from ithkit.report._render import Figure, Item, KeyValues, Section, Table, Text


def _figure(title: str, draw: Callable[[], Any], caption: str = "") -> Item:
    try:
        from ithkit.report.figures import to_svg

        return Figure(title, to_svg(draw()), caption)
    except OptionalDependencyError as exc:
        return Text(f"{title}: figure not drawn ({exc}).")


def patient_section(patient_id: str, summary: Mapping[str, Any]) -> Section:
    """Headline facts about the patient and the data available."""
    values = {"patient": patient_id, **{k: v for k, v in summary.items() if k != "patient_id"}}
    return Section("patient", "Patient summary", [KeyValues("Overview", values)])


def regions_section(variants: pd.DataFrame, purity: pd.DataFrame | None = None) -> Section:
    """Per-region sequencing summary (the variants contract) and the VAF distribution."""
    from ithkit.report import figures

    depth = variants["ref_counts"] + variants["alt_counts"]
    frame = variants.assign(depth=depth, vaf=variants["alt_counts"] / depth.where(depth > 0))
    per = (
        frame.groupby("sample_id", sort=False)
        .agg(
            purity=("tumour_content", "first"),
            n_mutations=("mutation_id", "nunique"),
            detected=("alt_counts", lambda a: int((a > 0).sum())),
            mean_depth=("depth", "mean"),
            median_vaf=("vaf", "median"),
        )
        .reset_index()
    )
    if purity is not None and "purity" in purity.columns:
        per = per.drop(columns="purity").merge(purity[["sample_id", "purity"]], on="sample_id")
    items: list[Item] = [
        Text(
            f"{variants['mutation_id'].nunique()} mutations sequenced in "
            f"{variants['sample_id'].nunique()} regions."
        ),
        Table("Regions", per, "detected: mutations with at least one alt read in the region"),
        _figure("VAF per region", lambda: figures.vaf_by_region(variants)),
    ]
    return Section("regions", "Regions and sequencing data", items)


def truth_section(
    clones: pd.DataFrame,
    clone_ccf: pd.DataFrame,
    newick: str,
    mapping: pd.DataFrame | None = None,
) -> Section:
    """The known clone tree of a virtual patient (ground truth, not an inference).

    ``mapping`` (:func:`ithkit.genomic.match_clones`: true clone -> inferred clone by majority
    overlap) says which inferred ``C`` label stands for which true clone.
    """
    from ithkit.report import figures

    items: list[Item] = [
        Text(
            "This patient is simulated: the tree and clone fractions below are the ground "
            "truth the analyses are judged against. True clones are labelled 'true C1'..., "
            f"inferred clones C1...; the table maps them. Newick: {newick}"
        ),
        _figure("Clone tree and CCF per region", lambda: figures.clone_tree(clones, clone_ccf)),
        Table("True clones", clones.assign(clone_id="true " + clones["clone_id"].astype(str))),
    ]
    if mapping is not None and len(mapping):
        shown = mapping.assign(reference_clone="true " + mapping["reference_clone"].astype(str))
        items.insert(1, Table("True clone -> inferred clone (majority of its mutations)", shown))
    return Section("truth", "True clone tree (virtual patient)", items)


def lesions_section(lesions: pd.DataFrame) -> Section:
    """Lesion sizes over time (the lesions contract)."""
    from ithkit.report import figures

    targets = lesions[lesions["lesion_class"].astype(str) == "target"]
    sums = targets.groupby("timepoint")["diameter_mm"].sum()
    summary = pd.DataFrame(
        {
            "timepoint": sums.index,
            "sum_target_diameters_mm": sums.to_numpy(),
            "change_from_baseline_pct": (
                100 * (sums.to_numpy() / sums.iloc[0] - 1) if len(sums) else np.array([])
            ),
        }
    )
    if "date" in lesions.columns:
        dates = lesions.groupby("timepoint")["date"].first()
        summary.insert(1, "date", summary["timepoint"].map(dates))
    return Section(
        "lesions",
        "Lesions over time",
        [
            _figure("Lesion diameters", lambda: figures.lesion_sizes(lesions)),
            Table("Sum of target lesion diameters", summary),
        ],
    )


def ctdna_section(ctdna: pd.DataFrame) -> Section:
    """Plasma variant allele fractions over time (the ctDNA contract)."""
    from ithkit.report import figures

    frame = ctdna.assign(vaf=ctdna["alt_counts"] / ctdna["depth"])
    per_tp = frame.groupby("timepoint").agg(
        n_variants=("mutation_id", "nunique"),
        mean_vaf=("vaf", "mean"),
        median_depth=("depth", "median"),
    )
    return Section(
        "ctdna",
        "Circulating tumour DNA",
        [
            _figure("Plasma VAF per mutation", lambda: figures.ctdna_series(ctdna)),
            Table("Per blood draw", per_tp.reset_index()),
        ],
    )
