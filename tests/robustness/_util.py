"""Helpers of the robustness tests: run the CLI, write small inputs."""

from __future__ import annotations

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
