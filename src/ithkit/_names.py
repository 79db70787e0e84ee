"""The one registry of result names shared by the API, the CLI, the store and the report.

Column names of the input contracts live in :mod:`ithkit.schema`; this module names the cohort-store
tables and the files that commands write, so that no two layers spell them differently.
"""

from __future__ import annotations

from typing import Final

# cohort store tables (one row per patient at least carries ``patient_id``)
PATIENTS: Final = "patients"
SAMPLES: Final = "samples"
RUNS: Final = "runs"
GENOMIC_VARIANTS: Final = "genomic_variants"
GENOMIC_SEGMENTS: Final = "genomic_segments"
GENOMIC_MUTATIONS: Final = "genomic_mutations"
GENOMIC_MUTATION_CCF: Final = "genomic_mutation_ccf"
GENOMIC_CLONES: Final = "genomic_clones"
GENOMIC_TREE: Final = "genomic_tree"
GENOMIC_METRICS: Final = "genomic_metrics"
GENOMIC_ADEQUACY: Final = "genomic_adequacy"
RESPONSE_MEASUREMENTS: Final = "response_measurements"
LIQUID_CTDNA: Final = "liquid_ctdna"
RESPONSE_TIMEPOINTS: Final = "response_timepoints"
RESPONSE_BEST: Final = "response_best"
RESPONSE_LESIONS: Final = "response_lesions"
RESPONSE_MIXED: Final = "response_mixed"
RESPONSE_VOLUMETRIC: Final = "response_volumetric"
LIQUID_TIMEPOINTS: Final = "liquid_timepoints"
LIQUID_VARIANTS: Final = "liquid_variants"
LIQUID_CLONES: Final = "liquid_clones"
LIQUID_PROGRESSION: Final = "liquid_progression"
LIQUID_LEAD_TIME: Final = "liquid_lead_time"
SINGLECELL_SUBCLONES: Final = "singlecell_subclones"
SINGLECELL_METRICS: Final = "singlecell_metrics"
SPATIAL_SUMMARY: Final = "spatial_summary"
SPATIAL_ENRICHMENT: Final = "spatial_enrichment"
IMAGING_FEATURES: Final = "imaging_features"
IMAGING_VOLUMES: Final = "imaging_volumes"
IMAGING_HABITATS: Final = "imaging_habitats"
IMAGING_PHENOTYPES: Final = "imaging_phenotypes"
EVOLUTION_COMPARISON: Final = "evolution_comparison"
PROFILES: Final = "profiles"
CONCORDANCE: Final = "concordance"
FINDINGS: Final = "findings"
TRUTH_CLONES: Final = "truth_clones"
TRUTH_CLONE_CCF: Final = "truth_clone_ccf"
TRUTH_MUTATIONS: Final = "truth_mutations"
TRUTH_LESIONS: Final = "truth_lesions"
TRUTH_CTDNA: Final = "truth_ctdna"
PATHOLOGY_REGIONS: Final = "pathology_regions"
PATHOLOGY_HETEROGENEITY: Final = "pathology_heterogeneity"
GENOMIC_CONVERSION: Final = "genomic_conversion"  # per sample: mutations in LOH/gained/subclonal
FUNCTIONAL_FITS: Final = "functional_fits"
FUNCTIONAL_COLLATERAL: Final = "functional_collateral"
FUNCTIONAL_POLICIES: Final = "functional_policies"
EPIGENETIC_SUMMARY: Final = "epigenetic_summary"
EPIGENETIC_REGIONS: Final = "epigenetic_regions"
EPIGENETIC_DISTANCE: Final = "epigenetic_distance"
EPIGENETIC_ITH: Final = "epigenetic_ith"
IMAGING_DELTAS: Final = "imaging_deltas"
IMAGING_RADIOGENOMICS: Final = "imaging_radiogenomics"
FUNCTIONAL_MONITORING: Final = "functional_monitoring"

# tables the store creates itself; everything else is a module's result table
CORE_TABLES: Final = (PATIENTS, SAMPLES, RUNS)

# files written by commands
REPORT_HTML: Final = "report.html"
PROFILE_TSV: Final = "profile.tsv"
CONCORDANCE_TSV: Final = "concordance.tsv"
FINDINGS_TSV: Final = "findings.tsv"

# the patient ITH profile (``profile.tsv``, store table ``profiles``): long format, one row a score
PROFILE_COLUMNS: Final = ("patient_id", "modality", "score", "value", "unit", "source", "note")
# AnnData keys written and read across modules (one place, like the store tables)
UNS_ITHKIT: Final = "ithkit"  # .uns['ithkit']: reference_key, reference, label_key
UNS_REFERENCE_KEY: Final = "reference_key"
UNS_REFERENCE: Final = "reference"
UNS_LABEL_KEY: Final = "label_key"
DEFAULT_STORE: Final = "ithkit.duckdb"
