"""Validated prediction of outcome from ITH profile scores: nested CV and held-out sites.

scikit-learn builds and tunes the pipelines (imputation, scaling, penalised logistic or Cox
regression, gradient boosting); lifelines fits the penalised Cox model. Every number reported
comes from patients the model did not see: the outer folds of a nested cross-validation, or a
whole held-out group (site). Training-set performance is never reported.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._optional import import_optional
from ithkit.cohort._tables import Joined, Table, join

METRIC_COLUMNS = ("scheme", "fold", "metric", "value", "low", "high", "n", "n_events")
GRIDS: dict[str, dict[str, list[Any]]] = {
    "linear_binary": {"model__C": [0.01, 0.1, 1.0, 10.0]},
    "linear_survival": {"model__penalizer": [0.001, 0.01, 0.1]},
    "boosting_binary": {"model__max_depth": [1, 2], "model__n_estimators": [50, 150]},
}


# --------------------------------------------------------------------------------------------
# metrics (on held-out predictions only)


def _newton_logistic(x: np.ndarray, y: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """Unpenalised logistic regression of y on [1, x] (or intercept only with an offset)."""
    design = np.ones((y.size, 1)) if x.size == 0 else np.column_stack([np.ones(y.size), x])
    off = np.zeros(y.size) if offset is None else offset
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        eta = np.clip(design @ beta + off, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        hess = design.T @ (design * w[:, None])
        grad = design.T @ (y - p)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return np.full(design.shape[1], np.nan)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            return beta
    return np.full(design.shape[1], np.nan)  # separation: no finite estimate


def _cox_slope(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> float:
    """Coefficient of one covariate in a Cox model (Breslow ties), by Newton-Raphson."""
    order = np.argsort(-time, kind="stable")
    t, d, z = time[order], event[order].astype(bool), x[order] - x.mean()
    # last index of each tied block (descending times): the risk set includes the ties
    last = np.searchsorted(-t, -t, side="right") - 1
    beta = 0.0
    for _ in range(50):
        w = np.exp(np.clip(beta * z, -50, 50))
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w * z)[last]
        s2 = np.cumsum(w * z * z)[last]
        u = float(np.sum((z - s1 / s0)[d]))
        info = float(np.sum((s2 / s0 - (s1 / s0) ** 2)[d]))
        if info <= 0:
            return math.nan
        step = u / info
        beta += step
        if abs(step) < 1e-9:
            return beta
    return math.nan


def _km_at(time: np.ndarray, event: np.ndarray, tau: float) -> float:
    """Kaplan-Meier survival at tau."""
    s = 1.0
    for t in np.unique(time[(event == 1) & (time <= tau)]):
        at_risk = np.sum(time >= t)
        s *= 1 - np.sum((time == t) & (event == 1)) / at_risk
    return s


def _censoring_km(time: np.ndarray, event: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """G(t): Kaplan-Meier of the censoring distribution (censoring = the event), left limit."""
    times = np.unique(time[event == 0])
    surv = []
    s = 1.0
    for t in times:
        s *= 1 - np.sum((time == t) & (event == 0)) / np.sum(time >= t)
        surv.append(s)
    grid, values = times, np.asarray(surv)

    def g(t: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(grid, t, side="left") - 1  # strictly before t
        return np.where(idx >= 0, values[np.maximum(idx, 0)], 1.0)

    return g


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney statistic; ties count one half)."""
    from scipy.stats import rankdata

    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, Brier score, calibration slope and intercept (calibration-in-the-large)."""
    out = {
        "auc": math.nan,
        "brier": float(np.mean((p - y) ** 2)),
        "calibration_slope": math.nan,
        "calibration_intercept": math.nan,
    }
    if len(np.unique(y)) < 2:
        return out
    out["auc"] = auc(y, p)
    q = np.clip(p, 1e-6, 1 - 1e-6)
    logit = np.log(q / (1 - q))
    out["calibration_slope"] = float(_newton_logistic(logit, y, None)[1])
    out["calibration_intercept"] = float(_newton_logistic(np.empty(0), y, logit)[0])
    return out


def survival_metrics(
    time: np.ndarray, event: np.ndarray, lp: np.ndarray, surv_tau: np.ndarray, tau: float
) -> dict[str, float]:
    """Harrell's C, IPCW Brier score at tau, calibration slope and observed - predicted risk."""
    from lifelines.utils import concordance_index

    out = {
        "c_index": math.nan,
        "brier": math.nan,
        "calibration_slope": math.nan,
        "calibration_intercept": math.nan,
    }
    if event.sum() < 1:
        return out
    out["c_index"] = float(concordance_index(time, -lp, event))
    g = _censoring_km(time, event)
    died = (time <= tau) & (event == 1)
    alive = time > tau
    g_t = np.maximum(g(time), 1e-12)
    g_tau = max(float(g(np.array([tau]))[0]), 1e-12)
    out["brier"] = float(
        np.mean(
            np.where(died, surv_tau**2 / g_t, 0.0)
            + np.where(alive, (1 - surv_tau) ** 2 / g_tau, 0.0)
        )
    )
    if event.sum() >= 2 and np.std(lp) > 0:
        out["calibration_slope"] = _cox_slope(time, event, lp)
    out["calibration_intercept"] = float((1 - _km_at(time, event, tau)) - np.mean(1 - surv_tau))
    return out


