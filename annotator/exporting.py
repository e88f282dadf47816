"""Gold labels and annotations as rows, and the CSV / JSONL writers that stream them.

Shared by the API (annotator/api/export.py: pages and streaming downloads) and the
`export_gold` command, so a file, a page and the command always carry the same
fields. Every row stands on its own: the span's document id and title, offsets and
text travel with the codes.

Rows come from one `values_list` query read through `.iterator()` (a server-side
cursor on PostgreSQL), multi-choice keys aggregated in the database, so memory stays
flat whatever the project's size and nothing queries per row.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    F,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.dateparse import parse_datetime

from annotator.gold import refresh_gold
from annotator.models import (
    Annotation,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldMethod,
    Label,
    Project,
)

T = TypeVar("T")
SEPARATOR = "|"  # between the keys of a multi-choice code in CSV (as agreement --csv)
CHUNK_ROWS = 2000  # rows per server-side cursor fetch
FLUSH_CHARS = 64 * 1024  # a streamed download sends pieces of about this size

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


def split_keys(joined: str | None) -> list[str]:
    return sorted(joined.split(SEPARATOR)) if joined else []


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, the form `updated_since` accepts back."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def refresh(project: Project) -> None:
    """Bring the project's gold up to date before reading it.

    annotator.gold decides what changed since its last run (cheap when nothing
    did) and never touches adjudicated labels.
    """
    refresh_gold(project)


# --- filters -------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldFilters:
    dimension_ids: tuple[int, ...] | None = None
    method: str | None = None
    document: int | None = None
    updated_since: datetime | None = None


def parse_datetime_param(name: str, raw: str) -> datetime:
    """An ISO 8601 datetime; naive ones are UTC. ValueError names the parameter."""
    try:
        moment = parse_datetime(raw.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(
            f"{name}: expected an ISO 8601 datetime such as 2026-01-31T12:00:00Z, "
            f"not {raw!r}"
        )
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        # In UTC: PostgreSQL refuses offsets past ±15:59, which Python accepts.
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name}: {raw!r} is out of range") from None


def dimension_ids(project: Project, key: str) -> tuple[int, ...]:
    """Ids of the dimension `key` in every version of the project's codebook.

    Gold and annotations keep the version they were made under, so one key can
    name several dimension rows. ValueError lists the keys that exist.
    """
    rows = list(
        Dimension.objects.filter(codebook__family=project.codebook.family).values_list(
            "pk", "key"
        )
    )
    ids = tuple(pk for pk, row_key in rows if row_key == key)
    if not ids:
        known = ", ".join(sorted({row_key for _, row_key in rows}))
        raise ValueError(f"dimension: {key!r} is not in the codebook ({known})")
    return ids


def parse_gold_filters(project: Project, params: Mapping[str, str]) -> GoldFilters:
    """Filters from query parameters; ValueError names the bad one and why."""
    filters: dict = {}
    if key := params.get("dimension"):
        filters["dimension_ids"] = dimension_ids(project, key)
    if method := params.get("method"):
        if method not in GoldMethod.values:
            raise ValueError(
                f"method: {method!r} is not one of {', '.join(GoldMethod.values)}"
            )
        filters["method"] = method
    if document := params.get("document"):
        if not document.isdigit():
            raise ValueError(f"document: expected a document id, not {document!r}")
        filters["document"] = int(document)
    if since := params.get("updated_since"):
        filters["updated_since"] = parse_datetime_param("updated_since", since)
    return GoldFilters(**filters)


# --- gold ----------------------------------------------------------------------------


def gold_labels(project: Project, filters: GoldFilters = GoldFilters()) -> QuerySet:
    """The project's gold labels under the filters, unordered."""
    labels = GoldLabel.objects.filter(project=project)
    if filters.dimension_ids is not None:
        labels = labels.filter(dimension_id__in=filters.dimension_ids)
    if filters.method is not None:
        labels = labels.filter(method=filters.method)
    if filters.document is not None:
        labels = labels.filter(span__document_id=filters.document)
    if filters.updated_since is not None:
        # Inclusive: a client that resumes from the last updated_at it saw gets the
        # boundary rows again (harmless upserts on span and dimension), never fewer.
        labels = labels.filter(updated_at__gte=filters.updated_since)
    return labels


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
    filters: GoldFilters = GoldFilters(),
    *,
    make_row: Callable[[tuple], T] = gold_row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every gold label under the filters, in reading order (span, then dimension).

    The order follows the (project, span, dimension) unique index, so the first
    rows arrive before the last are read. Read inside a transaction: outside one,
    PostgreSQL's server-side cursor is WITH HOLD and computes every row before
    handing out the first.
    """
    values = gold_values(gold_labels(project, filters)).order_by(
        "span_id", "dimension_id"
    )
    with transaction.atomic():  # a lazy server-side cursor, see the docstring
        for row in values.iterator(chunk_size=chunk):
            yield make_row(row)


def gold_csv(project: Project, filters: GoldFilters = GoldFilters()) -> Iterator[str]:
    """The gold CSV download: the header, then pieces of rows as they are read.

    On PostgreSQL the database writes the CSV itself (COPY … TO STDOUT, the same
    columns, ISO timestamps) and Python only relays its blocks: a million-row file
    is bound by the query, not by per-row Python. Elsewhere the csv module writes
    gold_csv_cells(). Both read back alike with any CSV reader (tests pin it).
    """
    if connection.vendor != "postgresql":
        yield from csv_chunks(
            gold_rows(project, filters, make_row=gold_csv_cells), GOLD_COLUMNS
        )
        return
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(GOLD_COLUMNS)  # as COPY's rows
    yield header.getvalue()
    sql, params = gold_copy_values(
        gold_labels(project, filters)
    ).query.sql_with_params()
    yield from _copy_text(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)


def gold_jsonl(project: Project, filters: GoldFilters = GoldFilters()) -> Iterator[str]:
    """The gold JSONL download; on PostgreSQL each line is built by the database.

    The COPY query of gold_csv() becomes a subquery and json_build_object makes
    the line with the API's keys in the API's order; CSV mode with delimiter and
    quote bytes JSON never holds raw (\\x01, \\x02) passes each line through as it
    is. Elsewhere, json.dumps of gold_row().
    """
    if connection.vendor != "postgresql":
        yield from jsonl_chunks(gold_rows(project, filters))
        return
    sql, params = gold_copy_values(
        gold_labels(project, filters)
    ).query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(name) for name in GOLD_COLUMNS)
    fields = ", ".join(
        f"'{name}', {JSON_FIELDS.get(name, 'r.' + connection.ops.quote_name(name))}"
        for name in GOLD_COLUMNS
    )
    statement = (
        f"COPY (SELECT json_build_object({fields}) FROM ({sql}) AS r({names})) "
        "TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
    )
    yield from _copy_text(statement, params)


JSON_FIELDS = {
    "categories": "CASE WHEN r.categories = '' THEN '[]'::json "
    "ELSE to_json(string_to_array(r.categories, '|')) END",
    "coder_codes": "r.coder_codes::json",
}


class IsoText(Func):
    """A timestamp as ISO 8601 text, as Python's isoformat() reads it back."""

    template = "(to_json(%(expressions)s) #>> '{}')"
    output_field = TextField()


