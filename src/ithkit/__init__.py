"""ithkit: intratumor heterogeneity from sequencing, single-cell, imaging, response and ctDNA data.

Submodules are imported lazily so that ``import ithkit`` and ``ithkit --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ithkit._errors import (
    ConvergenceWarning,
    IgnoredColumnsWarning,
    InputError,
    OptionalDependencyError,
    StoreBusyError,
)
from ithkit._version import __version__

_SUBMODULES = {
    "schema",
    "io",
    "evolution",
    "genomic",
    "store",
    "report",
    "integrate",
    "scale",
    "response",
    "liquid",
    "singlecell",
    "spatial",
    "imaging",
}

__all__ = [
    "ConvergenceWarning",
    "IgnoredColumnsWarning",
    "InputError",
    "OptionalDependencyError",
    "StoreBusyError",
    "__version__",
    *sorted(_SUBMODULES),
]

if TYPE_CHECKING:  # pragma: no cover
    from ithkit import evolution, genomic, integrate, io, report, scale, schema, store  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"ithkit.{name}")
    raise AttributeError(f"module 'ithkit' has no attribute {name!r}")
