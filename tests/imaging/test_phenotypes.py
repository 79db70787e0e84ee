"""Lesion phenotypes on a synthetic multi-lesion cohort with known phenotypes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.imaging import combat, lesion_phenotypes, manifest_features, synthetic_cohort
from ithkit.imaging._commands import phenotypes_to_files


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("cohort")
    truth = synthetic_cohort(out, n_patients=4, lesions_per_patient=3, shape=(20, 20, 20), seed=2)
    return out / "images.csv", truth


def test_phenotypes_recovered(cohort: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    manifest, truth = cohort
    res, files = phenotypes_to_files(manifest, tmp_path, n_bootstrap=20, seed=0)
    merged = res.assignments.merge(truth, on=["patient_id", "lesion_id", "timepoint"])
    assert adjusted_rand_score(merged["phenotype_y"], merged["phenotype_x"]) == pytest.approx(1.0)
    assert len(res.stability) == truth["phenotype"].nunique()
    assert (res.stability["jaccard"] > 0.6).all()
    # a patient whose lesions span more phenotypes is more heterogeneous
    het = res.patients.set_index("patient_id")
    n_true = truth.groupby("patient_id")["phenotype"].nunique()
    assert het["n_phenotypes"].to_dict() == n_true.to_dict()
    lo, hi = n_true.idxmin(), n_true.idxmax()
    assert het.loc[lo, "heterogeneity"] < het.loc[hi, "heterogeneity"]
    assert all(f.exists() for f in files)


def test_combat_removes_batch_shift() -> None:
    rng = np.random.default_rng(0)
    bio = np.repeat([0.0, 3.0], 20)[:, None] + rng.normal(0, 0.3, (40, 5))
    batch = np.tile(["a", "b"], 20)
    x = bio + np.where(batch == "b", 10.0, 0.0)[:, None]
    y = combat(x, batch.tolist())
    assert abs(y[batch == "a"].mean() - y[batch == "b"].mean()) < 0.3
    # the biological groups stay apart
    assert y[20:].mean() - y[:20].mean() > 2.5


def test_identical_lesions_have_zero_heterogeneity() -> None:
    f = pd.DataFrame(
        {
            "patient_id": ["A", "A", "B", "B"],
            "lesion_id": ["1", "2", "1", "2"],
            "timepoint": 0,
            "f1": [1.0, 1.0, 5.0, 9.0],
            "f2": [2.0, 2.0, 0.0, 7.0],
        }
    )
    res = lesion_phenotypes(f, k=2, n_bootstrap=0)
    het = res.patients.set_index("patient_id")["heterogeneity"]
    assert het["A"] == 0.0 and het["B"] > 0


def test_bad_tables(cohort: tuple[Path, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="lesion_id"):
        lesion_phenotypes(pd.DataFrame({"patient_id": ["a"], "timepoint": [0]}))
    with pytest.raises(InputError, match="timepoint 5"):
        manifest_features(cohort[0], timepoint=5)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_cli_batch_column_of_a_csv_or_tsv_manifest(
    cohort: tuple[Path, pd.DataFrame], tmp_path: Path, sep: str
) -> None:
    from ithkit.cli import main

    manifest, _ = cohort
    frame = pd.read_csv(manifest, dtype=str)
    # a scanner shift on half the patients; ComBat needs the column, kept without a warning
    frame["scanner"] = ["A" if p in {"P01", "P02"} else "B" for p in frame["patient_id"]]
    frame["image"] = [str((manifest.parent / f).resolve()) for f in frame["image"]]
    frame["mask"] = [str((manifest.parent / f).resolve()) for f in frame["mask"]]
    path = tmp_path / ("images.tsv" if sep == "\t" else "images.csv")
    frame.to_csv(path, sep=sep, index=False)
    args = ["imaging", "phenotypes", str(path), "--out", str(tmp_path / "out"), "--batch"]
    with pytest.raises(SystemExit) as ok:
        main([*args, "scanner", "--k", "2"])
    assert ok.value.code in (0, None)
    feats = pd.read_csv(tmp_path / "out" / "lesion_features.tsv", sep="\t", dtype={"scanner": str})
    assert set(feats["scanner"]) == {"A", "B"}
    with pytest.raises(SystemExit) as bad:
        main([*args, "site"])
    assert bad.value.code == 2


def test_combat_equals_scanpy_combat() -> None:
    # issue 11: the hand-written ComBat checked against a maintained one on the same data.
    # scanpy.pp.combat takes the prior variance of the batch means with ddof 0, Bioconductor
    # sva's ComBat (our default) with ddof 1; with scanpy's choice the two agree.
    import anndata as ad
    import scanpy as sc

    from ithkit.imaging import combat

    rng = np.random.default_rng(0)
    for n_feat in (8, 30):
        x = rng.normal(size=(60, n_feat))
        b = np.repeat(["a", "b", "c"], 20)
        x[b == "b"] += 1.5
        x[b == "c"] *= 2
        a = ad.AnnData(x.copy(), obs=pd.DataFrame({"batch": pd.Categorical(b)},
                                                  index=[str(i) for i in range(60)]))  # fmt: skip
        sc.pp.combat(a, key="batch")
        np.testing.assert_allclose(combat(x, list(b), prior_variance_ddof=0), a.X, atol=1e-4)
        assert np.abs(combat(x, list(b)) - a.X).max() < 0.05  # sva's ddof: a small shift
