"""Side tables of the liquid module: per-site error rates and mutation clones."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from ithkit import schema
from ithkit._errors import IgnoredColumnsWarning
from ithkit.io import read_table

ERROR_RATES = schema.Contract(
    name="per-site error rates",
    description="Background error rate per tracked site (e.g. from a panel of normals).",
    columns=(
        schema.Column("mutation_id", "id"),
        schema.Column(
            "error_rate",
            "float",
            minimum=0,
            minimum_exclusive=True,
            maximum=0.5,
            unit="fraction 0..1",
        ),
    ),
    key=("mutation_id",),
)

CLONES = schema.Contract(
    name="mutation clones",
    description="Clone of each mutation, e.g. the genomic module's mutations.tsv.",
    columns=(
        schema.Column("mutation_id", "id"),
        schema.Column("clone_id", "id"),
        schema.Column(
            "class",
            "str",
            required=False,
            nullable=True,
            description="truncal, shared or private (genomic module)",
        ),
    ),
    key=("mutation_id",),
)


def read_error_rates(path: str | Path) -> pd.DataFrame:
    """Read per-site error rates ``mutation_id, error_rate`` (other columns are ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        return read_table(path, ERROR_RATES)


def read_clones(path: str | Path) -> pd.DataFrame:
    """Read ``mutation_id, clone_id`` (e.g. ``ithkit genomic analyze``'s ``mutations.tsv``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        return read_table(path, CLONES)
