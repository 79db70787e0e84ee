"""Survival against ITH features: Cox models, log-rank tests and Kaplan-Meier curves (lifelines)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._optional import import_optional
from ithkit.cohort._tables import Joined, Table, join

COX_COLUMNS = (
    "feature",
    "n",
    "n_events",
    "hr",
    "hr_low",
    "hr_high",
    "p",
    "concordance",
    "model",
    "scale",
    "n_missing",
)
LOGRANK_COLUMNS = (
    "feature",
    "group_high",
    "n_high",
    "n_low",
    "median_high_days",
    "median_low_days",
    "statistic",
    "p",
    "split",
)
KM_COLUMNS = (
    "feature",
    "group",
    "time_days",
    "n_at_risk",
    "n_events",
    "n_censored",
    "survival",
    "survival_low",
    "survival_high",
)
AT_RISK_COLUMNS = ("feature", "group", "time_days", "n_at_risk")
PH_COLUMNS = ("feature", "model", "test_statistic", "p", "violated")


@dataclass(frozen=True)
class SurvivalResult:
    """Survival of a cohort against its features.

    Attributes
    ----------
    cox
        One row per feature (``model`` = ``univariable``, or ``adjusted`` when covariates are
        given: the feature plus the covariates), then one row per term of the ``multivariable``
        model (every feature and covariate together, complete cases). ``hr`` is the hazard ratio
        per unit of the feature (per standard deviation when ``scale`` = ``per SD``; 1 vs 0 for
        binary features) with its 95 % interval; ``p`` the Wald test; ``concordance`` Harrell's
        C of the model; ``n_missing`` patients dropped for a missing value.
    logrank
        One row per feature: patients split at ``split`` (median or a value; binary features
        1 vs 0), size and median survival (days; ``inf`` = not reached) of each group, log-rank
        statistic and p.
    km
        The Kaplan-Meier curves of those groups (survival with its 95 % interval, at every
        event or censoring time, in days).
    at_risk
        Numbers at risk of each group at the tick times of the plot (days).
    ph
        Proportional-hazards check (Grambsch-Therneau test on rank-transformed time) per term;
        ``violated`` when p < 0.05.
    notes
        What was dropped or could not be fitted, and why.
    """

    cox: pd.DataFrame
    logrank: pd.DataFrame
    km: pd.DataFrame
    at_risk: pd.DataFrame
    ph: pd.DataFrame
    notes: tuple[str, ...]
    n_patients: int
    n_events: int
    time_label: str = "time"
    event_label: str = "event"
    covariates: tuple[str, ...] = ()
    binary: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``cox.tsv, logrank.tsv, km.tsv, km_at_risk.tsv, ph.tsv, notes.txt``."""
        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = [
            write_table(self.cox, out / "cox.tsv"),
            write_table(self.logrank, out / "logrank.tsv"),
            write_table(self.km, out / "km.tsv"),
            write_table(self.at_risk, out / "km_at_risk.tsv"),
            write_table(self.ph, out / "ph.tsv"),
        ]
        notes = out / "notes.txt"
        with atomic_path(notes) as tmp:
            tmp.write_text("".join(f"{n}\n" for n in self.notes), encoding="utf-8")
        files.append(notes)
        return files


