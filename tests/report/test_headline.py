"""The report computes nothing: its headline numbers are those of the output files.

The demo report is parsed (tables, key-value blocks, findings) and each headline number is
compared with the file the analysis wrote: the sum of target diameters
(``response/timepoints.tsv``), the best overall response (``response/best_response.tsv``), the
number of clones (``genomic/metrics.tsv``, region ``ALL``), the plasma tumour fraction
(``liquid/timepoints.tsv``), the lead time (``liquid/lead_time.tsv``), the regions' purity
(``genomic/regions.tsv`` and the variants' ``tumour_content``) and the first screen's findings
and profile (``findings.tsv``, ``profile.tsv``).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ithkit.report import format_value


@dataclass
class ParsedTable:
    title: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return [r[self.header.index(name)] for r in self.rows]


@dataclass
class ParsedSection:
    tables: list[ParsedTable] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # key-value blocks
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # text, href, caveat
    text: str = ""

    def table(self, title: str) -> ParsedTable:
        found = [t for t in self.tables if t.title.startswith(title)]
        assert found, f"no table {title!r} among {[t.title for t in self.tables]}"
        return found[0]


class ReportParser(HTMLParser):
    """Sections of an ithkit report: their tables, key-value pairs and findings."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, ParsedSection] = {}
        self.current: ParsedSection | None = None
        self.title = ""
        self.buf: list[str] | None = None
        self.table: ParsedTable | None = None
        self.kv = False
        self.row: list[str] | None = None
        self.finding: list[str] | None = None
        self.depth_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.depth_svg += 1
        if self.depth_svg:
            return
        if tag == "section":
            self.current = self.sections.setdefault(str(a.get("id")), ParsedSection())
        elif tag in ("h3", "summary", "th", "td"):
            self.buf = []
        elif tag == "table":
            self.kv = "kv" in (a.get("class") or "")
            self.table = None if self.kv else ParsedTable(self.title)
        elif tag == "tr":
            self.row = []
        elif tag == "li":
            self.finding = ["", "", ""]
        elif tag == "a" and self.finding is not None:
            self.finding[1] = str(a.get("href"))
            self.buf = []
        elif tag == "span" and self.finding is not None:
            self.buf = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth_svg -= 1
            return
        if self.depth_svg:
            return
        text = "".join(self.buf or []).strip()
        if tag in ("h3", "summary"):
            self.title = text
            self.buf = None
        elif tag in ("th", "td") and self.row is not None:
            self.row.append(text)
            self.buf = None
        elif tag == "tr" and self.row is not None:
            if self.kv and self.current is not None and len(self.row) == 2:
                self.current.values[self.row[0]] = self.row[1]
            elif self.table is not None:
                if not self.table.header:
                    self.table.header = self.row
                else:
                    self.table.rows.append(self.row)
            self.row = None
        elif tag == "table":
            if self.table is not None and self.current is not None:
                self.current.tables.append(self.table)
            self.table, self.kv = None, False
        elif tag == "a" and self.finding is not None:
            self.finding[0] = text
            self.buf = None
        elif tag == "span" and self.finding is not None:
            self.finding[2] = text
            self.buf = None
        elif tag == "li" and self.finding is not None and self.current is not None:
            self.current.findings.append((self.finding[0], self.finding[1], self.finding[2]))
            self.finding = None

    def handle_data(self, data: str) -> None:
        if self.depth_svg:
            return
        if self.buf is not None:
            self.buf.append(data)
        if self.current is not None:
            self.current.text += data


def parse_report(path: Path) -> dict[str, ParsedSection]:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.sections


@pytest.fixture(scope="module")
def report(demo_dir: Path) -> dict[str, ParsedSection]:
    return parse_report(demo_dir / "report.html")


