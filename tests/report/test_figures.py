"""Figures draw what they are given and keep to their axes: nested fractions never exceed 1."""

from __future__ import annotations

import pandas as pd

from ithkit.report.figures import distinct_colours, to_svg
from ithkit.report.genomic import fish_plot


def test_fish_plot_children_stay_inside_parent_and_below_one() -> None:
    # C2 and C3 (children of C1) have CCFs 0.7 + 0.6 > C1's 1.0: drawn clipped, never above
    tree = pd.DataFrame({"clone_id": ["C1", "C2", "C3"], "parent": [None, "C1", "C1"]})
    fish = pd.DataFrame(
        {"clone_id": ["C1", "C2", "C3"], "sample_id": ["R1"] * 3, "ccf": [1.0, 0.7, 0.6]}
    )
    fig = fish_plot(fish, tree)
    tops = [p.get_y() + p.get_height() for p in fig.axes[0].patches]
    assert max(tops) <= 1.0 + 1e-12
    heights = [round(p.get_height(), 6) for p in fig.axes[0].patches]
    assert heights == [1.0, 0.7, 0.3]  # C3 gets what is left of C1, not 0.6
    to_svg(fig)  # closes it


def test_distinct_colours_beyond_the_palette() -> None:
    for n in (3, 12, 20, 31):
        assert len(set(distinct_colours(n))) == n
