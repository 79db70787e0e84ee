"""Figures: functions that take results and draw them (matplotlib); they never compute.

Each function returns a :class:`matplotlib.figure.Figure`; :func:`to_svg` turns it into inline
SVG markup for the report. matplotlib is the ``[report]`` extra and is imported only here.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit._optional import import_optional
from ithkit._trees import layout, preorder

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PALETTE = (
    "#2f6db5", "#d1603d", "#3a9a5b", "#8e5bb5", "#c9a227", "#4fb3bf", "#b5476f", "#6b7a8f",
    "#9c6b3d", "#5d8a2f",
)  # fmt: skip


def distinct_colours(n: int) -> list[str]:
    """``n`` colours that differ: the palette up to 10, then tab20, then a sampled colour map.

    Examples
    --------
    >>> len(set(distinct_colours(15)))
    15
    """
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    plt = _pyplot()
    cmap = plt.get_cmap("tab20" if n <= 20 else "turbo")
    if n <= 20:
        return [_hex(cmap(i)) for i in range(n)]
    return [_hex(cmap(i / max(1, n - 1))) for i in range(n)]


def _hex(rgba: Any) -> str:
    r, g, b = (round(255 * float(c)) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _pyplot() -> Any:
    matplotlib = import_optional("matplotlib", extra="report")
    matplotlib.use("Agg", force=False)
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small and searchable
    return import_optional("matplotlib.pyplot", extra="report")


def new_figure(width: float = 8.0, height: float = 4.0, ncols: int = 1, **kwargs: Any) -> Any:
    """A figure and axes with ithkit's defaults (width and height in inches)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), **kwargs)
    return fig, axes


def to_svg(fig: Figure) -> str:
    """Inline SVG markup of ``fig`` (the XML prolog removed); closes the figure."""
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:]


def _tree_layout(clones: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """x = depth, y = leaf order (parents centred over their children)."""
    return layout(clones["clone_id"], clones["parent"])


def _preorder(clones: pd.DataFrame) -> list[str]:
    """Clone ids parent-first, children in table order (rows of the CCF heatmap)."""
    return preorder(clones["clone_id"], clones["parent"])


def clone_tree(
    clones: pd.DataFrame,
    clone_ccf: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str = "Clone tree",
) -> Figure:
    """Draw a clone tree, and the clone CCF per region as a heatmap beside it.

    Parameters
    ----------
    clones
        ``clone_id, parent`` (parent missing for the root); optional ``n_mutations``
        (edge labels) and ``is_resistant`` (highlighted).
    clone_ccf
        ``clone_id, sample_id, ccf`` (fractions 0..1); omitted for the tree alone.
    """
    pos = _tree_layout(clones)
    if ax is None:
        ncols = 2 if clone_ccf is not None else 1
        fig, axes = new_figure(
            10 if ncols == 2 else 5, max(3.0, 0.55 * len(clones) + 1.2), ncols=ncols,
            gridspec_kw={"width_ratios": [1.2, 1]} if ncols == 2 else None,
        )  # fmt: skip
        tree_ax = axes[0] if ncols == 2 else axes
        heat_ax = axes[1] if ncols == 2 else None
    else:
        tree_ax, heat_ax = ax, None
        fig = ax.figure
    order = {cid: i for i, cid in enumerate(clones["clone_id"].astype(str))}
    colour = {cid: PALETTE[i % len(PALETTE)] for cid, i in order.items()}
    resistant = set()
    if "is_resistant" in clones.columns:
        resistant = set(clones.loc[clones["is_resistant"].astype(bool), "clone_id"].astype(str))
    n_mut = {}
    if "n_mutations" in clones.columns:
        n_mut = dict(zip(clones["clone_id"].astype(str), clones["n_mutations"], strict=True))
    for cid, parent in zip(clones["clone_id"].astype(str), clones["parent"], strict=True):
        if pd.isna(parent):
            continue
        (x0, y0), (x1, y1) = pos[str(parent)], pos[cid]
        tree_ax.plot([x0, x0, x1], [y0, y1, y1], color="#8a93a3", lw=1.5, zorder=1)
        if cid in n_mut:
            tree_ax.text((x0 + x1) / 2, y1 + 0.12, f"{n_mut[cid]} mut", fontsize=7, ha="center",
                         color="#5b6475")  # fmt: skip
    for cid, (x, y) in pos.items():
        edge = "#b5262b" if cid in resistant else "white"
        tree_ax.scatter([x], [y], s=420, color=colour[cid], edgecolors=edge, linewidths=2.5,
                        zorder=2)  # fmt: skip
        tree_ax.text(x, y, cid, ha="center", va="center", fontsize=8, color="white", zorder=3,
                     fontweight="bold")  # fmt: skip
    tree_ax.set_title(title + (" (red ring: resistant)" if resistant else ""), fontsize=10)
    tree_ax.invert_yaxis()
    tree_ax.axis("off")
    xs = [p[0] for p in pos.values()] or [0.0]
    tree_ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    if heat_ax is not None and clone_ccf is not None:
        wide = clone_ccf.pivot(index="clone_id", columns="sample_id", values="ccf")
        wide = wide.reindex(_preorder(clones))
        im = heat_ax.imshow(wide.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Blues",
                            aspect="auto")  # fmt: skip
        heat_ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns], fontsize=8)
        heat_ax.set_yticks(range(wide.shape[0]), [str(c) for c in wide.index], fontsize=8)
        for i in range(wide.shape[0]):
            for j in range(wide.shape[1]):
                v = wide.iat[i, j]
                heat_ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                             color="white" if v > 0.6 else "#1d2330")  # fmt: skip
        heat_ax.set_title("Cancer cell fraction per region", fontsize=10)
        fig.colorbar(im, ax=heat_ax, fraction=0.046, pad=0.04,
                     label="CCF (fraction of cancer cells)")  # fmt: skip
        heat_ax.set_xlabel("region")
    fig.tight_layout()
    return fig


