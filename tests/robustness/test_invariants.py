"""Invariants on generated valid data (hypothesis): CCF in [0, 1], clone prevalences of a region
sum to at most 1, RECIST monotone in the measurements, neighbourhood enrichment symmetric on a
symmetric graph, IBSI intensity features invariant to a permutation of the ROI voxels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ORDER = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


@st.composite
def variant_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    rows = []
    purity = {s: draw(st.floats(0.05, 1.0)) for s in ("R1", "R2")}
    for i in range(n):
        major = draw(st.integers(1, 5))
        minor = draw(st.integers(0, major))
        for s in ("R1", "R2"):
            depth = draw(st.integers(1, 2000))
            alt = draw(st.integers(0, depth))
            rows.append({
                "mutation_id": f"m{i}", "sample_id": s, "ref_counts": depth - alt,
                "alt_counts": alt, "major_cn": major, "minor_cn": minor,
                "normal_cn": draw(st.sampled_from([1, 2])), "tumour_content": purity[s],
            })  # fmt: skip
    return pd.DataFrame(rows)


@settings(max_examples=10)
@given(variants=variant_tables())
def test_ccf_is_a_fraction(variants: pd.DataFrame) -> None:
    from ithkit import schema
    from ithkit.genomic import cancer_cell_fraction

    ccf = cancer_cell_fraction(schema.validate(variants, schema.VARIANTS))
    assert len(ccf) == len(variants)
    for col in ("vaf", "ccf", "ccf_low", "ccf_high"):
        assert ccf[col].between(0, 1).all(), col
    assert (ccf["ccf_low"] <= ccf["ccf_high"] + 1e-12).all()


@settings(max_examples=4)
@given(seed=st.integers(0, 10_000), n_clones=st.integers(2, 4))
def test_clone_prevalences_of_a_region_sum_to_at_most_one(seed: int, n_clones: int) -> None:
    from ithkit.evolution import virtual_patient
    from ithkit.genomic import analyze

    vp = virtual_patient(seed=seed, n_regions=2, n_mutations=30, n_clones=n_clones)
    fish = analyze(vp.variants, seed=0, n_restarts=1).fish
    assert fish["fraction"].between(0, 1).all()
    assert (fish.groupby("sample_id")["fraction"].sum() <= 1 + 1e-9).all()
    assert fish["ccf"].between(0, 1).all()


@settings(max_examples=10)
@given(
    baseline=st.lists(st.floats(10, 120), min_size=1, max_size=5),
    data=st.data(),
)
def test_recist_is_monotone_in_the_measurements(baseline: list[float], data) -> None:
    """Larger follow-up diameters never give a better timepoint response."""
    from ithkit.response import recist

    n = len(baseline)
    a = data.draw(st.lists(st.floats(0, 200), min_size=n, max_size=n))
    extra = data.draw(st.lists(st.floats(0, 50), min_size=n, max_size=n))
    b = [x + e for x, e in zip(a, extra, strict=True)]

    def response(follow: list[float]) -> str:
        frame = pd.DataFrame({
            "patient_id": "P1", "lesion_id": [f"L{i}" for i in range(n)] * 2,
            "timepoint": [0] * n + [1] * n, "organ": "lung", "lesion_class": "target",
            "is_lymph_node": False, "diameter_mm": [*baseline, *follow],
        })  # fmt: skip
        tp = recist(frame, on_violation="ignore").timepoints
        return str(tp.loc[tp["timepoint"] == 1, "overall_response"].iloc[0])

    ra, rb = response(a), response(b)
    assert ORDER[ra] <= ORDER[rb], (a, b, ra, rb)


@settings(max_examples=5)
@given(seed=st.integers(0, 1000), kind=st.sampled_from(["segregated", "random", "infiltrated"]))
def test_enrichment_is_symmetric_on_a_symmetric_graph(seed: int, kind: str) -> None:
    pytest.importorskip("anndata")
    from ithkit.spatial import nhood_enrichment, simulate_tissue, spatial_neighbors

    a = spatial_neighbors(simulate_tissue(kind, 150, seed=seed), n_neighbors=5)
    g = a.obsp["spatial_connectivities"]
    a.obsp["spatial_connectivities"] = g.maximum(g.T).tocsr()
    e = nhood_enrichment(a, "cell_type", n_perms=30, seed=seed)
    m = e.set_index(["label_a", "label_b"])
    swapped = m.rename_axis(["label_b", "label_a"]).reorder_levels(["label_a", "label_b"])
    joined = m.join(swapped, rsuffix="_t")
    assert np.allclose(joined["observed"], joined["observed_t"])
    assert np.allclose(joined["expected"], joined["expected_t"])
    assert np.allclose(joined["zscore"], joined["zscore_t"], equal_nan=True)


@settings(max_examples=8)
@given(seed=st.integers(0, 10_000))
def test_intensity_features_invariant_to_voxel_permutation(seed: int) -> None:
    """IBSI 1, sections 3.3-3.5: intensity statistics, intensity histogram and the intensity
    volume histogram depend on the ROI intensities only, not on where they are."""
    from ithkit.imaging import roi_features

    rng = np.random.default_rng(seed)
    img = rng.normal(40, 25, (6, 7, 8)).round(1)
    mask = np.zeros(img.shape, dtype=bool)
    mask[1:5, 1:6, 2:7] = True
    shuffled = img.copy()
    shuffled[mask] = rng.permutation(img[mask])
    fams = ("intensity_statistics", "intensity_histogram", "intensity_volume_histogram")
    a = roi_features(img, mask, (1.0, 1.0, 1.0), families=fams)
    b = roi_features(shuffled, mask, (1.0, 1.0, 1.0), families=fams)
    assert len(a) > 20
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float),
                               rtol=1e-9, atol=1e-9)  # fmt: skip
