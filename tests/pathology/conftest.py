"""Fixtures of the pathology tests: the hand-written QuPath exports in data/."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MARKER = "Nucleus: DAB OD mean"
THRESHOLDS = (0.2, 0.4, 0.6)


@pytest.fixture(scope="session")
def data() -> Path:
    return DATA
