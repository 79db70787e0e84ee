"""The epigenetic adapter: manifest key ``methylation``, genomic clones in memory, profile."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from ithkit import InputError, _names
from ithkit.epigenetic import simulate_methylation
from ithkit.evolution import virtual_patient
from ithkit.integrate._analyses import spec
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory):
    vp = virtual_patient(seed=1)
    folder = tmp_path_factory.mktemp("epi")
    sim = simulate_methylation(vp.clones, vp.clone_ccf, n_loci=200, depth=25, seed=1)
    files = sim.write(folder / "methylation")
    return vp, folder, files


def test_adapter_with_genomic_clones(tmp_path: Path, patient) -> None:
    from ithkit.integrate._analyses.epigenetic import analyze

    vp, _, files = patient
    data = PatientData("VP1", extra={"methylation": files})
    assert spec("epigenetic").applies(data) and spec("epigenetic").uses == ("genomic",)
    results = PatientResults()
    clones = vp.clone_ccf.merge(vp.clones[["clone_id", "n_mutations"]], on="clone_id")
    results.add("genomic", AnalysisOutput(result=SimpleNamespace(clones=clones)))
    out = analyze(data, results, tmp_path, seed=0)
    assert out.sections[0].key == "epigenetic"
    assert {_names.EPIGENETIC_SUMMARY, _names.EPIGENETIC_ITH} <= set(out.tables)
    assert (tmp_path / "epigenetic" / "tree.nwk").exists()
    scores = {p.score: p for p in out.profile}
    assert list(scores) == [
        "median_pdr", "median_epipolymorphism", "methylation_region_distance_mean",
        "epi_genetic_tree_rf",
    ]  # fmt: skip
    summary = out.result["read_level"].summary
    assert scores["median_pdr"].value == pytest.approx(np.median(summary["median_pdr"]))
    ith = out.result["regions"].summary.iloc[0]
    assert scores["methylation_region_distance_mean"].value == ith["distance_mean"]
    # pure regions, clonal epialleles along the tree: the trees agree
    assert scores["epi_genetic_tree_rf"].value == 0.0
    assert "RF 0 of 2" in scores["epi_genetic_tree_rf"].note


def test_adapter_without_genomic_and_from_betas(tmp_path: Path) -> None:
    from ithkit.integrate._analyses.epigenetic import analyze

    betas = tmp_path / "betas.tsv"
    rng = np.random.default_rng(0)
    vals = rng.random((30, 3))
    betas.write_text(
        "probe\tR1\tR2\tR3\n"
        + "".join(
            f"cg{i}\t" + "\t".join(f"{v:.3f}" for v in row) + "\n" for i, row in enumerate(vals)
        )
    )
    out = analyze(
        PatientData("P", extra={"methylation": betas}), PatientResults(), tmp_path, seed=0
    )
    scores = {p.score: p for p in out.profile}
    assert "median_pdr" not in scores  # no read-level data
    assert np.isnan(scores["epi_genetic_tree_rf"].value)
    assert "no genomic result" in scores["epi_genetic_tree_rf"].note


def test_manifest_key(tmp_path: Path, patient) -> None:
    from ithkit.io import read_patient_manifest

    _, folder, _ = patient
    m = folder / "patient.yaml"
    m.write_text(
        yaml.safe_dump(
            {
                "patient_id": "P",
                "methylation": {
                    "R1": "methylation/CpG_context_R1.txt.gz",
                    "R2": "methylation/CpG_context_R2.txt.gz",
                },
            }
        )
    )
    got = read_patient_manifest(m)
    assert got["methylation"]["R2"] == (folder / "methylation/CpG_context_R2.txt.gz").resolve()
    m.write_text(yaml.safe_dump({"patient_id": "P", "methylation": {"R1": "missing.txt"}}))
    with pytest.raises(InputError, match=r"methylation\.R1 file 'missing.txt' not found"):
        read_patient_manifest(m)
