"""Memory checks made before a large computation starts, so the OS never kills a run."""

from __future__ import annotations

import os

from ithkit._errors import InputError

#: the share of available memory one computation may plan to use
MEMORY_FRACTION = 0.5


def available_memory_bytes() -> int:
    """Memory available to this process, in bytes.

    ``ITHKIT_MEMORY_LIMIT_BYTES`` when set (tests, shared machines); else ``MemAvailable`` of
    ``/proc/meminfo``; else physical memory from ``os.sysconf``; else 8 GiB.

    Examples
    --------
    >>> available_memory_bytes() > 0
    True
    """
    env = os.environ.get("ITHKIT_MEMORY_LIMIT_BYTES", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise InputError(
                f"ITHKIT_MEMORY_LIMIT_BYTES is {env!r}",
                source="ITHKIT_MEMORY_LIMIT_BYTES",
                fix="give a number of bytes",
            ) from None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def check_memory(estimate_bytes: float, *, what: str, fix: str, source: str | None = None) -> None:
    """Refuse a computation whose estimated memory exceeds :data:`MEMORY_FRACTION` of what is
    available, with the estimate and the option that reduces it.

    Examples
    --------
    >>> check_memory(1e3, what="maps", fix="fewer features")
    >>> check_memory(1e18, what="maps", fix="pass fewer --features")
    Traceback (most recent call last):
    ...
    ithkit._errors.InputError: maps would need about 1000000000.0 GB of memory, ...
    """
    budget = MEMORY_FRACTION * available_memory_bytes()
    if estimate_bytes > budget:
        raise InputError(
            f"{what} would need about {estimate_bytes / 1e9:.1f} GB of memory, more than "
            f"{budget / 1e9:.1f} GB ({MEMORY_FRACTION:.0%} of the available memory)",
            source=source,
            fix=fix,
        )
