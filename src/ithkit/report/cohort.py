"""The cohort report: survival, prediction and the cohort's profile scores, drawn from results.

Every number shown comes from a result object of :mod:`ithkit.cohort` (or the store's
``profiles`` table read as is); nothing here computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit._optional import import_optional
from ithkit.report._render import Figure, KeyValues, Section, Table, Text, write_report
from ithkit.report.figures import PALETTE, new_figure, to_svg

if TYPE_CHECKING:  # pragma: no cover
    from ithkit.cohort import CohortOverview, PredictionResult, SurvivalResult

_GROUP_COLOUR = {"high": "#b5262b", "1": "#b5262b", "low": "#2f6db5", "0": "#2f6db5"}


def km_plot(result: SurvivalResult, feature: str) -> Any:
    """Kaplan-Meier curves of one feature's groups, 95 % bands, numbers at risk under the axis."""
    curves = result.km[result.km["feature"] == feature]
    risk = result.at_risk[result.at_risk["feature"] == feature]
    groups = list(dict.fromkeys(curves["group"].astype(str)))
    fig, ax = new_figure(6.4, 4.2 + 0.22 * len(groups))
    lr = result.logrank.set_index("feature").loc[feature]
    for g in groups:
        c = curves[curves["group"].astype(str) == g]
        colour = _GROUP_COLOUR.get(g, PALETTE[groups.index(g) % len(PALETTE)])
        t = [0.0, *c["time_days"].tolist()]
        s = [1.0, *c["survival"].tolist()]
        lo = [1.0, *c["survival_low"].tolist()]
        hi = [1.0, *c["survival_high"].tolist()]
        n = int(lr["n_high"] if g in ("high", "1") else lr["n_low"])
        ax.step(t, s, where="post", color=colour, lw=1.6, label=f"{g} (n = {n})")
        ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
        cens = c[c["n_censored"] > 0]
        ax.plot(cens["time_days"], cens["survival"], "|", color=colour, ms=6)
    ticks = sorted(risk["time_days"].unique())
    ax.set_xticks(ticks)
    ax.set_xlim(0, max(ticks[-1] if ticks else 1.0, float(curves["time_days"].max())) * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"{result.time_label} (days)")
    ax.set_ylabel("survival probability")
    p = lr["p"]
    ptxt = "" if pd.isna(p) else f"; log-rank p = {p:.3g}"
    versus = "1 vs 0" if feature in result.binary else f"{lr['group_high']} vs below"
    ax.set_title(f"{feature}: {versus}{ptxt}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    # numbers at risk: one row per group under the axis (data x, axes y)
    trans = ax.get_xaxis_transform()
    ax.text(-0.09, -0.2, "at risk", transform=ax.transAxes, ha="right", fontsize=8, color="#5b6475")
    for i, g in enumerate(groups):
        colour = _GROUP_COLOUR.get(g, PALETTE[i % len(PALETTE)])
        y = -0.28 - 0.08 * i
        ax.text(-0.09, y, g, transform=ax.transAxes, ha="right", fontsize=8, color=colour)
        for r in risk[risk["group"].astype(str) == g].itertuples():
            ax.text(
                r.time_days,
                y,
                str(r.n_at_risk),
                transform=trans,
                ha="center",
                fontsize=8,
                color=colour,
            )
    fig.subplots_adjust(bottom=0.22 + 0.07 * len(groups), left=0.14)
    return fig


_HR_RANGE = (0.01, 100.0)  # the forest plot's axis; wider intervals end in an arrow


def forest_plot(cox: pd.DataFrame, *, title: str = "Hazard ratios (95 % CI)") -> Any:
    """Hazard ratios with their intervals on a log axis, one line per model term."""
    rows = cox.dropna(subset=["hr", "hr_low", "hr_high"]).reset_index(drop=True)
    fig, ax = new_figure(10.0, 1.0 + 0.38 * max(len(rows), 1))
    labels = []
    for i, r in enumerate(rows.itertuples()):
        y = len(rows) - 1 - i
        colour = "#b5262b" if r.p < 0.05 else "#1d2330"
        low, high = max(r.hr_low, _HR_RANGE[0]), min(r.hr_high, _HR_RANGE[1])
        ax.plot([low, high], [y, y], color=colour, lw=1.5)
        if _HR_RANGE[0] <= r.hr <= _HR_RANGE[1]:
            ax.plot(r.hr, y, "s", color=colour, ms=5)
        for end, edge, marker in ((r.hr_low, _HR_RANGE[0], "<"), (r.hr_high, _HR_RANGE[1], ">")):
            if end < edge if marker == "<" else end > edge:
                ax.plot(edge, y, marker, color=colour, ms=5)  # interval runs off the axis
        labels.append(f"{r.feature} [{r.model}, {r.scale}]")
        ax.text(
            1.02,
            y,
            f"{r.hr:.3g} ({r.hr_low:.3g}-{r.hr_high:.3g}), p={r.p:.2g}",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8,
        )
    ax.axvline(1.0, color="#5b6475", ls=":", lw=1)
    ax.set_xscale("log")
    shown = rows[["hr_low", "hr_high"]].clip(*_HR_RANGE)
    ax.set_xlim(
        min(float(shown["hr_low"].min()) if len(rows) else 0.5, 0.5) / 1.3,
        max(float(shown["hr_high"].max()) if len(rows) else 2.0, 2.0) * 1.3,
    )
    ticker = __import__("matplotlib.ticker", fromlist=["FuncFormatter"])
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_yticks(range(len(rows)), labels[::-1], fontsize=8)
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax.set_xlabel("hazard ratio (log scale); right of 1 = shorter survival")
    ax.set_title(title, fontsize=10)
    # labels left of the axes, numbers right of it: fixed margins (tight_layout ignores the text)
    fig.subplots_adjust(left=0.36, right=0.7, bottom=0.6 / (1.0 + 0.38 * max(len(rows), 1)))
    return fig


def _fmt_days(value: float) -> str:
    if pd.isna(value):
        return ""
    return "not reached" if math.isinf(value) else f"{value:.0f}"


def survival_section(result: SurvivalResult, *, max_curves: int = 12) -> Section:
    """Report section: summary, forest plot, Cox / log-rank / PH tables, Kaplan-Meier curves."""
    items: list[Any] = [
        KeyValues(
            "Survival analysis",
            {
                "patients": result.n_patients,
                "events": result.n_events,
                "time": f"{result.time_label} (days)",
                "event": result.event_label,
                "covariates": ", ".join(result.covariates) or "none",
                "split of continuous features": str(result.parameters.get("split", "median")),
            },
        )
    ]
    if len(result.cox.dropna(subset=["hr"])):
        items.append(
            Figure(
                "Forest plot",
                to_svg(forest_plot(result.cox)),
                "Cox proportional-hazards models (lifelines); red: p < 0.05.",
            )
        )
    items.append(Table("Cox models (cox.tsv)", result.cox))
    lr = result.logrank.copy()
    lr["median_high_days"] = lr["median_high_days"].map(_fmt_days)
    lr["median_low_days"] = lr["median_low_days"].map(_fmt_days)
    items.append(
        Table(
            "Log-rank tests (logrank.tsv)",
            lr,
            "Median survival from the Kaplan-Meier curve of each group.",
        )
    )
    if len(result.ph):
        items.append(
            Table(
                "Proportional-hazards check (ph.tsv)",
                result.ph,
                "Grambsch-Therneau test, rank-transformed time; violated: p < 0.05.",
            )
        )
    features = [f for f in result.logrank.dropna(subset=["p"])["feature"]][:max_curves]
    for f in features:
        items.append(
            Figure(
                f"Kaplan-Meier: {f}",
                to_svg(km_plot(result, f)),
                "Shaded: 95 % interval; ticks: censored patients; numbers at risk under the axis.",
            )
        )
    if result.notes:
        items.append(Text("Notes: " + " · ".join(result.notes)))
    return Section("survival", "Survival", items)


def write_survival_report(result: SurvivalResult, path: str | Path) -> Path:
    """``report.html`` of ``ithkit cohort survival``: one self-contained page."""
    return write_report(
        [survival_section(result)],
        path,
        title="Cohort survival",
        subtitle=f"{result.n_patients} patients, {result.n_events} events",
    )


def calibration_plot(result: PredictionResult) -> Any:
    """Mean predicted vs observed risk per quantile bin of the held-out predictions."""
    fig, ax = new_figure(4.8, 4.2)
    for i, (scheme, part) in enumerate(result.calibration.groupby("scheme", sort=False)):
        ax.plot(
            part["mean_predicted"],
            part["observed"],
            "o-",
            ms=4,
            color=PALETTE[i],
            label=str(scheme).replace("_", " "),
        )
    ax.plot([0, 1], [0, 1], ":", color="#5b6475", lw=1, label="ideal")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    what = (
        "outcome"
        if result.kind == "binary"
        else (f"event by {result.model_card.get('horizon_days', 0):.0f} days")
    )
    ax.set_xlabel(f"predicted probability of {what}")
    ax.set_ylabel("observed fraction")
    ax.set_title("Calibration of held-out predictions", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def importance_plot(result: PredictionResult) -> Any:
    """Permutation importance (drop in AUC / C-index when a feature is shuffled)."""
    imp = result.importance.iloc[::-1]
    fig, ax = new_figure(6.0, 0.8 + 0.32 * max(len(imp), 1))
    ax.barh(
        range(len(imp)),
        imp["importance_mean"],
        xerr=imp["importance_sd"],
        color="#2f6db5",
        alpha=0.8,
    )
    ax.set_yticks(range(len(imp)), imp["feature"].astype(str), fontsize=8)
    ax.axvline(0, color="#5b6475", lw=1)
    metric = imp["metric"].iloc[0] if len(imp) else "metric"
    ax.set_xlabel(f"drop in {metric} when shuffled (held-out folds)")
    ax.set_title("Permutation importance", fontsize=10)
    fig.tight_layout()
    return fig


def prediction_section(result: PredictionResult) -> Section:
    """Report section: model card, held-out metrics, calibration and importance."""
    card = result.model_card
    main = "auc" if result.kind == "binary" else "c_index"
    items: list[Any] = [
        KeyValues(
            "Model card",
            {
                "outcome": f"{card['outcome']} ({card['kind']})",
                "patients": card["patients"],
                "events / positives": card["events_or_positives"],
                "features": ", ".join(card["features"]),
                "covariates": ", ".join(card["covariates"]) or "none",
                "model": card["model"],
                "nested cross-validation": card["validation"]["nested_cv"],
                "held-out groups": card["validation"]["held_out_group"],
                "intervals": card["validation"]["bootstrap"],
                "horizon (days)": card["horizon_days"] if card["horizon_days"] is not None else "-",
            },
        ),
    ]
    missing = pd.DataFrame(
        {
            "feature": list(card["missing_fraction"]),
            "missing fraction": list(card["missing_fraction"].values()),
        }
    )
    items.append(Table("Missingness", missing))
    pooled = result.metrics[result.metrics["fold"] == "pooled"]
    items.append(
        Table(
            "Held-out performance (pooled)",
            pooled,
            f"{main}: discrimination; brier: squared error of the predicted risk; "
            "calibration slope 1 and intercept 0 are ideal. Training-set "
            "performance is never shown.",
        )
    )
    items.append(
        Table(
            "Per fold and per held-out group (metrics.tsv)",
            result.metrics[result.metrics["fold"] != "pooled"],
            max_rows=80,
        )
    )
    if len(result.calibration):
        items.append(
            Figure(
                "Calibration",
                to_svg(calibration_plot(result)),
                "Quantile bins of the held-out predictions.",
            )
        )
    if len(result.importance):
        items.append(Figure("Permutation importance", to_svg(importance_plot(result))))
    items.append(Text("Limits: " + " · ".join(card["limits"])))
    if result.notes:
        items.append(Text("Notes: " + " · ".join(result.notes)))
    return Section("prediction", f"Prediction: {card['outcome']}", items)


def write_prediction_report(result: PredictionResult, path: str | Path) -> Path:
    """``report.html`` of ``ithkit cohort predict``."""
    return write_report(
        [prediction_section(result)],
        path,
        title="Cohort prediction",
        subtitle=f"{result.model_card['patients']} patients",
    )


def score_histograms(view: CohortOverview, *, max_panels: int = 24) -> Any:
    """One small histogram per profile score (patients measured), coloured by modality."""
    dist = view.distributions.head(max_panels)
    ncols = 4
    nrows = max(1, math.ceil(len(dist) / ncols))
    first, _ = new_figure(1, 1)  # applies ithkit's matplotlib defaults (Agg, text as text)
    plt = import_optional("matplotlib.pyplot", extra="report")
    plt.close(first)
    plt_fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.3 * nrows), squeeze=False)
    modalities = list(dict.fromkeys(dist["modality"]))
    for k, ax in enumerate(axes.ravel()):
        if k >= len(dist):
            ax.set_visible(False)
            continue
        r = dist.iloc[k]
        values = view.scores[r["score"]].dropna()
        ax.hist(
            values,
            bins=min(15, max(3, values.nunique())),
            color=PALETTE[modalities.index(r["modality"]) % len(PALETTE)],
            alpha=0.85,
        )
        ax.set_title(str(r["score"]), fontsize=8)
        ax.set_xlabel(
            f"{r['unit']} (n = {int(r['n'])})" if r["unit"] else f"n = {int(r['n'])}", fontsize=7
        )
        ax.tick_params(labelsize=7)
    plt_fig.tight_layout()
    return plt_fig


