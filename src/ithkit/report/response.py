"""Response section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ithkit.response import RecistResult

RESPONSE_COLOURS = {
    "CR": "#2f6db5",
    "PR": "#3a9a5b",
    "SD": "#c9a227",
    "NON_CR_NON_PD": "#c9a227",
    "PD": "#d1603d",
    "NE": "#6b7a8f",
    "iCR": "#2f6db5",
    "iPR": "#3a9a5b",
    "iSD": "#c9a227",
    "NON_iCR_NON_iUPD": "#c9a227",
    "iUPD": "#e39a7b",
    "iCPD": "#d1603d",
}


def waterfall(best_change: pd.DataFrame) -> Figure:
    """Best (most negative) change of the target sum per patient, sorted, coloured by BOR.

    ``best_change``: ``patient_id, best_change_pct, best_overall_response`` (and an optional
    ``label`` shown instead of the patient id).
    """
    frame = best_change.sort_values("best_change_pct", ascending=False)
    fig, ax = new_figure(max(4.0, 0.5 * len(frame) + 2), 3.4)
    colours = [RESPONSE_COLOURS.get(str(c), "#6b7a8f") for c in frame["best_overall_response"]]
    x = np.arange(len(frame))
    ax.bar(x, frame["best_change_pct"], color=colours)
    ax.axhline(20, color="#d1603d", lw=0.8, ls="--")
    ax.axhline(-30, color="#3a9a5b", lw=0.8, ls="--")
    ax.axhline(0, color="#333", lw=0.6)
    labels = frame["label" if "label" in frame.columns else "patient_id"].astype(str)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("best change of target sum (%)")
    ax.set_title("Waterfall: best change from baseline (dashed: +20 %, -30 %)", fontsize=10)
    for xi, (v, c) in enumerate(
        zip(frame["best_change_pct"], frame["best_overall_response"], strict=True)
    ):
        ax.text(xi, v, str(c), ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
    fig.tight_layout()
    return fig


def spider(lesions: pd.DataFrame, days: pd.Series | None = None) -> Figure:
    """Change from baseline over time per target lesion, coloured by organ."""
    tgt = lesions[lesions["lesion_class"] == "target"]
    organs = sorted(tgt["organ"].astype(str).unique())
    colour = {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(organs)}
    fig, ax = new_figure(6.0, 3.6)
    seen: set[str] = set()
    for (_, lid), g in tgt.groupby(["patient_id", "lesion_id"], sort=False):
        organ = str(g["organ"].iloc[0])
        x = g["timepoint"] if days is None else g["timepoint"].map(days)
        ax.plot(
            x,
            g["change_from_baseline_pct"],
            marker="o",
            ms=3,
            color=colour[organ],
            label=organ if organ not in seen else None,
        )
        seen.add(organ)
        last = g.dropna(subset=["change_from_baseline_pct"]).tail(1)
        if len(last):
            lx = last["timepoint"] if days is None else last["timepoint"].map(days)
            ax.annotate(
                str(lid),
                (float(lx.iloc[0]), float(last["change_from_baseline_pct"].iloc[0])),
                fontsize=7,
                xytext=(3, 0),
                textcoords="offset points",
            )
    ax.axhline(20, color="#d1603d", lw=0.8, ls="--")
    ax.axhline(-30, color="#3a9a5b", lw=0.8, ls="--")
    ax.axhline(0, color="#333", lw=0.6)
    ax.set_xlabel("timepoint" if days is None else "days from baseline")
    ax.set_ylabel("change from baseline (%)")
    ax.set_title("Spider plot: target lesions, coloured by organ", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def swimmer(timepoints: pd.DataFrame) -> Figure:
    """One lane per patient: assessments over time, marked with their overall response.

    An optional ``label`` column is shown instead of the patient id.
    """
    frame = timepoints.copy()
    if frame["date"].notna().all():
        start = frame.groupby("patient_id")["date"].transform("min")
        frame["x"] = (frame["date"] - start).dt.days
        xlabel = "days from baseline"
    else:
        frame["x"] = frame["timepoint"]
        xlabel = "timepoint"
    patients = list(dict.fromkeys(frame["patient_id"].astype(str)))
    fig, ax = new_figure(6.5, max(1.6, 0.5 * len(patients) + 1))
    for y, pid in enumerate(patients):
        g = frame[frame["patient_id"].astype(str) == pid]
        ax.barh(y, g["x"].max(), color="#e3e7ee", height=0.5)
        for x, code in zip(g["x"], g["overall_response"], strict=True):
            if code is None or pd.isna(code):
                continue
            ax.scatter(x, y, color=RESPONSE_COLOURS.get(str(code), "#6b7a8f"), s=40, zorder=3)
            ax.annotate(
                str(code),
                (x, y),
                fontsize=6,
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
            )
    names = frame.groupby("patient_id", sort=False)[
        "label" if "label" in frame.columns else "patient_id"
    ].first()
    ax.set_yticks(range(len(patients)), [str(names[p]) for p in patients])
    ax.set_xlabel(xlabel)
    ax.set_title("Swimmer plot: overall response at each assessment", fontsize=10)
    fig.tight_layout()
    return fig


def lesion_heatmap(lesions: pd.DataFrame) -> Figure:
    """Per-lesion change from baseline (rows: lesions, columns: timepoints)."""
    tgt = lesions[lesions["lesion_class"].isin(["target", "non_target"])]
    wide = tgt.pivot_table(
        index="lesion_id", columns="timepoint", values="change_from_baseline_pct", aggfunc="first"
    )
    organ = tgt.groupby("lesion_id")["organ"].first()
    fig, ax = new_figure(max(4.0, 0.6 * wide.shape[1] + 2.5), max(2.0, 0.4 * len(wide) + 1.2))
    lim = float(np.nanmax(np.abs(wide.to_numpy()))) if wide.notna().any().any() else 1.0
    im = ax.imshow(wide.to_numpy(dtype=float), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns])
    ax.set_yticks(range(len(wide)), [f"{i} ({organ[i]})" for i in wide.index], fontsize=7)
    ax.set_xlabel("timepoint")
    fig.colorbar(im, ax=ax, label="change from baseline (%)")
    ax.set_title("Per-lesion change from baseline", fontsize=10)
    fig.tight_layout()
    return fig


def response_section(result: RecistResult) -> Section:
    """The response section: categories, figures, per-lesion and mixed-response tables."""
    from ithkit.report.sections import _figure

    tps = result.timepoints
    best = result.best_response
    lanes = tps
    if len(best) == 1:  # one patient's report: its id is in the header already
        lanes = tps.assign(label="patient")
    dates = tps.dropna(subset=["date"])
    days = None
    if len(dates) == len(tps) and tps["patient_id"].nunique() == 1:
        days = (dates.set_index("timepoint")["date"] - dates["date"].min()).dt.days
    items: list[Item] = [
        KeyValues(
            "Best overall response",
            {
                f"{r.patient_id}": f"{r.best_overall_response}"
                + (" (confirmed)" if r.confirmed else "")
                for r in best.itertuples()
            }
            | {"criteria": result.criteria},
        ),
        Table(
            "Assessments",
            tps.drop(columns=[c for c in ("patient_id", "n_targets") if c in tps.columns]),
            "Sum of target lesion diameters and its percent change from baseline and from the "
            "nadir; responses by RECIST 1.1 (exact thresholds).",
            source="response/timepoints.tsv",
        ),
        _figure("Spider plot", lambda: spider(result.lesions, days)),
        _figure("Swimmer plot", lambda: swimmer(lanes)),
        _figure("Per-lesion heatmap", lambda: lesion_heatmap(result.lesions)),
        Table(
            "Mixed response",
            result.mixed.drop(columns="patient_id"),
            "pattern from per-lesion responses; heterogeneity_index: SD of per-lesion changes "
            "from baseline (percentage points).",
            source="response/mixed.tsv",
        ),
        Table(
            "Mixed response by organ",
            result.mixed_by_organ.drop(columns="patient_id"),
            source="response/mixed_by_organ.tsv",
        ),
    ]
    if len(result.volumetric):
        items.append(
            Table(
                "Volumetric response",
                result.volumetric.drop(columns="patient_id"),
                "PR <= -65 %, PD >= +73 % over the nadir (sum of target volumes).",
                source="response/volumetric.tsv",
            )
        )
    if result.notes:
        items.append(Text("Notes: " + "; ".join(result.notes)))
    return Section("response", "Response assessment (RECIST 1.1)", items)
