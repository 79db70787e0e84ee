"""Methylation ITH across regions: distances, variable loci, NJ, Robinson-Foulds, readers,
and virtual patients with known epiallele mixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.epigenetic import (
    expected_epipolymorphism,
    genetic_distance,
    methylation_ith,
    neighbor_joining,
    read_beta_matrix,
    read_coverage,
    read_heterogeneity,
    region_betas,
    robinson_foulds,
    simulate_methylation,
)
from ithkit.evolution import virtual_patient


def test_neighbor_joining_wikipedia_example() -> None:
    # the worked example of the neighbour-joining article (Wikipedia, "Neighbor joining"):
    # a-u 2, b-u 3, u-v 3, c-v 4, v-w 2, d-w 2, e-w 1
    d = np.array(
        [[0, 5, 9, 9, 8], [5, 0, 10, 10, 9], [9, 10, 0, 8, 7], [9, 10, 8, 0, 3], [8, 9, 7, 3, 0]],
        float,
    )
    tree = neighbor_joining(d, list("abcde"))
    lengths = {c: length for _, c, length in tree.edges.itertuples(index=False)}
    assert {k: lengths[k] for k in "abcde"} == {"a": 2, "b": 3, "c": 4, "d": 2, "e": 1}
    assert sorted(lengths.values()) == [1, 2, 2, 2, 3, 3, 4]  # 2n - 3 = 7 edges
    # splits ab|cde and de|abc, each named by the side without "a"
    assert tree.splits() == {frozenset("cde"), frozenset("de")}


def test_robinson_foulds_counts_splits() -> None:
    # ((A,B),(C,D),E,F) vs ((A,C),(B,D),E,F) on 6 leaves: max 2 * (6 - 3) = 6
    def tree(pairs: list[str]) -> object:
        labels = list("ABCDEF")
        d = np.full((6, 6), 10.0)
        np.fill_diagonal(d, 0)
        for a, b in pairs:
            i, j = labels.index(a), labels.index(b)
            d[i, j] = d[j, i] = 2.0
        return neighbor_joining(d, labels)

    t1, t2 = tree(["AB", "CD"]), tree(["AC", "BD"])
    assert robinson_foulds(t1, t1) == (0, 6)
    rf, rf_max = robinson_foulds(t1, t2)
    assert rf_max == 6 and rf == len(t1.splits() ^ t2.splits()) and rf >= 4


def test_methylation_ith_by_hand() -> None:
    b = pd.DataFrame(
        {"R1": [0.0, 0.5, 1.0, np.nan], "R2": [0.2, 0.5, 1.0, 0.3], "R3": [0.0, 0.9, 0.4, 0.3]},
        index=["c1", "c2", "c3", "c4"],
    )
    res = methylation_ith(b, min_shared=3)
    d = res.distance.set_index(["region_a", "region_b"])
    # mean |beta_a - beta_b| over shared CpGs: R1-R2 over c1..c3 = 0.2/3
    assert d.loc[("R1", "R2"), "distance"] == pytest.approx(0.2 / 3)
    assert d.loc[("R1", "R2"), "n_shared"] == 3
    assert d.loc[("R2", "R3"), "distance"] == pytest.approx((0.2 + 0.4 + 0.6 + 0) / 4)
    s = res.summary.iloc[0]
    # shared by all: c1..c3; ranges 0.2, 0.4, 0.6 -> 2 of 3 are >= 0.2 ... all three are
    assert s.n_cpgs_shared == 3 and s.fraction_variable == 1.0
    assert res.regions["n_cpgs"].tolist() == [3, 4, 4]
    assert pd.isna(s.tree_rf)
    assert methylation_ith(b, min_shared=3, variable_threshold=0.5).summary.loc[
        0, "fraction_variable"
    ] == pytest.approx(1 / 3)


def test_methylation_ith_errors() -> None:
    b = pd.DataFrame({"R1": [0.1] * 5, "R2": [1.2] * 5})
    with pytest.raises(InputError, match=r"column R2: beta value 1\.2 outside"):
        methylation_ith(b)
    with pytest.raises(InputError, match="share 5 CpGs"):
        methylation_ith(pd.DataFrame({"R1": [0.1] * 5, "R2": [0.2] * 5}))


def test_genetic_distance_weights_clones() -> None:
    ccf = pd.DataFrame(
        {
            "clone_id": ["C1"] * 3 + ["C2"] * 3 + ["C3"] * 3,
            "sample_id": ["R1", "R2", "R3"] * 3,
            "ccf": [1, 1, 1, 0.9, 0.8, 0.0, 0.0, 0.1, 0.7],
        }
    )
    clones = pd.DataFrame({"clone_id": ["C1", "C2", "C3"], "n_mutations": [10, 5, 5]})
    d = genetic_distance(ccf, clones=clones).set_index(["region_a", "region_b"])["distance"]
    assert d[("R1", "R2")] == pytest.approx((5 * 0.1 + 5 * 0.1) / 20)
    assert d[("R1", "R3")] == pytest.approx((5 * 0.9 + 5 * 0.7) / 20)


def test_readers(tmp_path: Path) -> None:
    cov = tmp_path / "R1.bismark.cov"
    cov.write_text("chr1\t10\t10\t75\t3\t1\nchr1\t20\t20\t0\t0\t4\n")
    c = read_coverage(cov)
    assert c["beta"].tolist() == [0.75, 0.0] and c["n_methylated"].tolist() == [3, 0]
    bg = tmp_path / "R1.bedGraph"
    bg.write_text("track type=bedGraph\nchr1\t9\t10\t75\n")
    assert read_coverage(bg)[["position", "beta"]].values.tolist() == [[10, 0.75]]
    bad = tmp_path / "bad.cov"
    bad.write_text("chr1\t10\t10\t175\t3\t1\n")
    with pytest.raises(InputError, match="line 1, column percent: percent methylation is 175"):
        read_coverage(bad)
    betas = tmp_path / "betas.tsv"
    betas.write_text("probe\tR1\tR2\ncg1\t0.1\t0.9\ncg2\t\t0.4\n")
    m = read_beta_matrix(betas)
    assert m.shape == (2, 2) and np.isnan(m.loc["cg2", "R1"])
    pct = tmp_path / "pct.tsv"
    pct.write_text("probe\tR1\tR2\ncg1\t10\t90\n")
    with pytest.raises(InputError, match=r"line 2, column R1: .*percentages"):
        read_beta_matrix(pct)
    mval = tmp_path / "m.tsv"
    mval.write_text("probe\tR1\tR2\ncg1\t-2.5\t0.9\n")
    with pytest.raises(InputError, match="M-values"):
        read_beta_matrix(mval)


def test_region_betas_min_coverage() -> None:
    tab = pd.DataFrame(
        {"chrom": "chr1", "position": [1, 2], "n_methylated": [3, 1], "n_unmethylated": [1, 1]}
    )
    b = region_betas({"R1": tab}, min_coverage=3)
    assert b.loc["chr1:1", "R1"] == 0.75 and np.isnan(b.loc["chr1:2", "R1"])


@pytest.fixture(scope="module")
def vp1():
    return virtual_patient(seed=1)


def test_simulation_truth_matches_measured(vp1) -> None:
    sim = simulate_methylation(
        vp1.clones, vp1.clone_ccf, purity=vp1.purity, n_loci=150, depth=150, drift=0.0, seed=3
    )
    # the truth: mixtures sum to 1 per region and locus; trunk clones inherit the normal state
    tot = sim.mixtures.groupby(["region_id", "locus_id"])["fraction"].sum()
    assert np.allclose(tot, 1.0)
    res = read_heterogeneity(
        [sim.region_calls(r) for r in sim.region_ids], sample_ids=sim.region_ids, min_reads=50
    )
    exp = expected_epipolymorphism(sim.mixtures).merge(sim.loci[["locus_id", "start"]])
    m = res.loci.merge(exp.rename(columns={"region_id": "sample_id"}), on=["sample_id", "start"])
    assert len(m) > 500
    err = np.abs(m["epipolymorphism_x"] - m["epipolymorphism_y"])
    assert err.mean() < 0.03
    # loci whose every population carries one epiallele show no polymorphism at all
    mono = m["epipolymorphism_y"] == 0
    assert mono.any() and (m.loc[mono, "epipolymorphism_x"] == 0).all()


def test_simulated_methylation_tree_follows_clone_tree(vp1) -> None:
    # pure tumour, clonal epimutations along the tree: the methylation tree of the 4 regions
    # matches the genetic region tree (equal clone weights, as epimutations hit clones equally)
    sim = simulate_methylation(vp1.clones, vp1.clone_ccf, n_loci=600, depth=40, seed=1)
    res = read_heterogeneity(
        [sim.region_calls(r) for r in sim.region_ids], sample_ids=sim.region_ids
    )
    betas = region_betas(dict(iter(res.cpgs.groupby("sample_id"))))
    ith = methylation_ith(betas, clone_ccf=vp1.clone_ccf, read_level=res.summary)
    s = ith.summary.iloc[0]
    assert s.n_regions == 4 and s.tree_rf_max == 2
    assert s.tree_rf == 0
    assert 0 < s.fraction_variable < 1
    assert "median_pdr" in ith.regions.columns
    # methylation and genetic distances rank the region pairs alike
    md = ith.distance["distance"].rank().to_numpy()
    gd = ith.genetic_distance["distance"].rank().to_numpy()
    assert np.corrcoef(md, gd)[0, 1] > 0.7


def test_simulation_write_roundtrip(tmp_path: Path, vp1) -> None:
    sim = simulate_methylation(vp1.clones, vp1.clone_ccf, n_loci=30, depth=12, seed=2)
    files = sim.write(tmp_path)
    assert sorted(files) == ["R1", "R2", "R3", "R4"]
    from_file = read_heterogeneity(files["R1"], min_reads=1)
    from_mem = read_heterogeneity(sim.region_calls("R1"), sample_ids="R1", min_reads=1)
    pd.testing.assert_frame_equal(from_file.loci, from_mem.loci)


def test_simulation_bad_input(vp1) -> None:
    with pytest.raises(InputError, match="purity"):
        simulate_methylation(vp1.clones, vp1.clone_ccf, purity=60)
    with pytest.raises(InputError, match="drift"):
        simulate_methylation(vp1.clones, vp1.clone_ccf, drift=0.9)
