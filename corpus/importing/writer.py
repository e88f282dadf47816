"""Writer: validated records segmented and stored in batches, with the import report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from regex import Pattern

from corpus.bulk import (
    batch_writer,
    checks_as_you_go,
    copy_rows,
    fast_toast_compression,
    insert_rows,
    reserve_ids,
)
from corpus.db import fast_path
from corpus.importing.base import ImportFailed, RawDocument, limit
from corpus.importing.exclusion import compile_patterns, exclusion_reason
from corpus.importing.records import validate_record
from corpus.models import Corpus, Document, Span
from corpus.segmenting import Segmentation, segment


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
    patterns: Sequence[Pattern],
) -> Prepared:
    spans = []
    cuts = segment(document.text, segmentation, document.language or "en")
    for number, (start, end) in enumerate(cuts, start=1):
        text = document.span_text(start, end)
        reason = (
            exclusion_reason(
                text, patterns, record=record, title=document.title, span=number
            )
            if patterns
            else ""
        )
        spans.append((start, end, text, reason))
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
    if not fast_path("copy-documents", db):
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