def lesion_sizes(
    lesions: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str = "Lesion size over time",
) -> Figure:
    """Diameter (mm) of each lesion over time, coloured by organ (the sum of target diameters is
    RECIST's: see :mod:`ithkit.report.response`).

    Parameters
    ----------
    lesions
        The lesions contract (``lesion_id, timepoint, organ, lesion_class, diameter_mm`` and
        optionally ``date``).
    """
    if ax is None:
        fig, ax1 = new_figure(7, 4)
    else:
        fig, ax1 = ax.figure, ax
    x_col = "day" if "date" in lesions.columns and lesions["date"].notna().all() else "timepoint"
    frame = lesions.copy()
    if x_col == "day":
        first = frame["date"].min()
        frame["day"] = (frame["date"] - first).dt.days
    organs = sorted(frame["organ"].astype(str).unique())
    colour = {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(organs)}
    seen: set[str] = set()
    for lesion_id, part in frame.groupby("lesion_id", sort=True):
        part = part.sort_values(x_col)
        organ = str(part["organ"].iloc[0])
        style = "--" if str(part["lesion_class"].iloc[0]) == "new" else "-"
        ax1.plot(part[x_col], part["diameter_mm"], style, marker="o", ms=3, color=colour[organ],
                 label=organ if organ not in seen else None)  # fmt: skip
        seen.add(organ)
        last = part.iloc[-1]
        ax1.annotate(str(lesion_id), (last[x_col], last["diameter_mm"]), fontsize=7,
                     xytext=(3, 0), textcoords="offset points")  # fmt: skip
    ax1.set_xlabel("days from baseline" if x_col == "day" else "timepoint")
    ax1.set_ylabel("diameter (mm)")
    ax1.set_title(title, fontsize=10)
    ax1.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def vaf_by_region(
    mutation_ccf: pd.DataFrame, regions: pd.DataFrame | None = None, *, ax: Axes | None = None
) -> Figure:
    """Variant allele fraction of each mutation per region (strip plot), the median as a bar.

    Parameters
    ----------
    mutation_ccf
        ``mutation_id, sample_id, vaf`` (``genomic/mutation_ccf.tsv``).
    regions
        ``sample_id, median_vaf`` (``genomic/regions.tsv``): the bars; omitted for none.
    """
    if ax is None:
        fig, ax = new_figure(8, 3.5)
    else:
        fig = ax.figure
    samples = list(dict.fromkeys(mutation_ccf["sample_id"].astype(str)))
    median = {}
    if regions is not None and "median_vaf" in regions.columns:
        median = dict(zip(regions["sample_id"].astype(str), regions["median_vaf"], strict=True))
    rng = np.random.default_rng(0)  # jitter only: fixed so figures are reproducible
    for j, s in enumerate(samples):
        v = mutation_ccf.loc[mutation_ccf["sample_id"].astype(str) == s, "vaf"].dropna()
        ax.scatter(j + rng.uniform(-0.25, 0.25, len(v)), v.to_numpy(), s=8, alpha=0.6,
                   color=PALETTE[j % len(PALETTE)])  # fmt: skip
        if s in median and pd.notna(median[s]):
            ax.hlines(float(median[s]), j - 0.3, j + 0.3, color="#1d2330", lw=1.5)
    ax.set_xticks(range(len(samples)), samples)
    ax.set_xlabel("region")
    ax.set_ylabel("VAF (alt reads / depth)")
    ax.set_ylim(0, 1)
    ax.set_title("Variant allele fractions per region (bar: median)", fontsize=10)
    fig.tight_layout()
    return fig


def ctdna_series(ctdna: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Plasma VAF (alt / depth) of each tracked mutation over time, log scale."""
    if ax is None:
        fig, ax = new_figure(8, 4)
    else:
        fig = ax.figure
    frame = ctdna.copy()
    x_col = "day" if "date" in frame.columns and frame["date"].notna().all() else "timepoint"
    if x_col == "day":
        frame["day"] = (frame["date"] - frame["date"].min()).dt.days
    frame["vaf"] = frame["alt_counts"] / frame["depth"]
    floor = 0.5 / float(frame["depth"].median())
    for i, (mid, part) in enumerate(frame.groupby("mutation_id", sort=False)):
        part = part.sort_values(x_col)
        gene = str(part["gene"].iloc[0]) if "gene" in part.columns else str(mid)
        ax.plot(part[x_col], np.maximum(part["vaf"], floor), marker="o", ms=3, lw=1.2,
                color=PALETTE[i % len(PALETTE)], label=gene)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("days from baseline" if x_col == "day" else "timepoint")
    ax.set_ylabel("plasma VAF (alt reads / depth)")
    ax.set_title("ctDNA variant allele fractions", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig
