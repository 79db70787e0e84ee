"""A rich progress bar shared by every module; it does nothing when switched off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress(show: bool, description: str, total: int) -> Iterator[Callable[[], None]]:
    """Yield a function that advances a progress bar by one step (a no-op when ``show`` is off).

    Examples
    --------
    >>> with progress(False, "work", 3) as advance:
    ...     advance()
    """
    if not show:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