def gold_copy_values(labels: QuerySet) -> QuerySet:
    """GOLD_COLUMNS as PostgreSQL computes them for COPY (see gold_csv)."""
    set_keys = (
        GoldLabelCategory.objects.filter(gold_label=OuterRef("pk"))
        .order_by()
        .values("gold_label")
        .annotate(keys=KeysAgg("category__key", ordered=True))
        .values("keys")
    )
    return (
        labels.annotate(
            x_categories=Coalesce(
                F("category__key"),
                Subquery(set_keys, output_field=TextField()),
                Value(""),
                output_field=TextField(),
            ),
            x_decided_at=IsoText("decided_at"),
            x_codes=Cast("coder_codes", TextField()),
            x_updated_at=IsoText("updated_at"),
        )
        .values_list(
            "span_id",
            "span__document_id",
            "span__document__title",
            "span__start",
            "span__end",
            "span__text",
            "dimension__key",
            "x_categories",
            "method",
            "decided_by__username",
            "x_decided_at",
            "posterior",
            "codebook__version",
            "n_ratings",
            "x_codes",
            "agreement",
            "note",
            "x_updated_at",
        )  # fmt: skip
        .order_by("span_id", "dimension_id")
    )


def _copy_text(statement: str, params) -> Iterator[str]:
    """A COPY … TO STDOUT's output as text, in pieces of about FLUSH_CHARS.

    Decoded incrementally: a block may end inside a multi-byte character.
    """
    decode = codecs.getincrementaldecoder("utf-8")().decode
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(statement, params) as copy,
    ):
        pending: list[bytes] = []
        size = 0
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= FLUSH_CHARS:
                yield decode(b"".join(pending))
                pending, size = [], 0
        yield decode(b"".join(pending), final=True)


