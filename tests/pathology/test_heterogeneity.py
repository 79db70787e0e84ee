"""Spread across regions, Moran's I of the tile map and the biopsy question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ithkit import InputError
from ithkit.pathology import (
    biomarker_scores,
    biopsy_discordance,
    heterogeneity,
    read_detections,
    simulate_detections,
    tile_weights,
    wilson_interval,
)
from ithkit.spatial import morans_i

from .conftest import MARKER, THRESHOLDS

SAME = (0.6, 0.2, 0.1, 0.1)


def _run(regions=None, n=20000, seed=0, **kw):
    sim = simulate_detections(n, regions=regions, seed=seed)
    cells = read_detections(sim.table, sim.marker)
    scores = biomarker_scores(cells, thresholds=sim.thresholds, tumour_class="Tumor")
    return heterogeneity(cells, scores, **kw), scores


def test_wilson_interval_golden() -> None:
    # Wilson (1927) score interval worked by hand with z = 1.96: 10/100 -> centre 0.114798,
    # half-width 0.059570 -> (0.05523, 0.17437); 0/20 -> upper z²/n / (1 + z²/n) = 0.16113
    np.testing.assert_allclose(wilson_interval(10, 100), (0.05522914, 0.17436566), atol=1e-7)
    np.testing.assert_allclose(wilson_interval(0, 20), (0.0, 0.16112516), atol=1e-7)


def test_planted_heterogeneity_is_found() -> None:
    het, _ = _run(cutpoint=10, metric="percent_3plus", n_cores=300)
    # two of four regions have 3+ in > 10 % of cells (hot 50 %, mixed 20 %)
    assert het.value("fraction_below_cutpoint", scheme="annotation") == 0.5
    assert het.value("whole_section_call") == 1.0
    assert het.value("morans_i", scheme="tile") > 0.5
    assert het.value("morans_i_pvalue", scheme="tile") < 1e-6
    d = het.value("single_core_discordance")
    lo = het.value("single_core_discordance_ci_low")
    hi = het.value("single_core_discordance_ci_high")
    assert 0.3 < d < 0.65 and lo < d < hi
    assert list(het.biopsy["core_um"]) == [600.0, 1000.0, 1500.0, 2000.0]
    assert het.value("percent_positive_cv", scheme="annotation") > 0.4


def test_homogeneous_tumour_has_no_discordance() -> None:
    regions = {f"r{i}": SAME for i in range(4)}
    # 40 % positive everywhere, cut-point far away: no core disagrees
    het, _ = _run(regions, cutpoint=20, n_cores=300)
    assert het.value("single_core_discordance") == 0.0
    assert abs(het.value("morans_i", scheme="tile")) < 0.2
    assert het.value("percent_positive_cv", scheme="annotation") < 0.1


def test_seeded_and_reproducible() -> None:
    a, _ = _run(cutpoint=10, metric="percent_3plus", n_cores=100, seed=1)
    b, _ = _run(cutpoint=10, metric="percent_3plus", n_cores=100, seed=1)
    assert a.biopsy.equals(b.biopsy)


def test_morans_i_is_the_spatial_modules() -> None:
    _, scores = _run()
    tiles = scores.tiles[scores.tiles["n_cells"] >= 50]
    het, _ = _run()
    direct = morans_i(
        tiles["percent_positive"].to_numpy(),
        tile_weights(tiles["tile_x"].to_numpy(), tiles["tile_y"].to_numpy()),
    )
    assert het.value("morans_i", scheme="tile") == pytest.approx(direct.statistic)


def test_biopsy_on_a_half_positive_square() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10000, (20000, 2))
    grade = (xy[:, 0] > 5000).astype(int)
    # small cores sit in one half: the negative half (half the cores) disagrees with the whole
    d = biopsy_discordance(xy, grade, whole_call=True, cutpoint=20.0, core_um=600, n_cores=800)
    assert d["ci_low"] < 0.5 < d["ci_high"]


def test_without_coordinates_or_grades(data: Path) -> None:
    cells = read_detections(data / "scripted.tsv", MARKER)
    scores = biomarker_scores(cells, thresholds="0.2")
    het = heterogeneity(cells, scores, cutpoint=50)
    assert len(het.biopsy) == 0 and "tile" not in set(het.table["scheme"])
    assert het.value("fraction_below_cutpoint", scheme="annotation") == 0.5
    with pytest.raises(InputError, match="needs 1\\+/2\\+/3\\+"):
        heterogeneity(cells, scores, cutpoint=10, metric="percent_3plus")
    scores3 = biomarker_scores(cells, thresholds=THRESHOLDS)
    with pytest.raises(InputError, match="cut-point"):
        heterogeneity(cells, scores3, cutpoint=-5)
