"""Biomarker scores against values computed by hand and the simulator's planted truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.pathology import (
    REGION_COLUMNS,
    biomarker_scores,
    check_thresholds,
    read_detections,
    simulate_detections,
)
from ithkit.pathology._scores import score_counts

from .conftest import MARKER, THRESHOLDS

# data/qupath_v05.tsv scored by hand with thresholds 0.2/0.4/0.6 on the Tumor cells
# (QuPath's rule: value >= threshold; the 0.2 and 0.4 and 0.6 cells sit on a threshold):
# tumor core: 7 with a value (1 neg, 2 x 1+, 2 x 2+, 2 x 3+) + 1 NaN; the Stroma cell is not scored
#   % pos 6/7, H = (2 + 4 + 6)/7*100, Allred 5 (6/7 >= 2/3) + 2 (mean grade 2.0 > 5/3) = 7
# invasive margin: 6 (4 neg, 1 x 1+, 1 x 2+): % pos 2/6, H = 3/6*100,
#   Allred 4 (2/6 >= 1/3) + 1 (mean grade 1.5 <= 5/3) = 5
# ALL: 13 (5 neg, 3 x 1+, 3 x 2+, 2 x 3+): % pos 8/13, H = 15/13*100, Allred 4 + 2 (15/8) = 6
HAND = pd.DataFrame(
    [["case01.svs", "invasive margin", 6, 2, 100 * 2 / 6, 50.0, 4, 1, 5, 1.16 / 6, 0],
     ["case01.svs", "tumor core", 7, 6, 100 * 6 / 7, 1200 / 7, 5, 2, 7, 2.95 / 7, 1],
     ["case01.svs", "ALL", 13, 8, 100 * 8 / 13, 1500 / 13, 4, 2, 6, 4.11 / 13, 1]],
    columns=list(REGION_COLUMNS),
)  # fmt: skip


def _check(table: pd.DataFrame) -> None:
    assert list(table.columns) == list(REGION_COLUMNS)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), HAND, check_dtype=False,
                                  rtol=1e-9)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "pixel"), [("qupath_v05.tsv", None), ("qupath_v04.csv", None), ("qupath_px.tsv", 0.5)]
)
def test_hand_scored_export(data: Path, name: str, pixel: float | None) -> None:
    cells = read_detections(data / name, MARKER, pixel_size_um=pixel)
    res = biomarker_scores(cells, thresholds=THRESHOLDS, tumour_class="Tumor")
    _check(res.regions_table())


def test_classes_give_the_same_scores_as_thresholds(data: Path) -> None:
    cells = read_detections(data / "qupath_v05.tsv", MARKER)
    res = biomarker_scores(cells, thresholds=None, tumour_class="Tumor")
    table = res.regions_table().copy()
    # the classes carry no intensity: mean_intensity still comes from the marker column
    _check(table)


def test_single_threshold_is_positive_negative(data: Path) -> None:
    cells = read_detections(data / "qupath_v05.tsv", MARKER)
    res = biomarker_scores(cells, thresholds=[0.4], tumour_class="Tumor")
    slide = res.slide()
    assert slide["n_positive"] == 5 and slide["n_cells"] == 13  # 0.4, 0.55, 0.6, 0.8, 0.45
    assert np.isnan(slide["h_score"])  # no grades, no H-score
    assert slide["allred_intensity"] == 1  # QuPath: a Positive class scores as weak intensity
    assert slide["allred_proportion"] == 4  # 5/13 = 38 %


def test_allred_boundaries_follow_qupath() -> None:
    # positive % -> proportion score, at QuPath's boundaries (>= 1 %, >= 10 %, >= 1/3, >= 2/3)
    n = 300
    cases = {0: 0, 1: 1, 3: 2, 29: 2, 30: 3, 99: 3, 100: 4, 199: 4, 200: 5, 300: 5}
    counts = np.array([[0, n - k, k, 0, 0] for k in cases])
    table = score_counts(counts, np.zeros(len(cases)), True)
    assert table["allred_proportion"].tolist() == list(cases.values())
    # intensity: mean grade of positive cells > 7/3 strong, > 5/3 moderate, else weak
    counts = np.array([[0, 0, 1, 1, 1], [0, 0, 0, 2, 1], [0, 0, 0, 1, 2], [0, 0, 1, 2, 0]])
    assert score_counts(counts, np.zeros(4), True)["allred_intensity"].tolist() == [2, 2, 3, 1]


def test_bad_thresholds_and_empty_region(data: Path) -> None:
    with pytest.raises(InputError, match="not increasing"):
        check_thresholds("0.4,0.2,0.6")
    with pytest.raises(InputError, match="one threshold"):
        check_thresholds([0.2, 0.4])
    cells = read_detections(data / "qupath_v05.tsv", MARKER)
    cells["region"] = cells["region"].cat.add_categories(["stroma"])
    cells.loc[8, "region"] = "stroma"  # the Stroma cell alone in its annotation
    with pytest.raises(InputError, match=r"region 'stroma' .* has no Tumor cells"):
        biomarker_scores(cells, thresholds=THRESHOLDS, tumour_class="Tumor")
    with pytest.raises(InputError, match="no cell has class 'Tumour'"):
        biomarker_scores(cells, thresholds=THRESHOLDS, tumour_class="Tumour")


def test_scripted_export_scores_without_coordinates(data: Path) -> None:
    res = biomarker_scores(read_detections(data / "scripted.tsv", MARKER), thresholds="0.2")
    t = res.regions_table().set_index("region")
    assert t.loc["A", "percent_positive"] == 75.0 and t.loc["B", "percent_positive"] == 100 / 3
    assert t.loc["B", "n_missing"] == 1 and t.loc["ALL", "n_cells"] == 7
    assert res.tiles is None and res.hotspot is None


def test_simulated_truth_is_recovered() -> None:
    sim = simulate_detections(30000, missing_fraction=0.02, seed=3)
    cells = read_detections(sim.table, sim.marker)
    res = biomarker_scores(cells, thresholds=sim.thresholds, tumour_class="Tumor",
                           hotspot_min_cells=200)  # fmt: skip
    got = res.regions.set_index("region")
    truth = sim.truth.set_index("region")
    for col in ("n_cells", "n_positive", "percent_positive", "h_score", "percent_3plus"):
        np.testing.assert_allclose(got.loc[truth.index, col], truth[col], rtol=1e-12)
    assert got.loc["ALL", "n_missing"] > 0
    tiles = res.tiles
    assert tiles is not None and tiles["n_cells"].sum() == got.loc["ALL", "n_cells"]
    hot = res.hotspot.iloc[0]
    assert 4000 < hot["hotspot_x_um"] < 6000  # the planted hot region is the third square
    assert hot["difference_grade"] == ">=10"


def test_tumour_core_and_invasive_margin(data: Path) -> None:
    cells = read_detections(data / "qupath_boundary.tsv", MARKER, boundary="Tumor")
    res = biomarker_scores(cells, thresholds=THRESHOLDS, margin_um=500)
    comp = res.compartments.set_index("region")
    # by hand: core (d < -500): 3+, 2+, neg; margin (-500 <= d <= 500): 1+, neg, neg, 1+;
    # outside (d > 500): neg
    assert comp["n_cells"].to_dict() == {"tumour core": 3, "invasive margin": 4,
                                         "outside tumour": 1}  # fmt: skip
    assert comp.loc["tumour core", "h_score"] == pytest.approx(500 / 3)
    assert comp.loc["invasive margin", "percent_positive"] == 50.0
    with pytest.raises(InputError, match="Signed distance to annotation Stroma"):
        read_detections(data / "qupath_boundary.tsv", MARKER, boundary="Stroma")