def correlation_plot(view: CohortOverview) -> Any:
    """Spearman correlations between scores of different modalities (heat map)."""
    corr = view.correlations
    names = sorted(set(corr["score_a"]) | set(corr["score_b"]))
    matrix = pd.DataFrame(np.nan, index=names, columns=names)
    for r in corr.itertuples():
        matrix.loc[r.score_a, r.score_b] = r.rho
        matrix.loc[r.score_b, r.score_a] = r.rho
    size = 1.5 + 0.35 * len(names)
    fig, ax = new_figure(size + 2.5, size)
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("Spearman rho (scores of different modalities)", fontsize=8)
    ax.set_title("Is ITH in one modality reflected in another?", fontsize=10)
    fig.tight_layout()
    return fig


def overview_sections(view: CohortOverview, *, failed: pd.DataFrame | None = None) -> list[Section]:
    """Sections: score distributions, cross-modal correlations, missing and failed analyses."""
    items: list[Any] = [
        KeyValues(
            "Cohort",
            {
                "patients": view.n_patients,
                "profile scores": len(view.distributions),
                "cross-modal pairs tested": len(view.correlations),
            },
        ),
        Table("Profile scores (distributions.tsv)", view.distributions),
    ]
    if len(view.distributions):
        items.append(
            Figure(
                "Distributions",
                to_svg(score_histograms(view)),
                "One panel per numeric score of the patient ITH profiles.",
            )
        )
    sections = [Section("scores", "Profile scores", items)]
    corr_items: list[Any] = []
    if len(view.correlations):
        corr_items.append(Figure("Cross-modal correlations", to_svg(correlation_plot(view))))
        corr_items.append(
            Table(
                "Correlations (correlations.tsv)",
                view.correlations,
                "Spearman rank correlation on patients measured on both; "
                "no correction for multiple testing.",
                max_rows=30,
            )
        )
    else:
        corr_items.append(Text("Too few patients measured on two modalities to correlate."))
    sections.append(Section("correlations", "Heterogeneity across modalities", corr_items))
    gap_items: list[Any] = []
    if failed is not None and len(failed):
        gap_items.append(Table("Failed runs (patients.tsv)", failed))
    counts = view.missing.groupby("modality").size().rename("patients").reset_index()
    if len(counts):
        gap_items.append(Table("Modalities not measured", counts))
        gap_items.append(Table("Per patient", view.missing, max_rows=40))
    if not gap_items:
        gap_items.append(Text("Every patient has every modality."))
    sections.append(Section("missing", "Failed and missing analyses", gap_items))
    return sections


def cohort_report(
    sections: Sequence[Section],
    path: str | Path,
    *,
    title: str = "Cohort report",
    subtitle: str = "",
) -> Path:
    """Write the cohort report from sections built by this module."""
    return write_report(list(sections), path, title=title, subtitle=subtitle)


__all__ = [
    "calibration_plot",
    "cohort_report",
    "correlation_plot",
    "forest_plot",
    "importance_plot",
    "km_plot",
    "overview_sections",
    "prediction_section",
    "score_histograms",
    "survival_section",
    "write_prediction_report",
    "write_survival_report",
]
