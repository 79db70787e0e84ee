"""The cohort overview and report on a store filled by hand (the ``profiles`` contract)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.cohort import draw_outcomes, overview
from ithkit.store import CohortStore


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    n = 16
    z = rng.normal(size=n)
    clinical, _ = draw_outcomes(z, seed=3, n_sites=2)
    imaging = z * 0.5 + rng.normal(0, 0.5, n)  # imaging ITH partly reflects genomic ITH
    cohort = CohortStore(tmp_path / "cohort.duckdb")
    for i, pid in enumerate(clinical["patient_id"]):
        rows = [("genomic", "fraction_subclonal", f"{z[i]:.6f}", "fraction", "", ""),
                ("response", "best_overall_response", "PR", "", "", "")]  # fmt: skip
        if i % 4 == 0:
            rows.append(("imaging", "status", "not_measured", "", "", "no images in manifest"))
        else:
            rows.append(("imaging", "habitat_shannon_mean", f"{imaging[i]:.6f}", "nats", "", ""))
        frame = pd.DataFrame(rows, columns=["modality", "score", "value", "unit", "source",
                                            "note"])  # fmt: skip
        cohort.write(pid, {"profiles": frame})
    clinical.to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    truth = pd.DataFrame({"patient_id": clinical["patient_id"], "z": z, "imaging": imaging})
    return cohort.path, clinical, truth


def test_overview_numbers(store: tuple[Path, pd.DataFrame, pd.DataFrame]) -> None:
    from scipy.stats import spearmanr

    path, _, truth = store
    view = overview(path)
    assert view.n_patients == 16
    dist = view.distributions.set_index("score")
    assert dist.loc["imaging.habitat_shannon_mean", "n"] == 12
    assert dist.loc["genomic.fraction_subclonal", "mean"] == pytest.approx(truth["z"].mean())
    measured = truth[np.arange(16) % 4 != 0]
    rho, p = spearmanr(measured["z"].round(6), measured["imaging"].round(6))
    row = view.correlations.iloc[0]
    assert row["rho"] == pytest.approx(rho) and row["p"] == pytest.approx(p) and row["n"] == 12
    assert len(view.missing) == 4
    assert set(view.missing["reason"]) == {"no images in manifest"}


def test_cohort_report_cli(store: tuple[Path, pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("lifelines")
    path, _, _ = store
    with pytest.raises(SystemExit) as info:
        main(["cohort", "report", "--store", str(path), "--out", str(tmp_path / "cohort.html"),
              "--clinical", str(tmp_path / "clinical.tsv"), "--time", "os_days",
              "--event", "os_event"])  # fmt: skip
    assert info.value.code in (0, None)
    page = (tmp_path / "cohort.html").read_text()
    for heading in ("Profile scores", "Heterogeneity across modalities",
                    "Failed and missing analyses", "Survival"):  # fmt: skip
        assert heading in page
    assert "<script" not in page and 'src="http' not in page and 'href="http' not in page
    assert (tmp_path / "cohort_tables" / "survival" / "cox.tsv").exists()
