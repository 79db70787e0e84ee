"""Single-cell section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def cnv_heatmap(
    matrix: np.ndarray, windows: pd.DataFrame, groups: pd.Series, *, title: str = ""
) -> Figure:
    """CNV profiles (rows: cells, columns: genome windows) with a group colour bar on the left.

    ``groups`` holds one label per row (e.g. the subclone, or ``normal``), rows already ordered.
    """
    fig, (bar, ax) = new_figure(
        9.0, 4.6, ncols=2, gridspec_kw={"width_ratios": [0.03, 1.0], "wspace": 0.02}
    )
    labels = list(dict.fromkeys(groups.astype(str)))
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(labels)}
    codes = pd.Categorical(groups.astype(str), categories=labels).codes
    from matplotlib.colors import ListedColormap

    bar.imshow(codes[:, None], aspect="auto", interpolation="nearest",
               cmap=ListedColormap([colour[g] for g in labels]), vmin=-0.5,
               vmax=len(labels) - 0.5)  # fmt: skip
    bar.set_xticks([])
    bar.set_yticks([])
    lim = float(np.nanmax(np.abs(matrix))) if matrix.size else 1.0
    im = ax.imshow(matrix, aspect="auto", interpolation="nearest", cmap="RdBu_r",
                   vmin=-lim, vmax=lim)  # fmt: skip
    chrom = windows["chromosome"].astype(str).to_numpy()
    starts = [0, *[i for i in range(1, len(chrom)) if chrom[i] != chrom[i - 1]]]
    for s in starts[1:]:
        ax.axvline(s - 0.5, color="#333333", lw=0.4)
    ends = [*starts[1:], len(chrom)]
    ax.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)],
                  [chrom[s] for s in starts], fontsize=6)  # fmt: skip
    for i, tick in enumerate(ax.xaxis.get_major_ticks()):  # two rows: small chromosomes
        tick.set_pad(2.0 if i % 2 == 0 else 9.0)  # (19-22) would overlap on one
    ax.set_yticks([])
    ax.set_xlabel("genome position (chromosome)")
    ax.set_title(title or "Inferred copy number per cell", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, label="CNV (log ratio)")
    handles = [
        __import__("matplotlib.patches", fromlist=["Patch"]).Patch(color=colour[g], label=g)
        for g in labels
    ]
    ax.legend(handles=handles, fontsize=7, frameon=False, bbox_to_anchor=(1.12, 1),
              loc="upper left")  # fmt: skip
    return fig


def arm_heatmap(arm_profile: pd.DataFrame) -> Figure:
    """Mean CNV per subclone (rows) and chromosome arm (columns): the consensus events."""
    fig, ax = new_figure(9.0, 0.5 + 0.35 * max(1, len(arm_profile)))
    values = arm_profile.to_numpy(dtype=float)
    lim = float(np.nanmax(np.abs(values))) if values.size else 1.0
    im = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_yticks(range(len(arm_profile)), [str(i) for i in arm_profile.index])
    ax.set_xticks(range(arm_profile.shape[1]), [str(c) for c in arm_profile.columns],
                  rotation=90, fontsize=6)  # fmt: skip
    ax.set_title("Subclone consensus by chromosome arm (red gain, blue loss)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01, label="mean CNV (log ratio)")
    fig.tight_layout()
    return fig


def subclone_tree_figure(tree: pd.DataFrame) -> Figure:
    """The CNV subclone tree (``node, parent, events``): nodes left to right by depth."""
    fig, ax = new_figure(7.5, 0.8 + 0.55 * max(2, len(tree)))
    children: dict[str, list[str]] = {}
    for node, parent in zip(tree["node"], tree["parent"], strict=True):
        children.setdefault(str(parent), []).append(str(node))
    label = dict(zip(tree["node"].astype(str), tree["events"].astype(str), strict=True))
    pos: dict[str, tuple[float, float]] = {}
    leaf = [0.0]

    def place(node: str, depth: int) -> float:
        kids = children.get(node, [])
        y = float(np.mean([place(k, depth + 1) for k in kids])) if kids else leaf[0]
        if not kids:
            leaf[0] += 1
        pos[node] = (float(depth), y)
        return y

    place("normal", 0)
    for node, (x, y) in pos.items():
        for kid in children.get(node, []):
            kx, ky = pos[kid]
            ax.plot([x, x, kx], [y, ky, ky], color="#8a94a6", lw=1)
            ax.text((x + kx) / 2, ky + 0.12, label.get(kid, ""), fontsize=7, ha="center",
                    va="bottom", color="#444444")  # fmt: skip
    for i, (node, (x, y)) in enumerate(pos.items()):
        ax.scatter([x], [y], s=120, color=PALETTE[i % len(PALETTE)], zorder=3)
        ax.text(x + 0.08, y - 0.12, node, fontsize=8, va="top")
    ax.set_axis_off()
    ax.margins(x=0.12, y=0.25)  # room for the edge labels above the top branch
    ax.set_title("CNV subclone tree (edges: arm events gained)", fontsize=10, pad=12)
    fig.tight_layout()
    return fig


def singlecell_section(
    adata: Any,
    metrics: pd.DataFrame,
    *,
    tree: pd.DataFrame | None = None,
    max_cells: int = 400,
    seed: int = 0,
) -> Section:
    """Report section: CNV heatmap with subclones, subclone table, arm events, ITH scores.

    ``adata`` carries the results of :func:`ithkit.singlecell.infer_cnv` (``.uns['cnv']``);
    ``tree`` is the subclone tree the analysis wrote (``singlecell/subclone_tree.tsv``: node,
    parent, events), drawn when given; at most ``max_cells`` cells are shown, drawn per group
    in proportion (the display sample; every number comes from the analysis).
    """
    from ithkit.report.sections import _figure
    from ithkit.singlecell import cnv_result

    items: list[Item] = []
    values = dict(zip(metrics["metric"], metrics["value"], strict=True))
    headline = {k: values[k] for k in ("n_cells", "n_malignant", "n_subclones",
                                       "subclone_shannon", "ith_score", "n_states")
                if k in values}  # fmt: skip
    if "cnv" not in adata.uns:
        items.append(Text("No CNV inference: no reference (normal) cells were identified."))
        items.append(KeyValues("Single-cell ITH", headline))
        return Section("singlecell", "Single-cell heterogeneity", items)
    res = cnv_result(adata)
    headline["input"] = res.input_assumed
    items.append(KeyValues("Single-cell ITH", headline))
    group = adata.obs["subclone"].astype(object).where(adata.obs["malignant"].astype(bool),
                                                       "normal").fillna("normal")  # fmt: skip
    rng = np.random.default_rng(seed)
    frac = min(1.0, max_cells / max(1, adata.n_obs))
    rows: list[int] = []
    order = [*res.subclones["subclone"].astype(str), "normal"]
    for g in order:
        idx = np.flatnonzero(group.to_numpy() == g)
        take = max(1, round(len(idx) * frac)) if len(idx) else 0
        rows += sorted(rng.choice(idx, size=take, replace=False).tolist()) if take else []
    x = adata.obsm["X_cnv"]
    mat = x[rows].toarray() if hasattr(x, "toarray") else np.asarray(x)[rows]
    items.append(_figure(
        "CNV heatmap", lambda: cnv_heatmap(mat, res.windows, group.iloc[rows]),
        f"{len(rows)} of {adata.n_obs} cells; rows grouped by subclone, normal cells last.",
    ))  # fmt: skip
    if tree is not None and len(tree):
        items.append(_figure("Subclone tree", lambda: subclone_tree_figure(tree)))
    if len(res.arm_profile):
        items.append(_figure("Subclone arm-level events", lambda: arm_heatmap(res.arm_profile)))
    items.append(Table("CNV subclones", res.subclones,
                       "Consensus gains and losses per chromosome arm.",
                       source="singlecell/subclones.tsv"))  # fmt: skip
    items.append(
        Table("Single-cell ITH scores", metrics, source="singlecell/metrics.tsv", max_rows=30)
    )
    return Section("singlecell", "Single-cell heterogeneity", items)
