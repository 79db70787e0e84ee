"""One small patient run through ``ithkit run`` with the network blocked and ``<script>`` in its
identifiers, shared by the robustness tests (cohort load/export, HTML escaping, no network)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = "<script>alert(1)</script>"


class NetworkBlocked(RuntimeError):
    """Raised by every socket created while the network is blocked."""


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Block sockets (``socket.socket``, ``create_connection``, ``getaddrinfo``); yields the list
    of attempts, which a test expects empty."""
    attempts: list[str] = []
    saved = socket.socket, socket.create_connection, socket.getaddrinfo

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args)[:80])
        raise NetworkBlocked("network access during an ithkit run")

    class Blocked(socket.socket):
        def __init__(self, *args: object, **kwargs: object) -> None:
            refuse(*args)

    socket.socket = Blocked  # type: ignore[misc]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    try:
        yield attempts
    finally:
        socket.socket, socket.create_connection, socket.getaddrinfo = saved  # type: ignore[misc]


@pytest.fixture(scope="session")
def script_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """``ithkit run`` of a small virtual patient whose first gene and lesion are named
    ``<script>...``, sockets blocked. Returns the output folder and the socket attempts."""
    from ithkit.cli import main
    from ithkit.evolution import virtual_patient

    tmp = tmp_path_factory.mktemp("scriptrun")
    files = virtual_patient(seed=5, n_regions=2, n_mutations=30, n_clones=3).to_files(tmp / "data")
    v = pd.read_csv(files["variants"], sep="\t", dtype=str, keep_default_na=False)
    v.loc[v["mutation_id"] == v["mutation_id"].iloc[0], "gene"] = SCRIPT
    v.to_csv(files["variants"], sep="\t", index=False)
    les = pd.read_csv(files["lesions"], dtype=str, keep_default_na=False)
    les.loc[les["lesion_id"] == les["lesion_id"].iloc[0], "lesion_id"] = "L" + SCRIPT
    les.to_csv(files["lesions"], index=False)
    out = tmp / "out"
    with no_network() as attempts, pytest.raises(SystemExit) as info:
        main(["run", str(files["manifest"]), "--out", str(out)])
    assert info.value.code in (0, None)
    return out, attempts
