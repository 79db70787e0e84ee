"""One place that imports optional (heavy) libraries and says which extra installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from ithkit._errors import OptionalDependencyError


def import_optional(module: str, *, extra: str) -> ModuleType:
    """Import ``module`` or raise an error that names the ithkit extra providing it.

    Parameters
    ----------
    module
        Importable module name, e.g. ``"matplotlib.pyplot"``.
    extra
        The ithkit extra that installs it, e.g. ``"report"``.

    Examples
    --------
    >>> import_optional("json", extra="report").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            f"{module} is needed here but is not installed; "
            f"install it with: pip install 'ithkit[{extra}]'"
        ) from exc
