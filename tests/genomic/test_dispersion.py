"""The read model (binomial or beta-binomial precision) is estimated from the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats
from sklearn.metrics import adjusted_rand_score

from ithkit import InputError
from ithkit.cli import main
from ithkit.evolution import virtual_patient
from ithkit.genomic import analyze, cluster_mutations
from ithkit.genomic._ccf import _betabinom_logpmf


def ari(vp, result) -> float:  # type: ignore[no-untyped-def]
    truth = vp.mutations.set_index("mutation_id")["clone_id"]
    pred = result.assignments.set_index("mutation_id")["clone_id"].reindex(truth.index)
    return float(adjusted_rand_score(truth, pred))


def test_betabinomial_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    depth = rng.integers(1, 400, 200).astype(float)
    alt = np.floor(depth * rng.random(200))
    f = rng.uniform(0.001, 0.999, 200)
    gl = special.gammaln
    choose = gl(depth + 1) - gl(alt + 1) - gl(depth - alt + 1)
    for precision in (5.0, 60.0, 1000.0):
        ours = _betabinom_logpmf(alt, depth, f, precision, choose)
        ref = stats.betabinom.logpmf(alt, depth, f * precision, (1 - f) * precision)
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_overdispersed_reads_are_recognised() -> None:
    # issue 16's case (2,000 x 5, depth 150, precision 60; seed 1: the binomial found 14
    # clones for 5, ARI 0.51; precision 60 given, ARI 0.99), at 800 mutations to stay fast
    vp = virtual_patient(seed=1, n_regions=5, n_mutations=800, depth=150, overdispersion=60)
    auto = cluster_mutations(vp.variants, seed=0, n_restarts=3)
    oracle = cluster_mutations(vp.variants, seed=0, n_restarts=3, precision=60)
    binomial = cluster_mutations(vp.variants, seed=0, n_restarts=3, precision="binomial")
    assert auto.precision_estimated and not oracle.precision_estimated
    assert auto.precision is not None and 25 <= auto.precision <= 150
    assert ari(vp, auto) >= ari(vp, oracle) - 0.03
    assert ari(vp, auto) > ari(vp, binomial) + 0.2
    scores = auto.precision_scores
    assert scores["score"].idxmin() == scores.index[scores["precision"] == auto.precision][0]
    assert scores["precision"].isna().any()  # the binomial was a candidate


def test_binomial_reads_stay_binomial() -> None:
    vp = virtual_patient(seed=2, n_regions=4, n_mutations=400, depth=200, overdispersion=None)
    auto = cluster_mutations(vp.variants, seed=0, n_restarts=3)
    # a precision this high is a binomial in all but name (the two give the same clones)
    assert auto.precision is None or auto.precision >= 400
    assert ari(vp, auto) >= 0.95


@pytest.mark.parametrize("bad", [0, -5, "many", float("nan")])
def test_bad_precision_is_refused(small_patient, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="precision"):
        cluster_mutations(small_patient.variants, precision=bad)


def test_precision_is_reported(tmp_path: Path, small_patient, capsys) -> None:  # type: ignore[no-untyped-def]
    result = analyze(small_patient.variants, seed=0, n_restarts=2, precision="80")
    assert result.precision == 80.0 and not result.precision_estimated
    files = small_patient.to_files(tmp_path / "data")
    with pytest.raises(SystemExit) as info:
        main(["genomic", "analyze", str(files["variants"]), "--out", str(tmp_path / "g")])
    assert info.value.code == 0
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    assert summary["read_model"]["estimated"] is True
    assert summary["read_model"]["model"] in ("binomial", "beta-binomial")
    assert "reads" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["genomic", "analyze", str(files["variants"]), "--out", str(tmp_path / "h"),
              "--precision", "binomial"])  # fmt: skip
    summary = json.loads((tmp_path / "h" / "summary.json").read_text())
    assert summary["read_model"] == {"model": "binomial", "precision": None, "estimated": False}
    with pytest.raises(SystemExit) as info:
        main(["genomic", "analyze", str(files["variants"]), "--out", str(tmp_path / "i"),
              "--precision", "-3"])  # fmt: skip
    assert info.value.code == 2


def test_large_inputs_fit_on_a_subset_and_assign_everyone() -> None:
    # above `refine` mutations the final EM runs on a subset and every mutation is assigned
    # in chunks (the 100,000-mutation path, here at 1,000 with refine=400, subsample=300)
    vp = virtual_patient(seed=3, n_regions=4, n_mutations=1000, depth=200)
    full = cluster_mutations(vp.variants, seed=0, n_restarts=2, refine=None, subsample=300)
    part = cluster_mutations(vp.variants, seed=0, n_restarts=2, refine=400, subsample=300)
    assert len(part.assignments) == 1000
    assert ari(vp, part) >= ari(vp, full) - 0.02
    counts = part.clones.drop_duplicates("clone_id")["n_mutations"]
    assert counts.sum() == 1000
    inside = (part.clones["ccf_low"] <= part.clones["ccf"]) & (
        part.clones["ccf"] <= part.clones["ccf_high"]
    )
    assert inside.all()


def test_duplicated_rows_are_refused(small_patient) -> None:  # type: ignore[no-untyped-def]
    variants = small_patient.variants.copy()
    variants.loc[1, ["mutation_id", "sample_id"]] = variants.loc[0, ["mutation_id", "sample_id"]]
    with pytest.raises(InputError, match="not a complete mutation x sample grid"):
        cluster_mutations(variants)
