"""What every import stage shares: the raw record, the import error and the limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

# Limits, so one file cannot exhaust a worker's memory or hold the import's
# transaction open for hours. Each may be overridden in settings as
# CORPUS_IMPORT_<NAME> (read at import time, so tests can lower them).
MAX_FIELD_CHARS = 16 * 1024 * 1024  # one document's text, in characters
MAX_LINE_BYTES = 64 * 1024 * 1024  # one physical line (JSON escapes inflate text)
MAX_RECORDS = 2_000_000  # records (CSV rows, JSONL lines, .txt files) per import


def limit(name: str) -> int:
    """The import limit `name` (MAX_FIELD_CHARS, MAX_LINE_BYTES, MAX_RECORDS)."""
    return int(getattr(settings, f"CORPUS_IMPORT_{name}", globals()[name]))


class ImportFailed(ValidationError):
    """A record could not be imported; names the file, the line and the field."""

    def __init__(self, origin: str, line: int | None, field: str | None, problem: str):
        self.origin, self.line, self.field, self.problem = origin, line, field, problem
        where = origin
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}", code="import_failed")

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RawDocument:
    """One record as read from a file, before validation."""

    origin: str
    line: int
    fields: dict[str, Any]
    bytes_read: int = 0
