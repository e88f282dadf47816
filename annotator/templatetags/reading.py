"""Filters that lay out a span's text for reading: paragraphs, not one run of <br>."""

from __future__ import annotations

import re

from django import template

register = template.Library()

BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


@register.filter
def paragraphs(text: str) -> list[str]:
    """The text cut at its blank lines, without empty pieces.

    A span with a blank line inside drawn as one <mark> with <br><br> showed an
    empty highlighted line between its paragraphs; one <mark> per paragraph does not.
    """
    return [piece for piece in BLANK_LINE.split(text.strip("\n")) if piece.strip()]
