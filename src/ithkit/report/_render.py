"""Self-contained HTML report: sections of tables and inline SVG figures, no network fetches."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._version import __version__


@dataclass(frozen=True)
class Figure:
    """A figure of the report: inline SVG markup (made by :mod:`ithkit.report.figures`)."""

    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A table of the report; values are HTML-escaped when rendered.

    Attributes
    ----------
    title
        Heading of the table.
    frame
        The rows, exactly as computed (the report formats, it never recomputes).
    caption
        One line under the table.
    max_rows
        Rows shown; longer tables end with "all N rows in ``source``".
    source
        The output file that holds every row, relative to the run folder (e.g.
        ``genomic/mutation_ccf.tsv``).
    collapsed
        Raw per-row detail: shown folded in a ``<details>`` element.
    headers
        Column name -> header shown, for names :func:`human_header` does not know.
    """

    title: str
    frame: pd.DataFrame
    caption: str = ""
    max_rows: int = 15
    source: str = ""
    collapsed: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text (escaped)."""

    text: str


@dataclass(frozen=True)
class Alert:
    """A warning the reader must see (escaped), e.g. two purities that disagree."""

    text: str


@dataclass(frozen=True)
class KeyValues:
    """A two-column summary (label, value)."""

    title: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Findings:
    """A numbered list of findings, each a sentence linking to its section, with a caveat.

    ``rows`` holds ``(finding, section_key, caveat)`` tuples.
    """

    title: str
    rows: Sequence[tuple[str, str, str]]


Item = Figure | Table | Text | KeyValues | Findings | Alert


@dataclass(frozen=True)
class Section:
    """One section of the report (one per module, plus the patient summary).

    Parameters
    ----------
    key
        Stable anchor id, e.g. ``"genomic"``.
    title
        Heading shown in the report.
    items
        Figures, tables, text and key-value blocks in display order.
    """

    key: str
    title: str
    items: Sequence[Item] = field(default_factory=tuple)


# column names whose words are not plain English; units come from the name's suffix
_WORDS = {
    "id": "ID", "ccf": "CCF", "vaf": "VAF", "math": "MATH", "lod": "LOD", "cn": "copy number",
    "n": "number of", "pct": "%", "recist": "RECIST", "ctdna": "ctDNA", "cnv": "CNV",
    "chip": "CHIP", "ibsi": "IBSI", "sd": "SD", "ttp": "TTP", "bor": "BOR", "tp": "timepoint",
}  # fmt: skip
_HEADERS = {
    "sample_id": "Region", "mutation_id": "Mutation", "clone_id": "Clone", "lesion_id": "Lesion",
    "patient_id": "Patient", "sum_diameters_mm": "Sum of diameters (mm)",
    "sum_target_diameters_mm": "Sum of diameters (mm)",
    "change_from_baseline_pct": "Change from baseline (%)",
    "change_from_nadir_pct": "Change from nadir (%)", "overall_response": "Overall response",
    "best_overall_response": "Best overall response", "tumour_fraction": "Tumour fraction",
    "tumour_fraction_low": "Tumour fraction, 95 % low", "tumour_fraction_high":
    "Tumour fraction, 95 % high", "lead_time_days": "Lead time (days)",
}  # fmt: skip
_UNITS = (
    ("_ng_ml", "ng/ml"), ("_mm3", "mm³"), ("_mm", "mm"), ("_um", "µm"), ("_ml", "ml"),
    ("_pct", "%"), ("_days", "days"), ("_hu", "HU"), ("_nats", "nats"), ("_bp", "bp"),
)  # fmt: skip


def human_header(name: str) -> str:
    """A table header for a column name: words spelled out, the unit suffix in brackets.

    Examples
    --------
    >>> human_header("sum_diameters_mm"), human_header("n_clones"), human_header("mean_vaf")
    ('Sum of diameters (mm)', 'Number of clones', 'Mean VAF')
    """
    if name in _HEADERS:
        return _HEADERS[name]
    base, unit = name, ""
    for suffix, u in _UNITS:
        if base.endswith(suffix) and len(base) > len(suffix):
            base, unit = base[: -len(suffix)], u
            break
    words = [_WORDS.get(w, w) for w in base.split("_") if w]
    text = " ".join(words) or name
    text = text[0].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def format_value(value: Any) -> str:
    """A number as the report shows it: 3 significant figures, integers as integers.

    Examples
    --------
    >>> [format_value(v) for v in (35.0, 0.123456, -57.14, 12345.6, float("nan"), 7, "PR")]
    ['35', '0.123', '-57.1', '12,300', '', '7', 'PR']
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not np.isfinite(v):
            return "" if np.isnan(v) else ("∞" if v > 0 else "−∞")
        if v.is_integer() and abs(v) < 1e6:
            return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
        if abs(v) >= 1000:
            digits = int(np.floor(np.log10(abs(v)))) - 2
            return f"{round(v, -digits):,.0f}"
        return f"{v:.3g}"
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
    return str(value)


