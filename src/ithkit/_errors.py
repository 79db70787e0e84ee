"""Exceptions and warnings shared by every ithkit module."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input that ithkit refuses to compute on.

    The message is one line naming the file (or parameter), the row and column when known,
    what is wrong and how to fix it. The command line prints it and exits with code 2.

    Parameters
    ----------
    problem
        What is wrong, e.g. ``"alt_counts is -3"``.
    source
        The file path or parameter name the input came from.
    row
        1-based line number in the file (the header is line 1), when known.
    column
        Column (or key) name, when known.
    fix
        What the user should do.

    Examples
    --------
    >>> err = InputError("alt_counts is -3", source="v.tsv", row=4, column="alt_counts",
    ...                  fix="counts must be integers >= 0")
    >>> str(err)
    'v.tsv: line 4, column alt_counts: alt_counts is -3; counts must be integers >= 0'
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = None if source is None else str(source)
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        loc = []
        if self.row is not None:
            loc.append(f"line {self.row}")
        if self.column is not None:
            loc.append(f"column {self.column}")
        prefix = ""
        if where:
            prefix = where[0] + (": " + ", ".join(loc) if loc else "") + ": "
        elif loc:
            prefix = ", ".join(loc) + ": "
        message = prefix + self.problem
        if self.fix:
            message += f"; {self.fix}"
        # one line, always: the CLI prints it as is
        return " ".join(message.split())


class StoreBusyError(RuntimeError):
    """The cohort store is opened for writing by another process."""


class OptionalDependencyError(ImportError):
    """An optional library needed by this function is not installed."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped before it converged."""


class IgnoredColumnsWarning(UserWarning):
    """An input table carried columns that ithkit does not use; they were dropped."""
