"""Records: one raw record validated into an unsaved Document (dates, text, URL)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from corpus.importing.base import ImportFailed, RawDocument, limit
from corpus.models import Document, content_hash, is_partial_date
from corpus.text import unstorable

KNOWN_FIELDS = ("title", "text", "source", "url", "published", "language")

_url_validator = URLValidator(schemes=["http", "https"])
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?$")


def normalise_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:1000]
    return ""


def _published(value: Any, fail: Callable[[str, str], ImportFailed]) -> str:
    if isinstance(value, bool):
        raise fail("published", "expected a date, got true/false.")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise fail("published", f"expected a date as text, got {type(value).__name__}.")
    value = value.strip()
    if not value:
        return ""
    match = _ISO_DATETIME.match(value)
    if match:
        value = match.group(1)
    if not is_partial_date(value):
        raise fail(
            "published",
            f"cannot read '{value[:40]}' as a date; use YYYY, YYYY-MM or YYYY-MM-DD.",
        )
    return value


def _strings(fields: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(top-level field name, string) for every key and string value, however
    deeply nested, without recursion (JSON nesting may be deep)."""
    stack: list[tuple[str, Any]] = [(name, value) for name, value in fields.items()]
    stack += [(name, name) for name in fields]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict):
            stack.extend((name, v) for v in value.values())
            stack.extend((name, k) for k in value)
        elif isinstance(value, list):
            stack.extend((name, v) for v in value)


def validate_record(record: RawDocument, *, default_language: str = "") -> Document:
    """An unsaved Document from a raw record, or ImportFailed naming the bad field."""

    def fail(field_name: str, problem: str) -> ImportFailed:
        return ImportFailed(record.origin, record.line, field_name, problem)

    values: dict[str, str] = {}
    for name in KNOWN_FIELDS:
        value = record.fields.get(name)
        if value is None:
            continue
        if name == "published":
            values[name] = _published(value, fail)
            continue
        if not isinstance(value, str):
            kind = {
                bool: "true/false",
                int: "a number",
                float: "a number",
                list: "a list",
                dict: "an object",
            }.get(type(value), type(value).__name__)
            raise fail(name, f"expected text, got {kind}.")
        values[name] = value if name == "text" else value.strip()

    text = normalise_text(values.get("text", ""))
    if not text.strip():
        raise fail("text", "missing or empty; every document needs its text.")
    for name, value in _strings(record.fields):
        if problem := unstorable(value, nul_hint="; is this a binary file?"):
            raise fail(
                name.encode("utf-8", "backslashreplace").decode("utf-8"), problem
            )
    if len(text) > (most := limit("MAX_FIELD_CHARS")):
        raise fail(
            "text",
            f"{len(text):,} characters; at most {most:,} are allowed in one document.",
        )
    title = values.get("title") or first_line(text)
    if len(title) > 1000:
        raise fail("title", f"{len(title)} characters; at most 1000 are allowed.")
    url = values.get("url", "")
    if len(url) > 2000:
        raise fail("url", f"{len(url):,} characters; at most 2000 are allowed.")
    if url:
        try:
            _url_validator(url)
        except ValidationError:
            raise fail("url", f"'{url[:80]}' is not an http(s) URL.") from None
    metadata: dict[str, Any] = {}
    for key, value in record.fields.items():
        if key in KNOWN_FIELDS:
            continue
        if key == "metadata" and isinstance(value, dict):
            metadata.update(value)
        else:
            metadata[key] = value
    return Document(
        title=title,
        source=values.get("source", "")[:500],
        url=url,
        published=values.get("published", ""),
        language=(values.get("language") or default_language)[:35],
        text=text,
        metadata=metadata,
        content_hash=content_hash(text),
    )