def tsv(demo_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(demo_dir / name, sep="\t")


def test_sum_of_diameters_is_recists(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    table = report["response"].table("Assessments")
    expected = tsv(demo_dir, "response/timepoints.tsv")
    assert table.column("Timepoint") == [str(t) for t in expected["timepoint"]]
    assert table.column("Sum of diameters (mm)") == [
        format_value(v) for v in expected["sum_diameters_mm"]
    ]
    assert table.column("Change from baseline (%)") == [
        format_value(v) for v in expected["change_from_baseline_pct"]
    ]


def test_best_response(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    best = tsv(demo_dir, "response/best_response.tsv").iloc[0]
    shown = report["response"].values[str(best["patient_id"])]
    assert shown.split(" ")[0] == best["best_overall_response"]
    assert ("(confirmed)" in shown) == bool(best["confirmed"])


def test_number_of_clones(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    metrics = tsv(demo_dir, "genomic/metrics.tsv")
    n = int(metrics.loc[metrics["sample_id"] == "ALL", "n_clones"].iloc[0])
    assert f"; {n} clones." in report["genomic"].text
    table = report["genomic"].table("Heterogeneity metrics")
    assert table.rows[table.column("Region").index("ALL")][
        table.header.index("Number of clones")
    ] == str(n)
    profile = report["summary"].table("Patient ITH profile")
    assert profile.rows[profile.column("Score").index("Number of clones")][2] == str(n)


def test_tumour_fraction_per_draw(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    table = report["liquid"].table("Per blood draw")
    expected = tsv(demo_dir, "liquid/timepoints.tsv")
    n = min(len(expected), len(table.rows))
    assert n >= 5
    assert table.column("Tumour fraction")[:n] == [
        format_value(v) for v in expected["tumour_fraction"][:n]
    ]


def test_lead_time(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    lead = tsv(demo_dir, "liquid/lead_time.tsv")
    shown = {k: v for k, v in report["liquid"].values.items() if "lead time" in k.lower()}
    assert shown
    expected = {format_value(v) for v in lead["lead_time_days"] if pd.notna(v)} or {"n/a"}
    assert set(shown.values()) <= expected | {"n/a"}
    assert set(shown.values()) & expected


def test_first_screen_findings_are_findings_tsv(
    report: dict[str, ParsedSection], demo_dir: Path
) -> None:
    findings = tsv(demo_dir, "findings.tsv")
    shown = report["summary"].findings
    assert len(shown) == len(findings) >= 3
    for (text, href, caveat), row in zip(shown, findings.itertuples(index=False), strict=True):
        assert text == row.finding
        assert href == f"#{row.section}"
        assert caveat == ("" if pd.isna(row.caveat) else row.caveat)
        assert href[1:] in report  # the linked section exists


def test_first_screen_profile_is_profile_tsv(
    report: dict[str, ParsedSection], demo_dir: Path
) -> None:
    profile = tsv(demo_dir, "profile.tsv")
    scores = profile[profile["score"] != "status"]
    table = report["summary"].table("Patient ITH profile")
    assert len(table.rows) == len(scores)
    for row, expected in zip(table.rows, scores.itertuples(index=False), strict=True):
        value = expected.value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        assert row[0] == expected.modality
        assert row[2] == ("" if pd.isna(value) else format_value(value))
    measured = report["summary"].values["Measured"].split(", ")
    assert measured == [m for m in dict.fromkeys(scores["modality"])]


def test_regions_show_the_purity_used(report: dict[str, ParsedSection], demo_dir: Path) -> None:
    table = report["regions"].table("Regions")
    variants = pd.read_csv(demo_dir / "data" / "variants.tsv", sep="\t")
    used = variants.groupby("sample_id")["tumour_content"].median()
    for region, shown in zip(table.column("Region"), table.column("Purity used"), strict=True):
        assert shown == format_value(float(used[region]))


def test_parser_reads_numbers_it_was_given(tmp_path: Path) -> None:
    """The parser can fail: a table whose number differs from the file is seen to differ."""
    from ithkit.report import Section, Table, write_report

    frame = pd.DataFrame({"timepoint": [0, 1], "sum_diameters_mm": [35.0, 30.04]})
    write_report([Section("response", "R", [Table("Assessments", frame)])], tmp_path / "r.html",
                 title="t")  # fmt: skip
    parsed = parse_report(tmp_path / "r.html")
    assert parsed["response"].table("Assessments").column("Sum of diameters (mm)") == ["35", "30"]
    assert re.fullmatch(r"\d+", parsed["response"].table("Assessments").column("Timepoint")[1])
