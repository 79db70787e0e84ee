"""Epigenetic section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ithkit.epigenetic import ReadLevelResult, RegionResult, RegionTree


def distance_heatmap(result: RegionResult, *, ax: Axes | None = None) -> Figure:
    """Heatmap of the pairwise methylation distances (mean |delta beta|) between regions."""
    if ax is None:
        fig, ax = new_figure(4.2, 3.6)
    else:
        fig = ax.figure
    m = result.matrix("methylation")
    im = ax.imshow(m.to_numpy(), cmap="viridis", vmin=0)
    ids = list(m.index)
    ax.set_xticks(range(len(ids)), ids, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(ids)), ids, fontsize=8)
    for i in range(len(ids)):
        for j in range(len(ids)):
            ax.text(j, i, f"{m.iat[i, j]:.3f}", ha="center", va="center", fontsize=6, color="w")
    fig.colorbar(im, ax=ax, label="mean |Δβ|")
    ax.set_title("Methylation distance between regions", fontsize=10)
    fig.tight_layout()
    return fig


def _draw_tree(tree: RegionTree, ax: Axes, title: str, colour: str) -> None:
    kids = tree.children()
    y_of: dict[str, float] = {}
    x_of: dict[str, float] = {}
    counter = [0.0]

    def place(node: str, x: float) -> float:
        x_of[node] = x
        sub = kids.get(node, [])
        if not sub:
            y_of[node] = counter[0]
            counter[0] += 1
            return y_of[node]
        ys = [place(c, x + length) for c, length in sub]
        y_of[node] = float(np.mean(ys))
        return y_of[node]

    root = tree.root
    place(root, 0.0)
    for parent, sub in kids.items():
        for c, _ in sub:
            ax.plot([x_of[parent], x_of[parent]], [y_of[parent], y_of[c]], color=colour, lw=1.2)
            ax.plot([x_of[parent], x_of[c]], [y_of[c], y_of[c]], color=colour, lw=1.2)
    span = max(x_of.values()) or 1.0
    for leaf in tree.leaves:
        ax.text(x_of[leaf] + 0.02 * span, y_of[leaf], leaf, va="center", fontsize=8)
    ax.set_xlim(-0.02 * span, 1.25 * span)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("branch length")
    ax.set_title(title, fontsize=10)


def region_trees(result: RegionResult) -> Figure:
    """The methylation tree and, when computed, the genetic region tree side by side
    (neighbour joining, drawn from the last join; unrooted trees)."""
    n = 2 if result.genetic_tree is not None else 1
    fig, axes = new_figure(4.0 * n, 3.2, ncols=n)
    axes = np.atleast_1d(axes)
    _draw_tree(result.tree, axes[0], "Methylation tree (NJ on mean |Δβ|)", PALETTE[0])
    if result.genetic_tree is not None:
        _draw_tree(result.genetic_tree, axes[1], "Genetic tree (NJ on clone CCFs)", PALETTE[1])
    fig.tight_layout()
    return fig


def locus_distributions(result: ReadLevelResult) -> Figure:
    """Per-sample distributions of the per-locus PDR, epipolymorphism, entropy and MHL."""
    metrics = ("pdr", "epipolymorphism", "entropy", "mhl")
    fig, axes = new_figure(10.0, 3.0, ncols=len(metrics))
    ids = list(result.summary["sample_id"])
    for ax, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        data = [
            result.loci.loc[result.loci["sample_id"] == s, metric].dropna().to_numpy() for s in ids
        ]
        data = [d if d.size else np.array([np.nan]) for d in data]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(ids) + 1), ids, rotation=45, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return fig


def epigenetic_section(
    *, read_level: ReadLevelResult | None = None, regions: RegionResult | None = None
) -> Section:
    """The epigenetic section: read-level diversity per region, distances, the two trees."""
    from ithkit.report.sections import _figure

    items: list[Item] = []
    summary: dict[str, Any] = {}
    if regions is not None:
        s = regions.summary.to_dict("records")[0]
        summary["regions"] = s["n_regions"]
        summary["CpGs covered in every region"] = s["n_cpgs_shared"]
        summary[f"variably methylated (range ≥ {s['variable_threshold']:g})"] = (
            f"{s['fraction_variable']:.3f}"
        )
        summary["mean distance (mean |Δβ|)"] = f"{s['distance_mean']:.4f}"
        summary["methylation tree"] = regions.tree.newick()
        if regions.genetic_tree is not None:
            summary["genetic tree"] = regions.genetic_tree.newick()
            summary["Robinson-Foulds distance"] = f"{s['tree_rf']} of {s['tree_rf_max']}"
    if read_level is not None:
        summary["CpGs per locus / min reads"] = (
            f"{read_level.cpgs_per_locus} / {read_level.min_reads}"
        )
    items.append(KeyValues("Methylation heterogeneity", summary))
    if read_level is not None:
        items.append(
            _figure("Read-level diversity per locus", lambda: locus_distributions(read_level))
        )
        items.append(
            Table(
                "Read-level summary",
                read_level.summary,
                "medians over loci; PDR (Landau 2014), epipolymorphism (Landan 2012), entropy "
                "(Xie 2011), MHL (Guo 2017), FDRP/qFDRP (Scherer 2020).",
            )
        )
    if regions is not None:
        items.append(_figure("Methylation distances", lambda: distance_heatmap(regions)))
        items.append(_figure("Methylation and genetic trees", lambda: region_trees(regions)))
        items.append(Table("Regions", regions.regions, ""))
    items.append(
        Text(
            "Distances: mean absolute beta difference over the CpGs two regions share. "
            "Genetic tree: neighbour joining on the mutation-weighted clone-CCF differences "
            "of the same regions. Normal-cell admixture lowers methylation distances but not "
            "CCF distances, so low-purity regions can move in the methylation tree."
        )
    )
    return Section("epigenetic", "Epigenetic heterogeneity (DNA methylation)", items)
