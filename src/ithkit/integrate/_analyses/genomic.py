"""The genomic analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    from ithkit.report.genomic import genomic_section

    assert data.variants is not None
    result = analyze_variants(data.variants, segments=data.segments, seed=seed)
    result.write(Path(out_dir) / "genomic")
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
    sections = [genomic_section(result)]
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