# --------------------------------------------------------------------------------------------
# estimators


def ridge_cox(
    X: np.ndarray, time: np.ndarray, event: np.ndarray, penalizer: float = 0.0
) -> np.ndarray:
    """Coefficients of a ridge-penalised Cox model (Breslow ties) by Newton-Raphson.

    Maximises ``loglik(beta) / n - penalizer / 2 * |beta|^2`` (lifelines' scaling of the
    penalty). With ``penalizer = 0`` and no tied times this is the Cox MLE that lifelines'
    ``CoxPHFitter`` finds (tested).
    """
    n, p = X.shape
    order = np.argsort(-time, kind="stable")
    t, d, Z = time[order], event[order].astype(bool), X[order]
    last = np.searchsorted(-t, -t, side="right") - 1
    beta = np.zeros(p)
    prev = -np.inf
    for _ in range(100):
        eta = np.clip(Z @ beta, -50, 50)
        w = np.exp(eta)
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w[:, None] * Z, axis=0)[last]
        s2 = np.cumsum(w[:, None, None] * (Z[:, :, None] * Z[:, None, :]), axis=0)[last]
        loglik = float(np.sum((eta - np.log(s0))[d])) / n - penalizer / 2 * beta @ beta
        mean = s1[d] / s0[d, None]
        grad = (Z[d] - mean).sum(axis=0) / n - penalizer * beta
        info = (s2[d] / s0[d, None, None]).sum(axis=0) - mean.T @ mean
        hess = info / n + penalizer * np.eye(p)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        if loglik < prev - 1e-12:  # overshoot: halve the step
            step = step / 2
        beta = beta + step
        prev = loglik
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


