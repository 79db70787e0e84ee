"""The report is valid, self-contained HTML with every identifier escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ithkit.report import KeyValues, Section, Table, Text, render_html

VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr"}


class TagChecker(HTMLParser):
    """Checks that every opened element is closed in order (void elements excepted)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()


def check_html(page: str) -> TagChecker:
    assert page.startswith("<!DOCTYPE html>")
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


# anything a browser would fetch: scripts, stylesheets, images, fonts, frames from a URL
EXTERNAL = re.compile(
    r"""(<script|<link|<iframe|@import|(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//)""",
    re.IGNORECASE,
)


def test_render_escapes_everything() -> None:
    evil = "<script>alert('x')</script>"
    page = render_html(
        [
            Section(
                "s",
                evil,
                [
                    Text(evil),
                    KeyValues(evil, {evil: evil}),
                    Table(evil, pd.DataFrame({evil: [evil], "x": [1.5]})),
                ],
            )
        ],
        title=evil,
        subtitle=evil,
    )
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 8
    check_html(page)


def test_long_tables_are_cut_with_a_note() -> None:
    page = render_html(
        [Section("s", "S", [Table("T", pd.DataFrame({"a": range(120)}), max_rows=10)])], title="t"
    )
    assert "First 10 of 120 rows" in page
    assert page.count("<tr") == 11  # header + 10


def test_demo_report_is_valid_and_self_contained(demo_dir: Path) -> None:
    page = (demo_dir / "report.html").read_text(encoding="utf-8")
    checker = check_html(page)
    assert EXTERNAL.search(page) is None
    anchors = ("summary", "patient", "truth", "regions", "concordance", "genomic", "response",
               "liquid", "singlecell", "spatial", "imaging")  # fmt: skip
    for anchor in anchors:
        assert f'id="{anchor}"' in page
    assert checker.tags.count("svg") >= 4  # tree, VAF, lesions, ctDNA figures
    assert "DEMO-3" in page
    assert len(page) < 5_000_000


@pytest.mark.parametrize(
    ("pid", "escaped"), [("<b>P&1</b>", "&lt;b&gt;P&amp;1&lt;/b&gt;"), ('P"1', "P&#34;1")]
)
def test_identifiers_from_files_are_escaped(tmp_path: Path, pid: str, escaped: str) -> None:
    from ithkit.evolution import virtual_patient
    from ithkit.integrate import run_patient

    vp = virtual_patient(seed=1, n_regions=2, n_mutations=40, n_clones=3, patient_id=pid)
    files = vp.to_files(tmp_path / "data")
    run = run_patient(files["manifest"], tmp_path / "out")
    page = run.report.read_text(encoding="utf-8")
    check_html(page)
    assert pid not in page
    assert escaped in page
