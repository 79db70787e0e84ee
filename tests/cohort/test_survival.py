"""Survival: ithkit's numbers equal lifelines run by hand on the same table; bad input refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cohort import survival

lifelines = pytest.importorskip("lifelines")


def _cohort(n: int = 80, seed: int = 0) -> pd.DataFrame:
    """Exponential survival with log HR 0.7 per unit of `ith`, a binary driver, censoring."""
    rng = np.random.default_rng(seed)
    ith = rng.normal(size=n)
    driver = rng.integers(0, 2, size=n)
    age = rng.normal(60, 10, size=n).round()
    event_time = rng.exponential(400 * np.exp(-(0.7 * ith + 0.5 * driver)))
    censor = rng.uniform(100, 1200, size=n)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "os_days": np.minimum(event_time, censor).round(1),
            "os_event": (event_time <= censor).astype(int),
            "age": age,
            "stage": rng.choice(["I", "II", "III"], size=n),
            "ith": ith.round(4),
            "driver": driver,
        }
    )


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    frame = _cohort()
    clinical = tmp_path / "clinical.tsv"
    features = tmp_path / "features.tsv"
    frame[["patient_id", "os_days", "os_event", "age", "stage"]].to_csv(
        clinical, sep="\t", index=False
    )
    frame[["patient_id", "ith", "driver"]].to_csv(features, sep="\t", index=False)
    return clinical, features, frame


def test_cox_logrank_km_equal_lifelines_by_hand(tables: tuple[Path, Path, pd.DataFrame]) -> None:
    clinical, features, frame = tables
    res = survival(clinical, time="os_days", event="os_event", features=features)
    df = frame.rename(columns={"os_days": "T", "os_event": "E"})
    for feature in ("ith", "driver"):
        cph = lifelines.CoxPHFitter().fit(df[["T", "E", feature]], "T", "E")
        row = res.cox.query("feature == @feature and model == 'univariable'").iloc[0]
        s = cph.summary.loc[feature]
        assert row["hr"] == pytest.approx(s["exp(coef)"], rel=1e-9)
        assert row["hr_low"] == pytest.approx(s["exp(coef) lower 95%"], rel=1e-9)
        assert row["hr_high"] == pytest.approx(s["exp(coef) upper 95%"], rel=1e-9)
        assert row["p"] == pytest.approx(s["p"], rel=1e-9)
        assert row["concordance"] == pytest.approx(cph.concordance_index_, rel=1e-12)
        assert row["n"] == 80 and row["n_events"] == int(df["E"].sum())
    # the planted effect is found: log HR 0.7 per unit of ith (adjusted for the driver)
    ith = res.cox.query("feature == 'ith' and model == 'multivariable'").iloc[0]
    assert ith["hr_low"] < np.exp(0.7) < ith["hr_high"]
    # multivariable: both features in one model
    cph = lifelines.CoxPHFitter().fit(df[["T", "E", "ith", "driver"]], "T", "E")
    multi = res.cox[res.cox["model"] == "multivariable"].set_index("feature")
    assert multi.loc["driver", "hr"] == pytest.approx(cph.summary.loc["driver", "exp(coef)"])
    # log-rank at the median of ith, and driver 1 vs 0
    high = df["ith"] >= df["ith"].median()
    test = lifelines.statistics.logrank_test(
        df.loc[high, "T"], df.loc[~high, "T"], df.loc[high, "E"], df.loc[~high, "E"]
    )
    lr = res.logrank.set_index("feature")
    assert lr.loc["ith", "statistic"] == pytest.approx(test.test_statistic, rel=1e-9)
    assert lr.loc["ith", "p"] == pytest.approx(test.p_value, rel=1e-9)
    assert lr.loc["ith", "n_high"] == int(high.sum())
    kmf = lifelines.KaplanMeierFitter().fit(df.loc[high, "T"], df.loc[high, "E"])
    assert lr.loc["ith", "median_high_days"] == pytest.approx(kmf.median_survival_time_)
    curve = res.km.query("feature == 'ith' and group == 'high'")
    assert np.allclose(curve["survival"], kmf.survival_function_.iloc[:, 0])
    assert lr.loc["driver", "group_high"] == "driver = 1"
    # numbers at risk at the plot ticks
    at0 = res.at_risk.query("feature == 'driver' and time_days == 0")
    assert sorted(at0["n_at_risk"]) == sorted(df["driver"].value_counts().tolist())
    # PH check equals lifelines' test on the same model
    ph = lifelines.statistics.proportional_hazard_test(
        lifelines.CoxPHFitter().fit(df[["T", "E", "ith"]], "T", "E"),
        df[["T", "E", "ith"]],
        time_transform="rank",
    )
    got = res.ph.query("feature == 'ith' and model == 'univariable'").iloc[0]
    assert got["p"] == pytest.approx(float(ph.summary.loc["ith", "p"]), rel=1e-9)


def test_covariates_split_value_and_per_sd(tables: tuple[Path, Path, pd.DataFrame]) -> None:
    clinical, features, frame = tables
    res = survival(
        clinical,
        time="os_days",
        event="os_event",
        features=features,
        covariates=["age", "stage"],
        split=0.5,
        per_sd=True,
    )
    df = frame.rename(columns={"os_days": "T", "os_event": "E"})
    df["ith_z"] = (df["ith"] - df["ith"].mean()) / df["ith"].std()
    df["stage=II"] = (df["stage"] == "II").astype(float)
    df["stage=III"] = (df["stage"] == "III").astype(float)
    cph = lifelines.CoxPHFitter().fit(
        df[["T", "E", "ith_z", "age", "stage=II", "stage=III"]], "T", "E"
    )
    row = res.cox.query("feature == 'ith' and model == 'adjusted'").iloc[0]
    assert row["scale"] == "per SD"
    assert row["hr"] == pytest.approx(cph.summary.loc["ith_z", "exp(coef)"], rel=1e-6)
    lr = res.logrank.set_index("feature")
    assert lr.loc["ith", "n_high"] == int((df["ith"] >= 0.5).sum())
    assert "stage=III" in set(res.cox["feature"])


def test_missing_values_reported_and_dropped(tmp_path: Path) -> None:
    frame = _cohort(40, seed=1)
    frame["os_days"] = frame["os_days"].astype(object)
    frame.loc[3, "os_days"] = "-Inf"  # maftools' annotation writes unknown follow-up this way
    frame["ith"] = frame["ith"].astype(object)
    frame.loc[[5, 6], "ith"] = "NA"
    frame.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    res = survival(
        tmp_path / "c.tsv",
        time="os_days",
        event="os_event",
        features=frame[["patient_id", "ith"]].assign(ith=pd.to_numeric(frame["ith"], "coerce")),
    )
    row = res.cox.iloc[0]
    assert row["n"] == 37 and row["n_missing"] == 2
    assert any("1 patient(s) with a missing os_days" in n for n in res.notes)
    assert any("ith: 2 patient(s) with a missing value dropped" in n for n in res.notes)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("os_event", "2", "line 5, column os_event: event code '2' is not 0 or 1"),
        ("os_days", "-10", "line 5, column os_days: time is -10 days, below 0"),
        ("os_days", "ten", "line 5, column os_days: 'ten' is not a time in days"),
    ],
)
def test_bad_clinical_values_name_line_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    frame = _cohort(20).astype({column: object})
    frame.loc[3, column] = value
    frame.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=message):
        survival(
            tmp_path / "c.tsv",
            time="os_days",
            event="os_event",
            features=frame[["patient_id", "ith"]],
        )


def test_patients_in_one_table_only(tables: tuple[Path, Path, pd.DataFrame]) -> None:
    clinical, _, frame = tables
    feats = frame[["patient_id", "ith"]].iloc[:-2]
    with pytest.raises(InputError, match=r"2 patient\(s\) only in this table.*P078, P079"):
        survival(clinical, time="os_days", event="os_event", features=feats)
    res = survival(clinical, time="os_days", event="os_event", features=feats, drop_unmatched=True)
    assert res.n_patients == 78
    assert any("dropped: P078, P079" in n for n in res.notes)


def test_duplicate_ids_and_unknown_columns(tmp_path: Path) -> None:
    frame = _cohort(10)
    frame.loc[4, "patient_id"] = "P000"
    frame.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="line 6, column patient_id: patient 'P000' appears"):
        survival(
            tmp_path / "c.tsv",
            time="os_days",
            event="os_event",
            features=frame[["patient_id", "ith"]],
        )
    _cohort(10).to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="no column 'os_months'"):
        survival(
            tmp_path / "c.tsv",
            time="os_months",
            event="os_event",
            features=_cohort(10)[["patient_id", "ith"]],
        )


def test_store_profiles(tmp_path: Path) -> None:
    """The store form reads numeric profile scores; status rows and text scores are left out."""
    from ithkit.store import CohortStore

    frame = _cohort(20, seed=2)
    store = CohortStore(tmp_path / "cohort.duckdb")
    for i, r in enumerate(frame.itertuples()):
        rows = [
            ("genomic", "fraction_subclonal", str(r.ith), "fraction"),
            ("response", "best_overall_response", "PR", ""),
        ]
        if i % 5 == 0:  # imaging not measured for some patients
            rows.append(("imaging", "status", "not_measured", ""))
        else:
            rows.append(("imaging", "habitat_shannon_mean", str(r.driver), "nats"))
        profile = pd.DataFrame(rows, columns=["modality", "score", "value", "unit"])
        store.write(r.patient_id, {"profiles": profile.assign(source="x.tsv")})
    frame.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    res = survival(tmp_path / "c.tsv", time="os_days", event="os_event", store=store.path)
    by = res.cox[res.cox["model"] == "univariable"].set_index("feature")
    assert set(by.index) == {"genomic.fraction_subclonal", "imaging.habitat_shannon_mean"}
    assert by.loc["imaging.habitat_shannon_mean", "n_missing"] == 4
    assert any("best_overall_response" in n for n in res.notes)
    chosen = survival(tmp_path / "c.tsv", time="os_days", event="os_event", store=store.path,
                      scores=["genomic.fraction_subclonal"])  # fmt: skip
    assert chosen.cox["feature"].tolist() == ["genomic.fraction_subclonal"]
    with pytest.raises(InputError, match=r"no numeric profile score 'genomic\.mat'.*choose among"):
        survival(tmp_path / "c.tsv", time="os_days", event="os_event", store=store.path,
                 scores=["genomic.mat"])  # fmt: skip
    df = frame.rename(columns={"os_days": "T", "os_event": "E"})
    cph = lifelines.CoxPHFitter().fit(df[["T", "E", "ith"]], "T", "E")
    assert by.loc["genomic.fraction_subclonal", "hr"] == pytest.approx(
        cph.summary.loc["ith", "exp(coef)"], rel=1e-6
    )


def test_store_without_profiles(tmp_path: Path) -> None:
    from ithkit.store import CohortStore

    store = CohortStore(tmp_path / "s.duckdb")
    store.write("P000", {"genomic_metrics": pd.DataFrame({"math": [1.0]})})
    _cohort(5).to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="no 'profiles' table"):
        survival(tmp_path / "c.tsv", time="os_days", event="os_event", store=store.path)


def test_write(tables: tuple[Path, Path, pd.DataFrame], tmp_path: Path) -> None:
    clinical, features, _ = tables
    res = survival(clinical, time="os_days", event="os_event", features=features)
    names = sorted(p.name for p in res.write(tmp_path / "out"))
    assert names == ["cox.tsv", "km.tsv", "km_at_risk.tsv", "logrank.tsv", "notes.txt", "ph.tsv"]
    cox = pd.read_csv(tmp_path / "out" / "cox.tsv", sep="\t")
    assert list(cox.columns[:8]) == [
        "feature",
        "n",
        "n_events",
        "hr",
        "hr_low",
        "hr_high",
        "p",
        "concordance",
    ]


def test_median_split_of_a_mostly_zero_count(tables: tuple[Path, Path, pd.DataFrame]) -> None:
    """A count that is 0 for most patients splits into > 0 vs 0, not everyone vs no one."""
    clinical, _, frame = tables
    counts = np.where(np.arange(80) % 5 == 0, np.arange(80) % 3 + 1, 0)
    feats = pd.DataFrame({"patient_id": frame["patient_id"], "n_emerging": counts})
    res = survival(clinical, time="os_days", event="os_event", features=feats)
    row = res.logrank.iloc[0]
    assert row["group_high"] == "n_emerging > 0"
    assert row["n_high"] == int((counts > 0).sum()) and row["n_low"] == int((counts == 0).sum())
