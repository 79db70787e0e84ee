"""Scaling out: a cohort of patients on Dask (LocalCluster by default, or a scheduler address).

One task per patient (file paths in, small summaries out); workers write Parquet and the driver
loads it into the one-writer DuckDB store. Numerical thread pools are capped to one per worker.
"""

from __future__ import annotations

from ithkit.scale._cohort import CohortRun, find_manifests, process_patient, run_cohort

__all__ = ["CohortRun", "find_manifests", "process_patient", "run_cohort"]
