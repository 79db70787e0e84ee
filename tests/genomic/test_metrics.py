"""MATH and diversity scores against hand calculations; adequacy curves behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ithkit.evolution import virtual_patient
from ithkit.genomic import math_score, shannon, simpson, subclonal_genome_fraction


@pytest.mark.parametrize(
    ("vaf", "expected"),
    [
        # median 0.3, |v - 0.3| = .2 .1 0 .1 .2 -> MAD 0.1: 100 * 1.4826 * 0.1 / 0.3
        ([0.1, 0.2, 0.3, 0.4, 0.5], 100 * 1.4826 * 0.1 / 0.3),
        ([0.25, 0.25, 0.25], 0.0),
        # even count: median 0.35, deviations .25 .05 .05 .25 -> MAD 0.15
        ([0.1, 0.3, 0.4, 0.6], 100 * 1.4826 * 0.15 / 0.35),
        ([0.2, np.nan, 0.4], 100 * 1.4826 * 0.1 / 0.3),
    ],
)
def test_math_formula(vaf: list[float], expected: float) -> None:
    # Mroz & Rocco 2013: MATH = 100 * 1.4826 * median(|VAF - median|) / median(VAF)
    assert math_score(vaf) == pytest.approx(expected)


def test_math_of_nothing_is_nan() -> None:
    assert np.isnan(math_score([]))


@pytest.mark.parametrize(
    ("p", "h", "d"),
    [([1.0], 0.0, 0.0), ([0.5, 0.5], np.log(2), 0.5), ([0.25] * 4, np.log(4), 0.75),
     ([2, 2, 0], np.log(2), 0.5)],
)  # fmt: skip
def test_diversity(p: list[float], h: float, d: float) -> None:
    assert shannon(p) == pytest.approx(h)
    assert simpson(p) == pytest.approx(d)


def test_subclonal_genome_fraction_from_virtual_segments() -> None:
    vp = virtual_patient(seed=4, n_cn_events=12, subclonal_cn_fraction=1.0)
    frac = subclonal_genome_fraction(vp.segments)
    assert ((frac >= 0) & (frac < 1)).all()
    assert frac.max() > 0
    clonal = virtual_patient(seed=4, n_cn_events=12, subclonal_cn_fraction=0.0)
    assert (subclonal_genome_fraction(clonal.segments) == 0).all()


def test_adequacy_curve_grows_and_false_truncals_vanish() -> None:
    from ithkit.genomic import analyze

    vp = virtual_patient(seed=5, n_regions=6, depth=200)
    result = analyze(vp.variants, seed=0, n_restarts=2)
    curve = result.adequacy.curve
    assert curve["n_regions"].tolist() == list(range(1, 7))
    assert np.all(np.diff(curve["clones_mean"]) >= -1e-9)
    assert curve["false_truncal_mean"].iloc[0] > curve["false_truncal_mean"].iloc[-1]
    assert curve["false_truncal_mean"].iloc[-1] == 0
    assert 0 < result.adequacy.one_biopsy_fraction <= 1
    assert np.isfinite(result.adequacy.clones_asymptote)
    assert "One region detects" in result.adequacy.summary()


def test_metrics_table_shape(small_patient) -> None:  # type: ignore[no-untyped-def]
    from ithkit.genomic import analyze

    metrics = analyze(small_patient.variants, seed=0, n_restarts=2).metrics
    assert metrics["sample_id"].tolist() == ["R1", "R2", "R3", "ALL"]
    assert list(metrics.columns) == [
        "sample_id", "math", "n_clones", "shannon", "simpson", "fraction_subclonal",
    ]  # fmt: skip
    assert ((metrics["simpson"] >= 0) & (metrics["simpson"] < 1)).all()
    assert isinstance(metrics, pd.DataFrame)


def test_analyze_and_maf_math_use_one_math_rule() -> None:
    # issue 11: 'genomic analyze' gave MATH 115 for a region where maftools' rule gives ~16
    import numpy as np

    from ithkit.evolution import virtual_patient
    from ithkit.genomic import analyze, is_present, maf_math, sample_math

    vp = virtual_patient(seed=7, n_regions=2, n_mutations=150)
    result = analyze(vp.variants, seed=0)
    ccf = result.mutation_ccf[is_present(result.mutation_ccf)]
    region = ccf[ccf["sample_id"] == "R1"]
    maf = pd.DataFrame({"Tumor_Sample_Barcode": "R1", "VAF": region["vaf"].astype(str)})
    by_maftools = maf_math(maf, vaf_column="VAF")["math"].iloc[0]
    by_analyze = result.metrics.set_index("sample_id").loc["R1", "math"]
    assert by_analyze == pytest.approx(by_maftools, rel=1e-12)
    # the floor matters: low-VAF subclonal mutations inflate MATH without it
    assert sample_math(region["vaf"], min_vaf=0.0)[0] > by_analyze
    assert np.isnan(sample_math([0.2, 0.3, 0.4])[0])  # fewer than 5 mutations
