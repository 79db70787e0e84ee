"""One place that imports optional (heavy) libraries and says which extra installs them."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

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


def optional_njit(*args: Any, **kwargs: Any) -> Any:
    """``numba.njit`` when numba is installed; otherwise a decorator whose functions raise
    :class:`ithkit.OptionalDependencyError` naming the ``[evolution]`` extra when called.

    Modules that compile kernels import this instead of numba, so they import (and their
    non-numba paths run) on a core install.

    Examples
    --------
    >>> @optional_njit(cache=False)
    ... def add(a, b):
    ...     return a + b
    >>> callable(add)
    True
    """
    numba: Any
    try:
        import numba
    except ImportError:
        numba = None

    def missing(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def call(*a: Any, **k: Any) -> Any:
            raise OptionalDependencyError(
                f"{func.__name__} needs numba, which is not installed; "
                "install it with: pip install 'ithkit[evolution]'"
            )

        return call

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return numba.njit(args[0]) if numba is not None else missing(args[0])
    if numba is not None:
        return numba.njit(*args, **kwargs)
    return missing
