"""Epigenetic heterogeneity: read-level methylation diversity within a sample (PDR,
epipolymorphism, methylation entropy, MHL, FDRP/qFDRP) and methylation ITH across regions
(pairwise distances, variably methylated loci, a methylation tree compared with the genetic one).

Examples
--------
>>> from ithkit.evolution import virtual_patient
>>> from ithkit import epigenetic
>>> vp = virtual_patient(seed=1)
>>> sim = epigenetic.simulate_methylation(vp.clones, vp.clone_ccf, purity=vp.purity,
...                                       n_loci=50, seed=1)
>>> reads = epigenetic.read_heterogeneity([sim.region_calls(r) for r in sim.region_ids],
...                                       sample_ids=sim.region_ids)
>>> betas = epigenetic.region_betas(
...     {r: t for r, t in reads.cpgs.groupby("sample_id")})
>>> ith = epigenetic.methylation_ith(betas, clone_ccf=vp.clone_ccf, clones=vp.clones)
>>> list(ith.summary.columns[:3])
['n_regions', 'n_cpgs_shared', 'fraction_variable']
"""

from __future__ import annotations

from ithkit.epigenetic._io import (
    CallBatch,
    iter_bam_calls,
    iter_bismark_calls,
    iter_calls,
    read_beta_matrix,
    read_calls,
    read_coverage,
)
from ithkit.epigenetic._nj import RegionTree, neighbor_joining, robinson_foulds
from ithkit.epigenetic._readlevel import (
    LOCI_COLUMNS,
    LOCI_DETAIL_COLUMNS,
    SUMMARY_COLUMNS,
    ReadLevelResult,
    locus_metrics,
    mhl_weights,
    read_heterogeneity,
)
from ithkit.epigenetic._regions import (
    DISTANCE_COLUMNS,
    ITH_COLUMNS,
    REGION_COLUMNS,
    RegionResult,
    genetic_distance,
    methylation_ith,
    read_clone_ccf,
    region_betas,
)
from ithkit.epigenetic._simulate import (
    MethylationSimulation,
    expected_epipolymorphism,
    simulate_methylation,
)

__all__ = [
    "DISTANCE_COLUMNS",
    "ITH_COLUMNS",
    "LOCI_COLUMNS",
    "LOCI_DETAIL_COLUMNS",
    "REGION_COLUMNS",
    "SUMMARY_COLUMNS",
    "CallBatch",
    "MethylationSimulation",
    "ReadLevelResult",
    "RegionResult",
    "RegionTree",
    "expected_epipolymorphism",
    "genetic_distance",
    "iter_bam_calls",
    "iter_bismark_calls",
    "iter_calls",
    "locus_metrics",
    "methylation_ith",
    "mhl_weights",
    "neighbor_joining",
    "read_beta_matrix",
    "read_calls",
    "read_clone_ccf",
    "read_coverage",
    "read_heterogeneity",
    "region_betas",
    "robinson_foulds",
    "simulate_methylation",
]
