"""Shared fixtures: small synthetic data with known truth."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ithkit.evolution import VirtualPatient, virtual_patient

# property-based tests (tests/robustness): a fixed, small, reproducible run in the suite;
# benchmarks/robustness.py loads "long" (HYPOTHESIS_PROFILE=long pytest tests/robustness)
settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "bench",
    max_examples=200,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def small_patient() -> VirtualPatient:
    """A 3-region virtual patient with 60 mutations (fast to generate, known truth)."""
    return virtual_patient(seed=11, n_regions=3, n_mutations=60, depth=150, n_clones=4)


@pytest.fixture(scope="session")
def demo_patient() -> VirtualPatient:
    """The demo's default virtual patient (seed 7, 4 regions)."""
    return virtual_patient(seed=7, n_regions=4, patient_id="DEMO-7")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ithkit demo --out DIR --seed 3 --regions 3`, run once per test session."""
    from ithkit.cli import main

    out = tmp_path_factory.mktemp("demo")
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(out), "--seed", "3", "--regions", "3"])
    assert info.value.code == 0
    return out
