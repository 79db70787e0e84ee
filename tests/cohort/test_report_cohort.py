"""Cohort figures: structure, not pixels; nothing runs off the page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")


def test_forest_plot_clips_extreme_intervals() -> None:
    from ithkit.report.cohort import forest_plot

    cox = pd.DataFrame({
        "feature": [f"modality.score_{i}" for i in range(12)], "model": "adjusted",
        "scale": "per unit", "hr": [1.2] * 10 + [9e16, 2e-22],
        "hr_low": [1.0] * 10 + [0.01, 0.0], "hr_high": [1.5] * 10 + [7e35, np.inf],
        "p": [0.04] + [0.5] * 11,
    })  # fmt: skip
    fig = forest_plot(cox)  # pytest turns a tight-layout warning into an error
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert 0.005 < low < 1 < high < 200
    markers = [line.get_marker() for line in ax.get_lines()]
    assert markers.count(">") == 2 and markers.count("<") == 1
    assert len(ax.get_yticklabels()) == 12
