"""Readers: .txt, CSV and JSONL files (paths or uploads) → RawDocument records."""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from corpus.importing.base import ImportFailed, RawDocument, limit

SUPPORTED_SUFFIXES = (".txt", ".csv", ".jsonl", ".ndjson")


# The first bytes of files people rename to .csv or .txt: a Word, Excel or
# OpenDocument file is a ZIP archive (.docx, .xlsx, .odt) or, before 2007, an OLE
# compound file (.doc, .xls). Their bytes read as "not valid UTF-8", which does
# not tell anyone what to do.
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refuse_office_file(head: bytes, origin: str) -> None:
    """Refuse a file whose first bytes say it is a Word/Excel/ZIP file, in words."""
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        suffix = Path(origin).suffix.lower()
        kind = "CSV (UTF-8)" if suffix == ".csv" else "plain text (UTF-8)"
        raise ImportFailed(
            origin,
            None,
            None,
            f"this looks like a Word/ZIP file, not text; save it as {kind} "
            "and import that file.",
        )


def _decode_line(raw: bytes, origin: str, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportFailed(
            origin,
            line,
            None,
            f"not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
            f"{error.start + 1}); save the file as UTF-8 and import it again.",
        ) from None


def _binary_lines(stream: BinaryIO, origin: str, counter: list[int]) -> Iterator[str]:
    """Decode a byte stream line by line, so a bad byte is reported with its line.

    Lines are read with a bound: a file without newlines is refused at the bound
    instead of being read whole into memory.
    """
    most = limit("MAX_LINE_BYTES")
    number = 0
    while raw := stream.readline(most + 1):
        number += 1
        if len(raw) > most:
            raise ImportFailed(
                origin,
                number,
                None,
                f"the line is longer than {most:,} bytes; is this a corpus file?",
            )
        if number == 1:
            _refuse_office_file(raw, origin)
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            counter[0] += len(codecs.BOM_UTF8)
            raw = raw[len(codecs.BOM_UTF8) :]
        counter[0] += len(raw)
        yield _decode_line(raw, origin, number)


def read_txt(stream: BinaryIO, origin: str) -> Iterator[RawDocument]:
    """A .txt file is one document; its title is its first non-empty line."""
    most = limit("MAX_FIELD_CHARS")
    # UTF-8 needs at most 4 bytes a character: read no more than the limit can use.
    data = stream.read(4 * most + len(codecs.BOM_UTF8) + 1)
    if len(data) > 4 * most + len(codecs.BOM_UTF8):
        raise ImportFailed(
            origin, None, "text", f"the file is over the {most:,}-character limit."
        )
    _refuse_office_file(data, origin)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ImportFailed(
            origin,
            line,
            None,
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at column {column});"
            " save the file as UTF-8 and import it again.",
        ) from None
    yield RawDocument(origin, 1, {"text": text}, len(data))


def read_csv(stream: BinaryIO, origin: str) -> Iterator[RawDocument]:
    """CSV with a header row; a record may span several physical lines (quoted text)."""
    counter = [0]
    csv.field_size_limit(limit("MAX_FIELD_CHARS"))
    reader = csv.reader(_binary_lines(stream, origin, counter), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(
            origin, 1, None, "the file is empty; expected a header row."
        ) from None
    except csv.Error as error:
        raise ImportFailed(
            origin, reader.line_num, None, f"malformed CSV: {error}."
        ) from None
    names = [name.strip() for name in header]
    for position, name in enumerate(names, start=1):
        if not name:
            raise ImportFailed(
                origin, 1, None, f"column {position} of the header is empty."
            )
        if names.count(name) > 1:
            raise ImportFailed(
                origin, 1, name, "this column appears twice in the header."
            )
    if "text" not in names:
        raise ImportFailed(
            origin,
            1,
            "text",
            f"the header has no 'text' column (it has: {', '.join(names)}).",
        )
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed(
                origin,
                start_line,
                None,
                f"malformed CSV: {error} (the record starting here runs to line "
                f"{reader.line_num}; is a quotation mark left open?).",
            ) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise ImportFailed(
                origin,
                start_line,
                None,
                f"{len(row)} field(s), but the header has {len(names)}.",
            )
        yield RawDocument(
            origin, start_line, dict(zip(names, row, strict=True)), counter[0]
        )


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def read_jsonl(stream: BinaryIO, origin: str) -> Iterator[RawDocument]:
    """JSON Lines: one JSON object per line; blank lines are ignored."""
    counter = [0]
    for number, line in enumerate(_binary_lines(stream, origin, counter), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(
                line, parse_constant=_no_constant, parse_float=_finite_float
            )
        except json.JSONDecodeError as error:
            raise ImportFailed(
                origin,
                number,
                None,
                f"not valid JSON ({error.msg} at column {error.colno}).",
            ) from None
        except (ValueError, RecursionError) as error:
            # Numbers past Python's digit limit or the float range, NaN, and
            # nesting deeper than the parser's recursion limit.
            raise ImportFailed(
                origin, number, None, f"cannot read this JSON: {error}."
            ) from None
        if not isinstance(record, dict):
            raise ImportFailed(
                origin,
                number,
                None,
                f"expected a JSON object, got {type(record).__name__}.",
            )
        yield RawDocument(origin, number, record, counter[0])


READERS: dict[str, Callable[[BinaryIO, str], Iterator[RawDocument]]] = {
    ".txt": read_txt,
    ".csv": read_csv,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
}


def reader_for(name: str) -> Callable[[BinaryIO, str], Iterator[RawDocument]]:
    suffix = Path(name).suffix.lower()
    try:
        return READERS[suffix]
    except KeyError:
        raise ImportFailed(
            name,
            None,
            None,
            f"unsupported file type '{suffix or '(none)'}'; use one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}.",
        ) from None


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given, folders expanded to their supported files in name order."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not found:
                raise ImportFailed(
                    str(path), None, None, "the folder holds no importable files."
                )
            files.extend(found)
        elif path.is_file():
            reader_for(path.name)
            files.append(path)
        else:
            raise ImportFailed(str(path), None, None, "no such file or folder.")
    return files


def read_paths(paths: Sequence[Path]) -> Iterator[RawDocument]:
    """Records from every file, one file open at a time."""
    for path in paths:
        with path.open("rb") as stream:
            yield from reader_for(path.name)(stream, path.name)


def read_upload(stream: BinaryIO, name: str) -> Iterator[RawDocument]:
    return reader_for(name)(stream, name)
