"""RECIST 1.1 rules one by one on tiny hand-made patients.

Rules cite Eisenhauer et al., "New response evaluation criteria in solid tumours: revised RECIST
guideline (version 1.1)", Eur J Cancer 2009;45:228-247 (sections and tables as numbered there).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from ithkit import InputError
from ithkit.response import RecistWarning, best_overall_response, recist

COLS = ["patient_id", "lesion_id", "timepoint", "date", "organ", "lesion_class",
        "is_lymph_node", "diameter_mm", "status"]  # fmt: skip


def lesions(*rows: tuple, interval_days: int = 56) -> pd.DataFrame:
    """Rows (lesion_id, timepoint, diameter, [organ, class, node, status]) of patient P."""
    out = []
    for r in rows:
        lid, tp, d, *rest = r
        organ, cls, node, status = (rest + [None] * 4)[:4]
        date = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=interval_days * tp)).date()
        out.append(("P", lid, tp, str(date), organ or "liver", cls or "target", bool(node),
                    d, status))  # fmt: skip
    return pd.DataFrame(out, columns=COLS)


def series(*diameters: float, **kw: object) -> pd.DataFrame:
    """One target lesion measured at successive assessments."""
    return lesions(*[("L1", t, d) for t, d in enumerate(diameters)], **kw)


def overall(frame: pd.DataFrame, **kw: object) -> list[object]:
    return recist(frame, **kw).timepoints["overall_response"].tolist()[1:]


# -- section 4.3.1: target lesions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (21.0, "PR"),  # 21/30 = -30 % exactly: PR is ">= 30 % decrease"
        (21.1, "SD"),  # -29.67 %: not PR
        (20.9, "PR"),
    ],
)
def test_partial_response_threshold_is_exact(after: float, expected: str) -> None:
    assert overall(series(30.0, after)) == [expected]


@pytest.mark.parametrize(
    ("third", "expected"),
    [
        (30.0, "PD"),  # nadir 25: +20 % exactly and +5 mm: PD
        (29.9, "PR"),  # +19.6 %: not PD; -40.2 % from baseline: PR
        (30.1, "PD"),
    ],
)
def test_progression_threshold_is_exact(third: float, expected: str) -> None:
    assert overall(series(50.0, 25.0, third)) == ["PR", expected]


def test_progression_needs_5_mm_absolute() -> None:
    # nadir 21 -> 25.2 is +20 % exactly (25.2/21 = 1.2) but only 4.2 mm: not PD (section 4.3.1)
    res = recist(series(30.0, 21.0, 25.2))
    assert res.timepoints["target_response"].tolist()[1:] == ["PR", "SD"]
    assert res.timepoints["change_from_nadir_pct"].iloc[2] == pytest.approx(20.0)
    # +40 % but 4 mm: still not PD
    assert overall(series(20.0, 10.0, 14.0)) == ["PR", "PR"]


def test_progression_is_measured_from_the_nadir_and_checked_before_response() -> None:
    # 100 -> 50 -> 65: -35 % from baseline (PR by baseline) but +30 % / +15 mm over the nadir
    res = recist(series(100.0, 50.0, 65.0))
    assert res.timepoints["overall_response"].tolist()[1:] == ["PR", "PD"]
    assert res.timepoints["change_from_baseline_pct"].iloc[2] == pytest.approx(-35.0)
    assert res.timepoints["change_from_nadir_pct"].iloc[2] == pytest.approx(30.0)


def test_nadir_includes_baseline() -> None:
    # growth from baseline without shrinkage: 40 -> 48 is +20 % and +8 mm over the baseline nadir
    assert overall(series(40.0, 48.0)) == ["PD"]
    assert overall(series(40.0, 47.9)) == ["SD"]


@pytest.mark.parametrize(("node", "expected"), [(9.9, "CR"), (10.0, "PR")])
def test_complete_response_allows_nodes_below_10_mm_short_axis(node: float, expected: str) -> None:
    # section 4.3.1: CR = non-nodal targets gone and every target node < 10 mm short axis
    frame = lesions(
        ("N1", 0, 20.0, "lymph node", "target", True),
        ("L1", 0, 15.0),
        ("N1", 1, node, "lymph node", "target", True),
        ("L1", 1, 0.0),
    )
    res = recist(frame)
    assert res.timepoints["target_response"].iloc[1] == expected
    assert res.timepoints["sum_diameters_mm"].iloc[1] == pytest.approx(node)  # sum is not 0


def test_missing_target_is_not_evaluable_unless_the_others_already_meet_pd() -> None:
    # appendix I / section 4.3.1 note: a target not assessed makes the target response NE ...
    frame = lesions(("L1", 0, 30.0), ("L2", 0, 30.0), ("L1", 1, 20.0), ("L2", 1, None))
    assert recist(frame).timepoints["target_response"].iloc[1] == "NE"
    # ... unless the lesions measured already meet PD
    frame = lesions(("L1", 0, 30.0), ("L2", 0, 30.0), ("L1", 1, 75.0), ("L2", 1, None))
    res = recist(frame)
    assert res.timepoints["target_response"].iloc[1] == "PD"
    assert pd.isna(res.timepoints["sum_diameters_mm"].iloc[1])


def test_too_small_to_measure_is_5_mm_and_disappeared_is_0_mm() -> None:
    # appendix I: a lesion too small to measure is 5 mm; one that disappeared is 0 mm
    frame = lesions(("L1", 0, 30.0), ("L2", 0, 20.0), ("L1", 1, None, None, None, False, "present"),
                    ("L2", 1, None, None, None, False, "absent"))  # fmt: skip
    res = recist(frame)
    assert res.timepoints["sum_diameters_mm"].iloc[1] == pytest.approx(5.0)
    assert res.timepoints["target_response"].iloc[1] == "PR"


# -- section 4.3.2-4.3.3: non-target lesions and new lesions --------------------------------------


@pytest.mark.parametrize(
    ("status", "target", "expected_nt", "expected"),
    [
        ("absent", 0.0, "CR", "CR"),  # table 1: CR + CR + no new = CR
        ("present", 0.0, "NON_CR_NON_PD", "PR"),  # table 1: CR + non-CR/non-PD = PR
        (None, 0.0, "NE", "PR"),  # table 1: CR + not evaluated = PR
        ("present", 15.0, "NON_CR_NON_PD", "PR"),  # table 1: PR + non-PD = PR
        ("unequivocal_progression", 15.0, "PD", "PD"),  # section 4.3.2: unequivocal PD
    ],
)
def test_non_target_response_and_overall_table(
    status: str | None, target: float, expected_nt: str, expected: str
) -> None:
    nt = ("bone", "non_target", False)
    frame = lesions(
        ("L1", 0, 30.0),
        ("B1", 0, None, *nt, "present"),
        ("L1", 1, target),
        ("B1", 1, None, *nt, status),
    )
    tp = recist(frame).timepoints.iloc[1]
    assert (tp["non_target_response"], tp["overall_response"]) == (expected_nt, expected)


def test_new_lesion_is_progression_whatever_the_targets() -> None:
    # section 4.3.3 / table 1: a new lesion is PD
    frame = lesions(("L1", 0, 30.0), ("L1", 1, 10.0), ("N1", 1, 8.0, "brain", "new", False,
                                                       "present"))  # fmt: skip
    tp = recist(frame).timepoints.iloc[1]
    assert (tp["target_response"], bool(tp["new_lesions"]), tp["overall_response"]) == (
        "PR",
        True,
        "PD",
    )


def test_non_target_only_disease_uses_table_2() -> None:
    frame = lesions(("B1", 0, None, "bone", "non_target", False, "present"),
                    ("B1", 1, None, "bone", "non_target", False, "present"),
                    ("B1", 2, None, "bone", "non_target", False, "absent"))  # fmt: skip
    assert overall(frame) == ["NON_CR_NON_PD", "CR"]


@pytest.mark.parametrize(("after_cr", "expected"), [("pd", "PD"), ("measure", "PR")])
def test_reappearance_after_complete_response(after_cr: str, expected: str) -> None:
    # RECIST 1.1 (table 3 note): disease reappearing after a true CR is PD; "measure" applies the
    # sum rules only (3 mm over a 0 mm nadir is below the 5 mm minimum)
    assert overall(series(30.0, 0.0, 3.0), after_cr=after_cr) == ["CR", expected]


# -- section 4.4: best overall response and confirmation ------------------------------------------


def test_confirmation_needs_4_weeks() -> None:
    frame = series(30.0, 20.0, 20.0, interval_days=28)  # PR, PR 28 days later
    best = recist(frame, confirm=True).best_response.iloc[0]
    assert (best["best_overall_response"], bool(best["confirmed"])) == ("PR", True)
    frame = series(30.0, 20.0, 20.0, interval_days=27)  # 27 days: not confirmed -> SD
    best = recist(frame, confirm=True).best_response.iloc[0]
    assert (best["best_overall_response"], bool(best["confirmed"])) == ("SD", False)
    # without confirmation the unconfirmed PR stands
    assert recist(frame).best_response["best_overall_response"].iloc[0] == "PR"


def test_confirmed_complete_response() -> None:
    best = recist(series(30.0, 0.0, 0.0), confirm=True).best_response.iloc[0]
    assert (best["best_overall_response"], bool(best["confirmed"])) == ("CR", True)


@pytest.mark.parametrize(("intervening_sd", "expected"), [(False, "SD"), (True, "PR")])
def test_pr_sd_pr_confirmation_option(intervening_sd: bool, expected: str) -> None:
    # table 3: "PR, SD -> SD"; practice often accepts an intervening SD (option)
    frame = series(30.0, 20.0, 22.0, 20.0)
    best = recist(frame, confirm=True, intervening_sd=intervening_sd).best_response
    assert best["best_overall_response"].iloc[0] == expected


@pytest.mark.parametrize(("sd_min_days", "expected"), [(42, "PD"), (28, "SD")])
def test_stable_disease_minimum_duration(sd_min_days: int, expected: str) -> None:
    # section 4.4.1: SD must last a protocol-defined minimum from baseline
    frame = series(30.0, 30.0, 50.0, interval_days=30)
    best = recist(frame, sd_min_days=sd_min_days).best_response["best_overall_response"]
    assert best.iloc[0] == expected


def test_confirmed_pr_that_later_only_meets_sd_stays_pr() -> None:
    best = recist(series(30.0, 20.0, 20.0, 24.0), confirm=True).best_response
    assert best["best_overall_response"].iloc[0] == "PR"


def test_best_response_rejects_unknown_codes() -> None:
    tp = pd.DataFrame({"patient_id": ["P"], "timepoint": [1], "overall_response": ["MR"]})
    with pytest.raises(InputError, match="unknown response code 'MR'"):
        best_overall_response(tp)


# -- iRECIST (Seymour et al., Lancet Oncol 2017;18:e143) -----------------------------------------


def test_irecist_confirms_progression_at_the_next_assessment() -> None:
    # PD -> iUPD; the next assessment with a further >= 5 mm increase -> iCPD
    assert overall(series(50.0, 30.0, 40.0, 45.0), criteria="irecist") == ["iPR", "iUPD", "iCPD"]
    # no further increase and back below PD: iSD / iPR after iUPD (pseudoprogression)
    res = recist(series(50.0, 30.0, 40.0, 32.0, 20.0), criteria="irecist")
    assert res.timepoints["overall_response"].tolist()[1:] == ["iPR", "iUPD", "iPR", "iPR"]
    # still PD by RECIST but no further growth: iUPD again
    assert overall(series(50.0, 30.0, 40.0, 42.0), criteria="irecist") == ["iPR", "iUPD", "iUPD"]
    # a new lesion appearing after a target iUPD confirms progression
    frame = pd.concat([series(50.0, 30.0, 40.0, 40.0),
                       lesions(("N1", 3, 10.0, "brain", "new", False, "present"))])  # fmt: skip
    assert overall(frame, criteria="irecist")[-1] == "iCPD"


def test_irecist_not_evaluable_assessment_keeps_iupd_pending() -> None:
    frame = lesions(("L1", 0, 50.0), ("L2", 0, 20.0), ("L1", 1, 30.0), ("L2", 1, 10.0),
                    ("L1", 2, 40.0), ("L2", 2, 12.0), ("L1", 3, 38.0), ("L2", 3, None),
                    ("L1", 4, 50.0), ("L2", 4, 12.0))  # fmt: skip
    # iUPD at 52 mm; NE (L2 missing); then 62 mm (+10 mm over the iUPD sum) confirms it
    assert overall(frame, criteria="irecist") == ["iPR", "iUPD", "NE", "iCPD"]


def test_irecist_best_response_after_pseudoprogression() -> None:
    res = recist(series(50.0, 50.0, 70.0, 30.0, 30.0), criteria="irecist", confirm=True)
    assert res.best_response["best_overall_response"].iloc[0] == "iPR"


# -- selection rules (section 3.2): warn, don't guess ----------------------------------------------


def test_more_than_five_targets_or_two_per_organ_warn() -> None:
    rows = [(f"L{i}", 0, 20.0, "liver" if i < 3 else f"organ{i}") for i in range(6)]
    rows += [(f"L{i}", 1, 20.0, "liver" if i < 3 else f"organ{i}") for i in range(6)]
    with pytest.warns(RecistWarning) as record:
        res = recist(lesions(*rows))
    text = " ".join(str(w.message) for w in record)
    assert "6 target lesions" in text and "3 target lesions in liver" in text
    assert len(res.notes) == 2
    with pytest.raises(InputError, match="target lesions"):
        recist(lesions(*rows), on_violation="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(recist(lesions(*rows), on_violation="ignore").notes) == 2


@pytest.mark.parametrize(
    ("d", "node", "warns"),
    [(9.9, False, True), (10.0, False, False), (14.9, True, True), (15.0, True, False)],
)
def test_measurability_at_baseline(d: float, node: bool, warns: bool) -> None:
    frame = lesions(("L1", 0, d, None, "target", node), ("L1", 1, d, None, "target", node))
    res = recist(frame, on_violation="ignore")
    assert bool(res.notes) is warns
