"""Filters that write the reliability report's figures as its downloads do (APA)."""

from __future__ import annotations

from django import template

from annotator.agreement_report.print_tables import figure as _figure
from annotator.agreement_report.print_tables import interval as _interval

register = template.Library()


@register.filter
def coefficient(x: float) -> str:
    """ ".630", "−.050", "–" for undefined: print_tables.figure, so the page,
    the print HTML, the PDF, the Markdown and the LaTeX round alike."""
    return _figure(x)


@register.filter
def interval(bounds: dict) -> str:
    """An interval's ``low`` and ``high`` as the tables write it: ".351–.789"."""
    return _interval(bounds["low"], bounds["high"])