def _nice_ticks(max_time: float, n: int = 8) -> np.ndarray:
    if not np.isfinite(max_time) or max_time <= 0:
        return np.array([0.0])
    raw = max_time / (n - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return np.arange(0.0, max_time + step * 1e-9, step)


def _fit_cox(
    lifelines: Any, frame: pd.DataFrame, terms: list[str], notes: list[str], label: str
) -> Any | None:
    cph = lifelines.CoxPHFitter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cph.fit(frame[["time", "event", *terms]], duration_col="time", event_col="event")
        except Exception as exc:  # lifelines raises ConvergenceError and linear-algebra errors
            notes.append(f"{label}: Cox model not fitted ({' '.join(str(exc).split())[:160]})")
            return None
    for w in caught:
        text = " ".join(str(w.message).split())
        if "convergence" in type(w.message).__name__.lower() or "converge" in text.lower():
            notes.append(f"{label}: {text[:200]}")
    return cph


def _ph_rows(
    lifelines: Any, cph: Any, frame: pd.DataFrame, terms: list[str], model: str, notes: list[str]
) -> list[dict[str, Any]]:
    from lifelines.statistics import proportional_hazard_test

    rows: list[dict[str, Any]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = proportional_hazard_test(
                cph, frame[["time", "event", *terms]], time_transform="rank"
            )
    except Exception as exc:
        notes.append(f"{model}: PH test failed ({' '.join(str(exc).split())[:120]})")
        return rows
    summary = test.summary
    for term in terms:
        if term in summary.index:
            stat = float(summary.loc[term, "test_statistic"])
            p = float(summary.loc[term, "p"])
            rows.append(
                {
                    "feature": term,
                    "model": model,
                    "test_statistic": stat,
                    "p": p,
                    "violated": bool(p < 0.05),
                }
            )
    return rows


def _cox_row(cph: Any, term: str, frame: pd.DataFrame) -> dict[str, Any]:
    s = cph.summary.loc[term]
    return {
        "n": len(frame),
        "n_events": int(frame["event"].sum()),
        "hr": float(s["exp(coef)"]),
        "hr_low": float(s["exp(coef) lower 95%"]),
        "hr_high": float(s["exp(coef) upper 95%"]),
        "p": float(s["p"]),
        "concordance": float(cph.concordance_index_),
    }


def survival_from_joined(
    joined: Joined,
    *,
    split: str | float = "median",
    per_sd: bool = False,
    multivariable: bool = True,
    time_label: str = "time",
    event_label: str = "event",
) -> SurvivalResult:
    """:func:`survival` on tables already joined (see :func:`ithkit.cohort._tables.join`)."""
    lifelines = import_optional("lifelines", extra="survival")
    from lifelines.statistics import logrank_test

    data = joined.data.copy()
    notes = list(joined.notes)
    covs = list(joined.covariates)
    if int(data["event"].sum()) < 2:
        raise InputError(
            f"only {int(data['event'].sum())} event(s) among {len(data)} patients",
            source=event_label,
            fix="survival models need events; check the event coding (1 = event)",
        )
    if split != "median":
        try:
            split = float(split)
        except ValueError:
            raise InputError(
                f"split is {split!r}", source="split", fix="use 'median' or a number"
            ) from None
    scale_of: dict[str, str] = {}
    usable: list[str] = []
    for f in joined.features:
        values = data[f].dropna()
        if values.nunique() < 2:
            notes.append(f"{f}: fewer than two distinct values, not analysed")
            continue
        usable.append(f)
        if f in joined.binary:
            scale_of[f] = "1 vs 0"
        elif per_sd:
            data[f] = (data[f] - values.mean()) / values.std(ddof=1)
            scale_of[f] = "per SD"
        else:
            scale_of[f] = "per unit"
    if not usable:
        raise InputError(
            "no feature varies across the patients",
            source="features",
            fix="give features with at least two distinct values",
        )
    cox_rows: list[dict[str, Any]] = []
    ph_rows: list[dict[str, Any]] = []
    lr_rows: list[dict[str, Any]] = []
    km_parts: list[pd.DataFrame] = []
    risk_rows: list[dict[str, Any]] = []
    ticks = _nice_ticks(float(data["time"].max()))
    model_name = "adjusted" if covs else "univariable"
    for f in usable:
        sub = data.dropna(subset=[f])
        n_missing = len(data) - len(sub)
        if n_missing:
            notes.append(f"{f}: {n_missing} patient(s) with a missing value dropped")
        cph = _fit_cox(lifelines, sub, [f, *covs], notes, f)
        row: dict[str, Any] = {
            "feature": f,
            "model": model_name,
            "scale": scale_of[f],
            "n_missing": n_missing,
        }
        if cph is not None:
            row.update(_cox_row(cph, f, sub))
            ph_rows += _ph_rows(lifelines, cph, sub, [f], model_name, notes)
        else:
            row.update(n=len(sub), n_events=int(sub["event"].sum()))
        cox_rows.append(row)
        # groups for the log-rank test and the curves
        if f in joined.binary:
            high = sub[f] == 1.0
            labels = ("1", "0")
            threshold = 1.0
            desc = f"{f} = 1"
        else:
            raw = joined.data.loc[sub.index, f]
            threshold = float(raw.median()) if split == "median" else float(split)
            high = raw >= threshold
            desc = f"{f} >= {threshold:.4g}"
            if split == "median" and high.all():  # most patients at the median (e.g. 0)
                high = raw > threshold
                desc = f"{f} > {threshold:.4g}"
            labels = ("high", "low")
        lr: dict[str, Any] = {
            "feature": f,
            "group_high": desc,
            "n_high": int(high.sum()),
            "n_low": int((~high).sum()),
            "split": threshold,
        }
        if high.all() or (~high).all():
            notes.append(f"{f}: the split at {threshold:.4g} leaves one group empty; no log-rank")
            lr.update(
                median_high_days=math.nan, median_low_days=math.nan, statistic=math.nan, p=math.nan
            )
            lr_rows.append(lr)
            continue
        medians = []
        for label, mask in zip(labels, (high, ~high), strict=True):
            g = sub[mask]
            kmf = lifelines.KaplanMeierFitter().fit(g["time"], g["event"], label=label)
            medians.append(float(kmf.median_survival_time_))
            et = kmf.event_table
            ci = kmf.confidence_interval_survival_function_
            km_parts.append(
                pd.DataFrame(
                    {
                        "feature": f,
                        "group": label,
                        "time_days": et.index.to_numpy(dtype=float),
                        "n_at_risk": et["at_risk"].to_numpy(dtype=int),
                        "n_events": et["observed"].to_numpy(dtype=int),
                        "n_censored": et["censored"].to_numpy(dtype=int),
                        "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
                        "survival_low": ci.iloc[:, 0].to_numpy(dtype=float),
                        "survival_high": ci.iloc[:, 1].to_numpy(dtype=float),
                    }
                )
            )
            times = g["time"].to_numpy()
            for t in ticks:
                risk_rows.append(
                    {
                        "feature": f,
                        "group": label,
                        "time_days": float(t),
                        "n_at_risk": int((times >= t).sum()),
                    }
                )
        test = logrank_test(
            sub.loc[high, "time"],
            sub.loc[~high, "time"],
            event_observed_A=sub.loc[high, "event"],
            event_observed_B=sub.loc[~high, "event"],
        )
        lr.update(
            median_high_days=medians[0],
            median_low_days=medians[1],
            statistic=float(test.test_statistic),
            p=float(test.p_value),
        )
        lr_rows.append(lr)
    if multivariable and len(usable) > 1:
        complete = data.dropna(subset=usable)
        dropped = len(data) - len(complete)
        if dropped:
            notes.append(f"multivariable: {dropped} patient(s) with any missing feature dropped")
        terms = [*usable, *covs]
        if len(complete) <= len(terms) + 1 or complete["event"].sum() < 2:
            notes.append(
                f"multivariable: {len(complete)} complete patients for {len(terms)} "
                "terms; not fitted"
            )
        else:
            cph = _fit_cox(lifelines, complete, terms, notes, "multivariable")
            if cph is not None:
                for term in terms:
                    row = {
                        "feature": term,
                        "model": "multivariable",
                        "scale": scale_of.get(term, "per unit"),
                        "n_missing": dropped,
                    }
                    row.update(_cox_row(cph, term, complete))
                    cox_rows.append(row)
                ph_rows += _ph_rows(lifelines, cph, complete, terms, "multivariable", notes)
    km = pd.concat(km_parts, ignore_index=True) if km_parts else pd.DataFrame(columns=KM_COLUMNS)
    return SurvivalResult(
        cox=pd.DataFrame(cox_rows).reindex(columns=COX_COLUMNS),
        logrank=pd.DataFrame(lr_rows).reindex(columns=LOGRANK_COLUMNS),
        km=km.reindex(columns=KM_COLUMNS),
        at_risk=pd.DataFrame(risk_rows).reindex(columns=AT_RISK_COLUMNS),
        ph=pd.DataFrame(ph_rows).reindex(columns=PH_COLUMNS),
        notes=tuple(notes),
        n_patients=len(data),
        n_events=int(data["event"].sum()),
        time_label=time_label,
        event_label=event_label,
        covariates=tuple(covs),
        binary=tuple(f for f in usable if f in joined.binary),
        parameters={"split": split, "per_sd": per_sd, "multivariable": multivariable},
    )


def survival(
    clinical: str | Path | Table,
    *,
    time: str,
    event: str,
    features: str | Path | pd.DataFrame | None = None,
    store: str | Path | None = None,
    scores: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    split: str | float = "median",
    per_sd: bool = False,
    multivariable: bool = True,
    id_column: str = "patient_id",
    drop_unmatched: bool = False,
) -> SurvivalResult:
    """Survival of a cohort against ITH features: Cox, log-rank, Kaplan-Meier, PH check.

    lifelines does the statistics (``CoxPHFitter``, ``logrank_test``, ``KaplanMeierFitter``,
    ``proportional_hazard_test``); ithkit validates the tables, joins them and reports every
    patient it drops.

    Parameters
    ----------
    clinical
        Clinical table (TSV/CSV): one row per patient with the follow-up time (days) and the
        event (1 = event, 0 = censored) and any covariates.
    time, event
        Column names of the follow-up time (days, >= 0; empty/NA/-Inf = missing) and the
        event indicator.
    features
        Feature table (``patient_id`` + numeric columns, 0/1 for binary), as a path or frame.
    store
        Cohort store: its ``profiles`` table gives one feature per numeric score
        (``modality.score``). Exactly one of ``features`` and ``store``.
    scores
        With ``store``: use only these scores (``modality.score``).
    covariates
        Clinical columns to adjust for (text columns become 0/1 indicators).
    split
        ``"median"`` or a value: continuous features are split into ``>= split`` (high) and
        below for the log-rank test and the curves (``> median`` when every patient is at or
        above the median, e.g. a count that is mostly 0).
    per_sd
        Hazard ratios of continuous features per standard deviation instead of per unit.
    multivariable
        Also fit every feature (and covariate) in one model.
    id_column
        Identifier column of the clinical (and feature) table.
    drop_unmatched
        Drop patients present in one table only (with a note) instead of raising.

    Returns
    -------
    SurvivalResult
        Tables ``cox``, ``logrank``, ``km``, ``at_risk``, ``ph`` and the notes.

    Raises
    ------
    ithkit.InputError
        Bad event codes, negative times, unknown columns, patients in one table only.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, pathlib
    >>> rng = np.random.default_rng(0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> x = rng.normal(size=60)
    >>> t = rng.exponential(365 * np.exp(-0.7 * x)).round(1)
    >>> pd.DataFrame({"patient_id": [f"P{i}" for i in range(60)], "os_days": t,
    ...               "os_event": 1}).to_csv(folder / "clinical.tsv", sep="\\t", index=False)
    >>> feats = pd.DataFrame({"patient_id": [f"P{i}" for i in range(60)], "ith": x})
    >>> res = survival(folder / "clinical.tsv", time="os_days", event="os_event", features=feats)
    >>> bool(res.cox.loc[0, "hr"] > 1)
    True
    """
    from ithkit.cohort._tables import load_inputs

    table, frame, source, notes = load_inputs(
        clinical, features=features, store=store, scores=scores, id_column=id_column
    )
    joined = join(
        table,
        frame,
        time=time,
        event=event,
        covariates=covariates,
        drop_unmatched=drop_unmatched,
        features_source=source,
    )
    joined = Joined(
        joined.data, joined.features, joined.covariates, joined.binary, [*notes, *joined.notes]
    )
    return survival_from_joined(
        joined,
        split=split,
        per_sd=per_sd,
        multivariable=multivariable,
        time_label=time,
        event_label=event,
    )