# --- annotations ---------------------------------------------------------------------


def annotations_of(project: Project) -> QuerySet:
    return Annotation.objects.filter(project=project)


ANNOTATION_VALUES = (
    "pk", "assignment__span_id", "assignment__span__document_id",
    "assignment__span__document__title", "assignment__span__start",
    "assignment__span__end", "assignment__span__text", "assignment__coder_id",
    "assignment__coder__username", "label_pairs", "uncertain", "comment", "seconds",
    "codebook__version", "created_at", "updated_at",
)  # fmt: skip


def annotation_values(annotations: QuerySet) -> QuerySet:
    """Annotations as tuples in ANNOTATION_VALUES order; labels as 'dim:key|…'."""
    pairs = (
        Label.objects.filter(annotation=OuterRef("pk"))
        .order_by()
        .values("annotation")
        .annotate(
            pairs=KeysAgg(
                Concat(
                    F("dimension__key"),
                    Value(":"),
                    F("category__key"),
                    output_field=CharField(),
                )
            )
        )
        .values("pairs")
    )
    return annotations.annotate(
        label_pairs=Subquery(pairs, output_field=TextField())
    ).values_list(*ANNOTATION_VALUES)


def parse_pairs(joined: str | None) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for pair in split_keys(joined):
        dimension, key = pair.split(":", 1)
        labels.setdefault(dimension, []).append(key)
    return labels


def annotation_row(values: tuple) -> dict:
    (pk, span_id, document_id, title, start, end, text, coder_id, coder, pairs,
     uncertain, comment, seconds, codebook_version, created_at,
     updated_at) = values  # fmt: skip
    return {
        "annotation_id": pk,
        "span_id": span_id,
        "document_id": document_id,
        "document_title": title,
        "start": start,
        "end": end,
        "text": text,
        "coder_id": coder_id,
        "coder": coder,
        "labels": parse_pairs(pairs),
        "uncertain": uncertain,
        "comment": comment,
        "seconds": seconds,
        "codebook_version": codebook_version,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def annotation_rows(
    project: Project,
    *,
    make_row: Callable[[tuple], T] = annotation_row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every annotation of the project (raw codes per coder), oldest first."""
    values = annotation_values(annotations_of(project)).order_by("pk")
    with transaction.atomic():  # a lazy server-side cursor, see gold_rows
        for row in values.iterator(chunk_size=chunk):
            yield make_row(row)


def dimension_keys(project: Project) -> list[str]:
    """Dimension keys of the project's codebook, then any only older versions had.

    They are the annotation CSV's label columns, one per dimension.
    """
    keys: list[str] = []
    for key in (
        Dimension.objects.filter(codebook__family=project.codebook.family)
        .order_by("-codebook__version", "position", "pk")
        .values_list("key", flat=True)
    ):
        if key not in keys:
            keys.append(key)
    return keys


# --- writers -------------------------------------------------------------------------


def _csv_cell(value):
    if isinstance(value, list):
        return SEPARATOR.join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value  # None is written as an empty cell


def annotation_csv_cells(labels: Iterable[str]) -> Callable[[tuple], list]:
    """annotation_values() tuples as CSV cells: ANNOTATION_COLUMNS, `labels`
    replaced by one `label_<key>` column per dimension key."""
    keys = list(labels)

    def cells(values: tuple) -> list:
        row = annotation_row(values)
        codes = row.pop("labels")
        return [_csv_cell(value) for value in row.values()] + [
            SEPARATOR.join(codes.get(key, ())) for key in keys
        ]

    return cells


def annotation_csv_header(labels: Iterable[str]) -> list[str]:
    return [c for c in ANNOTATION_COLUMNS if c != "labels"] + [
        f"label_{key}" for key in labels
    ]


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
