"""Virtual patients: the truth is self-consistent and the observations follow the stated model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError, io, schema
from ithkit.evolution import VirtualPatient, virtual_patient
from ithkit.evolution.virtual_patient import DEFAULT_PRECISION


def test_same_seed_same_patient() -> None:
    a = virtual_patient(seed=5, n_mutations=80)
    b = virtual_patient(seed=5, n_mutations=80)
    pd.testing.assert_frame_equal(a.variants, b.variants)
    pd.testing.assert_frame_equal(a.lesions, b.lesions)
    pd.testing.assert_frame_equal(a.ctdna, b.ctdna)
    c = virtual_patient(seed=6, n_mutations=80)
    assert not a.variants["alt_counts"].equals(c.variants["alt_counts"])


@pytest.mark.parametrize("seed", range(12))
def test_tree_and_ccf_truth_is_consistent(seed: int) -> None:
    vp = virtual_patient(seed=seed, n_mutations=90)
    clones = vp.clones
    assert 3 <= len(clones) <= 8
    assert clones["parent"].isna().sum() == 1  # one trunk
    assert (clones["n_mutations"] >= 3).all()
    assert clones["n_mutations"].sum() == 90
    assert clones["is_resistant"].sum() == 1
    resistant = vp.resistant_clone
    assert resistant not in set(clones["parent"].dropna())  # a leaf
    wide = vp.clone_ccf.pivot(index="clone_id", columns="sample_id", values="ccf")
    prev = vp.clone_ccf.pivot(index="clone_id", columns="sample_id", values="prevalence")
    assert np.allclose(prev.sum(axis=0), 1.0)
    assert np.allclose(wide.loc["C1"], 1.0)
    for cid, parent in zip(clones["clone_id"], clones["parent"], strict=True):
        kids = clones.loc[clones["parent"] == cid, "clone_id"].tolist()
        # sum rule: a clone's CCF is its own prevalence plus its children's CCFs
        expected = prev.loc[cid] + (wide.loc[kids].sum(axis=0) if kids else 0.0)
        assert np.allclose(wide.loc[cid], expected)
        if pd.notna(parent):
            assert wide.loc[cid].max() >= 0.1 - 1e-12  # min_ccf somewhere
    assert prev.loc[resistant].max() <= 0.12 + 1e-12  # rare before therapy
    # mutations belong to clones and their true CCF is their clone's CCF (no mutation loss)
    merged = vp.mutation_samples.merge(vp.mutations[["mutation_id", "clone_id"]]).merge(
        vp.clone_ccf, on=["clone_id", "sample_id"], suffixes=("", "_clone")
    )
    assert np.allclose(merged["ccf"], merged["ccf_clone"])


def test_expected_vaf_follows_the_copy_number_formula() -> None:
    vp = virtual_patient(seed=2, n_mutations=200, n_cn_events=10, subclonal_cn_fraction=0.0)
    ms = vp.mutation_samples.merge(vp.mutations).merge(vp.purity)
    neutral = ms[ms["cn_event"].isna()]
    # diploid locus: VAF = purity * CCF / 2
    assert np.allclose(neutral["expected_vaf"], neutral["purity"] * neutral["ccf"] / 2)
    events = vp.cn_events.set_index("event_id")
    absent = ms[ms["ccf"] == 0]
    assert (absent["expected_vaf"] == 0).all()
    assert absent["multiplicity"].isna().all()
    clonal = ms[ms["cn_event"].notna() & (ms["ccf"] > 0)]
    assert len(clonal) > 0
    total = clonal["cn_event"].map(events["major_cn"] + events["minor_cn"]).to_numpy()
    p = clonal["purity"].to_numpy()
    # clonal event: VAF = p * CCF * m / (p * total + 2 (1 - p))
    expected = p * clonal["ccf"] * clonal["multiplicity"] / (p * total + 2 * (1 - p))
    assert np.allclose(clonal["expected_vaf"], expected)
    # multiplicity is a copy number of one allele, never above the major copy number
    major = clonal["cn_event"].map(events["major_cn"]).to_numpy()
    assert ((clonal["multiplicity"] >= 1) & (clonal["multiplicity"] <= major)).all()
    assert (clonal["multiplicity"] > 1).any()  # some mutations precede a gain
    # the variant table reports the clonal state
    reported = vp.variants.merge(clonal[["mutation_id", "sample_id", "cn_event"]])
    assert (reported["major_cn"] == reported["cn_event"].map(events["major_cn"])).all()
    assert (reported["minor_cn"] == reported["cn_event"].map(events["minor_cn"])).all()


def test_subclonal_copy_number_is_reported_with_its_ccf() -> None:
    vp = virtual_patient(seed=4, n_cn_events=12, subclonal_cn_fraction=1.0, n_mutations=120)
    assert (vp.cn_events["clone_id"] != "C1").all()
    seg = vp.segments
    altered = seg[(seg["major_cn"] != 1) | (seg["minor_cn"] != 1)]
    assert ((altered["ccf"] > 0) & (altered["ccf"] < 1)).any()
    schema.validate(seg, schema.SEGMENTS)


def standardised_residuals(vp: VirtualPatient) -> np.ndarray:
    ms = vp.variants.merge(vp.mutation_samples)
    depth = (ms["ref_counts"] + ms["alt_counts"]).to_numpy()
    e = ms["error_rate"].to_numpy()
    v = ms["expected_vaf"].to_numpy()
    p = v * (1 - e) + (1 - v) * e
    keep = depth * p * (1 - p) > 10  # normal approximation holds
    return ((ms["alt_counts"].to_numpy() - depth * p) / np.sqrt(depth * p * (1 - p)))[keep]


@pytest.mark.parametrize(("seed", "depth", "purity"), [(1, 500, 0.9), (3, 300, 0.3), (8, 400, 0.6)])
def test_reads_are_binomial_around_the_expected_vaf(seed: int, depth: int, purity: float) -> None:
    vp = virtual_patient(
        seed=seed, n_mutations=300, depth=depth, purity=purity, n_regions=3, overdispersion=None
    )
    z = standardised_residuals(vp)
    assert z.size > 300
    assert abs(z.mean()) < 0.15
    assert 0.85 < z.std() < 1.15
    mean_depth = (vp.variants["ref_counts"] + vp.variants["alt_counts"]).mean()
    assert mean_depth == pytest.approx(depth, rel=0.1)
    assert np.allclose(vp.purity["purity"], purity)


@pytest.mark.parametrize(("seed", "depth"), [(1, 500), (3, 150)])
def test_default_reads_are_beta_binomial(seed: int, depth: int) -> None:
    # beta-binomial variance = binomial x (1 + (d - 1) / (precision + 1)), precision 200
    vp = virtual_patient(seed=seed, n_mutations=300, depth=depth, n_regions=3)
    assert vp.params["overdispersion"] == DEFAULT_PRECISION == 200.0
    inflation = 1 + (depth - 1) / (DEFAULT_PRECISION + 1)
    z = standardised_residuals(vp) / np.sqrt(inflation)
    assert abs(z.mean()) < 0.15
    assert 0.85 < z.std() < 1.15


def test_read_model_leaves_the_rest_of_the_patient_alone() -> None:
    # the beta draws have their own stream: tree, purity, depths, lesions and plasma are equal
    a = virtual_patient(seed=4, n_regions=3, overdispersion=None)
    b = virtual_patient(seed=4, n_regions=3)
    pd.testing.assert_frame_equal(a.clones, b.clones)
    pd.testing.assert_frame_equal(a.lesions, b.lesions)
    pd.testing.assert_frame_equal(a.ctdna, b.ctdna)
    depth = a.variants["ref_counts"] + a.variants["alt_counts"]
    assert depth.equals(b.variants["ref_counts"] + b.variants["alt_counts"])
    assert not a.variants["alt_counts"].equals(b.variants["alt_counts"])


def test_overdispersion_widens_the_read_distribution() -> None:
    vp = virtual_patient(seed=1, n_mutations=300, depth=500, overdispersion=30.0)
    assert standardised_residuals(vp).std() > 1.5


def test_observables_pass_their_contracts(tmp_path: Path) -> None:
    vp = virtual_patient(seed=9, n_regions=5, n_lesions=6)
    files = vp.to_files(tmp_path)
    assert len(io.read_variants(files["variants"])) == 150 * 5
    lesions = io.read_lesions(files["lesions"])
    assert lesions["lesion_class"].value_counts()["target"] <= 5 * lesions["timepoint"].nunique()
    io.read_ctdna(files["ctdna"])
    io.read_segments(files["segments"])
    io.read_purity(files["purity"])
    manifest = io.read_patient_manifest(files["manifest"])
    assert manifest["patient_id"] == "VP9"
    assert (tmp_path / "truth" / "clones.tsv").exists()


def test_lesions_shrink_then_regrow_under_therapy() -> None:
    vp = virtual_patient(seed=0, n_followups=8)
    burden = vp.burden["sum_volume_ml"].to_numpy()
    nadir = int(np.argmin(burden))
    assert 0 < nadir < len(burden) - 1  # response first, resistance later
    assert burden[-1] > burden[nadir]
    share = vp.burden["resistant_fraction"].to_numpy()
    assert np.all(np.diff(share) > 0)  # therapy selects the resistant clone
    base = vp.lesions[vp.lesions["timepoint"] == 0]
    volume = np.pi / 6 * vp.lesion_truth["baseline_diameter_mm"].iloc[: len(base)] ** 3 / 1000
    assert burden[0] == pytest.approx(volume.sum())


def test_ctdna_tracks_tumour_fraction() -> None:
    vp = virtual_patient(seed=3, ctdna_depth=20000)
    truth = vp.ctdna_truth
    obs = vp.ctdna.merge(truth, on=["timepoint", "mutation_id"])
    trunk = set(vp.mutations.loc[vp.mutations["clone_id"] == "C1", "mutation_id"])
    base = obs[(obs["timepoint"] == 0) & obs["mutation_id"].isin(trunk)]
    vaf = base["alt_counts"].sum() / base["depth"].sum()
    tf0 = float(truth.loc[truth["timepoint"] == 0, "tumour_fraction"].iloc[0])
    # truncal mutations (CCF 1, one copy of two): VAF = TF / 2 up to binomial noise
    se = np.sqrt(tf0 / 2 * (1 - tf0 / 2) / base["depth"].sum())
    assert abs(vaf - tf0 / 2) < 4 * se + 5e-4
    chip = truth[truth["is_chip"]]
    assert chip["expected_vaf"].nunique() == 1  # haematopoietic: does not follow the tumour
    resistant = truth[truth["clone_id"] == vp.resistant_clone]
    first, last = resistant["timepoint"].min(), resistant["timepoint"].max()
    assert (
        resistant.loc[resistant["timepoint"] == last, "expected_vaf"].mean()
        > resistant.loc[resistant["timepoint"] == first, "expected_vaf"].mean()
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"n_regions": 0}, "n_regions must be an integer in"),
        ({"n_regions": 11}, "n_regions must be an integer in"),
        ({"purity": 1.5}, "purity is 1.5"),
        ({"purity": [0.5, 0.6]}, "give one value or 4 values"),
        ({"n_clones": 5, "n_mutations": 10}, "n_mutations must be an integer"),
        ({"depth": 0}, "depth must be a number"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        virtual_patient(seed=0, **kwargs)  # type: ignore[arg-type]


def test_newick_matches_the_parent_table() -> None:
    vp = virtual_patient(seed=2)
    newick = vp.tree_newick()
    assert newick.endswith("C1;")
    for cid in vp.clones["clone_id"]:
        assert cid in newick
    assert newick.count("(") == newick.count(")")


def test_stochastic_dynamics_reuse_the_engine() -> None:
    closed = virtual_patient(seed=3)
    stoch = virtual_patient(seed=3, dynamics="stochastic")
    # same tumour, same sequencing; lesions now come from the stochastic engine
    pd.testing.assert_frame_equal(closed.variants, stoch.variants)
    assert stoch.params["dynamics"] == "stochastic"
    # 1e8 cells per ml: demographic noise is negligible, the mean is the closed form
    assert np.allclose(stoch.burden["sum_volume_ml"], closed.burden["sum_volume_ml"], rtol=0.01)
    again = virtual_patient(seed=3, dynamics="stochastic")
    pd.testing.assert_frame_equal(stoch.lesions, again.lesions)
    pd.testing.assert_frame_equal(stoch.ctdna, again.ctdna)


def test_few_cells_make_the_course_stochastic() -> None:
    runs = [
        virtual_patient(seed=s, dynamics="stochastic", cells_per_ml=50.0, n_followups=4)
        for s in (1, 1)
    ]
    pd.testing.assert_frame_equal(runs[0].burden, runs[1].burden)  # seeded
    closed = virtual_patient(seed=1, n_followups=4)
    # with ~1e3 cells per lesion the resistant clone's fate is random: the course departs
    # from the deterministic mean
    assert not np.allclose(
        runs[0].burden["sum_volume_ml"], closed.burden["sum_volume_ml"], rtol=0.01
    )


def test_unknown_dynamics() -> None:
    with pytest.raises(InputError, match="use closed_form or stochastic"):
        virtual_patient(seed=0, dynamics="magic")  # type: ignore[arg-type]
