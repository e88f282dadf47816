"""Rows to text: CSV and JSON Lines, in pieces sized for a streamed download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

FLUSH_CHARS = 64 * 1024  # a streamed download sends pieces of about this size

# A spreadsheet opens a cell starting with one of these as a formula (=HYPERLINK,
# =cmd|…); tab and CR because some programs drop them and read what follows. OWASP's
# advice, followed here: such a text cell gets a leading single quote. Numbers are
# not text (their columns hold ints and floats), so -0.5 stays a number.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(cell: Any) -> Any:
    """A text cell that a spreadsheet would run, quoted; anything else as it is.

    pg_copy.safe_sql() is the same rule in SQL for the COPY path.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_chunks(
    rows: Iterable[Iterable], header: Iterable[str], *, raw: bool = False
) -> Iterator[str]:
    """RFC 4180 CSV (the csv module's quoting: commas, quotes, newlines are safe).

    The header goes out at once, then pieces of about FLUSH_CHARS; rows are
    sequences of cells (None is an empty cell). Text cells that would open as a
    formula are quoted (formula_safe) unless `raw`: the exact text, for pipelines.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    writerow = writer.writerow
    for row in rows:
        writerow(row if raw else [formula_safe(cell) for cell in row])
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """One JSON object per line (UTF-8, not ASCII-escaped), in FLUSH_CHARS pieces."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    pending: list[str] = []
    size = 0
    for row in rows:
        line = dumps(row)
        pending.append(line)
        size += len(line) + 1
        if size >= FLUSH_CHARS:
            yield "\n".join(pending) + "\n"
            pending, size = [], 0
    if pending:
        yield "\n".join(pending) + "\n"
