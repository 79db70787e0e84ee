"""ctDNA tracking: intervals, detection, statuses, tumour fraction, lead time over RECIST PD."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ithkit import InputError
from ithkit.cli import main
from ithkit.evolution import virtual_patient
from ithkit.liquid import (
    STATUSES,
    detection_p,
    lead_time,
    limit_of_detection,
    track_ctdna,
    vaf_interval,
)
from ithkit.response import recist


def series(rows: list[tuple]) -> pd.DataFrame:
    """Rows (timepoint, mutation_id, gene, alt, depth) of patient P, draws 28 days apart."""
    return pd.DataFrame(
        [("P", tp, str((pd.Timestamp("2024-01-01") + pd.Timedelta(days=28 * tp)).date()), m, g,
          a, d) for tp, m, g, a, d in rows],
        columns=["patient_id", "timepoint", "date", "mutation_id", "gene", "alt_counts", "depth"],
    )  # fmt: skip


# -- intervals and detection -------------------------------------------------------------------


def test_wilson_interval_matches_the_closed_form() -> None:
    # Wilson (1927) for 50/100 at 95 %: 0.4038-0.5962 (Newcombe 1998, Stat Med 17:857, table I
    # lists 81/263 -> 0.2553-0.3662)
    lo, hi = vaf_interval(np.array([50, 81]), np.array([100, 263]))
    assert lo == pytest.approx([0.4038, 0.2553], abs=1e-4)
    assert hi == pytest.approx([0.5962, 0.3662], abs=1e-4)


def test_clopper_pearson_interval() -> None:
    # exact interval at 0/n: upper = 1 - (alpha/2)^(1/n); Newcombe table I: 81/263 -> 0.2527-0.3676
    lo, hi = vaf_interval(np.array([0, 81]), np.array([100, 263]), method="clopper-pearson")
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(1 - 0.025 ** (1 / 100))
    assert (lo[1], hi[1]) == pytest.approx((0.2527, 0.3676), abs=1e-4)


def test_detection_test_and_limit_of_detection() -> None:
    p = detection_p(np.array([3, 15]), np.array([5000, 5000]), np.array([5e-4, 5e-4]))
    assert p[0] == pytest.approx(stats.binom.sf(2, 5000, 5e-4))
    assert p[0] > 0.1 and p[1] < 1e-4
    lod = limit_of_detection(np.array([5000, 50000]), np.array([5e-4, 5e-4]))
    assert 5e-4 < lod[1] < lod[0] < 0.01  # deeper sequencing: lower LOD
    # at the LOD, the test detects 95 % of the time
    k = int(stats.binom.isf(1e-3, 5000, 5e-4)) + 1
    v = lod[0]
    assert stats.binom.sf(k - 1, 5000, v * (1 - 5e-4) + (1 - v) * 5e-4) == pytest.approx(0.95)


def test_non_detection_is_below_lod_not_zero() -> None:
    res = track_ctdna(series([(0, "m1", "TP53", 2, 5000)]))
    row = res.variants.iloc[0]
    assert row["status"] == "not_detected"
    assert pd.isna(row["vaf"])
    assert row["vaf_high"] >= row["lod"] > 0


def test_per_site_error_rate_decides_detection() -> None:
    frame = series([(0, "m1", "TP53", 12, 5000), (0, "m2", "KRAS", 12, 5000)])
    res = track_ctdna(frame, error_rate={"m1": 5e-4, "m2": 3e-3})
    status = res.variants.set_index("mutation_id")["status"]
    assert status.to_dict() == {"m1": "detected", "m2": "not_detected"}
    with pytest.raises(InputError, match="no error rate for site 'm2'"):
        track_ctdna(frame, error_rate={"m1": 5e-4})


def test_statuses_over_time_and_chip_flag() -> None:
    rows = [
        (0, "up", "TP53", 50, 5000), (1, "up", "TP53", 150, 5000),  # rising
        (0, "down", "APC", 150, 5000), (1, "down", "APC", 40, 5000),  # falling
        (0, "gone", "KRAS", 60, 5000), (1, "gone", "KRAS", 2, 5000),  # cleared
        (0, "new", "EGFR", 1, 5000), (1, "new", "EGFR", 40, 5000),  # emerging
        (0, "same", "PIK3CA", 100, 5000), (1, "same", "PIK3CA", 110, 5000),  # detected
        (0, "chip", "DNMT3A", 300, 5000), (1, "chip", "DNMT3A", 300, 5000),
    ]  # fmt: skip
    res = track_ctdna(series(rows))
    later = res.variants.query("timepoint == 1").set_index("mutation_id")
    assert later["status"].to_dict() == {
        "chip": "detected", "down": "falling", "gone": "cleared", "new": "emerging",
        "same": "detected", "up": "rising",
    }  # fmt: skip
    assert set(res.variants["status"]) <= set(STATUSES)
    assert bool(later.loc["chip", "is_chip"]) and not bool(later.loc["up", "is_chip"])
    # CHIP is kept out of the mean tumour VAF
    base = res.variants.query("timepoint == 0 and not is_chip")
    expected = float((base["alt_counts"] / base["depth"]).mean())
    assert res.timepoints["mean_vaf"].iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("later", "expected"),
    [(49, "response"), (60, "stable"), (1, "clearance")],  # baseline 100 reads: -51 %, -40 %
)
def test_molecular_response(later: int, expected: str) -> None:
    frame = series([(0, "m1", "TP53", 100, 5000), (1, "m1", "TP53", later, 5000)])
    assert track_ctdna(frame).timepoints["molecular_response"].tolist() == ["baseline", expected]


def test_truncal_variants_and_tumour_fraction() -> None:
    # TF = 2 x pooled VAF of the truncal variants (heterozygous, copy-neutral)
    rows = [(0, "t1", "TP53", 100, 5000), (0, "t2", "APC", 110, 5000), (0, "s1", "NF1", 30, 5000)]
    res = track_ctdna(series(rows))
    assert res.variants.set_index("mutation_id")["is_truncal"].to_dict() == {
        "s1": False, "t1": True, "t2": True
    }  # fmt: skip
    assert res.timepoints["tumour_fraction"].iloc[0] == pytest.approx(2 * 210 / 10000)
    named = track_ctdna(series(rows), truncal=["t1"])
    assert named.timepoints["tumour_fraction"].iloc[0] == pytest.approx(2 * 100 / 5000)


@pytest.mark.parametrize("seed", [1, 5, 8])
def test_tumour_fraction_tracks_the_truth(seed: int) -> None:
    vp = virtual_patient(seed=seed, n_regions=1, n_mutations=40, n_clones=4)
    res = track_ctdna(vp.ctdna)
    truth = vp.ctdna_truth.groupby("timepoint")["tumour_fraction"].first()
    est = res.timepoints.set_index("timepoint")["tumour_fraction"]
    assert float((est / truth - 1).abs().median()) < 0.15


def test_clone_tracking_follows_the_resistant_clone() -> None:
    vp = virtual_patient(seed=1, n_regions=1, n_mutations=40, n_clones=4)
    truth = vp.ctdna_truth[["mutation_id", "clone_id"]].drop_duplicates().dropna()
    res = track_ctdna(vp.ctdna, clones=truth)
    res_clone = res.clones[res.clones["clone_id"] == vp.resistant_clone].sort_values("timepoint")
    assert res_clone["ccf"].iloc[-1] > 0.8 > res_clone["ccf"].iloc[0]
    # the trunk is found as the clone with the highest VAF: its CCF is 1 by construction
    trunk = res.clones[res.clones["clone_id"] == "C1"]
    assert np.allclose(trunk["ccf"], 1.0)


# -- molecular before RECIST progression --------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 5, 6, 7, 8])
def test_ctdna_flags_the_resistant_clone_before_recist_pd(seed: int) -> None:
    # issue 11: an emerging resistant variant (one variant rising from its nadir) is not
    # molecular progression (the tumour fraction rising); both are timed against RECIST
    vp = virtual_patient(seed=seed, n_regions=1, n_mutations=40, n_clones=4)
    res = track_ctdna(vp.ctdna)
    rec = recist(vp.lesions, on_violation="ignore")
    lead = lead_time(res, rec.timepoints).iloc[0]
    assert lead["emerging_lead_time_days"] > 0
    first = res.emerging.sort_values(["timepoint", "p"]).iloc[0]
    truth = vp.ctdna_truth.drop_duplicates("mutation_id").set_index("mutation_id")["clone_id"]
    assert truth[first["mutation_id"]] == vp.resistant_clone
    assert first["fold"] >= 2.0 and first["p"] < 0.001
    # molecular progression: the tumour fraction at >= 2x its nadir, never while it falls
    tp = res.progression["molecular_progression_timepoint"].iloc[0]
    assert not pd.isna(tp)
    tf = res.timepoints.set_index("timepoint")["tumour_fraction"]
    assert tf[tp] >= 2 * tf[tf.index < tp].min()
    assert lead["molecular_progression_date"] >= lead["emerging_variant_date"]


def test_no_recist_progression_gives_no_lead_time() -> None:
    vp = virtual_patient(seed=2, n_regions=1, n_mutations=40, n_clones=4)
    rec = recist(vp.lesions, on_violation="ignore")
    assert "PD" not in set(rec.timepoints["overall_response"].dropna())
    lead = lead_time(track_ctdna(vp.ctdna), rec.timepoints)
    assert pd.isna(lead["lead_time_days"].iloc[0])


# -- bad input, CLI, patient analysis -----------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda f: f.assign(depth=[0, 5000]), "depth"),
        (lambda f: f.assign(alt_counts=[6000, 1]), "exceeds depth"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "duplicate row"),
        (lambda f: f.assign(date=["2024-03-01", "2024-01-01"]), "dates out of order"),
    ],
)
def test_bad_series_raise(edit: object, match: str) -> None:
    frame = series([(0, "m1", "TP53", 10, 5000), (1, "m1", "TP53", 10, 5000)])
    with pytest.raises(InputError, match=match):
        track_ctdna(edit(frame))  # type: ignore[operator]


def test_cli_track(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    vp = virtual_patient(seed=1, n_regions=1, n_mutations=40, n_clones=4)
    files = vp.to_files(tmp_path / "data")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["liquid", "track", str(files["ctdna"]), "--out", str(out), "--lesions",
              str(files["lesions"])])  # fmt: skip
    assert info.value.code == 0
    assert "lead time (days):" in capsys.readouterr().out
    tps = pd.read_csv(out / "timepoints.tsv", sep="\t")
    assert list(tps.columns) == ["patient_id", "timepoint", "tumour_fraction", "mean_vaf",
                                 "molecular_response"]  # fmt: skip
    var = pd.read_csv(out / "variants.tsv", sep="\t")
    assert list(var.columns) == ["patient_id", "mutation_id", "timepoint", "vaf", "vaf_low",
                                 "vaf_high", "status"]  # fmt: skip
    assert set(var["status"]) <= set(STATUSES)
    assert int(pd.read_csv(out / "lead_time.tsv", sep="\t")["lead_time_days"].iloc[0]) > 0
