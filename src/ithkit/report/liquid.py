"""ctDNA section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, distinct_colours, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ithkit.liquid import LiquidResult


def ctdna_trajectories(
    result: LiquidResult,
    *,
    events: dict[str, pd.Timestamp] | None = None,
) -> Figure:
    """Tumour fraction and per-variant VAF over time (log scale), with event lines.

    Non-detected draws are drawn at their limit of detection with an open marker (the VAF is
    below it); CHIP variants are dashed grey. ``events`` maps a label (e.g. ``therapy start``,
    ``RECIST PD``, ``molecular progression``) to a date drawn as a vertical line.
    """
    fig, (ax1, ax2) = new_figure(10.0, 3.6, ncols=2)
    tps = result.timepoints
    x_tp = tps["date"] if tps["date"].notna().all() else tps["timepoint"]
    ax1.plot(x_tp, tps["tumour_fraction"], marker="o", color=PALETTE[0])
    ax1.fill_between(
        x_tp, tps["tumour_fraction_low"], tps["tumour_fraction_high"], color=PALETTE[0], alpha=0.2
    )
    ax1.set_ylabel("tumour fraction (0-1)")
    ax1.set_xlabel("date of blood draw" if tps["date"].notna().all() else "timepoint")
    ax1.set_title("Plasma tumour fraction (95 % interval)", fontsize=10)
    var = result.variants
    groups = list(var.groupby("mutation_id", sort=False))
    colours = distinct_colours(len(groups))  # one colour per variant, also beyond 10 lines
    styles = ("-", "-.", (0, (5, 1)))  # and a line style that cycles: > 20 lines stay apart
    for i, (_, g) in enumerate(groups):
        x = g["date"] if g["date"].notna().all() else g["timepoint"]
        y = g["vaf"].fillna(g["vaf_high"])
        chip = bool(g["is_chip"].iloc[0])
        colour = "#9aa3b2" if chip else colours[i]
        label = f"{g['gene'].iloc[0]}" + (" (CHIP)" if chip else "")
        style = "--" if chip else styles[(i // 20) % len(styles)]
        ax2.plot(x, y, color=colour, lw=1, ls=style, label=label)
        det = g["detected"].to_numpy(dtype=bool)
        ax2.scatter(x[det], y[det], color=colour, s=12)
        ax2.scatter(x[~det], y[~det], facecolors="none", edgecolors=colour, s=12)
    ax2.set_yscale("log")
    from matplotlib.ticker import NullFormatter

    ax2.yaxis.set_minor_formatter(NullFormatter())  # minor labels (2x10^-3...) collide
    ax2.set_ylabel("VAF (alt reads / depth; open: below LOD)")
    ax2.set_xlabel("date of blood draw" if tps["date"].notna().all() else "timepoint")
    ax2.set_title("Variant allele fractions", fontsize=10)
    ax2.legend(fontsize=6, frameon=False, ncol=1 if len(groups) <= 12 else 2, loc="upper left",
               bbox_to_anchor=(1.01, 1))  # fmt: skip
    for j, (label, when) in enumerate((events or {}).items()):
        for ax in (ax1, ax2):
            ax.axvline(when, color=PALETTE[(j + 1) % len(PALETTE)], lw=0.9, ls=":")
        ax1.annotate(
            label, (when, ax1.get_ylim()[1]), fontsize=7, rotation=90, va="top", ha="right"
        )
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.tight_layout()
    return fig


def clone_trajectories(clones: pd.DataFrame) -> Figure:
    """Estimated CCF of each clone in plasma over time (clone VAF / truncal VAF)."""
    fig, ax = new_figure(5.5, 3.4)
    for i, (cid, g) in enumerate(clones.groupby("clone_id", sort=True)):
        ax.plot(
            g["timepoint"], g["ccf"], marker="o", color=PALETTE[i % len(PALETTE)], label=str(cid)
        )
    ax.set_xlabel("timepoint")
    ax.set_ylabel("clone fraction of ctDNA (CCF, 0-1)")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("Clones in plasma", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def liquid_section(
    result: LiquidResult,
    *,
    lead: pd.DataFrame | None = None,
    events: dict[str, pd.Timestamp] | None = None,
) -> Section:
    """The ctDNA section: trajectories, molecular response, variant status, lead time."""
    from ithkit.report.sections import _figure

    prog = result.progression.iloc[0] if len(result.progression) else None
    summary: dict[str, object] = {}
    if prog is not None:
        summary["molecular progression"] = (
            "none"
            if pd.isna(prog["molecular_progression_timepoint"])
            else f"draw {prog['molecular_progression_timepoint']} "
            f"({pd.Timestamp(prog['molecular_progression_date']).date()}), by {prog['trigger']}"
        )
    if lead is not None and len(lead):
        row = lead.iloc[0]
        summary["RECIST progression"] = (
            "none"
            if pd.isna(row["recist_progression_date"])
            else str(pd.Timestamp(row["recist_progression_date"]).date())
        )
        summary["lead time (days)"] = (
            "n/a" if pd.isna(row["lead_time_days"]) else int(row["lead_time_days"])
        )
    chip = sorted(result.variants.loc[result.variants["is_chip"], "gene"].astype(str).unique())
    summary["CHIP-flagged genes"] = ", ".join(chip) or "none"
    items: list[Item] = [
        KeyValues("Molecular progression", summary),
        _figure("ctDNA trajectories", lambda: ctdna_trajectories(result, events=events)),
        Table(
            "Per blood draw",
            result.timepoints.drop(columns="patient_id"),
            "tumour fraction = 2 x pooled VAF of truncal variants (Wilson interval); "
            "molecular response against baseline.",
            source="liquid/timepoints.tsv",
        ),
        Table(
            "Variants at every draw",
            result.variants.drop(
                columns=[c for c in ("patient_id", "p_change") if c in result.variants.columns]
            ),
            "not detected: vaf blank, below the site's limit of detection (lod, vaf_high).",
            source="liquid/variants.tsv",
            collapsed=True,
        ),
    ]
    if len(result.clones):
        items.insert(2, _figure("Clone trajectories", lambda: clone_trajectories(result.clones)))
    items.append(
        Text(
            "Detection: one-sided binomial test of the alt reads against the "
            "per-site background error rate."
        )
    )
    return Section("liquid", "Liquid biopsy (ctDNA)", items)