def _penalised_cox() -> Any:
    """A scikit-learn regressor: ridge-penalised Cox (y = [time, event])."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class PenalisedCox(RegressorMixin, BaseEstimator):
        """Ridge-penalised Cox model; ``predict`` gives the linear predictor (log hazard)."""

        def __init__(self, penalizer: float = 0.1) -> None:
            self.penalizer = penalizer

        def fit(self, X: np.ndarray, y: np.ndarray) -> PenalisedCox:
            self.mean_ = X.mean(axis=0)
            Xc = X - self.mean_
            self.coef_ = ridge_cox(Xc, y[:, 0], y[:, 1], self.penalizer)
            # Breslow baseline cumulative hazard at the event times
            lp = Xc @ self.coef_
            times = np.unique(y[y[:, 1] == 1, 0])
            risk = np.exp(lp)
            hazard = [
                np.sum((y[:, 0] == t) & (y[:, 1] == 1)) / risk[y[:, 0] >= t].sum() for t in times
            ]
            self.times_ = times
            self.cumhaz_ = np.cumsum(hazard)
            return self

        def predict(self, X: np.ndarray) -> np.ndarray:
            return np.asarray((X - self.mean_) @ self.coef_, dtype=float)

        def survival_at(self, X: np.ndarray, tau: float) -> np.ndarray:
            k = int(np.searchsorted(self.times_, tau, side="right")) - 1
            h0 = float(self.cumhaz_[k]) if k >= 0 else 0.0
            return np.asarray(np.exp(-h0 * np.exp(self.predict(X))), dtype=float)

        def score(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> float:
            from lifelines.utils import concordance_index

            if y[:, 1].sum() < 1:
                return 0.5
            return float(concordance_index(y[:, 0], -self.predict(X), y[:, 1]))

    return PenalisedCox


def _pipeline(kind: str, model: str, seed: int) -> tuple[Any, dict[str, list[Any]], str]:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    impute = ("impute", SimpleImputer(strategy="median", keep_empty_features=True))
    if kind == "binary" and model == "linear":
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(solver="newton-cholesky", max_iter=200)
        desc = "median imputation, standardisation, L2-penalised logistic regression"
        return (
            Pipeline([impute, ("scale", StandardScaler()), ("model", est)]),
            GRIDS["linear_binary"],
            desc,
        )
    if kind == "binary" and model == "boosting":
        from sklearn.ensemble import GradientBoostingClassifier

        est = GradientBoostingClassifier(learning_rate=0.05, subsample=0.8, random_state=seed)
        desc = "median imputation, gradient boosting (scikit-learn, depth-limited trees)"
        return Pipeline([impute, ("model", est)]), GRIDS["boosting_binary"], desc
    if kind == "survival" and model == "linear":
        desc = "median imputation, standardisation, ridge-penalised Cox regression (Breslow)"
        pipe = Pipeline([impute, ("scale", StandardScaler()), ("model", _penalised_cox()())])
        return pipe, GRIDS["linear_survival"], desc
    raise InputError(
        f"model {model!r} is not available for a {kind} outcome",
        source="model",
        fix="use --model linear (penalised Cox) for survival; boosting is for binary outcomes",
    )


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionResult:
    """Validated prediction of an outcome from ITH features.

    Attributes
    ----------
    metrics
        ``scheme`` (``nested_cv`` | ``held_out_group``), ``fold`` (fold number, held-out
        group, or ``pooled`` for all held-out predictions together), ``metric`` (``auc`` or
        ``c_index``, ``brier``, ``calibration_slope``, ``calibration_intercept``), ``value``
        and its bootstrap 95 % interval ``low``-``high``, patients ``n`` and events/positives.
    predictions
        Out-of-fold prediction of every patient per scheme (probability of the outcome, or
        the Cox linear predictor and the predicted event risk by ``horizon_days``).
    calibration
        Calibration curve of the pooled held-out predictions: quantile bins, mean predicted
        and observed risk.
    importance
        Permutation importance on the held-out folds: drop in AUC / C-index when a feature is
        shuffled (mean and SD over folds and repeats).
    model_card
        Data, features, missingness, model, validation scheme, limits.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    model_card: dict[str, Any]
    notes: tuple[str, ...] = ()
    kind: Literal["binary", "survival"] = "binary"
    oracle: dict[str, float] = field(default_factory=dict)

    def summary(self, scheme: str = "nested_cv") -> pd.DataFrame:
        """The pooled metrics of one scheme."""
        m = self.metrics
        return m[(m["scheme"] == scheme) & (m["fold"] == "pooled")].reset_index(drop=True)

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``metrics.tsv, predictions.tsv, calibration.tsv, importance.tsv,
        model_card.json``."""
        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = [
            write_table(self.metrics, out / "metrics.tsv"),
            write_table(self.predictions, out / "predictions.tsv"),
            write_table(self.calibration, out / "calibration.tsv"),
            write_table(self.importance, out / "importance.tsv"),
        ]
        card = out / "model_card.json"
        with atomic_path(card) as tmp:
            tmp.write_text(json.dumps(self.model_card, indent=2, default=str), encoding="utf-8")
        files.append(card)
        return files


def _splits(
    n_splits: int, y_strat: np.ndarray, seed: int, idx: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(y_strat.astype(int)) if y_strat.size else np.array([0])
    k = int(min(n_splits, max(2, counts[counts > 0].min() if counts.size else 2)))
    if counts[counts > 0].min() >= k:
        cv: Any = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(idx[a], idx[b]) for a, b in cv.split(idx, y_strat)]
    cv = KFold(n_splits=min(n_splits, idx.size), shuffle=True, random_state=seed)
    return [(idx[a], idx[b]) for a, b in cv.split(idx)]


class _Task:
    """One prediction problem: X, y and how to score and predict it."""

    def __init__(
        self,
        joined: Joined,
        kind: str,
        model: str,
        seed: int,
        n_inner: int,
        horizon_days: float | None,
    ) -> None:
        self.kind = kind
        self.seed = seed
        self.n_inner = n_inner
        data = joined.data
        self.names = [*joined.features, *joined.covariates]
        self.X = data[self.names].to_numpy(dtype=float)
        self.ids = data["patient_id"].to_numpy()
        if kind == "binary":
            self.y = data["outcome"].to_numpy(dtype=float)
            self.strat = self.y
        else:
            self.y = data[["time", "event"]].to_numpy(dtype=float)
            self.strat = self.y[:, 1]
        self.tau = float(
            horizon_days
            if horizon_days is not None
            else np.median(self.y[:, 0])
            if kind == "survival"
            else 0.0
        )
        self.pipe, self.grid, self.description = _pipeline(kind, model, seed)

    def fit(self, train: np.ndarray) -> Any:
        from sklearn.base import clone
        from sklearn.model_selection import GridSearchCV

        inner = _splits(self.n_inner, self.strat[train], self.seed, np.arange(train.size))
        search = GridSearchCV(
            clone(self.pipe),
            self.grid,
            cv=inner,
            scoring="roc_auc" if self.kind == "binary" else None,
            error_score=np.nan,
            refit=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(self.X[train], self.y[train])
        return search.best_estimator_

    def predict(self, est: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score for ranking, predicted risk); risk = P(outcome) or P(event by tau)."""
        if self.kind == "binary":
            p = est.predict_proba(X)[:, 1]
            return p, p
        lp = est.predict(X)
        model = est.named_steps["model"]
        Xt = est[:-1].transform(X)
        return lp, 1 - model.survival_at(Xt, self.tau)

    def metrics(self, rows: np.ndarray, score: np.ndarray, risk: np.ndarray) -> dict[str, float]:
        if self.kind == "binary":
            return binary_metrics(self.y[rows, 0] if self.y.ndim > 1 else self.y[rows], risk)
        return survival_metrics(self.y[rows, 0], self.y[rows, 1], score, 1 - risk, self.tau)

    @property
    def main_metric(self) -> str:
        return "auc" if self.kind == "binary" else "c_index"


