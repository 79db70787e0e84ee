"""Run the ithkit CLI with the network blocked except for loopback addresses (a Dask scheduler
on this machine); used by ``test_dask_cluster.py`` as a subprocess.

    python _guarded_cli.py LOG.jsonl run manifests.csv --out DIR --scheduler tcp://127.0.0.1:PORT

Every connect, UDP send and name lookup is written to ``LOG.jsonl`` (one JSON object a line:
``address``, ``allowed``); a non-loopback one raises ``PermissionError`` instead of reaching the
network. After the run a connect to a TEST-NET address (192.0.2.1, RFC 5737) checks that the
guard still blocks: ``{"probe": "blocked"}`` is logged when it does.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from typing import Any

LOG: list[str] = []  # the log file, set by install()
_getaddrinfo = socket.getaddrinfo


def _note(entry: dict[str, Any]) -> None:
    with open(LOG[0], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")


def _loopback(host: Any) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(family: int, address: Any) -> None:
    if family == getattr(socket, "AF_UNIX", None):
        return  # socket pairs of the event loop, no network
    allowed = _loopback(address[0])
    _note({"address": list(address[:2]), "allowed": allowed})
    if not allowed:
        raise PermissionError(f"network blocked by the test: {address!r}")


class GuardedSocket(socket.socket):
    def connect(self, address: Any) -> None:
        _check(self.family, address)
        super().connect(address)

    def connect_ex(self, address: Any) -> int:
        _check(self.family, address)
        return super().connect_ex(address)

    def sendto(self, data: Any, *args: Any) -> int:
        _check(self.family, args[-1])
        return super().sendto(data, *args)


def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        _note({"address": [host, args[0] if args else None], "allowed": False})
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


def install(log: str) -> None:
    """Guard this process's sockets (importing this module changes nothing)."""
    LOG[:] = [log]
    socket.socket = GuardedSocket  # type: ignore[misc]
    socket.getaddrinfo = guarded_getaddrinfo


if __name__ == "__main__":
    install(sys.argv[1])
    from ithkit.cli import main

    code: Any = 0
    try:
        main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
    finally:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("192.0.2.1", 9))
            _note({"probe": "reached"})
        except PermissionError:
            _note({"probe": "blocked"})
    sys.exit(code)
