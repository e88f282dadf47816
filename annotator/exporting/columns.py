"""What export rows hold: column names, shared value helpers, and row reading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from django.db import transaction
from django.db.models import Aggregate, Func, QuerySet, TextField

T = TypeVar("T")
SEPARATOR = "|"  # between the keys of a multi-choice code in CSV (as agreement --csv)
CHUNK_ROWS = 2000  # rows per server-side cursor fetch

GOLD_COLUMNS = (
    "span_id", "document_id", "document_title", "start", "end", "text",
    "dimension", "categories", "method", "decided_by", "decided_at", "posterior",
    "codebook_version", "n_ratings", "coder_codes", "agreement", "note",
    "updated_at",
)  # fmt: skip
ANNOTATION_COLUMNS = (
    "annotation_id", "span_id", "document_id", "document_title", "start", "end",
    "text", "coder_id", "coder", "labels", "uncertain", "comment", "seconds",
    "codebook_version", "created_at", "updated_at",
)  # fmt: skip


class KeysAgg(Aggregate):
    """Category keys of one row's codes joined by SEPARATOR, in no particular order.

    STRING_AGG on PostgreSQL, GROUP_CONCAT elsewhere; callers split and sort, since
    SQLite cannot order inside the aggregate.
    """

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, '" + SEPARATOR + "')"
    output_field = TextField()

    def __init__(self, expression, ordered: bool = False, **extra):
        self.ordered = ordered
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        if self.ordered:  # sorted in the database: a COPY row is final as written
            key, params = compiler.compile(self.get_source_expressions()[0])
            return f"STRING_AGG({key}, '{SEPARATOR}' ORDER BY {key})", (
                *params,
                *params,
            )
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra)


class IsoText(Func):
    """A timestamp as ISO 8601 text, as Python's isoformat() reads it back."""

    template = "(to_json(%(expressions)s) #>> '{}')"
    output_field = TextField()


def split_keys(joined: str | None) -> list[str]:
    return sorted(joined.split(SEPARATOR)) if joined else []


def parse_pairs(joined: str | None) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for pair in split_keys(joined):
        dimension, key = pair.split(":", 1)
        labels.setdefault(dimension, []).append(key)
    return labels


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, the form `updated_since` accepts back."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def read_rows(
    values: QuerySet, make_row: Callable[[tuple], T], chunk: int = CHUNK_ROWS
) -> Iterator[T]:
    """`values` (an ordered values_list) through make_row, read lazily in chunks.

    Read inside a transaction: outside one, PostgreSQL's server-side cursor is
    WITH HOLD and computes every row before handing out the first.
    """
    with transaction.atomic():
        for row in values.iterator(chunk_size=chunk):
            yield make_row(row)