def _cell(value: Any) -> str:
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):
        missing = False
    return "" if missing else format_value(value)


def _table_html(table: Table) -> str:
    frame = table.frame
    n = len(frame)
    note = ""
    if n > table.max_rows:
        where = f"; all {n} rows in {table.source}" if table.source else ""
        note = f"First {table.max_rows} of {n} rows{where}."
        frame = frame.head(table.max_rows)
    elif table.source:
        note = f"In {table.source}."
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[col].dtype):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d").fillna("")
        else:
            shown[col] = shown[col].astype(object).map(_cell)
        # escape here, quotes included (pandas' own escaping leaves quotes alone)
        shown[col] = shown[col].map(lambda v: html.escape(str(v), quote=True))
    shown.columns = [
        html.escape(table.headers.get(str(c), human_header(str(c))), quote=True)
        for c in shown.columns
    ]
    body = shown.to_html(index=False, escape=False, border=0, classes="data", na_rep="")
    return body + (f"<p class='note'>{html.escape(note)}</p>" if note else "")


def _item_html(item: Item) -> str:
    esc = html.escape
    if isinstance(item, Figure):
        caption = f"<figcaption>{esc(item.caption)}</figcaption>" if item.caption else ""
        return f"<figure><h3>{esc(item.title)}</h3>{item.svg}{caption}</figure>"
    if isinstance(item, Table):
        caption = f"<p class='caption'>{esc(item.caption)}</p>" if item.caption else ""
        if item.collapsed:
            where = f", {item.source}" if item.source else ""
            return (
                f"<details class='table'><summary>{esc(item.title)} ({len(item.frame)} rows"
                f"{esc(where)})</summary>{_table_html(item)}{caption}</details>"
            )
        return f"<div class='table'><h3>{esc(item.title)}</h3>{_table_html(item)}{caption}</div>"
    if isinstance(item, KeyValues):
        rows = "".join(
            f"<tr><th>{esc(str(k))}</th><td>{esc(_fmt(v))}</td></tr>"
            for k, v in item.values.items()
        )
        return f"<div class='kv'><h3>{esc(item.title)}</h3><table class='kv'>{rows}</table></div>"
    if isinstance(item, Findings):
        lis = []
        for text, key, caveat in item.rows:
            cav = f"<span class='caveat'>{esc(caveat)}</span>" if caveat else ""
            lis.append(f"<li><a href='#{esc(key, quote=True)}'>{esc(text)}</a>{cav}</li>")
        return f"<div class='findings'><h3>{esc(item.title)}</h3><ol>{''.join(lis)}</ol></div>"
    if isinstance(item, Alert):
        return f"<p class='warning' role='alert'>{esc(item.text)}</p>"
    return f"<p>{esc(item.text)}</p>"


def _fmt(value: Any) -> str:
    return format_value(value)


def render_html(
    sections: Sequence[Section],
    *,
    title: str,
    subtitle: str = "",
) -> str:
    """Render sections to one self-contained HTML page (inline CSS and SVG, no scripts).

    Examples
    --------
    >>> page = render_html([Section("s", "Summary", [Text("<b>x</b>")])], title="P1")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<script" not in page
    True
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ithkit.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    rendered = [
        {"key": s.key, "title": s.title, "body": "".join(_item_html(i) for i in s.items)}
        for s in sections
    ]
    return template.render(
        title=title,
        subtitle=subtitle,
        sections=rendered,
        version=__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_report(
    sections: Sequence[Section],
    path: str | Path,
    *,
    title: str,
    subtitle: str = "",
) -> Path:
    """Render and write the report atomically; returns the path."""
    from ithkit._atomic import atomic_path

    p = Path(path)
    page = render_html(sections, title=title, subtitle=subtitle)
    with atomic_path(p) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return p
