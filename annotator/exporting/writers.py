"""Rows to text: CSV and JSON Lines, in pieces sized for a streamed download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

FLUSH_CHARS = 64 * 1024  # a streamed download sends pieces of about this size


def csv_chunks(rows: Iterable[Iterable], header: Iterable[str]) -> Iterator[str]:
    """RFC 4180 CSV (the csv module's quoting: commas, quotes, newlines are safe).

    The header goes out at once, then pieces of about FLUSH_CHARS; rows are
    sequences of cells (None is an empty cell).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    writerow = writer.writerow
    for row in rows:
        writerow(row)
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
