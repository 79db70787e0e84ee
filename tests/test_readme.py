"""The README's commands run verbatim after ``make demo``.

Every code block fenced ```bash is run, in order, with bash (``set -euo pipefail``) in a scratch
folder holding a copy of the demo's output (``demo_out/``, made once per session by the
``demo_dir`` fixture, as ``make demo`` makes it) and of ``examples/``. Blocks that cannot run
here (``make``, ``pip``, the user's own files) are fenced ```console instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def bash_blocks(text: str) -> list[str]:
    """The bodies of the ```bash blocks of a markdown text, in order.

    Examples
    --------
    >>> bash_blocks("x\\n```bash\\necho 1\\n```\\n```console\\nmake demo\\n```\\n")
    ['echo 1\\n']
    """
    return BASH_BLOCK.findall(text)


def test_blocks_are_found_and_none_is_a_placeholder() -> None:
    blocks = bash_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    commands = [line for b in blocks for line in b.splitlines() if line and line[0] != "#"]
    assert any(line.startswith("ithkit run ") for line in commands)
    for line in commands:
        assert "[--" not in line, line  # optional-argument notation does not run
        assert "../shared" not in line, line  # not a user's path
        assert not line.startswith(("make ", "pip ", "bash .ci")), line  # fenced console
    text = README.read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text
    first = text.index("```bash")
    assert "ithkit run " in text[first : text.index("```", first + 3)]  # the tour starts there


def test_readme_bash_blocks_run(demo_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "readme"
    work.mkdir()
    shutil.copytree(demo_dir, work / "demo_out")
    if (ROOT / "examples").is_dir():
        shutil.copytree(ROOT / "examples", work / "examples")
    env = dict(os.environ)
    # `ithkit` and `python` of the environment running the tests, this checkout's sources first
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    env["MPLBACKEND"] = "Agg"
    for i, block in enumerate(bash_blocks(README.read_text(encoding="utf-8")), start=1):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"README bash block {i} failed (exit {done.returncode}):\n{block}\n"
                f"stderr:\n{done.stderr[-3000:]}"
            )
