"""The per-patient adapters of ithkit.integrate: registry, results handed on in memory."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ithkit import _names
from ithkit.evolution import virtual_patient
from ithkit.integrate._analyses import REGISTRY, spec
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults


def test_registry_runs_a_module_only_with_its_inputs() -> None:
    empty = PatientData("P")
    assert not any(s.applies(empty) for s in REGISTRY)
    vp = virtual_patient(seed=7, n_regions=1, n_mutations=30, n_clones=3)
    data = PatientData("VP7", lesions=vp.lesions)
    assert [s.name for s in REGISTRY if s.applies(data)] == ["response"]
    assert spec("liquid").uses == ("genomic", "response")
    # an analysis comes after those whose results it uses
    order = [s.name for s in REGISTRY]
    for s in REGISTRY:
        assert all(order.index(u) < order.index(s.name) for u in s.uses)


def test_response_adapter_gives_tables_section_and_profile(tmp_path: Path) -> None:
    from ithkit.integrate._analyses.response import analyze

    vp = virtual_patient(seed=7, n_regions=1, n_mutations=30, n_clones=3)
    out = analyze(PatientData("VP7", lesions=vp.lesions), PatientResults(), tmp_path, seed=0)
    assert _names.RESPONSE_TIMEPOINTS in out.tables and _names.RESPONSE_MIXED in out.tables
    assert out.sections[0].key == "response"
    assert (tmp_path / "response" / "timepoints.tsv").exists()
    figures = [i for i in out.sections[0].items if type(i).__name__ == "Figure"]
    assert len(figures) == 3  # spider, swimmer, heatmap (a one-patient waterfall is one bar)
    scores = {p.score: p.value for p in out.profile}
    assert (
        scores["best_overall_response"] == out.result.best_response["best_overall_response"].iloc[0]
    )


def test_liquid_adapter_takes_clones_and_recist_from_earlier_results(tmp_path: Path) -> None:
    from ithkit.integrate._analyses.liquid import analyze
    from ithkit.response import recist

    vp = virtual_patient(seed=1, n_regions=1, n_mutations=40, n_clones=4)
    data = PatientData("VP1", lesions=vp.lesions, ctdna=vp.ctdna)
    out = analyze(data, PatientResults(), tmp_path, seed=0)
    assert out.sections[0].key == "liquid"
    assert (tmp_path / "liquid" / "variants.tsv").exists()
    assert _names.LIQUID_CLONES not in out.tables  # no genomic result: no clones
    assert _names.LIQUID_LEAD_TIME not in out.tables  # no RECIST result: no lead time
    results = PatientResults()
    muts = vp.mutations[["mutation_id", "clone_id"]].assign(
        **{"class": np.where(vp.mutations["clone_id"] == "C1", "truncal", "private")}
    )
    results.add("genomic", AnalysisOutput(result=SimpleNamespace(mutations=muts)))
    results.add("response", AnalysisOutput(result=recist(vp.lesions, on_violation="ignore")))
    # nothing on disk from the earlier analyses: results travel in memory
    assert not (tmp_path / "genomic").exists()
    out = analyze(data, results, tmp_path, seed=0)
    clones = out.tables[_names.LIQUID_CLONES]
    resistant = clones[clones["clone_id"] == vp.resistant_clone].sort_values("timepoint")
    assert resistant["ccf"].iloc[-1] > resistant["ccf"].iloc[0]
    assert int(out.tables[_names.LIQUID_LEAD_TIME]["lead_time_days"].iloc[0]) > 0
    assert len([i for i in out.sections[0].items if type(i).__name__ == "Figure"]) == 2
    lead = {p.score: p.value for p in out.profile}["lead_time_days"]
    assert lead == float(out.tables[_names.LIQUID_LEAD_TIME]["lead_time_days"].iloc[0])
