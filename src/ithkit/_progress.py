"""A rich progress bar shared by every module; it does nothing when switched off."""

from __future__ import annotations

import sys
import time
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
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, file=sys.stderr)
    if not console.is_terminal:
        # a log file or a pipe: one line at the end instead of a bar redrawn into blank lines
        start = time.perf_counter()
        yield lambda: None
        took = time.perf_counter() - start
        console.print(f"  {description}: {total} steps in {took:.1f} s", highlight=False)
        return
    with Progress(transient=True, console=console) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


@contextmanager
def stage(name: str, *, enabled: bool = True) -> Iterator[None]:
    """Show one line for a stage of a long run: a spinner while it runs, then its time.

    Written to stderr (stdout stays for results); nothing when ``enabled`` is off.

    Examples
    --------
    >>> with stage("genomic", enabled=False):
    ...     pass
    """
    if not enabled:
        yield
        return
    from rich.console import Console

    console = Console(stderr=True, file=sys.stderr)
    start = time.perf_counter()
    with console.status(f"{name} ...", spinner="dots"):
        yield
    # only on success: a failure is reported once, by the error line of the command line
    took = time.perf_counter() - start
    console.print(f"  {name:<12} done in {took:5.1f} s", highlight=False)
