"""Single-cell ITH scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.singlecell import ith_scores, shannon, simpson, simulate_scrna


@pytest.mark.parametrize("k", [1, 2, 5])
def test_diversity_of_equal_fractions(k: int) -> None:
    # equal fractions: Shannon = ln k, Gini-Simpson = 1 - 1/k (textbook identities)
    p = np.full(k, 1 / k)
    assert shannon(p) == pytest.approx(np.log(k))
    assert simpson(p) == pytest.approx(1 - 1 / k)


def _truth(a: Any) -> Any:
    a.obs["malignant"] = a.obs["true_malignant"]
    a.obs["subclone"] = a.obs["true_subclone"]
    return a


def test_subclone_metrics_and_rare_flags() -> None:
    a = _truth(simulate_scrna(600, 500, n_subclones=3, subclone_weights=[0.8, 0.17, 0.03],
                              seed=1))  # fmt: skip
    m = ith_scores(a, n_sample=150, rare_fraction=0.05).set_index("metric")["value"]
    frac = a.obs["true_subclone"].value_counts(normalize=True)
    assert m["n_subclones"] == 3
    assert m["subclone_fraction:S3"] == pytest.approx(frac["S3"])
    assert m["subclone_shannon"] == pytest.approx(shannon(frac.to_numpy()))
    assert m["n_rare_subclones"] == 1 and "rare_subclone:S3" in m.index
    assert a.uns["ith"]["n_subclones"] == 3


def test_ith_score_grows_with_mixed_programmes() -> None:
    a = _truth(simulate_scrna(700, 600, n_subclones=1, seed=2))
    pure = ith_scores(a, n_sample=200, max_states=3).set_index("metric")["value"]
    a.obs["malignant"] = a.obs["true_malignant"] | a.obs["cell_type"].isin(["T cell"])
    mixed = ith_scores(a, n_sample=200, max_states=3).set_index("metric")["value"]
    assert mixed["ith_score"] > 1.03 * pure["ith_score"]  # Poisson noise dominates 30 PCs
    assert mixed["ith_correlation"] > pure["ith_correlation"]
    assert mixed["n_states"] >= 2


def test_subsample_is_deterministic() -> None:
    a = _truth(simulate_scrna(400, 300, seed=3))
    one = ith_scores(a, n_sample=100, seed=7, max_states=2)
    two = ith_scores(a, n_sample=100, seed=7, max_states=2)
    pd.testing.assert_frame_equal(one, two)


def test_missing_malignant_column() -> None:
    a = simulate_scrna(100, 200, seed=0)
    with pytest.raises(InputError, match="singlecell cnv"):
        ith_scores(a)
