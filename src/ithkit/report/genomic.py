"""Genomic section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ithkit.genomic import GenomicResult


def ccf_scatter(mutation_ccf: pd.DataFrame, mutations: pd.DataFrame, a: str, b: str) -> Figure:
    """CCF of every mutation in region ``a`` against region ``b``, coloured by clone."""
    fig, ax = new_figure(4.8, 4.4)
    wide = mutation_ccf.pivot(index="mutation_id", columns="sample_id", values="ccf")
    clone = mutations.set_index("mutation_id")["clone_id"].reindex(wide.index).astype(str)
    for i, cid in enumerate(sorted(clone.unique(), key=lambda c: int(c[1:]) if c[1:].isdigit()
                                   else 0)):  # fmt: skip
        sel = clone == cid
        ax.scatter(wide.loc[sel, a], wide.loc[sel, b], s=10, alpha=0.7,
                   color=PALETTE[i % len(PALETTE)], label=cid)  # fmt: skip
    ax.plot([0, 1], [0, 1], color="#b0b6c2", lw=0.8, ls=":")
    ax.set_xlim(-0.02, 1.05)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel(f"CCF in {a} (fraction of cancer cells)")
    ax.set_ylabel(f"CCF in {b} (fraction of cancer cells)")
    ax.set_title(f"Cancer cell fractions: {a} vs {b}", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1),
              title="clone", title_fontsize=7)  # fmt: skip
    fig.tight_layout()
    return fig


def fish_plot(fish: pd.DataFrame, tree: pd.DataFrame) -> Figure:
    """Clone prevalence per region as nested bars: each clone drawn inside its parent."""
    samples = list(dict.fromkeys(fish["sample_id"].astype(str)))
    fig, ax = new_figure(max(4.5, 1.1 * len(samples) + 2), 3.8)
    parent_of = dict(zip(tree["clone_id"].astype(str), tree["parent"], strict=True))
    ccf = fish.pivot(index="clone_id", columns="sample_id", values="ccf")
    order = [str(c) for c in tree["clone_id"]]
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(order)}
    for j, sample in enumerate(samples):
        bottom: dict[str, float] = {}
        # place each clone's bar at its parent's bottom plus the CCF of earlier siblings
        offset: dict[str, float] = {}
        for cid in order:
            parent = parent_of[cid]
            if pd.isna(parent):
                start = 0.0
            else:
                p = str(parent)
                start = bottom[p] + offset.get(p, 0.0)
                offset[p] = offset.get(p, 0.0) + float(ccf.loc[cid, sample])
            bottom[cid] = start
            # drawn inside its parent's bar and below 1: children whose CCFs (each with its own
            # error) add up to more than their parent are clipped, never stacked above it
            top = (
                1.0
                if pd.isna(parent)
                else bottom[str(parent)] + float(ccf.loc[str(parent), sample])
            )
            height = max(0.0, min(float(ccf.loc[cid, sample]), top - start, 1.0 - start))
            ax.bar(j, height, bottom=start, width=0.7, color=colour[cid],
                   edgecolor="white", linewidth=0.6, label=cid if j == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(samples)), samples)
    ax.set_xlabel("region")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("cancer cell fraction (0-1)")
    ax.set_title("Clone composition per region (clones nested in their parents)", fontsize=10)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def metrics_bars(metrics: pd.DataFrame) -> Figure:
    """MATH score and clone diversity (Shannon) per region."""
    per = metrics[metrics["sample_id"] != "ALL"]
    fig, (ax1, ax2) = new_figure(8.5, 3.2, ncols=2)
    x = np.arange(len(per))
    ax1.bar(x, per["math"], color=PALETTE[0])
    ax1.set_xticks(x, per["sample_id"].astype(str))
    ax1.set_ylabel("MATH (%: 100 x MAD / median VAF)")
    ax1.set_title("MATH per region", fontsize=10)
    ax2.bar(x, per["shannon"], color=PALETTE[1])
    ax2.set_xticks(x, per["sample_id"].astype(str))
    ax2.set_ylabel("clone Shannon diversity (nats)")
    ax2.set_title("Clone diversity per region", fontsize=10)
    fig.tight_layout()
    return fig


def adequacy_curve(curve: pd.DataFrame, asymptote: float) -> Figure:
    """Clones detected against the number of regions sampled (mean ± SD over subsets)."""
    fig, ax = new_figure(4.8, 3.4)
    ax.errorbar(curve["n_regions"], curve["clones_mean"], yerr=curve["clones_sd"], marker="o",
                color=PALETTE[2], capsize=3)  # fmt: skip
    if np.isfinite(asymptote):
        ax.axhline(asymptote, color="#8a93a3", ls=":", lw=1, label="extrapolated total")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xlabel("regions sampled (count)")
    ax.set_ylabel("clones detected (count, mean ± SD)")
    ax.set_title("Was one biopsy enough?", fontsize=10)
    fig.tight_layout()
    return fig


def genomic_section(result: GenomicResult) -> Section:
    """The report section for :func:`ithkit.genomic.analyze` results."""
    from ithkit.report import figures
    from ithkit.report.sections import _figure

    samples = list(dict.fromkeys(result.mutation_ccf["sample_id"].astype(str)))
    whole = result.metrics[result.metrics["sample_id"].astype(str) == "ALL"]
    n_clones = int(whole["n_clones"].iloc[0]) if len(whole) else result.clones["clone_id"].nunique()
    counts = result.mutations["class"].value_counts()  # rows of mutations.tsv, by class
    items: list[Item] = [
        Text(
            f"{len(result.mutations)} mutations in {len(samples)} region(s): "
            f"{counts.get('truncal', 0)} truncal, {counts.get('shared', 0)} shared, "
            f"{counts.get('private', 0)} private; {n_clones} clones. "
            f"{result.tree.n_consistent} tree(s) are consistent with the clone CCFs "
            f"(tolerance {result.tree.tolerance:.2f}); the best is {result.tree.newick()}. "
            + result.adequacy.summary()
        )
    ]
    if len(result.filled):
        items.append(
            Text(
                f"{len(result.filled)} mutation x region rows were missing and were filled "
                "with 0 alt reads at the region's median depth."
            )
        )
    tree = result.tree.tree.merge(
        result.clones.groupby("clone_id", as_index=False)["n_mutations"].first(), on="clone_id"
    )
    figs: list[tuple[str, Any]] = [
        ("Inferred clone tree and clone CCF per region",
         lambda: figures.clone_tree(tree, result.clones, title="Inferred clone tree")),
        ("Clone composition per region", lambda: fish_plot(result.fish, result.tree.tree)),
        ("Heterogeneity per region", lambda: metrics_bars(result.metrics)),
    ]  # fmt: skip
    if len(samples) >= 2:
        figs.insert(
            0,
            (f"CCF scatter {samples[0]} vs {samples[1]}",
             lambda: ccf_scatter(result.mutation_ccf, result.mutations, samples[0], samples[1])),
        )  # fmt: skip
    if len(samples) >= 2:
        figs.append(
            ("Sampling adequacy",
             lambda: adequacy_curve(result.adequacy.curve, result.adequacy.clones_asymptote)),
        )  # fmt: skip
    items += [_figure(title, draw) for title, draw in figs]
    items += [
        Table(
            "Heterogeneity metrics",
            result.metrics,
            "MATH in %; Shannon in nats.",
            source="genomic/metrics.tsv",
        ),
        Table(
            "Tree edges and their support",
            result.tree.edges,
            "support: fraction of the consistent trees that contain the edge (1 = in all)",
            source="genomic/edges.tsv",
        ),
        Table("Clones", result.clones, source="genomic/clones.tsv"),
        Table(
            "Cancer cell fraction of each mutation",
            result.mutation_ccf,
            source="genomic/mutation_ccf.tsv",
            collapsed=True,
        ),
    ]
    return Section("genomic", "Genomic heterogeneity", items)


def conversion_section(converted: Any) -> Section:
    """What variants made from caller outputs rest on (:class:`ithkit.genomic.ConvertedCalls`):
    mutations per region in LOH, gained and subclonal segments, and every assumption made."""
    items: list[Item] = [
        Text(
            "The variant table was built from the callers' outputs (VCF, copy-number segments, "
            "purity); see genomic/callers/ for the files."
        ),
        Table(
            "Mutations per region and the copy number they got",
            converted.summary,
            "n_loh: minor copy number 0; n_gained: more copies than normal; n_subclonal_cn: "
            "segment state carried by < 95% of the cancer cells; outside: given 1+1",
        ),
    ]
    items += [Text(f"Note: {note}") for note in converted.notes]
    return Section("genomic-callers", "Genomic input from caller outputs", items)
