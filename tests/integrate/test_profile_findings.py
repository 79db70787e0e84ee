"""The patient ITH profile, the concordance and the findings (issue 11 §2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from ithkit import _names
from ithkit.evolution import virtual_patient
from ithkit.integrate import run_patient
from ithkit.integrate._analyses import REGISTRY
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults
from ithkit.integrate.findings import mixed_response, resistance_missed_by_biopsy
from ithkit.integrate.profile import concordance, patient_profile, profile_value


@pytest.fixture(scope="module")
def bulk_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual patient with sequencing, lesions, ctDNA and a scenario (no cell-level data)."""
    tmp = tmp_path_factory.mktemp("bulk")
    files = virtual_patient(seed=5, n_regions=3, n_mutations=80, n_clones=4).to_files(tmp / "data")
    run_patient(files["manifest"], tmp / "out")
    return tmp / "out"


def _tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


def test_profile_has_every_modality_and_reads_its_sources(bulk_run: Path) -> None:
    profile = _tsv(bulk_run / _names.PROFILE_TSV)
    assert list(profile.columns) == list(_names.PROFILE_COLUMNS)
    assert set(profile["modality"]) == {s.name for s in REGISTRY}
    missing = profile[profile["score"] == "status"]
    measured = {"genomic", "response", "liquid", "evolution"}
    assert set(missing["modality"]) == {s.name for s in REGISTRY} - measured
    assert (missing["value"] == "not_measured").all()
    assert missing["note"].str.contains("no '").all()
    wanted = {"n_clones", "fraction_subclonal", "math", "clone_shannon",
              "clones_missed_by_one_region", "best_overall_response", "response_pattern",
              "response_heterogeneity_index", "molecular_response", "n_emerging_variants",
              "lead_time_days", "best_policy", "ttp_gain_days"}  # fmt: skip
    assert wanted <= set(profile["score"])
    # every value is the one in its source table
    metrics = _tsv(bulk_run / "genomic" / "metrics.tsv").set_index("sample_id").loc["ALL"]
    val = profile.set_index("score")["value"]
    assert float(val["n_clones"]) == metrics["n_clones"]
    assert float(val["math"]) == pytest.approx(metrics["math"], rel=1e-12)
    best = _tsv(bulk_run / "response" / "best_response.tsv")["best_overall_response"].iloc[0]
    assert val["best_overall_response"] == best
    lead = _tsv(bulk_run / "liquid" / "lead_time.tsv")["lead_time_days"].iloc[0]
    assert float(val["lead_time_days"]) == lead
    for src in profile["source"].dropna():
        for part in str(src).split("; "):
            assert (bulk_run / part).exists(), part


def test_profiles_reach_the_store(bulk_run: Path) -> None:
    from ithkit.store import CohortStore

    stored = CohortStore(bulk_run / _names.DEFAULT_STORE).read(_names.PROFILES)
    assert len(stored) == len(_tsv(bulk_run / _names.PROFILE_TSV))
    assert {_names.FINDINGS, _names.CONCORDANCE} <= set(
        CohortStore(bulk_run / _names.DEFAULT_STORE).tables()
    )


def test_findings_are_ranked_sentences_with_sources(bulk_run: Path) -> None:
    findings = _tsv(bulk_run / _names.FINDINGS_TSV)
    assert 1 <= len(findings) <= 8
    assert findings["rank"].tolist() == list(range(1, len(findings) + 1))
    assert findings["finding"].str.endswith(".").all()
    assert findings.iloc[0]["modality"] == "genomic"  # the clone structure comes first
    html = (bulk_run / _names.REPORT_HTML).read_text()
    first = html.index('id="summary"')
    for text in findings["finding"]:
        assert html.find(text.replace("'", "&#39;").replace("&", "&amp;")[:40]) >= first


def _ctx(results: PatientResults, conc: pd.DataFrame | None = None) -> tuple:
    data = PatientData("P")
    profile = patient_profile(data, results)
    return (data, results, profile, concordance(data, results) if conc is None else conc)


