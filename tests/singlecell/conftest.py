"""Small simulated scRNA-seq tumours with planted arm-level copy-number events."""

from __future__ import annotations

from typing import Any

import pytest

from ithkit.singlecell import infer_cnv, simulate_scrna

REFERENCE = ["T cell", "macrophage"]


@pytest.fixture(scope="session")
def scrna() -> Any:
    """1,200 cells x 2,000 genes, 3 subclones, normal reference (T cells, macrophages)."""
    return simulate_scrna(1200, 2000, n_subclones=3, seed=0)


@pytest.fixture(scope="session")
def cnv(scrna: Any) -> Any:
    """``scrna`` after CNV inference (windows of 25 genes: 2,000 genes only)."""
    return infer_cnv(scrna, reference_key="cell_type", reference=REFERENCE, window=25, step=5,
                     copy=True)  # fmt: skip
