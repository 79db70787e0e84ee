"""Cohort store: patients, samples and every module's results in one DuckDB file.

The embedded default lives under the output folder (``<out>/ithkit.duckdb``); pass
``--store PATH`` on the command line to share one store across runs. Export to Parquet with
:meth:`CohortStore.export_parquet` or ``ithkit cohort export``.
"""

from __future__ import annotations

from ithkit.store._duckdb import CohortStore

__all__ = ["CohortStore"]