def test_mixed_response_rule_true_and_false() -> None:
    from ithkit.response import recist

    def lesions(change: dict[str, float]) -> pd.DataFrame:
        rows = []
        for lid, pct in change.items():
            for tp, d in ((0, 30.0), (1, 30.0 * (1 + pct / 100))):
                rows.append({"patient_id": "P", "lesion_id": lid, "timepoint": tp,
                             "date": f"2026-0{tp + 1}-01", "organ": "liver",
                             "lesion_class": "target", "is_lymph_node": False,
                             "diameter_mm": round(d, 1), "volume_ml": None,
                             "status": None})  # fmt: skip
        return pd.DataFrame(rows)

    for change, expected in (({"L1": 60.0, "L2": -45.0}, True), ({"L1": -40.0, "L2": -45.0}, False),
                             ({"L1": 15.0, "L2": -45.0}, False)):  # fmt: skip
        results = PatientResults()
        rec = recist(lesions(change), on_violation="ignore")
        results.add("response", AnalysisOutput(result=rec))
        found = mixed_response(_ctx(results))
        assert (found is not None) is expected, change
        if expected:
            assert "+60%" in found["finding"] and "-45%" in found["finding"]


def test_resistance_missed_by_biopsy_rule_true_and_false() -> None:
    emerging = pd.DataFrame({"mutation_id": ["m9"], "timepoint": [3], "fold": [3.0]})
    for regions, expected in (([], True), (["R2"], False)):
        ccf = pd.DataFrame({"mutation_id": ["m1", "m1", "m9", "m9"],
                            "sample_id": ["R1", "R2", "R1", "R2"],
                            "ccf": [1.0, 1.0, *[0.4 if r in regions else 0.0
                                                for r in ("R1", "R2")]],
                            "ccf_low": [0.9, 0.9, *[0.2 if r in regions else 0.0
                                                    for r in ("R1", "R2")]]})  # fmt: skip
        genomic = SimpleNamespace(
            mutation_ccf=ccf,
            mutations=pd.DataFrame({"mutation_id": ["m1", "m9"], "clone_id": ["C1", "C3"]}),
            adequacy=SimpleNamespace(next_region_gain=float("nan")),
        )
        results = PatientResults()
        results.add("genomic", AnalysisOutput(result=genomic))
        results.add("liquid", AnalysisOutput(result=SimpleNamespace(emerging=emerging)))
        found = resistance_missed_by_biopsy(_ctx(results))
        assert (found is not None) is expected
        if expected:
            assert "m9" in found["finding"] and "no sequenced region" in found["finding"]


def test_profile_value_reads_numbers_and_categories() -> None:
    frame = pd.DataFrame({"modality": ["a", "a"], "score": ["x", "y"], "value": ["7", "PR"]})
    assert profile_value(frame, "a", "x") == 7.0 and profile_value(frame, "a", "y") == "PR"
    assert profile_value(frame, "a", "z") is None


def test_demo_manifest_records_its_seed_and_run_repeats_the_numbers(
    demo_dir: Path, tmp_path: Path
) -> None:
    manifest = demo_dir / "data" / "patient.yaml"
    assert yaml.safe_load(manifest.read_text())["seed"] == 3
    run_patient(manifest, tmp_path / "again", analyses=["genomic"])
    before = _tsv(demo_dir / "genomic" / "metrics.tsv")
    after = _tsv(tmp_path / "again" / "genomic" / "metrics.tsv")
    pd.testing.assert_frame_equal(before, after)


def test_mixed_response_shows_the_widest_split() -> None:
    from ithkit.response import recist

    sizes = {"L1": (30.0, 37.5, 60.0), "L2": (30.0, 19.5, 16.5)}  # +25/-35 %, then +100/-45 %
    rows = [
        {"patient_id": "P", "lesion_id": lid, "timepoint": tp, "date": f"2026-0{tp + 1}-01",
         "organ": "liver", "lesion_class": "target", "is_lymph_node": False,
         "diameter_mm": d, "volume_ml": None, "status": None}
        for lid, ds in sizes.items() for tp, d in enumerate(ds)
    ]  # fmt: skip
    results = PatientResults()
    results.add(
        "response", AnalysisOutput(result=recist(pd.DataFrame(rows), on_violation="ignore"))
    )
    found = mixed_response(_ctx(results))
    assert found is not None
    assert "timepoint 2" in found["finding"] and "+100%" in found["finding"]
