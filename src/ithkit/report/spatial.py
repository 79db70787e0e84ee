"""Spatial section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def spatial_scatter(
    xy: np.ndarray,
    values: pd.Series,
    *,
    title: str,
    categorical: bool | None = None,
    unit: str = "",
) -> Figure:
    """Cells at their coordinates, coloured by a label (categorical) or a score (``unit`` on
    its colour bar)."""
    fig, ax = new_figure(4.6, 4.2)
    cat = categorical if categorical is not None else not pd.api.types.is_numeric_dtype(values)
    size = max(0.5, min(8.0, 4000.0 / max(1, len(xy))))
    if cat:
        labels = list(dict.fromkeys(sorted(values.astype(str).unique())))
        v = values.astype(str).to_numpy()
        for i, lab in enumerate(labels):
            sel = v == lab
            ax.scatter(xy[sel, 0], xy[sel, 1], s=size, color=PALETTE[i % len(PALETTE)],
                       label=lab, linewidths=0)  # fmt: skip
        ax.legend(fontsize=7, frameon=False, markerscale=3, bbox_to_anchor=(1.01, 1),
                  loc="upper left")  # fmt: skip
    else:
        sc = ax.scatter(xy[:, 0], xy[:, 1], s=size, c=values.to_numpy(dtype=float),
                        cmap="viridis", linewidths=0)  # fmt: skip
        fig.colorbar(sc, ax=ax, fraction=0.04, pad=0.01, label=unit or str(values.name))
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def enrichment_heatmap(enrichment: pd.DataFrame) -> Figure:
    """Neighbourhood enrichment z-scores (label_a x label_b)."""
    wide = enrichment.pivot(index="label_a", columns="label_b", values="zscore")
    fig, ax = new_figure(0.9 + 0.55 * len(wide), 0.6 + 0.5 * len(wide))
    lim = float(np.nanmax(np.abs(wide.to_numpy()))) or 1.0
    im = ax.imshow(wide.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks(range(len(wide.columns)), [str(c) for c in wide.columns], rotation=45,
                  ha="right", fontsize=7)  # fmt: skip
    ax.set_yticks(range(len(wide.index)), [str(c) for c in wide.index], fontsize=7)
    for i in range(len(wide.index)):
        for j in range(len(wide.columns)):
            ax.text(j, i, f"{wide.iat[i, j]:.1f}", ha="center", va="center", fontsize=6)
    ax.set_title("Neighbourhood enrichment (z)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="z-score (vs permutations)")
    fig.tight_layout()
    return fig


def spatial_section(result: Any, *, max_cells: int = 20_000, seed: int = 0) -> Section:
    """Report section of a :class:`ithkit.spatial.SpatialResult`."""
    from ithkit.report.sections import _figure

    adata = result.adata
    label_key = adata.uns["spatial_heterogeneity"]["label_key"]
    summary = result.summary
    keep = ("n_cells", "global_shannon", "mean_local_shannon", "global_rao", "mean_local_rao",
            "morans_i_local_shannon", "mean_self_enrichment_z", "n_niches",
            "infiltration_score", "infiltration_category")  # fmt: skip
    values = {m: v for m, v in zip(summary["metric"], summary["value"], strict=True)
              if m in keep}  # fmt: skip
    items: list[Item] = [KeyValues("Spatial ITH", values)]
    rng = np.random.default_rng(seed)
    rows = np.arange(adata.n_obs)
    if adata.n_obs > max_cells:
        rows = np.sort(rng.choice(adata.n_obs, size=max_cells, replace=False))
    xy = np.asarray(adata.obsm["spatial"])[rows]
    obs = adata.obs.iloc[rows]
    items.append(_figure(f"Cells by {label_key}",
                         lambda: spatial_scatter(xy, obs[label_key], title=str(label_key),
                                                 categorical=True)))  # fmt: skip
    items.append(_figure("Local diversity (Shannon)",
                         lambda: spatial_scatter(xy, obs["local_shannon"],
                                                 title="local Shannon diversity",
                                                 unit="Shannon diversity (nats)")))  # fmt: skip
    items.append(_figure("Niches", lambda: spatial_scatter(xy, obs["niche"], title="niche",
                                                           categorical=True)))  # fmt: skip
    items.append(_figure("Neighbourhood enrichment",
                         lambda: enrichment_heatmap(result.enrichment)))  # fmt: skip
    items.append(Table("Spatial summary", summary, source="spatial/summary.tsv", max_rows=30))
    if not result.regions.empty:
        items.append(Table("Regions", result.regions, source="spatial/regions.tsv"))
    return Section("spatial", "Spatial heterogeneity", items)
