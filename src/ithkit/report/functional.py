"""Functional-heterogeneity figures: dose-response curves per drug and the collateral heatmap.

They draw :class:`ithkit.functional.ResponseFits` and collateral tables; they never fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Section
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ithkit.functional import ResponseFits

__all__ = [
    "collateral_heatmap",
    "dose_response_figure",
    "functional_section",
    "monitoring_figure",
    "write_figures",
]


def _curve(row: pd.Series, grid: np.ndarray) -> np.ndarray:
    z = np.clip(row["hill"] * (np.log(grid) - np.log(row["ec50_um"])), -700, 700)
    return np.asarray(row["bottom"] + (row["top"] - row["bottom"]) / (1 + np.exp(z)))


def dose_response_figure(fits: ResponseFits, drug: str, *, ax: Axes | None = None) -> Figure:
    """Every sample's observations and fitted curve for one drug (log concentration axis).

    Untreated controls (concentration 0) are drawn at the left edge; a flat fit is a
    dashed line at the mean response.

    Parameters
    ----------
    fits
        The result of :func:`ithkit.functional.fit_responses`.
    drug
        The drug to draw.
    ax
        Draw into these axes (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig, ax = new_figure(5.5, 3.6)
    else:
        fig = ax.figure
    curves = fits.curves[fits.curves["drug"] == drug]
    points = fits.points[fits.points["drug"] == drug]
    summary = fits.fits.set_index(["sample_id", "drug"])
    lo = float(curves["min_dose_um"].min())
    hi = float(curves["max_dose_um"].max())
    ctrl_x = lo / 3.0
    grid = np.logspace(np.log10(lo), np.log10(hi), 200)
    for i, (_, row) in enumerate(curves.iterrows()):
        colour = PALETTE[i % len(PALETTE)]
        pts = points[points["sample_id"] == row["sample_id"]]
        x = pts["concentration_um"].to_numpy(dtype=float)
        ax.scatter(np.where(x > 0, x, ctrl_x), pts["response"], s=10, color=colour, alpha=0.7)
        label = str(row["sample_id"])
        if bool(row["flat"]):
            mean = float(summary.loc[(row["sample_id"], drug), "einf"])
            ax.plot([lo, hi], [mean, mean], ls="--", color=colour, lw=1.2, label=f"{label} (flat)")
        else:
            ax.plot(grid, _curve(row, grid), color=colour, lw=1.4, label=label)
    ax.set_xscale("log")
    ax.axhline(0.5, color="#999999", lw=0.6, ls=":")
    ax.set_xlabel("concentration (µM; controls at left)")
    ax.set_ylabel("response (fraction of control)")
    ax.set_title(f"{drug}: dose response", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def collateral_heatmap(collateral: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """log2 ratio of each derivative (rows) to its parent for each drug (columns).

    Blue: more sensitive than the parent (collateral sensitivity); red: more resistant.
    Cells called ``sensitive``/``resistant`` carry a ``S``/``R``.
    """
    if ax is None:
        fig, ax = new_figure(
            1.2 + 0.9 * collateral["drug"].nunique(), 1.2 + 0.5 * collateral["sample_id"].nunique()
        )
    else:
        fig = ax.figure
    wide = collateral.pivot_table(
        index="sample_id", columns="drug", values="log2_ratio", aggfunc="first", sort=False
    )
    calls = collateral.set_index(["sample_id", "drug"])["call"]
    values = wide.to_numpy(dtype=float)
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    im = ax.imshow(values, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns], rotation=45, ha="right")
    ax.set_yticks(range(wide.shape[0]), [str(i) for i in wide.index])
    for i, sample in enumerate(wide.index):
        for j, drug in enumerate(wide.columns):
            call = calls.get((sample, drug), "")
            mark = {"sensitive": "S", "resistant": "R"}.get(str(call), "")
            if mark:
                ax.text(j, i, mark, ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="log2(derivative / parent)")
    ax.set_title("Collateral sensitivity", fontsize=10)
    fig.tight_layout()
    return fig


def monitoring_figure(monitoring: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Time to progression against the draw interval, one line per sequencing depth."""
    if ax is None:
        fig, ax = new_figure(5.5, 3.4)
    else:
        fig = ax.figure
    for i, (depth, part) in enumerate(monitoring.groupby("depth", sort=True)):
        part = part.sort_values("draw_interval_days")
        ax.plot(
            part["draw_interval_days"],
            part["time_to_progression_days"],
            marker="o",
            color=PALETTE[i % len(PALETTE)],
            label=f"depth {int(depth)}",
        )
    ax.set_xlabel("days between blood draws")
    ax.set_ylabel("time to progression (days)")
    ax.set_title("Monitored double bind: what the monitor needs", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def write_figures(fits: ResponseFits, out_dir: Any, collateral: pd.DataFrame | None = None) -> list:
    """Write one SVG per drug (``dose_response_<drug>.svg``) and the collateral heatmap."""
    from pathlib import Path

    from ithkit._atomic import atomic_path
    from ithkit.report.figures import to_svg

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    figures = [
        (f"dose_response_{_safe(d)}.svg", dose_response_figure(fits, d))
        for d in fits.curves["drug"].unique()
    ]
    if collateral is not None and len(collateral):
        figures.append(("collateral.svg", collateral_heatmap(collateral)))
    for name, fig in figures:
        path = out / name
        with atomic_path(path) as tmp:
            tmp.write_text(to_svg(fig), encoding="utf-8")
        written.append(path)
    return written


def _safe(name: object) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def _drawer(fits: ResponseFits, drug: str) -> Any:
    return lambda: dose_response_figure(fits, drug)


def functional_section(
    fits: ResponseFits,
    *,
    collateral: pd.DataFrame | None = None,
    double_bind_pairs: Sequence[tuple[str, str]] = (),
    policies: pd.DataFrame | None = None,
    recommendation: str = "",
    monitoring: pd.DataFrame | None = None,
) -> Section:
    """The functional-heterogeneity section: curves per drug, collateral heatmap, schedule.

    Parameters
    ----------
    fits
        Dose-response fits.
    collateral
        ``collateral.tsv`` table (when derivatives were measured).
    double_bind_pairs
        Drug pairs of the double bind.
    policies
        Ranked ``policies.tsv`` of the designed schedule.
    recommendation
        The schedule's one-sentence recommendation.
    monitoring
        ``monitoring.tsv`` of the designed double bind read from blood draws (when asked for).
    """
    from ithkit.report._render import KeyValues, Table, Text
    from ithkit.report.sections import _figure

    f = fits.fits
    values: dict[str, object] = {
        "samples": f["sample_id"].nunique(),
        "drugs": f["drug"].nunique(),
        "curves (flat)": f"{len(f)} ({int(f['flat'].sum())})",
        "IC50 outside the tested range": int(f["ic50_extrapolated"].sum()),
    }
    if collateral is not None:
        values["double-bind pairs"] = ", ".join(f"{a}/{b}" for a, b in double_bind_pairs) or "none"
    items: list[Any] = [KeyValues("Dose response", values)]
    if recommendation:
        items.append(Text(recommendation))
    for drug in fits.curves["drug"].unique():
        items.append(_figure(f"{drug}: dose response", _drawer(fits, str(drug))))
    shown = [
        "sample_id",
        "drug",
        "ic50_rel_um",
        "ic50_abs_um",
        "ic50_extrapolated",
        "emax",
        "einf",
        "hill",
        "aac",
        "gr50_um",
        "flat",
        "r2",
    ]
    items.append(
        Table(
            "Fits",
            f[shown],
            "IC50 in µM (at the edge of the tested range when "
            "flagged); emax/einf fractions of control; aac = 1 - mean response over "
            "log10 dose.",
        )
    )
    if collateral is not None and len(collateral):
        items.append(_figure("Collateral sensitivity", lambda: collateral_heatmap(collateral)))
        items.append(
            Table(
                "Collateral sensitivity",
                collateral,
                "log2 ratio derivative / parent (> 0: more resistant), bootstrap "
                "95 % interval and p.",
            )
        )
    if policies is not None:
        items.append(
            Table(
                "Schedules compared",
                policies,
                "in the evolution model built from these measurements; time to "
                "progression blank: none within the horizon.",
            )
        )
    if monitoring is not None and len(monitoring):
        items.append(_figure("Monitoring the double bind", lambda: monitoring_figure(monitoring)))
        items.append(
            Table(
                "Monitoring the double bind",
                monitoring,
                "the designed double bind deciding only at blood draws, on noisy reads "
                "of the monitored line's share; time to progression blank: none within the "
                "horizon; ttp_loss_days against the noise-free monitor read daily.",
            )
        )
    return Section("functional", "Functional heterogeneity", items)
