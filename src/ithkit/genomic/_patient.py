"""The genomic analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

from ithkit import _names
from ithkit.integrate.patient import AnalysisOutput, PatientData


def analyze_patient(data: PatientData, out_dir: Path, *, seed: int) -> AnalysisOutput | None:
    """Run :func:`ithkit.genomic.analyze` on the patient's variants (None without variants).

    Files go to ``out_dir/genomic/``; the store gets the mutation, CCF, clone, tree and metric
    tables; the report gets the genomic section.
    """
    if data.variants is None:
        return None
    from ithkit.genomic import analyze
    from ithkit.report.genomic import genomic_section

    result = analyze(data.variants, segments=data.segments, seed=seed)
    result.write(Path(out_dir) / "genomic")
    tables = {
        _names.GENOMIC_MUTATIONS: result.mutations,
        _names.GENOMIC_MUTATION_CCF: result.mutation_ccf,
        _names.GENOMIC_CLONES: result.clones,
        _names.GENOMIC_TREE: result.tree.tree.assign(n_consistent_trees=result.tree.n_consistent),
        _names.GENOMIC_METRICS: result.metrics,
        _names.GENOMIC_ADEQUACY: result.adequacy.curve,
    }
    return AnalysisOutput(tables=tables, sections=[genomic_section(result)])
