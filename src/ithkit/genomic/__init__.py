"""Genomic ITH from multi-region sequencing: CCF, clones, phylogeny, MATH, sampling adequacy.

Examples
--------
>>> from ithkit.evolution import virtual_patient
>>> from ithkit import genomic
>>> vp = virtual_patient(seed=1, n_regions=3, n_mutations=60, n_clones=3, depth=300)
>>> result = genomic.analyze(vp.variants, seed=0)
>>> sorted(result.mutations["class"].unique())  # doctest: +SKIP
['private', 'shared', 'truncal']
"""

from __future__ import annotations

from ithkit.genomic._adequacy import AdequacyResult, sampling_adequacy
from ithkit.genomic._analyze import GenomicResult, analyze
from ithkit.genomic._ccf import (
    MissingMutationsWarning,
    cancer_cell_fraction,
    expected_vaf,
    fill_missing,
    is_present,
    mutation_classes,
)
from ithkit.genomic._cluster import PRECISION_GRID, ClusterResult, cluster_mutations
from ithkit.genomic._cn_callers import (
    CallerFile,
    locate,
    normalise_chrom,
    read_caller_purity,
    read_copy_number,
)
from ithkit.genomic._compare import match_clones
from ithkit.genomic._convert import (
    ConvertedCalls,
    OutsideSegmentsWarning,
    caller_variants,
    convert_calls,
    convert_vcf,
    one_state,
)
from ithkit.genomic._maf import maf_math, maf_mutations, maf_to_variants, read_maf
from ithkit.genomic._metrics import (
    heterogeneity_metrics,
    math_score,
    sample_math,
    shannon,
    simpson,
    subclonal_genome_fraction,
)
from ithkit.genomic._phylogeny import TreeResult, fish_table, infer_tree, tree_to_newick
from ithkit.genomic._vcf import parse_samples, read_vcf

__all__ = [
    "PRECISION_GRID",
    "AdequacyResult",
    "CallerFile",
    "ClusterResult",
    "ConvertedCalls",
    "GenomicResult",
    "MissingMutationsWarning",
    "OutsideSegmentsWarning",
    "TreeResult",
    "analyze",
    "caller_variants",
    "cancer_cell_fraction",
    "cluster_mutations",
    "convert_calls",
    "convert_vcf",
    "expected_vaf",
    "fill_missing",
    "fish_table",
    "heterogeneity_metrics",
    "infer_tree",
    "is_present",
    "locate",
    "maf_math",
    "maf_mutations",
    "maf_to_variants",
    "match_clones",
    "math_score",
    "mutation_classes",
    "normalise_chrom",
    "one_state",
    "parse_samples",
    "read_caller_purity",
    "read_copy_number",
    "read_maf",
    "read_vcf",
    "sample_math",
    "sampling_adequacy",
    "shannon",
    "simpson",
    "subclonal_genome_fraction",
    "tree_to_newick",
]
