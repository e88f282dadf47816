"""Reading an archive's lines under limits, so no file can make json build a giant."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings

from annotator.archive.tables import ArchiveError

# The writer puts a row's table first (json.dumps keeps key order): only a document
# row, which carries a whole text, may be longer than ARCHIVE_MAX_LINE_BYTES.
TEXT_ROW_PREFIX = b'{"t": "corpus.document", '
# A row the writer makes nests a few levels (a gold revision's state, a run's
# accuracies) and holds at most a few thousand values: far inside these.
MAX_DEPTH = 32
MAX_VALUES = 100_000
# Possessive: no backtracking state kept per character of a 64 MB text.
STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
BRACKET = re.compile(rb"[\[\]{}]")


def archive_lines(stream: IO[bytes], origin: str) -> Iterator[tuple[int, int, Any]]:
    """(line number, its length in bytes, its JSON) for every line, one at a time.

    A line is refused once it is longer than its limit, before it is read whole
    (a 1 MB gzip can hold a 1 GB line), and before json.loads when its nesting or
    its number of values is absurd (8 MB of "[]," parse into 250 MB of lists).
    """
    most = settings.ARCHIVE_MAX_LINE_BYTES
    most_text = max(most, settings.ARCHIVE_MAX_TEXT_LINE_BYTES)
    try:
        with gzip.open(stream, "rb") as z:
            number = 0
            while line := z.readline(most + 1):
                number += 1
                limit = most
                if len(line) > most and line.startswith(TEXT_ROW_PREFIX):
                    limit = most_text
                    line = _rest_of_line(z, line, limit)
                length = len(line)
                if length > limit:
                    raise ArchiveError(
                        f"{origin}, line {number}: longer than {limit:,} bytes "
                        f"({_setting(limit)})."
                    )
                yield number, length, parse_line(line, origin, number)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(
            f"{origin}: not a complete project archive (gzip'd JSON Lines): {exc}."
        ) from None


def _rest_of_line(z: IO[bytes], start: bytes, limit: int) -> bytearray:
    """The line `start` begins, read in 1 MB pieces into one buffer until its end
    or until it is longer than `limit` (io's readline(n) would join its pieces:
    twice the line at once)."""
    line = bytearray(start)
    while not line.endswith(b"\n") and len(line) <= limit:
        piece = z.readline(min(1024**2, limit + 1 - len(line)))
        if not piece:
            break
        line += piece
    return line


def _setting(limit: int) -> str:
    if limit == settings.ARCHIVE_MAX_LINE_BYTES:
        return "ARCHIVE_MAX_LINE_BYTES; only document rows may be longer"
    return "ARCHIVE_MAX_TEXT_LINE_BYTES"


def parse_line(line: bytes | bytearray, origin: str, number: int) -> Any:
    """One line's JSON, after a scan that costs a copy of the line at most; at
    most about twice the line is held at once."""
    problem = _shape_problem(line)
    if problem is None:
        try:
            text = line.decode("utf-8")
            if isinstance(line, bytearray):
                line.clear()  # a long document line: its bytes go before json's copy
            return json.loads(text)
        except UnicodeDecodeError:
            problem = "not UTF-8"
        except json.JSONDecodeError as exc:
            problem = f"not JSON ({exc.msg})"
        except (RecursionError, ValueError) as exc:  # numbers past 4,300 digits
            problem = f"not a row this program reads ({type(exc).__name__})"
    raise ArchiveError(f"{origin}, line {number}: {problem}.")


def _shape_problem(line: bytes | bytearray) -> str | None:
    """Too many values or too deep, counted outside strings; None if neither.

    Counting commas and brackets bounds the values json would make (each value
    but the last in a container is followed by a comma); a string's content is
    taken out first so that text full of brackets is not miscounted.
    """
    bare = STRING.sub(b'""', line) if b'"' in line else line
    values = bare.count(b",") + bare.count(b"[") + bare.count(b"{")
    if values > MAX_VALUES:
        return f"more than {MAX_VALUES:,} values in one row"
    depth = 0
    for bracket in BRACKET.findall(bare):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
    return None
