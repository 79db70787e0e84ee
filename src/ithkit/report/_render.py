"""Self-contained HTML report: sections of tables and inline SVG figures, no network fetches."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    """A table of the report; values are HTML-escaped when rendered."""

    title: str
    frame: pd.DataFrame
    caption: str = ""
    max_rows: int = 50


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text (escaped)."""

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


Item = Figure | Table | Text | KeyValues | Findings


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


def _table_html(table: Table) -> str:
    frame = table.frame
    note = ""
    if len(frame) > table.max_rows:
        note = f"<p class='note'>First {table.max_rows} of {len(frame)} rows.</p>"
        frame = frame.head(table.max_rows)
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col].dtype):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
        elif pd.api.types.is_datetime64_any_dtype(shown[col].dtype):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d")
        else:
            shown[col] = shown[col].astype(object).where(shown[col].notna(), "")
        # escape here, quotes included (pandas' own escaping leaves quotes alone)
        shown[col] = shown[col].map(lambda v: html.escape(str(v), quote=True))
    shown.columns = [html.escape(str(c), quote=True) for c in shown.columns]
    body = shown.to_html(index=False, escape=False, border=0, classes="data", na_rep="")
    return body + note


def _item_html(item: Item) -> str:
    esc = html.escape
    if isinstance(item, Figure):
        caption = f"<figcaption>{esc(item.caption)}</figcaption>" if item.caption else ""
        return f"<figure><h3>{esc(item.title)}</h3>{item.svg}{caption}</figure>"
    if isinstance(item, Table):
        caption = f"<p class='caption'>{esc(item.caption)}</p>" if item.caption else ""
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
    return f"<p>{esc(item.text)}</p>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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
