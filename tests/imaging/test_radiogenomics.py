"""Radiogenomics associations: planted effects are found, nulls are not (FDR)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# A virtual patient of 8 lesions, one region each: clone 2's CCF sets the lesions' attenuation
# (ithkit.imaging.clone_lesions); clone 3's CCF is unrelated (Spearman rho 0 with clone 2's).
PLANTED = [0.05, 0.15, 0.3, 0.45, 0.55, 0.7, 0.85, 0.95]
NULL = [0.5, 0.9, 0.2, 0.7, 0.35, 0.1, 0.6, 0.8]


def _virtual_patient(tmp_path: Path) -> tuple[Any, Any, Any]:
    from types import SimpleNamespace

    from ithkit.imaging import clone_lesions
    from ithkit.integrate._types import PatientData, PatientResults
    from ithkit.io import read_image_manifest

    lesions = [f"L{i + 1}" for i in range(8)]
    truth = clone_lesions(tmp_path / "img", dict(zip(lesions, PLANTED, strict=True)), seed=3)
    regions = {f"R{i + 1}": lid for i, lid in enumerate(lesions)}
    clones = pd.DataFrame([
        {"clone_id": k, "sample_id": r, "ccf": ccf}
        for r, p, q in zip(regions, PLANTED, NULL, strict=True)
        for k, ccf in ((1, 1.0), (2, p), (3, q))
    ])  # fmt: skip
    metrics = pd.DataFrame({"sample_id": list(regions), "fraction_subclonal": NULL})
    images = read_image_manifest(tmp_path / "img" / "images.csv")
    data = PatientData("P01", images=images, extra={"lesion_regions": regions})
    results = PatientResults()
    from ithkit.integrate._types import AnalysisOutput

    results.add("genomic", AnalysisOutput(result=SimpleNamespace(clones=clones, metrics=metrics)))
    return data, results, truth


def test_virtual_patient_planted_clone_found_null_not(tmp_path: Path) -> None:
    from ithkit import _names
    from ithkit.integrate._analyses.imaging import analyze
    from ithkit.report import render_html

    data, results, truth = _virtual_patient(tmp_path)
    assert truth["mean_hu"].is_monotonic_increasing
    out = analyze(data, results, tmp_path / "out", seed=0)
    radio = out.tables[_names.IMAGING_RADIOGENOMICS]
    assert (tmp_path / "out" / "imaging" / "radiogenomics.tsv").exists()
    sig = radio[radio["significant"]]
    # the planted clone: the lesions' mean attenuation rises with its CCF
    assert set(sig["variable"]) == {"ccf_clone_2"}
    mean = radio.set_index(["feature", "variable"]).loc[
        ("intensity_statistics:mean:none", "ccf_clone_2")
    ]
    assert bool(mean["significant"]) and mean["effect"] > 0.9
    # the truncal clone (CCF 1 everywhere) is not testable; the null clone and the subclonal
    # fraction are tested and found nothing
    assert "ccf_clone_1" not in set(radio["variable"])
    assert {"ccf_clone_3", "fraction_subclonal"} <= set(radio["variable"])
    score = {p.score: p.value for p in out.profile}["n_radiogenomic_associations"]
    assert score == len(sig) > 0
    html = render_html(out.sections, title="P01")
    assert "Radiogenomics: lesion features vs genomic state" in html
    assert "lesions with higher ccf_clone_2 have higher" in html


def test_lesion_regions_checked(tmp_path: Path) -> None:
    from ithkit.integrate._analyses.imaging import check_lesion_regions
    from ithkit.integrate._types import PatientData

    images = pd.DataFrame({"lesion_id": ["L1", "L2"]})
    variants = pd.DataFrame({"sample_id": ["R1", "R2"]})
    ok = PatientData("P", variants=variants, images=images,
                     extra={"lesion_regions": {"R1": "L1", "R2": "L1"}})  # fmt: skip
    assert check_lesion_regions(ok) == {"R1": "L1", "R2": "L1"}
    bad_region = PatientData("P", variants=variants, images=images,
                             extra={"lesion_regions": {"R3": "L1"}})  # fmt: skip
    with pytest.raises(InputError, match="region 'R3', not in the variants"):
        check_lesion_regions(bad_region)
    bad_lesion = PatientData("P", variants=variants, images=images,
                             extra={"lesion_regions": {"R1": "L9"}})  # fmt: skip
    with pytest.raises(InputError, match="lesion 'L9', not in the images"):
        check_lesion_regions(bad_lesion)


def test_manifest_lesion_regions_must_be_a_mapping() -> None:
    from ithkit.schema import validate_manifest

    ok = validate_manifest({"patient_id": "P", "variants": "v.tsv",
                            "lesion_regions": {"R1": "L1"}})  # fmt: skip
    assert ok["lesion_regions"] == {"R1": "L1"}
    with pytest.raises(InputError, match="lesion_regions must be a mapping"):
        validate_manifest({"patient_id": "P", "variants": "v.tsv", "lesion_regions": "x.tsv"})


def test_load_patient_checks_lesion_regions(tmp_path: Path) -> None:
    from ithkit.evolution import virtual_patient
    from ithkit.imaging import clone_lesions
    from ithkit.integrate import load_patient

    vp = virtual_patient(seed=7, n_regions=2, n_mutations=30, n_clones=3)
    vp.variants.to_csv(tmp_path / "variants.tsv", sep="\t", index=False)
    clone_lesions(tmp_path, {"L1": 0.2, "L2": 0.8})
    cases = (
        ({"R1": "L1", "R2": "L2"}, None),
        ({"R1": "L1", "R9": "L2"}, "region 'R9', not in the variants"),
        ({"R1": "L1", "R2": "L7"}, "lesion 'L7', not in the images"),
    )
    for regions, error in cases:
        manifest = tmp_path / "patient.yaml"
        lines = "".join(f"  {r}: {lid}\n" for r, lid in regions.items())
        manifest.write_text("patient_id: P01\nvariants: variants.tsv\nimages: images.csv\n"
                            f"lesion_regions:\n{lines}")  # fmt: skip
        if error is None:
            assert load_patient(manifest).extra["lesion_regions"] == regions
        else:
            with pytest.raises(InputError, match=error):
                load_patient(manifest)
