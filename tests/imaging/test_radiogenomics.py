"""Radiogenomics associations: planted effects are found, nulls are not (FDR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ithkit import InputError
from ithkit.imaging import radiogenomics


def _cohort(seed: int = 0, n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    kras = rng.random(n) < 0.5
    resistant = rng.random(n)  # subclonal fraction of a resistant clone
    feats = pd.DataFrame({
        "patient_id": [f"P{i // 4}" for i in range(n)], "lesion_id": [f"L{i}" for i in range(n)],
        "timepoint": 0,
        "adc": np.where(kras, 0.9e-3, 1.2e-3) + rng.normal(0, 0.1e-3, n),  # lower with KRAS
        "suv_max": 4 + 6 * resistant + rng.normal(0, 0.8, n),  # rises with the resistant clone
        **{f"noise_{j}": rng.normal(size=n) for j in range(8)},
    })  # fmt: skip
    gen = feats[["patient_id", "lesion_id"]].assign(KRAS=kras, resistant_fraction=resistant)
    return feats, gen


def test_planted_associations_found_nulls_not() -> None:
    feats, gen = _cohort()
    res = radiogenomics(feats, gen, fdr=0.05)
    sig = res[res["significant"]]
    assert set(zip(sig["feature"], sig["variable"], strict=True)) == {
        ("adc", "KRAS"),
        ("suv_max", "resistant_fraction"),
    }
    top = res.set_index(["feature", "variable"])
    assert top.loc[("adc", "KRAS"), "effect"] < 0
    assert top.loc[("adc", "KRAS"), "summary"].startswith("lesions with KRAS have lower adc")
    assert top.loc[("suv_max", "resistant_fraction"), "statistic"] > 0.8
    # p-values are scipy's tests; q-values Benjamini-Hochberg over all 20 pairs
    carriers = gen["KRAS"].to_numpy()
    p = stats.mannwhitneyu(feats["adc"][carriers], feats["adc"][~carriers]).pvalue
    assert top.loc[("adc", "KRAS"), "p_value"] == pytest.approx(p)
    assert len(res) == 2 * 10
    assert res["q_value"].max() <= 1 and (res["q_value"] >= res["p_value"]).all()


def test_bad_input() -> None:
    feats, gen = _cohort()
    with pytest.raises(InputError, match="both imaged and sequenced"):
        radiogenomics(feats, gen.assign(lesion_id="other"))
    with pytest.raises(InputError, match="lesion_id"):
        radiogenomics(feats.drop(columns="lesion_id"), gen)
    with pytest.raises(InputError, match="fdr"):
        radiogenomics(feats, gen, fdr=5)


def test_radiogenomics_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ithkit.cli import main

    feats, gen = _cohort()
    feats.to_csv(tmp_path / "features.tsv", sep="\t", index=False)
    gen.to_csv(tmp_path / "genomic.csv", index=False)
    out = tmp_path / "assoc.tsv"
    with pytest.raises(SystemExit) as info:
        main(["imaging", "radiogenomics", str(tmp_path / "features.tsv"),
              str(tmp_path / "genomic.csv"), "--out", str(out), "--fdr", "0.05"])  # fmt: skip
    assert info.value.code in (0, None)
    assert "lesions with KRAS have lower adc" in capsys.readouterr().out
    assert pd.read_csv(out, sep="\t")["significant"].sum() == 2
