"""A small rich progress helper (no-op when disabled)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress(enabled: bool, description: str, total: int) -> Iterator[Callable[[], None]]:
    """Yield an ``advance()`` callable; draws a rich bar on stderr when ``enabled``."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
