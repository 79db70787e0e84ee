"""Security basics: no network at run time, identifiers escaped in the report, YAML loaded
safely everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import ithkit

from .conftest import SCRIPT


def test_run_uses_no_network(script_run: tuple[Path, list[str]]) -> None:
    out, attempts = script_run
    assert (out / "report.html").exists()
    assert attempts == []


def test_script_in_gene_and_lesion_names_is_escaped_in_the_report(
    script_run: tuple[Path, list[str]],
) -> None:
    out, _ = script_run
    html = (out / "report.html").read_text()
    assert SCRIPT not in html
    assert "alert(1)" in html  # the names are shown, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the only <script> elements are the report's own
    assert "<script>alert" not in html


def test_yaml_is_loaded_safely_everywhere() -> None:
    src = Path(ithkit.__file__).parent
    unsafe = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\s*\(|Loader\s*=")
    hits = [
        f"{p.relative_to(src)}:{i}"
        for p in sorted(src.rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if unsafe.search(line)
    ]
    assert hits == []
