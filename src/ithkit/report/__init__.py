"""HTML report: sections of tables and inline SVG figures in one self-contained page.

Figures never compute: :mod:`ithkit.report.figures` draws results handed to it, and
:mod:`ithkit.report.sections` turns tables into report sections. Each analysis module adds its
own section builder; :func:`write_report` renders them in order.
"""

from __future__ import annotations

from ithkit.report._render import (
    Alert,
    Figure,
    Findings,
    KeyValues,
    Section,
    Table,
    Text,
    format_value,
    human_header,
    render_html,
    write_report,
)

__all__ = [
    "Alert",
    "Figure",
    "Findings",
    "KeyValues",
    "Section",
    "Table",
    "Text",
    "format_value",
    "human_header",
    "render_html",
    "write_report",
]
