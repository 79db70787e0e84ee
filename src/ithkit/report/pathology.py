"""Pathology section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def tile_map(tiles: pd.DataFrame, *, tile_um: float, title: str = "") -> Figure:
    """Percent positive of each tile of one image, at the tiles' places (µm)."""
    fig, ax = new_figure(4.8, 4.2)
    tx, ty = tiles["tile_x"].to_numpy(), tiles["tile_y"].to_numpy()
    grid = np.full((int(ty.max() - ty.min()) + 1, int(tx.max() - tx.min()) + 1), np.nan)
    grid[ty - ty.min(), tx - tx.min()] = tiles["percent_positive"].to_numpy(dtype=float)
    extent = (tx.min() * tile_um, (tx.max() + 1) * tile_um,
              (ty.max() + 1) * tile_um, ty.min() * tile_um)  # fmt: skip
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, extent=extent,
                   interpolation="nearest")  # fmt: skip
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.01, label="% positive")
    ax.set_xlabel("x (µm)", fontsize=8)
    ax.set_ylabel("y (µm)", fontsize=8)
    ax.set_title(title or f"Tile map ({tile_um:.0f} µm tiles)", fontsize=10)
    fig.tight_layout()
    return fig


def region_bars(
    regions: pd.DataFrame, *, metric: str = "percent_positive", cutpoint: float | None = None
) -> Figure:
    """One bar per region (the slide's ``ALL`` last, grey) with the clinical cut-point line."""
    fig, ax = new_figure(max(3.5, 0.7 * len(regions) + 1.5), 3.2)
    names = regions["region"].astype(str).tolist()
    colours = ["#999999" if n == "ALL" else PALETTE[0] for n in names]
    ax.bar(range(len(names)), regions[metric].to_numpy(dtype=float), color=colours)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel(metric.replace("_", " "), fontsize=8)
    if cutpoint is not None:
        ax.axhline(cutpoint, color=PALETTE[1], linestyle="--", linewidth=1.2,
                   label=f"cut-point {cutpoint:g}")  # fmt: skip
        ax.legend(fontsize=7, frameon=False)
    ax.set_title("Per region", fontsize=10)
    fig.tight_layout()
    return fig


def biopsy_curve_figure(biopsy: pd.DataFrame) -> Figure:
    """Probability that one core calls the tumour differently, over core diameter (95 % CI)."""
    fig, ax = new_figure(4.2, 3.2)
    for i, (image, b) in enumerate(biopsy.groupby("image", sort=False)):
        x = b["core_um"].to_numpy(dtype=float)
        ax.plot(x, b["discordance"], marker="o", color=PALETTE[i % len(PALETTE)], label=image)
        ax.fill_between(x, b["ci_low"], b["ci_high"], color=PALETTE[i % len(PALETTE)], alpha=0.2)
    ax.set_xlabel("core diameter (µm)", fontsize=8)
    ax.set_ylabel("P(core call differs)", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("The biopsy question", fontsize=10)
    if biopsy["image"].nunique() > 1:
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def pathology_section(scores: Any, het: Any) -> Section:
    """Report section of a :class:`~ithkit.pathology.BiomarkerResult` and its heterogeneity."""
    from ithkit.report.sections import _figure

    slide = scores.slide()
    values = {
        "marker": scores.marker,
        "cells scored": int(slide["n_cells"]),
        "cells without a value": int(slide["n_missing"]),
        "percent positive": round(float(slide["percent_positive"]), 2),
        "H-score": round(float(slide["h_score"]), 1) if np.isfinite(slide["h_score"]) else "n/a",
        "Allred": int(slide["allred_total"]),
    }
    for metric, label in (("single_core_discordance", "one-core discordance"),
                          ("morans_i", "Moran's I of tiles")):  # fmt: skip
        scheme = "tile" if metric == "morans_i" else "section"
        v = het.value(metric, scheme=scheme)
        if np.isfinite(v):
            values[label] = round(v, 3)
    items: list[Item] = [KeyValues("Biomarker", values)]
    image = str(slide["image"])
    if scores.tiles is not None and len(scores.tiles):
        tiles = scores.tiles[scores.tiles["image"] == image]
        items.append(_figure("Tile map of percent positive",
                             lambda: tile_map(tiles, tile_um=scores.tile_um)))  # fmt: skip
    regions = scores.regions[scores.regions["image"] == image]
    metric = het.metric if het.cutpoint is not None else "percent_positive"
    if metric in regions:
        items.append(_figure("Per region", lambda: region_bars(regions, metric=metric,
                                                               cutpoint=het.cutpoint)))  # fmt: skip
    if len(het.biopsy):
        items.append(_figure("The biopsy question", lambda: biopsy_curve_figure(het.biopsy)))
    items.append(Table("Regions", scores.regions_table(), source="pathology/regions.tsv"))
    items.append(Table("Heterogeneity", het.table, source="pathology/heterogeneity.tsv"))
    return Section("pathology", "Digital pathology", items)
