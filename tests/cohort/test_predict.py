"""Prediction: metrics equal scikit-learn / lifelines by hand; planted signal recovered; chance
when the outcome is permuted; only held-out performance is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cohort import draw_outcomes, predict
from ithkit.cohort._predict import auc, binary_metrics, ridge_cox, survival_metrics

pytest.importorskip("sklearn")
lifelines = pytest.importorskip("lifelines")

FAST = {"n_outer": 3, "n_inner": 3, "n_bootstrap": 20, "n_repeats": 1}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """240 patients of the virtual-cohort outcome model; the ITH feature measured with noise."""
    rng = np.random.default_rng(5)
    n = 240
    z = rng.normal(size=n)
    clinical, lp = draw_outcomes(z, seed=1, n_sites=3)
    path = tmp_path_factory.mktemp("predict") / "clinical.tsv"
    clinical.to_csv(path, sep="\t", index=False)
    feats = pd.DataFrame({
        "patient_id": clinical["patient_id"],
        "fraction_subclonal": z + rng.normal(0, 0.3, n),
        "noise_a": rng.normal(size=n),
        "noise_b": np.where(rng.uniform(size=n) < 0.2, np.nan, rng.normal(size=n)),
    })  # fmt: skip
    return path, clinical.merge(lp, on="patient_id"), feats


def test_auc_and_calibration_equal_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score

    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 200).round(2)  # ties on purpose
    y = (rng.uniform(size=200) < p).astype(float)
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    m = binary_metrics(y, p)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(logit, y)
    assert m["calibration_slope"] == pytest.approx(fit.coef_[0, 0], rel=1e-4)


def test_ridge_cox_equals_lifelines_without_penalty() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 3))
    t = rng.exponential(np.exp(-(X @ np.array([0.7, -0.3, 0.0]))))  # continuous: no ties
    e = (rng.uniform(size=150) < 0.8).astype(float)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(T=t, E=e)
    cph = lifelines.CoxPHFitter().fit(frame, "T", "E")
    beta = ridge_cox(X, t, e, 0.0)
    assert np.allclose(beta, cph.params_.to_numpy(), atol=2e-5)  # lifelines stops at ~1e-5
    # the calibration slope of a model's own linear predictor on its training data is 1
    m = survival_metrics(t, e, X @ beta, np.full(150, 0.5), float(np.median(t)))
    assert m["calibration_slope"] == pytest.approx(1.0, abs=1e-6)
    from lifelines.utils import concordance_index

    assert m["c_index"] == pytest.approx(concordance_index(t, -(X @ beta), e))


def test_binary_recovers_planted_signal_and_holds_out_sites(cohort: tuple) -> None:
    from sklearn.metrics import roc_auc_score

    path, truth, feats = cohort
    res = predict(path, features=feats, outcome="response", group="site",
                  covariates=["stage"], seed=0, **FAST)  # fmt: skip
    oracle = roc_auc_score(truth["response"], truth["response_logit"])
    for scheme in ("nested_cv", "held_out_group"):
        row = res.summary(scheme).set_index("metric").loc["auc"]
        assert abs(row["value"] - oracle) < 0.07, (scheme, row["value"], oracle)
        assert row["low"] < row["value"] < row["high"]
    m = res.metrics
    assert set(m["scheme"]) == {"nested_cv", "held_out_group"}
    assert set(m.loc[m["scheme"] == "held_out_group", "fold"]) == {"S1", "S2", "S3", "pooled"}
    assert set(m["metric"]) == {"auc", "brier", "calibration_slope", "calibration_intercept"}
    # every patient predicted exactly once per scheme, by a model that did not see it
    assert res.predictions.groupby("scheme")["patient_id"].nunique().eq(240).all()
    assert res.importance.iloc[0]["feature"] == "fraction_subclonal"
    assert res.model_card["missing_fraction"]["noise_b"] > 0.1
    assert len(res.calibration) == 20  # 10 quantile bins per scheme


def test_permuted_outcome_gives_chance(cohort: tuple, tmp_path: Path) -> None:
    path, _, feats = cohort
    clinical = pd.read_csv(path, sep="\t")
    clinical["response"] = np.random.default_rng(9).permutation(clinical["response"].to_numpy())
    clinical.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    res = predict(tmp_path / "c.tsv", features=feats, outcome="response", seed=0, **FAST)
    row = res.summary().set_index("metric").loc["auc"]
    assert abs(row["value"] - 0.5) < 0.1
    assert row["low"] < 0.5 < row["high"]


def test_survival_recovers_oracle_c_index(cohort: tuple, tmp_path: Path) -> None:
    from lifelines.utils import concordance_index

    path, truth, feats = cohort
    res = predict(path, features=feats, time="os_days", event="os_event", group="site",
                  covariates=["age", "stage"], seed=0, **FAST)  # fmt: skip
    oracle = concordance_index(truth["os_days"], -truth["os_lp"], truth["os_event"])
    row = res.summary("held_out_group").set_index("metric").loc["c_index"]
    assert abs(row["value"] - oracle) < 0.05, (row["value"], oracle)
    slope = res.summary().set_index("metric").loc["calibration_slope", "value"]
    assert 0.6 < slope < 1.5
    files = sorted(p.name for p in res.write(tmp_path / "out"))
    assert files == ["calibration.tsv", "importance.tsv", "metrics.tsv", "model_card.json",
                     "predictions.tsv"]  # fmt: skip
    metrics = pd.read_csv(tmp_path / "out" / "metrics.tsv", sep="\t")
    assert list(metrics.columns[:6]) == ["scheme", "fold", "metric", "value", "low", "high"]


def test_bad_requests(cohort: tuple) -> None:
    path, _, feats = cohort
    with pytest.raises(InputError, match="give an outcome, or a time and an event"):
        predict(path, features=feats)
    with pytest.raises(InputError, match="boosting is for binary outcomes"):
        predict(path, features=feats, time="os_days", event="os_event", model="boosting")
    with pytest.raises(InputError, match="event code 'S1' is not 0 or 1"):
        predict(path, features=feats, outcome="site")
