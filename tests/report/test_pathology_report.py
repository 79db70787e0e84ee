"""The pathology report section draws the results it is given (structure, not pixels)."""

from __future__ import annotations

import pytest

from ithkit.pathology import biomarker_scores, heterogeneity, read_detections, simulate_detections
from ithkit.report import render_html

pytest.importorskip("matplotlib")


def test_pathology_section_has_the_three_figures() -> None:
    from ithkit.report.figures import to_svg
    from ithkit.report.pathology import biopsy_curve_figure, pathology_section, region_bars

    sim = simulate_detections(5000, seed=0)
    cells = read_detections(sim.table, sim.marker)
    scores = biomarker_scores(cells, thresholds=sim.thresholds, tumour_class="Tumor")
    het = heterogeneity(cells, scores, cutpoint=10, metric="percent_3plus", n_cores=100)
    section = pathology_section(scores, het)
    titles = [getattr(i, "title", "") for i in section.items]
    assert {"Tile map of percent positive", "Per region", "The biopsy question"} <= set(titles)
    fig = region_bars(scores.regions, metric="percent_3plus", cutpoint=10)
    ax = fig.axes[0]
    assert len(ax.patches) == 5 and ax.lines[0].get_ydata()[0] == 10  # 4 regions + ALL, cut-point
    curve = biopsy_curve_figure(het.biopsy).axes[0]
    assert list(curve.lines[0].get_xdata()) == [600.0, 1000.0, 1500.0, 2000.0]
    assert "<svg" in to_svg(fig)
    page = render_html([section], title="P1")
    assert "Digital pathology" in page
