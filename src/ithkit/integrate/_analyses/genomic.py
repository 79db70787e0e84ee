"""The genomic analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Run :func:`ithkit.genomic.analyze` on the patient's variants.

    Files go to ``out_dir/genomic/`` (with ``callers/`` when the variants were made from a
    manifest's ``vcf`` + ``copy_number``: the table, its per-sample summary, the segments);
    the store gets the mutation, CCF, clone, tree and metric tables (and the summary); the
    report gets the genomic section; the profile gets the number of clones, the fraction of
    subclonal mutations, MATH, clone diversity and the clones one region misses.
    """
    from ithkit.genomic import analyze as analyze_variants
    from ithkit.io import write_table
    from ithkit.report.genomic import genomic_section
    from ithkit.report.sections import regions_section

    assert data.variants is not None
    result = analyze_variants(data.variants, segments=data.segments, seed=seed)
    result.write(Path(out_dir) / "genomic")
    regions = regions_table(data.variants, data.purity)
    write_table(regions, Path(out_dir) / "genomic" / "regions.tsv")
    tables = {
        _names.GENOMIC_MUTATIONS: result.mutations,
        _names.GENOMIC_MUTATION_CCF: result.mutation_ccf,
        _names.GENOMIC_CLONES: result.clones,
        _names.GENOMIC_TREE: result.tree.tree.assign(n_consistent_trees=result.tree.n_consistent),
        _names.GENOMIC_METRICS: result.metrics,
        _names.GENOMIC_ADEQUACY: result.adequacy.curve,
    }
    converted = data.extra.get("vcf")  # variants made from the callers' outputs
    if converted is not None:
        folder = Path(out_dir) / "genomic" / "callers"
        converted.write(folder / "variants.tsv")
        (folder / "notes.txt").write_text("".join(f"{n}\n" for n in converted.notes))
        tables[_names.GENOMIC_CONVERSION] = converted.summary
    sections = [regions_section(regions, result.mutation_ccf), genomic_section(result)]
    if converted is not None:
        from ithkit.report.genomic import conversion_section

        sections.append(conversion_section(converted))
    return AnalysisOutput(
        result=result,
        tables=tables,
        sections=sections,
        profile=genomic_profile(result),
    )


def genomic_profile(result: object) -> list[ProfileScore]:
    """The genomic scores of the ITH profile, read from the analysis' tables."""
    from ithkit.genomic import GenomicResult

    assert isinstance(result, GenomicResult)
    whole = result.metrics[result.metrics["sample_id"] == "ALL"].iloc[0]
    metrics = "genomic/metrics.tsv"
    missed = _clones_missed_by_one_region(result)
    return [
        ProfileScore("n_clones", int(whole["n_clones"]), "clones", metrics),
        ProfileScore("fraction_subclonal", float(whole["fraction_subclonal"]), "fraction",
                     metrics, "mutations not truncal"),
        ProfileScore("math", float(whole["math"]), "MATH", metrics,
                     "all detected mutation-region pairs"),
        ProfileScore("clone_shannon", float(whole["shannon"]), "nats", metrics),
        ProfileScore("clones_missed_by_one_region", missed, "clones", "genomic/adequacy.tsv",
                     "mean over single regions"),
    ]  # fmt: skip


def _clones_missed_by_one_region(result: object) -> float:
    curve = result.adequacy.curve  # type: ignore[attr-defined]
    one = curve[curve["n_regions"] == 1]
    full = curve[curve["n_regions"] == curve["n_regions"].max()]
    if not len(one):
        return float(np.nan)
    return float(full["clones_mean"].iloc[0] - one["clones_mean"].iloc[0])


# purities closer than this are the same number written twice (two decimals in most tables)
PURITY_TOLERANCE = 0.01


def regions_table(variants: pd.DataFrame, purity: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sequenced region: mutations, detections, depth, VAF and the purity used.

    ``tumour_content`` is the purity the cancer cell fractions were computed with (the
    variants' column); ``manifest_purity`` is the manifest's purity table, when it has one,
    and ``purity_differs`` flags regions where the two differ by more than
    :data:`PURITY_TOLERANCE`.

    Examples
    --------
    >>> v = pd.DataFrame({"mutation_id": ["a", "b"], "sample_id": ["R1", "R1"],
    ...                   "ref_counts": [50, 90], "alt_counts": [50, 0], "tumour_content": 0.8})
    >>> r = regions_table(v, pd.DataFrame({"sample_id": ["R1"], "purity": [0.3]})).iloc[0]
    >>> int(r.n_detected), float(r.median_vaf), float(r.tumour_content), bool(r.purity_differs)
    (1, 0.25, 0.8, True)
    """
    depth = variants["ref_counts"] + variants["alt_counts"]
    frame = variants.assign(_depth=depth, _vaf=variants["alt_counts"] / depth.where(depth > 0))
    per = (
        frame.groupby("sample_id", sort=False)
        .agg(
            n_mutations=("mutation_id", "nunique"),
            n_detected=("alt_counts", lambda a: int((a > 0).sum())),
            mean_depth=("_depth", "mean"),
            median_vaf=("_vaf", "median"),
            tumour_content=("tumour_content", "median"),
        )
        .reset_index()
    )
    per["sample_id"] = per["sample_id"].astype(str)
    if purity is not None and "purity" in purity.columns:
        table = purity.assign(sample_id=purity["sample_id"].astype(str))
        per = per.merge(
            table[["sample_id", "purity"]].rename(columns={"purity": "manifest_purity"}),
            on="sample_id",
            how="left",
        )
        diff = (per["tumour_content"] - per["manifest_purity"]).abs()
        per["purity_differs"] = (diff > PURITY_TOLERANCE).fillna(False).astype(bool)
    return per
