"""Atomic file writes: a file appears complete or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    If the block raises, ``target`` keeps its previous content (or stays absent).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> t = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(t) as tmp:
    ...     _ = tmp.write_text("done")
    >>> t.read_text()
    'done'
    """
    p = Path(target)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success its content lands in ``target``.

    A command writes its whole output into the temporary folder. When the block ends without
    an error, a new ``target`` is the temporary folder renamed (one atomic step); an existing
    ``target`` receives each written file or sub-folder by rename (replacing those of the same
    name, keeping the others). If the block raises, or the process is killed, ``target`` keeps
    its previous content (or stays absent); the temporary folder is removed (or, after a kill,
    left as a hidden ``.<name>.tmp-*`` folder that the next successful run ignores).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(out) as tmp:
    ...     _ = (tmp / "a.tsv").write_text("x")
    >>> sorted(p.name for p in out.iterdir())
    ['a.tsv']
    >>> try:
    ...     with atomic_dir(out) as tmp:
    ...         _ = (tmp / "a.tsv").write_text("half")
    ...         raise ValueError("crash")
    ... except ValueError:
    ...     pass
    >>> (out / "a.tsv").read_text()
    'x'
    """
    import shutil

    p = Path(target)
    if p.exists() and not p.is_dir():
        from ithkit._errors import InputError

        raise InputError("is a file, not a folder", source=p, fix="give a folder for --out")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.tmp-", dir=p.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if not p.exists():
            os.replace(tmp, p)
            return
        for entry in sorted(tmp.iterdir()):
            dest = p / entry.name
            if dest.is_dir() and not dest.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{entry.name}.old-", dir=p))
                os.replace(dest, old / entry.name)
                os.replace(entry, dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(entry, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
