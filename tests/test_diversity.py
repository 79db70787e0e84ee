"""One definition of diversity across the package (issue 11: three copies had different edges)."""

from __future__ import annotations

import numpy as np
import pytest

from ithkit import _diversity


def test_modules_share_one_implementation() -> None:
    from ithkit import genomic, singlecell

    assert genomic.shannon is _diversity.shannon is singlecell.shannon
    assert genomic.simpson is _diversity.simpson is singlecell.simpson


@pytest.mark.parametrize(
    ("values", "shannon", "simpson"),
    [
        ([0.25, 0.25, 0.25, 0.25], np.log(4), 0.75),  # even: ln k and 1 - 1/k
        ([1.0], 0.0, 0.0),
        ([3, 1], -(0.75 * np.log(0.75) + 0.25 * np.log(0.25)), 1 - 0.75**2 - 0.25**2),
        ([0.0, 0.0], 0.0, 0.0),  # nothing present: 0, not 1
        ([], 0.0, 0.0),
    ],
)
def test_values_and_edges(values: list[float], shannon: float, simpson: float) -> None:
    assert _diversity.shannon(values) == pytest.approx(shannon)
    assert _diversity.simpson(values) == pytest.approx(simpson)


def test_rows_equal_the_scalar_definitions() -> None:
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 5, size=(50, 4)).astype(float)
    counts[0] = 0.0
    sh, si, rao = _diversity.row_diversity(counts)
    assert sh.tolist() == pytest.approx([_diversity.shannon(r) for r in counts])
    assert si.tolist() == pytest.approx([_diversity.simpson(r) for r in counts])
    assert rao.tolist() == pytest.approx(si.tolist())  # unit distances: Rao = Gini-Simpson
