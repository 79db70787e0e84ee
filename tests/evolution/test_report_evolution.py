"""Report figures for evolution: structure of the Muller and biomarker plots and the section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ithkit.evolution import compare, simulate
from ithkit.evolution._scenario import EXAMPLE
from ithkit.report import Figure, Table, render_html
from ithkit.report.evolution import (
    biomarker_plot,
    evolution_section,
    muller_bands,
    muller_plot,
)


def test_muller_bands_nest_children_inside_parents() -> None:
    t = pd.DataFrame({"time_days": [0, 1, 2], "S": [10.0, 6.0, 2.0], "R": [0.0, 3.0, 6.0],
                      "Q": [0.0, 1.0, 2.0]})  # fmt: skip
    bands = muller_bands(t, ["S", "R", "Q"], {"R": "S", "Q": "R"})
    s_lo, s_hi = bands["S"]
    r_lo, r_hi = bands["R"]
    q_lo, q_hi = bands["Q"]
    assert np.allclose(s_lo, 0) and np.allclose(s_hi, 1)
    assert np.all(r_lo >= s_lo - 1e-12) and np.all(r_hi <= s_hi + 1e-12)
    assert np.all(q_lo >= r_lo - 1e-12) and np.all(q_hi <= r_hi + 1e-12)
    assert np.allclose(r_hi - r_lo, [0.0, 0.4, 0.8])  # R and its descendant Q


@pytest.mark.requires_report
def test_figures_and_section() -> None:
    sim = simulate(EXAMPLE)
    fig = muller_plot(sim.trajectory, ["S", "R"], parents={"R": "S"})
    ax = fig.axes[0]
    assert len(ax.collections) >= 2  # one band per population
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["S", "R"]
    fig2 = biomarker_plot(sim.trajectory, ["S", "R"], biomarker_name="PSA")
    assert len(fig2.axes) == 2 and fig2.axes[1].get_yscale() == "log"
    labels = [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]
    assert "on A" in labels and "PSA" in labels
    section = evolution_section(sim, comparison=compare(EXAMPLE, ["continuous", "adaptive"]))
    kinds = [type(i) for i in section.items]
    assert kinds.count(Figure) == 2 and Table in kinds
    page = render_html([section], title="P1")
    assert "Muller plot" in page and "<svg" in page
