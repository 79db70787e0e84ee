"""Figures of the response and ctDNA report sections: structure, not pixels."""

from __future__ import annotations

import pandas as pd
import pytest

from ithkit.evolution import virtual_patient
from ithkit.liquid import track_ctdna
from ithkit.response import recist

pytestmark = pytest.mark.requires_report


@pytest.fixture(scope="module")
def results() -> tuple:
    vp = virtual_patient(seed=1, n_regions=1, n_mutations=40, n_clones=4, n_lesions=4)
    return vp, recist(vp.lesions, on_violation="ignore"), track_ctdna(vp.ctdna)


def test_waterfall_has_one_bar_per_patient() -> None:
    from ithkit.report.response import waterfall

    frame = pd.DataFrame({"patient_id": ["A", "B", "C"], "best_change_pct": [-50.0, 10.0, 30.0],
                          "best_overall_response": ["PR", "SD", "PD"]})  # fmt: skip
    fig = waterfall(frame)
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [-50.0, 10.0, 30.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["C", "B", "A"]  # sorted, worst first


def test_spider_colours_lesions_by_organ(results: tuple) -> None:
    from ithkit.report.response import spider

    _, rec, _ = results
    ax = spider(rec.lesions).axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    targets = rec.lesions.query("lesion_class == 'target'")
    assert len(lines) == targets["lesion_id"].nunique()
    organs = targets.drop_duplicates("lesion_id")["organ"]
    assert len({ln.get_color() for ln in lines}) == organs.nunique()
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert legend == set(organs)


def test_swimmer_and_heatmap(results: tuple) -> None:
    from ithkit.report.response import lesion_heatmap, swimmer

    _, rec, _ = results
    ax = swimmer(rec.timepoints).axes[0]
    assert len(ax.collections) == rec.timepoints["overall_response"].notna().sum()
    heat = lesion_heatmap(rec.lesions).axes[0]
    image = heat.get_images()[0].get_array()
    baseline = rec.lesions.query("lesion_class != 'new'")["lesion_id"].nunique()
    assert image.shape == (baseline, rec.timepoints.shape[0])  # new lesions have no baseline


def test_ctdna_trajectories_draw_every_variant_and_event_lines(results: tuple) -> None:
    from ithkit.report.liquid import ctdna_trajectories

    _, _, liq = results
    events = {
        "therapy start": liq.timepoints["date"].min(),
        "RECIST PD": pd.Timestamp("2026-10-12"),
    }
    fig = ctdna_trajectories(liq, events=events)
    ax1, ax2 = fig.axes[:2]
    n_var = liq.variants["mutation_id"].nunique()
    assert len([ln for ln in ax2.get_lines() if len(ln.get_xdata()) > 2]) == n_var
    vertical = [ln for ln in ax1.get_lines() if len(set(ln.get_xdata())) == 1]
    assert len(vertical) == 2
    assert ax2.get_yscale() == "log"
