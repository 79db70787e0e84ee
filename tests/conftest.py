"""Shared fixtures: small synthetic data with known truth."""

from __future__ import annotations

import pytest

from ithkit.evolution import VirtualPatient, virtual_patient


@pytest.fixture(scope="session")
def small_patient() -> VirtualPatient:
    """A 3-region virtual patient with 60 mutations (fast to generate, known truth)."""
    return virtual_patient(seed=11, n_regions=3, n_mutations=60, depth=150, n_clones=4)


@pytest.fixture(scope="session")
def demo_patient() -> VirtualPatient:
    """The demo's default virtual patient (seed 7, 4 regions)."""
    return virtual_patient(seed=7, n_regions=4, patient_id="DEMO-7")
