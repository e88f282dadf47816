""".txt / CSV / JSONL → Documents and Spans: streamed, validated, atomic, deduplicated.

Readers turn files into RawDocument records one at a time (nothing holds a whole file in
memory); import_documents() validates each record, segments it and writes in batches,
all inside one transaction, so a bad row at line 90,000 leaves nothing behind.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from corpus.bulk import (
    batch_writer,
    checks_as_you_go,
    copy_rows,
    fast_toast_compression,
    insert_rows,
    reserve_ids,
)
from corpus.models import (
    Corpus,
    Document,
    Span,
    content_hash,
    is_partial_date,
)
from corpus.segmenting import Segmentation, segment

KNOWN_FIELDS = ("title", "text", "source", "url", "published", "language")
SUPPORTED_SUFFIXES = (".txt", ".csv", ".jsonl", ".ndjson")
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


@dataclass
class ImportReport:
    corpus: Corpus
    documents: int = 0
    spans: int = 0
    excluded_spans: int = 0
    duplicates: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Imported {self.documents} document(s) with {self.spans} span(s) into "
            f"'{self.corpus.name}'"
        )
        if self.excluded_spans:
            text += f" ({self.excluded_spans} span(s) excluded from coding)"
        text += f"; {len(self.duplicates)} duplicate(s) skipped."
        return text


# --- readers -------------------------------------------------------------------------


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


# --- validation ----------------------------------------------------------------------

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


# Neither database stores these: PostgreSQL refuses NUL in text and JSON, and a
# lone surrogate (JSON allows "\ud800") cannot be encoded as UTF-8 anywhere.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
        if bad := _UNSTORABLE.search(value):
            char = bad.group()
            raise fail(
                name.encode("utf-8", "backslashreplace").decode("utf-8"),
                "contains a NUL character; is this a binary file?"
                if char == "\x00"
                else f"contains an unpaired surrogate (\\u{ord(char):04x}), which is "
                "not valid Unicode.",
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


# --- writing -------------------------------------------------------------------------


def _exclusion(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    stripped = " ".join(text.split())
    for pattern in patterns:
        if pattern.fullmatch(stripped):
            return f"matches exclusion pattern {pattern.pattern!r}"
    return ""


class SpanRow(NamedTuple):
    document_id: int
    index: int
    start: int
    end: int
    text: str
    excluded: bool
    exclusion_reason: str


SPAN_COLUMNS = SpanRow._fields
DOCUMENT_COLUMNS = (
    "id", "corpus_id", "title", "source", "url", "published", "language", "text",
    "metadata", "content_hash", "imported_at",
)  # fmt: skip


class Prepared(NamedTuple):
    """A validated record with its spans cut, waiting to be written."""

    record: RawDocument
    document: Document
    # (start, end, text, exclusion reason): plain tuples rather than model instances,
    # since building a million Span objects would cost more than writing them.
    spans: list[tuple[int, int, str, str]]


def _prepare(
    record: RawDocument,
    document: Document,
    segmentation: Segmentation,
    patterns: Sequence[re.Pattern[str]],
) -> Prepared:
    spans = []
    for start, end in segment(document.text, segmentation, document.language or "en"):
        text = document.span_text(start, end)
        spans.append((start, end, text, _exclusion(text, patterns) if patterns else ""))
    return Prepared(record, document, spans)


def _span_rows(fresh: list[Prepared]) -> Iterator[SpanRow]:
    for prepared in fresh:
        document_id = prepared.document.pk
        for index, (start, end, text, reason) in enumerate(prepared.spans):
            yield SpanRow(document_id, index, start, end, text, bool(reason), reason)


def _known_hashes(
    db: BaseDatabaseWrapper, corpus: Corpus, hashes: set[str]
) -> set[str]:
    """Hashes already stored in the corpus, asked on `db` (possibly another thread's:
    the ORM would pick this thread's own connection, outside the transaction)."""
    query = Document.objects.filter(corpus=corpus, content_hash__in=hashes).values_list(
        "content_hash"
    )
    sql, params = query.query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _insert_documents(db: BaseDatabaseWrapper, documents: list[Document]) -> None:
    """Insert and give each document its primary key."""
    if db.vendor != "postgresql":
        Document.objects.using(db.alias).bulk_create(documents)
        return
    # Ids come from the sequence first because COPY returns nothing.
    ids = reserve_ids(Document, len(documents), db=db)
    now = timezone.now()
    for document, pk in zip(documents, ids, strict=True):
        document.pk = pk
        document.imported_at = now
    copy_rows(
        Document,
        DOCUMENT_COLUMNS,
        (
            (d.pk, d.corpus_id, d.title, d.source, d.url, d.published, d.language,
             d.text, json.dumps(d.metadata), d.content_hash, now)
            for d in documents
        ),
        db=db,
    )  # fmt: skip


def _write_batch(
    db: BaseDatabaseWrapper, corpus: Corpus, batch: list[Prepared], report: ImportReport
) -> None:
    # Earlier batches of this import are already inserted (same transaction, written
    # in order), so this one query finds duplicates against the corpus and against
    # the import so far.
    known = _known_hashes(db, corpus, {p.document.content_hash for p in batch})
    fresh: list[Prepared] = []
    for prepared in batch:
        record, document = prepared.record, prepared.document
        if document.content_hash in known:
            report.duplicates.append(
                f"{record.origin}, line {record.line}: {document.title}"
            )
            continue
        known.add(document.content_hash)
        document.corpus = corpus
        fresh.append(prepared)
    if not fresh:
        return
    _insert_documents(db, [prepared.document for prepared in fresh])
    insert_rows(Span, SPAN_COLUMNS, _span_rows(fresh), db=db)
    report.documents += len(fresh)
    for prepared in fresh:
        report.spans += len(prepared.spans)
        report.excluded_spans += sum(1 for span in prepared.spans if span[3])


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise ImportFailed(
                "exclusion pattern", None, None, f"{pattern!r}: {error}."
            ) from None
    return compiled


@transaction.atomic
def import_documents(
    *,
    corpus: Corpus,
    records: Iterable[RawDocument],
    segmentation: Segmentation | str = Segmentation.PARAGRAPH,
    exclude_patterns: Iterable[str] = (),
    default_language: str = "",
    batch_size: int = 1000,
    progress: Callable[[RawDocument], None] | None = None,
) -> ImportReport:
    """Validate, deduplicate, segment and store documents, all or nothing.

    Duplicates (same normalised text already in the corpus, or earlier in this import)
    are reported and skipped, so re-running an import is harmless. Any bad record
    raises ImportFailed and the transaction rolls back everything this call wrote.

    On PostgreSQL a background thread writes each batch (COPY) into this transaction
    while this thread reads and segments the next, so the database's work overlaps
    ours. `records` and `progress` must therefore not use the database themselves.
    """
    segmentation = Segmentation(segmentation)
    patterns = compile_patterns(exclude_patterns)
    report = ImportReport(corpus=corpus)
    db = transaction.get_connection()

    def write(batch: list[Prepared]) -> None:
        _write_batch(db, corpus, batch, report)

    batch: list[Prepared] = []
    most = limit("MAX_RECORDS")
    with (
        fast_toast_compression(db),
        checks_as_you_go(Span, db),
        batch_writer(write, db=db) as put,
    ):
        for count, record in enumerate(records, start=1):
            if count > most:
                raise ImportFailed(
                    record.origin,
                    record.line,
                    None,
                    f"more than {most:,} records in one import; split the corpus and "
                    "import the parts one after another.",
                )
            document = validate_record(record, default_language=default_language)
            batch.append(_prepare(record, document, segmentation, patterns))
            if len(batch) >= batch_size:
                put(batch)
                batch = []
            if progress:
                progress(record)
        if batch:
            put(batch)
    return report
