"""Imaging section of the report and its figures (they draw results, never compute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ithkit.imaging import HabitatResult, PhenotypeResult, Volume


# units of the voxel-wise maps the report draws (CT in HU; IBSI entropy is in bits)
MAP_UNITS = {"mean": "HU", "median": "HU", "minimum": "HU", "maximum": "HU", "variance": "HU²",
             "entropy": "bits"}  # fmt: skip


def _roi_slice(mask: Volume) -> int:
    """The axial slice with the largest ROI area."""
    return int(np.argmax((np.asarray(mask.array) > 0).sum(axis=(1, 2))))


def _aspect(vol: Volume) -> float:
    return float(vol.spacing[1] / vol.spacing[0])


def roi_contour(
    image: Volume, mask: Volume, *, window: tuple[float, float] = (-160, 240)
) -> Figure:
    """The axial slice with the largest ROI area, ROI contour on top (CT window in HU)."""
    fig, ax = new_figure(4.0, 4.0)
    z = _roi_slice(mask)
    ax.imshow(image.array[z], cmap="gray", vmin=window[0], vmax=window[1], aspect=_aspect(image))
    ax.contour(np.asarray(mask.array[z]) > 0, levels=[0.5], colors=[PALETTE[1]], linewidths=1.2)
    ax.set_title(f"slice {z}: ROI contour", fontsize=9)
    ax.axis("off")
    return fig


def map_overlay(image: Volume, fmap: Volume, mask: Volume, *, name: str = "") -> Figure:
    """A feature map over the image on the slice with the largest ROI area."""
    fig, ax = new_figure(4.6, 4.0)
    z = _roi_slice(mask)
    ax.imshow(image.array[z], cmap="gray", vmin=-160, vmax=240, aspect=_aspect(image))
    arr = np.ma.masked_invalid(np.asarray(fmap.array[z], dtype=float))
    im = ax.imshow(arr, cmap="magma", alpha=0.85, aspect=_aspect(image))
    fig.colorbar(
        im, ax=ax, fraction=0.046, pad=0.04, label=f"local {name} ({MAP_UNITS.get(name, 'a.u.')})"
    )
    ax.set_title(f"{name} map (slice {z})", fontsize=9)
    ax.axis("off")
    return fig


def habitat_overlay(image: Volume, labels: Volume) -> Figure:
    """Habitat labels over the image on the slice with the largest lesion area."""
    from matplotlib.colors import ListedColormap

    fig, ax = new_figure(4.0, 4.0)
    z = _roi_slice(labels)
    ax.imshow(image.array[z], cmap="gray", vmin=-160, vmax=240, aspect=_aspect(image))
    lab = np.asarray(labels.array[z])
    k = int(np.asarray(labels.array).max())
    cmap = ListedColormap([PALETTE[i % len(PALETTE)] for i in range(max(k, 1))])
    ax.imshow(np.ma.masked_equal(lab, 0), cmap=cmap, vmin=0.5, vmax=k + 0.5, alpha=0.6,
              aspect=_aspect(image))  # fmt: skip
    ax.set_title(f"{k} habitats (slice {z})", fontsize=9)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=PALETTE[i % len(PALETTE)], alpha=0.6, label=f"habitat {i + 1}")
                       for i in range(k)], fontsize=7, frameon=False, loc="upper left",
              bbox_to_anchor=(1.01, 1))  # fmt: skip
    ax.axis("off")
    return fig


def phenotype_heatmap(result: PhenotypeResult, *, max_features: int = 30) -> Figure:
    """Dendrogram of the lesions and a heatmap of their standardised features."""
    from scipy.cluster.hierarchy import dendrogram

    fig, (ax1, ax2) = new_figure(10.0, 4.2, ncols=2, gridspec_kw={"width_ratios": [1, 3]})
    dn = dendrogram(result.linkage, orientation="left", no_labels=True, ax=ax1,
                    color_threshold=0, above_threshold_color="#555555")  # fmt: skip
    ax1.axis("off")
    order = dn["leaves"][::-1]
    m = result.matrix
    cols = m.var().sort_values(ascending=False).index[:max_features]
    data = m.iloc[order][cols].to_numpy()
    im = ax2.imshow(np.clip(data, -3, 3), cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto")
    ax2.set_yticks(range(len(order)))
    labels = [
        f"{i}  [{p}]"
        for i, p in zip(m.index[order], result.assignments["phenotype"].iloc[order], strict=True)
    ]
    ax2.set_yticklabels(labels, fontsize=6)
    ax2.set_xticks(range(len(cols)))
    ax2.set_xticklabels([c.split(":")[1] if ":" in c else c for c in cols], rotation=90, fontsize=5)
    fig.colorbar(im, ax=ax2, fraction=0.03, pad=0.02, label="z-score")
    ax2.set_title("Lesion phenotypes: [phenotype] and top-variance features", fontsize=9)
    fig.tight_layout()
    return fig


def lesion_volumes(volumes: pd.DataFrame) -> Figure:
    """Per-lesion volume (ml) over timepoints, one line per lesion."""
    fig, ax = new_figure(5.5, 3.2)
    for i, (lid, g) in enumerate(volumes.sort_values("timepoint").groupby("lesion_id", sort=True)):
        ax.plot(g["timepoint"], g["volume_ml"], marker="o", color=PALETTE[i % len(PALETTE)],
                label=str(lid))  # fmt: skip
    ax.set_xlabel("timepoint")
    ax.set_ylabel("volume (ml)")
    ax.set_title("Lesion volume over time (mesh volume)", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def habitat_volumes(table: pd.DataFrame) -> Figure:
    """Habitat volumes (ml) over timepoints, one panel per lesion, stacked by habitat.

    ``table`` is the ``habitat_volumes.tsv`` of ``ithkit imaging habitats-over-time``
    (:func:`ithkit.imaging.habitats_over_time` with ``patient_id, lesion_id``); nothing is
    computed here.
    """
    keys = list(table.groupby(["patient_id", "lesion_id"], sort=True).groups)
    fig, axes = new_figure(min(3.2 * len(keys), 12.0) + 1.6, 3.2, ncols=len(keys))
    axes_list = list(np.atleast_1d(axes))
    for ax, key in zip(axes_list, keys, strict=True):
        g = table[(table["patient_id"] == key[0]) & (table["lesion_id"] == key[1])]
        wide = g.pivot_table(index="timepoint", columns="habitat", values="volume_ml")
        names = g.drop_duplicates("habitat").set_index("habitat")["profile"]
        bottom = np.zeros(len(wide))
        for j, h in enumerate(wide.columns):
            vals = wide[h].to_numpy(dtype=float)
            ax.bar([str(t) for t in wide.index], vals, bottom=bottom,
                   color=PALETTE[j % len(PALETTE)], label=f"{h}: {names[h]}")  # fmt: skip
            bottom += vals
        ax.set_title(f"{key[0]} {key[1]}", fontsize=9)
        ax.set_xlabel("timepoint")
    axes_list[0].set_ylabel("volume (ml)")
    axes_list[-1].legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle("Habitat volumes over time (habitats defined at baseline)", fontsize=9)
    fig.tight_layout()
    return fig


def imaging_section(
    *,
    volumes: pd.DataFrame,
    features: pd.DataFrame | None = None,
    lesion: tuple[str, Any, Any] | None = None,
    maps: dict[str, Any] | None = None,
    habitat: HabitatResult | None = None,
    phenotypes: PhenotypeResult | None = None,
    deltas: pd.DataFrame | None = None,
    radiogenomics: pd.DataFrame | None = None,
) -> Section:
    """The imaging section.

    ``lesion`` is (lesion id, image Volume, mask Volume) of the lesion whose maps and habitats
    are shown; ``volumes`` has ``lesion_id, timepoint, volume_ml``.
    """
    from ithkit.report.sections import _figure

    items: list[Item] = []
    summary: dict[str, object] = {
        "lesions": int(volumes["lesion_id"].nunique()),
        "timepoints": int(volumes["timepoint"].nunique()),
    }
    if habitat is not None:
        summary["habitats (mapped lesion)"] = habitat.k
        summary["habitat diversity (nats)"] = habitat.diversity
    if phenotypes is not None:
        summary["lesion phenotypes"] = len(phenotypes.stability)
        het = phenotypes.patients["heterogeneity"]
        summary["interlesional heterogeneity"] = float(het.iloc[0]) if len(het) else "n/a"
    items.append(KeyValues("Imaging summary", summary))
    if lesion is not None:
        lid, img, msk = lesion
        items.append(_figure(f"Lesion {lid}: ROI", lambda: roi_contour(img, msk)))
        for name, vol in (maps or {}).items():
            draw = lambda v=vol, n=name: map_overlay(img, v, msk, name=n)  # noqa: E731
            items.append(_figure(f"Lesion {lid}: {name} map", draw))
        if habitat is not None:
            items.append(
                _figure(f"Lesion {lid}: habitats", lambda: habitat_overlay(img, habitat.labels))
            )
            items.append(Table("Habitats", habitat.table, "k chosen by the mean silhouette width.",
                               source="imaging/habitats.tsv"))  # fmt: skip
    if volumes["timepoint"].nunique() > 1:
        items.append(_figure("Lesion volumes", lambda: lesion_volumes(volumes)))
    if deltas is not None and len(deltas):
        items.append(_figure("Delta-radiomics: feature trajectories",
                             lambda: feature_trajectories(deltas)))  # fmt: skip
    if phenotypes is not None:
        items.append(_figure("Lesion phenotypes", lambda: phenotype_heatmap(phenotypes)))
        note = "mean bootstrap Jaccard per phenotype (> 0.75 stable, < 0.6 unstable)."
        items.append(Table("Phenotype stability", phenotypes.stability, note))  # fmt: skip
    if radiogenomics is not None:
        sig = radiogenomics[radiogenomics["significant"]]
        cols = ["summary", "feature", "variable", "n_lesions", "effect", "q_value"]
        if len(sig):
            note = (
                f"{len(sig)} of {len(radiogenomics)} feature-variable pairs at FDR <= q; "
                "lesions are the units (Mann-Whitney or Spearman, Benjamini-Hochberg)."
            )
            items.append(Table("Radiogenomics: lesion features vs genomic state", sig[cols],
                               note, source="imaging/radiogenomics.tsv"))  # fmt: skip
        else:
            items.append(Text(f"Radiogenomics: no association of {len(radiogenomics)} tested "
                              "(lesion features vs clone CCF) passes the FDR."))  # fmt: skip
    if features is not None:
        keep = features[features["family"].isin(["morphology", "intensity_statistics"])]
        items.append(Table("Whole-lesion features (baseline)", keep, source="imaging/features.tsv",
                           collapsed=True))  # fmt: skip
    items.append(
        Text("Features follow IBSI-1 (codes in ibsi_code), verified on the IBSI digital phantom.")
    )
    return Section("imaging", "Imaging heterogeneity", items)


def feature_trajectories(result: Any, *, features: list[str] | None = None, max_features: int = 6
                         ) -> Figure:  # fmt: skip
    """Delta-radiomics trajectories: relative change from baseline per lesion, one panel per
    feature (``volume_ml`` first, then the repeatable features that change most).

    ``result`` is an :class:`ithkit.imaging.DeltaResult` or its ``deltas`` table; nothing is
    recomputed.
    """
    d = result.deltas if hasattr(result, "deltas") else result
    if "repeatable" not in d.columns:
        d = d.assign(repeatable=pd.NA)
    if features is None:
        pool = d
        if d["repeatable"].notna().any():
            pool = d[d["repeatable"].fillna(False).astype(bool)]
        spread = pool.groupby("feature")["delta_rel"].apply(lambda s: float(np.nanmax(np.abs(s)))
                                                           if s.notna().any() else 0.0)  # fmt: skip
        ranked = [f for f in spread.sort_values(ascending=False).index if f != "volume_ml"]
        features = (["volume_ml"] if "volume_ml" in set(d["feature"]) else []) + ranked
        features = features[:max_features]
    n = max(1, len(features))
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    from ithkit.report.figures import _pyplot

    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
    use_days = d["days"].notna().all()
    for k, feat in enumerate(features):
        ax = axes[k // ncols][k % ncols]
        part = d[d["feature"] == feat]
        for i, ((pid, lid), g) in enumerate(part.groupby(["patient_id", "lesion_id"], sort=True)):
            g = g.sort_values("timepoint")
            ax.plot(g["days"] if use_days else g["timepoint"], 100 * g["delta_rel"], marker="o",
                    color=PALETTE[i % len(PALETTE)], label=f"{pid}/{lid}", lw=1)  # fmt: skip
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title(feat.split(":")[1] if feat.count(":") == 2 else feat, fontsize=8)
        ax.set_xlabel("days from baseline" if use_days else "timepoint", fontsize=7)
        ax.set_ylabel("change from baseline (%)", fontsize=7)
        ax.tick_params(labelsize=7)
    for k in range(len(features), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.tight_layout()
    if features:  # one legend for all panels, outside the data
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=6, frameon=False, loc="upper left",
                   bbox_to_anchor=(1.0, 1.0), title="lesion", title_fontsize=6)  # fmt: skip
    return fig
