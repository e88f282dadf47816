"""The reliability report's files (print HTML, PDF, Markdown, LaTeX, bundle) and names.

One place for the downloads (views/reliability_downloads.py) and the
``reliability_report`` command to get the same file from the same report.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from . import bundle, pdf, print_tables, text_tables
from .reliability import ReliabilityReport

PRINT_TEMPLATE = "annotator/reliability_print.html"
PRINT_CSS = "annotator/report-print.css"


@dataclass(frozen=True)
class Format:
    content_type: str
    extension: str
    render: Callable[[ReliabilityReport], bytes]


def print_css() -> str:
    """The print stylesheet's text, to inline (the file names no URL)."""
    path = finders.find(PRINT_CSS)
    if path is None:  # a deployment without the app's static files
        raise FileNotFoundError(f"static file {PRINT_CSS} not found")
    with open(path, encoding="utf-8") as f:
        return f.read()


def _html_table(table: print_tables.Table) -> dict[str, Any]:
    return {
        "caption": table.caption,
        "heads": list(zip(table.columns, table.numeric, strict=True)),
        "cells": [list(zip(row, table.numeric, strict=True)) for row in table.rows],
    }


def print_html(report: ReliabilityReport) -> str:
    """The self-contained print page: CSS inlined, no script, no URL."""
    context = {
        "css": print_css(),
        "title": print_tables.title(report),
        "provenance": print_tables.provenance(report),
        "primary": _html_table(print_tables.primary_table(report)),
        "sections": [
            {
                "dimension": d,
                "secondary": _html_table(print_tables.secondary_table(report, d)),
                "categories": _html_table(print_tables.category_table(d)),
                "sample_size": report.sample_size.get(d.key, ""),
            }
            for d in report.dimensions
        ],
        "resampling": print_tables.resampling(report),
        "paragraph": report.paragraph,
        "references": report.references,
    }
    return render_to_string(PRINT_TEMPLATE, context)


def replication_zip(report: ReliabilityReport) -> bytes:
    """The replication bundle (``bundle.write_bundle``) as bytes."""
    buffer = io.BytesIO()
    bundle.write_bundle(report, buffer)
    return buffer.getvalue()


FORMATS: dict[str, Format] = {
    "html": Format(
        "text/html; charset=utf-8", "html", lambda r: print_html(r).encode()
    ),
    "pdf": Format("application/pdf", "pdf", lambda r: pdf.render(print_html(r))),
    "md": Format(
        "text/markdown; charset=utf-8",
        "md",
        lambda r: text_tables.markdown(r).encode(),
    ),
    "tex": Format(
        "application/x-tex; charset=utf-8",
        "tex",
        lambda r: text_tables.latex(r).encode(),
    ),
    "zip": Format("application/zip", "zip", replication_zip),
}


def filename(report: ReliabilityReport, name: str) -> str:
    """``project-7-reliability-v3.pdf``: project, codebook version, format."""
    return (
        f"project-{report.project.pk}-reliability-v{report.facts.codebook_version}"
        f".{FORMATS[name].extension}"
    )
