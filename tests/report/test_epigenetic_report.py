"""Epigenetic report figures and section: structure, drawn from results only."""

from __future__ import annotations

import pytest

from ithkit.epigenetic import (
    methylation_ith,
    read_heterogeneity,
    region_betas,
    simulate_methylation,
)
from ithkit.evolution import virtual_patient

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def results():
    vp = virtual_patient(seed=2)
    sim = simulate_methylation(vp.clones, vp.clone_ccf, n_loci=60, depth=20, seed=2)
    rl = read_heterogeneity(
        [sim.region_calls(r) for r in sim.region_ids], sample_ids=sim.region_ids, min_reads=5
    )
    betas = region_betas(dict(iter(rl.cpgs.groupby("sample_id"))))
    return rl, methylation_ith(betas, clone_ccf=vp.clone_ccf, clones=vp.clones)


def test_figures(results) -> None:
    from ithkit.report.epigenetic import distance_heatmap, locus_distributions, region_trees

    rl, reg = results
    fig = distance_heatmap(reg)
    n = reg.summary.loc[0, "n_regions"]
    assert len(fig.axes[0].texts) == n * n  # one label per cell
    trees = region_trees(reg)
    assert len(trees.axes) == 2
    for ax in trees.axes:
        assert sorted(t.get_text() for t in ax.texts) == sorted(reg.regions["region_id"])
    assert len(locus_distributions(rl).axes) == 4


def test_section_renders(results) -> None:
    from ithkit.report import render_html
    from ithkit.report.epigenetic import epigenetic_section

    rl, reg = results
    section = epigenetic_section(read_level=rl, regions=reg)
    page = render_html([section], title="VP2")
    assert "Robinson-Foulds distance" in page and page.count("<svg") >= 3
