"""Gold labels as rows: the query, the API/JSONL row, the CSV cells, the downloads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from django.db import connection
from django.db.models import Case, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Cast

from annotator.exporting.columns import (
    CHUNK_ROWS,
    GOLD_COLUMNS,
    SEPARATOR,
    KeysAgg,
    T,
    iso,
    read_rows,
    split_keys,
)
from annotator.exporting.filters import NO_FILTERS, GoldFilters, gold_labels
from annotator.exporting.pg_copy import gold_copy_csv, gold_copy_jsonl
from annotator.exporting.writers import csv_chunks, jsonl_chunks
from annotator.gold import refresh_gold
from annotator.models import GoldLabelCategory, Project


def refresh(project: Project) -> None:
    """Bring the project's gold up to date before reading it.

    annotator.gold decides what changed since its last run (cheap when nothing
    did) and never touches adjudicated labels.
    """
    refresh_gold(project)


GOLD_VALUES = (
    "span_id", "span__document_id", "span__document__title", "span__start",
    "span__end", "span__text", "dimension__key", "category__key", "set_keys",
    "method", "decided_by__username", "decided_at", "posterior",
    "codebook__version", "n_ratings", "codes_text", "agreement", "note",
    "updated_at",
)  # fmt: skip


def gold_values(labels: QuerySet) -> QuerySet:
    """Gold labels as tuples in GOLD_VALUES order: one query, joins only.

    Multi-choice keys come from a subquery that runs only where `category` is empty
    (CASE), so single-choice rows cost no extra lookup; coder_codes stay JSON text,
    so a CSV writes them as they are.
    """
    set_keys = (
        GoldLabelCategory.objects.filter(gold_label=OuterRef("pk"))
        .order_by()
        .values("gold_label")
        .annotate(keys=KeysAgg("category__key"))
        .values("keys")
    )
    return labels.annotate(
        set_keys=Case(
            When(category__isnull=True, then=Subquery(set_keys)),
            default=Value(None),
            output_field=TextField(),
        ),
        codes_text=Cast("coder_codes", TextField()),
    ).values_list(*GOLD_VALUES)


def gold_row(values: tuple) -> dict:
    """One gold_values() tuple as the row the API and JSONL share (GOLD_COLUMNS)."""
    (span_id, document_id, title, start, end, text, dimension, category, set_keys,
     method, decided_by, decided_at, posterior, codebook_version, n_ratings,
     codes_text, agreement, note, updated_at) = values  # fmt: skip
    return {
        "span_id": span_id,
        "document_id": document_id,
        "document_title": title,
        "start": start,
        "end": end,
        "text": text,
        "dimension": dimension,
        "categories": [category] if category is not None else split_keys(set_keys),
        "method": method,
        "decided_by": decided_by,
        "decided_at": iso(decided_at),
        "posterior": posterior,
        "codebook_version": codebook_version,
        "n_ratings": n_ratings,
        "coder_codes": json.loads(codes_text) if codes_text else {},
        "agreement": agreement,
        "note": note,
        "updated_at": iso(updated_at),
    }


def gold_csv_cells(values: tuple) -> tuple:
    """One gold_values() tuple as CSV cells (GOLD_COLUMNS), without a dict between.

    The hot loop of a million-row download: coder_codes go out as the database's
    JSON text, unparsed.
    """
    (span_id, document_id, title, start, end, text, dimension, category, set_keys,
     method, decided_by, decided_at, posterior, codebook_version, n_ratings,
     codes_text, agreement, note, updated_at) = values  # fmt: skip
    return (
        span_id, document_id, title, start, end, text, dimension,
        category if category is not None else SEPARATOR.join(split_keys(set_keys)),
        method, decided_by, iso(decided_at), posterior, codebook_version, n_ratings,
        codes_text or "{}", agreement, note, iso(updated_at),
    )  # fmt: skip


def gold_rows(
    project: Project,
    filters: GoldFilters = NO_FILTERS,
    *,
    make_row: Callable[[tuple], T] = gold_row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every gold label under the filters, in reading order (span, then dimension).

    The order follows the (project, span, dimension) unique index, so the first
    rows arrive before the last are read.
    """
    values = gold_values(gold_labels(project, filters)).order_by(
        "span_id", "dimension_id"
    )
    return read_rows(values, make_row, chunk)


def gold_csv(project: Project, filters: GoldFilters = NO_FILTERS) -> Iterator[str]:
    """The gold CSV download: the header, then pieces of rows as they are read.

    On PostgreSQL the database writes the CSV itself (pg_copy.gold_copy_csv: the
    same columns, ISO timestamps). Elsewhere the csv module writes
    gold_csv_cells(). Both read back alike with any CSV reader (tests pin it).
    """
    if connection.vendor != "postgresql":
        yield from csv_chunks(
            gold_rows(project, filters, make_row=gold_csv_cells), GOLD_COLUMNS
        )
        return
    yield from gold_copy_csv(gold_labels(project, filters))


def gold_jsonl(project: Project, filters: GoldFilters = NO_FILTERS) -> Iterator[str]:
    """The gold JSONL download; on PostgreSQL each line is built by the database
    (pg_copy.gold_copy_jsonl). Elsewhere, json.dumps of gold_row()."""
    if connection.vendor != "postgresql":
        yield from jsonl_chunks(gold_rows(project, filters))
        return
    yield from gold_copy_jsonl(gold_labels(project, filters))