def _bootstrap(
    task: _Task,
    rows: np.ndarray,
    score: np.ndarray,
    risk: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        pick = rng.integers(0, rows.size, rows.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = task.metrics(rows[pick], score[pick], risk[pick])
        for k, v in values.items():
            if np.isfinite(v):
                draws.setdefault(k, []).append(v)
    return {
        k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for k, v in draws.items()
        if len(v) >= max(10, n_boot // 4)
    }


def _metric_rows(
    task: _Task,
    scheme: str,
    fold: str,
    rows: np.ndarray,
    score: np.ndarray,
    risk: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    values = task.metrics(rows, score, risk)
    ci = _bootstrap(task, rows, score, risk, n_boot, rng) if n_boot else {}
    events = task.strat[rows]
    out = []
    for k, v in values.items():
        low, high = ci.get(k, (math.nan, math.nan))
        out.append(
            {
                "scheme": scheme,
                "fold": fold,
                "metric": k,
                "value": v,
                "low": low,
                "high": high,
                "n": int(rows.size),
                "n_events": int(events.sum()),
            }
        )
    return out


def _calibration(
    task: _Task, scheme: str, rows: np.ndarray, risk: np.ndarray, n_bins: int
) -> list[dict[str, Any]]:
    order = np.argsort(risk, kind="stable")
    out = []
    for b, chunk in enumerate(np.array_split(order, n_bins)):
        if chunk.size == 0:
            continue
        sel = rows[chunk]
        if task.kind == "binary":
            observed = float(task.y[sel].mean())
        else:
            observed = 1 - _km_at(task.y[sel, 0], task.y[sel, 1], task.tau)
        out.append(
            {
                "scheme": scheme,
                "bin": b + 1,
                "n": int(chunk.size),
                "mean_predicted": float(risk[chunk].mean()),
                "observed": observed,
            }
        )
    return out


def predict_from_joined(
    joined: Joined,
    *,
    kind: Literal["binary", "survival"],
    group: str | None = None,
    model: str = "linear",
    n_outer: int = 5,
    n_inner: int = 3,
    n_bootstrap: int = 200,
    n_repeats: int = 5,
    horizon_days: float | None = None,
    seed: int = 0,
    outcome_label: str = "outcome",
    show_progress: bool = False,
) -> PredictionResult:
    """:func:`predict` on tables already joined."""
    import_optional("sklearn", extra="cohort")
    if kind == "survival":
        import_optional("lifelines", extra="survival")
    from rich.progress import Progress

    task = _Task(joined, kind, model, seed, n_inner, horizon_days)
    n = len(task.ids)
    n_events = int(task.strat.sum())
    if min(n_events, n - n_events if kind == "binary" else n_events) < 2 * 2:
        raise InputError(
            f"{n_events} events/positives among {n} patients: too few to validate a model",
            source=outcome_label,
            fix="prediction needs at least 4 patients with and without the outcome",
        )
    rng = np.random.default_rng(seed)
    notes = list(joined.notes)
    all_rows = np.arange(n)
    metric_rows: list[dict[str, Any]] = []
    pred_rows: list[pd.DataFrame] = []
    calib: list[dict[str, Any]] = []
    importance: dict[str, list[float]] = {name: [] for name in task.names}
    schemes: list[tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]] = []
    outer = _splits(n_outer, task.strat, seed, all_rows)
    schemes.append(("nested_cv", [(str(i + 1), tr, te) for i, (tr, te) in enumerate(outer)]))
    groups: np.ndarray | None = None
    if group is not None:
        groups = joined.data[group].astype(str).to_numpy()
        levels = sorted(set(groups))
        if len(levels) < 2:
            notes.append(f"only one {group} ({levels[0]}): no held-out-group validation")
        else:
            schemes.append(
                (
                    "held_out_group",
                    [(g, np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in levels],
                )
            )
    total = sum(len(f) for _, f in schemes)
    with Progress(disable=not show_progress, transient=True) as progress:
        bar = progress.add_task("fitting held-out folds", total=total)
        for scheme, folds in schemes:
            score = np.full(n, np.nan)
            risk = np.full(n, np.nan)
            fold_of = np.empty(n, dtype=object)
            for fold, train, test in folds:
                est = task.fit(train)
                s, r = task.predict(est, task.X[test])
                score[test], risk[test], fold_of[test] = s, r, fold
                metric_rows += _metric_rows(task, scheme, fold, test, s, r, n_bootstrap, rng)
                if scheme == "nested_cv":
                    base = task.metrics(test, s, r)[task.main_metric]
                    for j, name in enumerate(task.names):
                        for _ in range(n_repeats):
                            Xp = task.X[test].copy()
                            Xp[:, j] = rng.permutation(Xp[:, j])
                            sp, rp = task.predict(est, Xp)
                            drop = base - task.metrics(test, sp, rp)[task.main_metric]
                            if np.isfinite(drop):
                                importance[name].append(drop)
                progress.advance(bar)
            done = np.flatnonzero(np.isfinite(score))
            metric_rows += _metric_rows(
                task, scheme, "pooled", done, score[done], risk[done], n_bootstrap, rng
            )
            calib += _calibration(task, scheme, done, risk[done], 5 if n < 200 else 10)
            frame = pd.DataFrame({"patient_id": task.ids, "scheme": scheme, "fold": fold_of})
            if kind == "binary":
                frame["predicted_probability"] = risk
                frame["outcome"] = task.y.astype(int)
            else:
                frame["linear_predictor"] = score
                frame["predicted_risk"] = risk
                frame["time_days"] = task.y[:, 0]
                frame["event"] = task.y[:, 1].astype(int)
            pred_rows.append(frame)
    imp = pd.DataFrame(
        [
            {
                "feature": k,
                "metric": task.main_metric,
                "importance_mean": float(np.mean(v)),
                "importance_sd": float(np.std(v)),
                "n": len(v),
            }
            for k, v in importance.items()
            if v
        ]
    ).sort_values("importance_mean", ascending=False, ignore_index=True)
    missing = {k: float(joined.data[k].isna().mean()) for k in task.names}
    card = {
        "outcome": outcome_label,
        "kind": kind,
        "patients": n,
        "events_or_positives": n_events,
        "features": joined.features,
        "covariates": joined.covariates,
        "missing_fraction": missing,
        "model": task.description,
        "hyperparameter_grid": task.grid,
        "validation": {
            "nested_cv": f"{len(outer)} outer folds (stratified, seed {seed}), "
            f"{n_inner} inner folds tune the hyperparameters",
            "held_out_group": (
                f"leave one {group} out ({len(set(groups))} groups)"
                if groups is not None
                else "not requested"
            ),
            "bootstrap": f"{n_bootstrap} resamples of the held-out predictions (95 % percentile)",
        },
        "horizon_days": task.tau if kind == "survival" else None,
        "limits": [
            "performance is measured on held-out patients only; training-set fit is never reported",
            f"{n} patients, {n_events} events/positives: intervals are wide in small cohorts",
            "missing values are imputed by the training median; features missing for most "
            "patients carry little information",
            "a model validated on these sites may not transfer to other scanners, assays or "
            "populations without recalibration",
        ],
        "seed": seed,
        "notes": notes,
    }
    return PredictionResult(
        metrics=pd.DataFrame(metric_rows).reindex(columns=METRIC_COLUMNS),
        predictions=pd.concat(pred_rows, ignore_index=True),
        calibration=pd.DataFrame(calib),
        importance=imp,
        model_card=card,
        notes=tuple(notes),
        kind=kind,
    )


def predict(
    clinical: str | Path | Table,
    *,
    features: str | Path | pd.DataFrame | None = None,
    store: str | Path | None = None,
    scores: Sequence[str] | None = None,
    outcome: str | None = None,
    time: str | None = None,
    event: str | None = None,
    group: str | None = None,
    covariates: Sequence[str] = (),
    model: Literal["linear", "boosting"] = "linear",
    n_outer: int = 5,
    n_inner: int = 3,
    n_bootstrap: int = 200,
    n_repeats: int = 5,
    horizon_days: float | None = None,
    seed: int = 0,
    id_column: str = "patient_id",
    drop_unmatched: bool = False,
    show_progress: bool = False,
) -> PredictionResult:
    """Predict a binary outcome or survival from ITH features, validated on held-out patients.

    Parameters
    ----------
    clinical
        Clinical table (one row per patient).
    features, store
        Feature table or cohort store (its ``profiles`` scores); exactly one.
    scores
        With ``store``: use only these scores (``modality.score``).
    outcome
        Binary outcome column (1/0, e.g. ``response``) ...
    time, event
        ... or follow-up (days) and event columns for survival.
    group
        Clinical column of the group to hold out (e.g. ``site``: leave-one-site-out).
    covariates
        Clinical columns added to the features.
    model
        ``linear`` (penalised logistic / Cox) or ``boosting`` (gradient boosting; binary only).
    n_outer, n_inner
        Outer folds (performance) and inner folds (tuning) of the nested cross-validation.
    n_bootstrap
        Bootstrap resamples for the 95 % intervals (0 = none).
    n_repeats
        Permutations per feature and fold for the importance.
    horizon_days
        Survival: time at which risk, Brier score and calibration are read (default: median
        follow-up).
    seed
        Seed of the folds, the bootstrap and the permutations.
    id_column, drop_unmatched
        As :func:`ithkit.cohort.survival`.
    show_progress
        Progress bar over the folds.

    Returns
    -------
    PredictionResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ithkit.cohort import draw_outcomes
    >>> z = np.random.default_rng(0).normal(size=120)
    >>> clinical, _ = draw_outcomes(z, seed=0)
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clinical.tsv"
    >>> clinical.to_csv(path, sep="\\t", index=False)
    >>> feats = pd.DataFrame({"patient_id": clinical["patient_id"], "ith": z})
    >>> res = predict(path, features=feats, outcome="response", n_bootstrap=0, n_repeats=1)
    >>> bool(res.summary().set_index("metric").loc["auc", "value"] > 0.6)
    True
    """
    from ithkit.cohort._tables import load_inputs

    if (outcome is None) == (time is None or event is None):
        raise InputError(
            "give an outcome, or a time and an event",
            source="outcome",
            fix="--outcome response, or --time os_days --event os_event",
        )
    table, frame, source, notes = load_inputs(
        clinical, features=features, store=store, scores=scores, id_column=id_column
    )
    joined = join(
        table,
        frame,
        time=time,
        event=event,
        outcome=outcome,
        covariates=covariates,
        keep=[group] if group else [],
        drop_unmatched=drop_unmatched,
        features_source=source,
    )
    joined = Joined(
        joined.data, joined.features, joined.covariates, joined.binary, [*notes, *joined.notes]
    )
    kind: Literal["binary", "survival"] = "binary" if outcome is not None else "survival"
    return predict_from_joined(
        joined,
        kind=kind,
        group=group,
        model=model,
        n_outer=n_outer,
        n_inner=n_inner,
        n_bootstrap=n_bootstrap,
        n_repeats=n_repeats,
        horizon_days=horizon_days,
        seed=seed,
        outcome_label=outcome or f"{time}/{event}",
        show_progress=show_progress,
    )
