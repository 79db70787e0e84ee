"""Helpers of the robustness tests: run the CLI, write small inputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ithkit.cli import main

LESION_HEADER = "patient_id,lesion_id,timepoint,date,organ,lesion_class,is_lymph_node,diameter_mm"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``ithkit ARGS``: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


def one_error_line(err: str) -> str:
    """The stderr of a refused command: exactly one line starting with 'error:'."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def lesions_csv(path: Path, diameters: list[tuple[float, ...]], *, sep: str = ",") -> Path:
    """Two target lesions of P1 measured at len(diameters) timepoints, 6 weeks apart."""
    dates = ["2024-01-01", "2024-02-12", "2024-03-25", "2024-05-06", "2024-06-17"]
    rows = [LESION_HEADER.replace(",", sep)]
    for tp, values in enumerate(diameters):
        for i, d in enumerate(values):
            cells = ["P1", f"L{i + 1}", str(tp), dates[tp], "lung", "target", "false", str(d)]
            if sep == ";":
                cells[-1] = cells[-1].replace(".", ",")
            rows.append(sep.join(cells))
    path.write_text("\n".join(rows) + "\n")
    return path


SRC = str(Path(__file__).resolve().parents[2] / "src")


def spawn_until(code: str, ready: Path, what: str) -> subprocess.Popen[bytes]:
    """Run Python ``code`` in a subprocess (this checkout's ithkit) until it touches ``ready``."""
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{what} (rc {proc.returncode})")
        time.sleep(0.05)
    return proc


def kill9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a subprocess and check it died of it."""
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
