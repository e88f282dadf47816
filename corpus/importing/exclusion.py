"""Exclusion patterns: compiled and matched by one engine, each match time-limited.

A manager types these patterns, and a pattern such as (a|a)+$ backtracks
exponentially: with `re` one 31-character span held the import request for 31 s.
The `regex` package takes a timeout per match, so such a pattern refuses the
import, naming itself and the span, instead of holding a worker for hours. The
upload form and `manage.py import_corpus` compile with the same engine, so what
they accept is what the import runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex
from django.conf import settings

from corpus.importing.base import ImportFailed, RawDocument

PATTERN_SECONDS = 1.0  # per span and pattern; settings.CORPUS_IMPORT_PATTERN_SECONDS


def pattern_seconds() -> float:
    return float(getattr(settings, "CORPUS_IMPORT_PATTERN_SECONDS", PATTERN_SECONDS))


def compile_patterns(patterns: Iterable[str]) -> list[regex.Pattern]:
    """The patterns compiled, or ImportFailed naming the first bad one."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(regex.compile(pattern))
        except regex.error as error:
            raise ImportFailed(
                "exclusion pattern", None, None, f"{pattern!r}: {error}."
            ) from None
    return compiled


def exclusion_reason(
    text: str,
    patterns: Sequence[regex.Pattern],
    *,
    record: RawDocument,
    title: str,
    span: int,
) -> str:
    """Why the span is excluded ("" when it is not); ImportFailed when a pattern
    runs past the time limit. `span` counts from 1, as a person reads."""
    stripped = " ".join(text.split())
    seconds = pattern_seconds()
    for pattern in patterns:
        try:
            matched = pattern.fullmatch(stripped, timeout=seconds)
        except TimeoutError:
            raise ImportFailed(
                record.origin,
                record.line,
                None,
                f"exclusion pattern {pattern.pattern!r} took over {seconds:g} s on "
                f"span {span} of document {title!r}: simplify it.",
            ) from None
        if matched:
            return f"matches exclusion pattern {pattern.pattern!r}"
    return ""
