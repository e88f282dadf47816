"""The export's column tables: each output column described once, rows built from it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import transaction
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
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Cast, Coalesce, Concat

from annotator.models import GoldLabelCategory, Label

T = TypeVar("T")
Convert = Callable[[Any], Any]
SEPARATOR = "|"  # between the keys of a multi-choice code in CSV (as agreement --csv)
CHUNK_ROWS = 2000  # rows per server-side cursor fetch


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


CODER_NAMES = "coder_names"  # the annotation exporting.filters.gold_labels adds


class CoderNames(Func):
    """{coder id: username} for the ids a gold row's coder_codes names, as JSON text.

    The usernames come from one map of the project's coders, read once per export
    and bound as one JSON parameter (the CODER_NAMES annotation of gold_labels()),
    so a row costs a lookup in that map, not a probe of the user table. Coder ids
    inside coder_codes are JSON keys, which no foreign key covers; an id missing
    from the map (a user deleted since) drops out. SQL spelled per dialect
    (json_each / jsonb_object_keys), as KeysAgg is; the same expression serves
    COPY, so both export paths write the same text.
    """

    output_field = TextField()

    def __init__(self, codes: str, names: str = CODER_NAMES, **extra):
        super().__init__(codes, names, **extra)

    def as_sql(self, compiler, connection, **extra):  # SQLite
        (codes, codes_params), (names, names_params) = (
            compiler.compile(source) for source in self.get_source_expressions()
        )
        return (
            "(SELECT COALESCE(json_group_object(j.key, n.value), '{}') "
            f"FROM json_each({codes}) AS j JOIN json_each({names}) AS n "
            "ON n.key = j.key)"
        ), (*codes_params, *names_params)

    def as_postgresql(self, compiler, connection, **extra):
        (codes, codes_params), (names, names_params) = (
            compiler.compile(source) for source in self.get_source_expressions()
        )
        # The map once in FROM, so its parameter is bound once per statement.
        return (
            "(SELECT COALESCE(jsonb_object_agg(j.key, n.map -> j.key), '{}'::jsonb)"
            f"::text FROM (SELECT ({names})::jsonb AS map) AS n, "
            f"jsonb_object_keys({codes}) AS j(key) WHERE n.map ? j.key)"
        ), (*names_params, *codes_params)


def split_keys(joined: str | None) -> list[str]:
    return sorted(joined.split(SEPARATOR)) if joined else []


def join_keys(joined: str | None) -> str:
    """KeysAgg's text as a CSV cell: the same keys, sorted as the JSON list is."""
    return SEPARATOR.join(split_keys(joined))


def parse_pairs(joined: str | None) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for pair in split_keys(joined):
        dimension, key = pair.split(":", 1)
        labels.setdefault(dimension, []).append(key)
    return labels


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, the form `updated_since` accepts back."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def json_object(text: str | None) -> Any:
    return json.loads(text) if text else {}


def json_text(text: str | None) -> str:
    """JSON text as a CSV cell, unparsed: the hot loop of a big download."""
    return text or "{}"


@dataclass(frozen=True)
class Column:
    """One output column, the only place that says what it holds.

    `value` is what the portable query selects (a field path or an expression);
    `to_json` makes the API / JSONL value of it and `to_cell` the CSV cell (None:
    the value as selected; a missing to_cell falls back on to_json). `copy` is
    what PostgreSQL's COPY selects instead (None: `value`): text that reads back
    as the value to_cell gives (PostgreSQL spells a whole float 1 and drops
    trailing zeros of microseconds; tests/annotator/test_export_fast_paths.py);
    `copy_json` is the SQL making the JSONL value of it, `{column}` standing
    for it. `text`: free text or a key (anyone's input), which the CSV quotes when
    it would open as a formula (writers.formula_safe; COPY: pg_copy.safe_sql).
    """

    name: str
    value: str | BaseExpression
    to_json: Convert | None = None
    to_cell: Convert | None = None
    copy: str | BaseExpression | None = None
    copy_json: str = "{column}"
    text: bool = False


def _selected(
    columns: tuple[Column, ...], pick: Callable[[Column], str | BaseExpression]
) -> tuple[tuple[str, ...], dict[str, BaseExpression]]:
    """values_list names, and the annotations they need, for one query's columns.

    Expressions are annotated as x_<name>: the bare name may be a model field
    (`categories` is GoldLabel's multi-choice relation).
    """
    names: list[str] = []
    annotations: dict[str, BaseExpression] = {}
    for column in columns:
        value = pick(column)
        if isinstance(value, str):
            names.append(value)
        else:
            names.append(f"x_{column.name}")
            annotations[f"x_{column.name}"] = value
    return tuple(names), annotations


class Table:
    """Columns in output order, and the queries and row shapes that follow."""

    def __init__(self, *columns: Column) -> None:
        self.columns = columns
        self.names = tuple(column.name for column in columns)
        self.values, self._annotations = _selected(columns, lambda c: c.value)
        self.copy_values, self._copy_annotations = _selected(
            columns, lambda c: c.value if c.copy is None else c.copy
        )
        # Only the columns that change are touched per row: the rest pass as read.
        self._to_json = tuple(
            (at, column.name, column.to_json)
            for at, column in enumerate(columns)
            if column.to_json is not None
        )
        self._to_cell = tuple(
            (at, column.to_cell or column.to_json)
            for at, column in enumerate(columns)
            if column.to_cell is not None or column.to_json is not None
        )

    def select(self, queryset: QuerySet) -> QuerySet:
        """`queryset` as tuples of the portable values, in column order."""
        return queryset.annotate(**self._annotations).values_list(*self.values)

    def select_copy(self, queryset: QuerySet) -> QuerySet:
        """`queryset` as tuples of COPY's values (PostgreSQL only), column order."""
        return queryset.annotate(**self._copy_annotations).values_list(
            *self.copy_values
        )

    def row(self, values: tuple) -> dict[str, Any]:
        """A select() tuple as the row the API and JSONL share."""
        row = dict(zip(self.names, values, strict=True))
        for at, name, convert in self._to_json:
            row[name] = convert(values[at])
        return row

    def cells(self, values: tuple) -> list[Any]:
        """A select() tuple as CSV cells (None is an empty cell), no dict between."""
        cells = list(values)
        for at, convert in self._to_cell:
            cells[at] = convert(cells[at])
        return cells


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


def _set_keys(ordered: bool) -> Subquery:
    """A multi-choice gold label's category keys, joined (see KeysAgg)."""
    return Subquery(
        GoldLabelCategory.objects.filter(gold_label=OuterRef("pk"))
        .order_by()
        .values("gold_label")
        .annotate(keys=KeysAgg("category__key", ordered=ordered))
        .values("keys"),
        output_field=TextField(),
    )


GOLD = Table(
    Column("span_id", "span_id"),
    Column("document_id", "span__document_id"),
    Column("document_title", "span__document__title", text=True),
    Column("start", "span__start"),
    Column("end", "span__end"),
    Column("text", "span__text", text=True),
    Column("dimension", "dimension__key", text=True),
    Column(
        "categories",
        # The subquery runs only where `category` is empty (multi-choice), so
        # single-choice rows cost no extra lookup. One text for both: keys are
        # slugs, so a single key splits back to itself.
        Case(
            When(category__isnull=True, then=_set_keys(ordered=False)),
            default=F("category__key"),
            output_field=TextField(),
        ),
        to_json=split_keys,
        to_cell=join_keys,
        copy=Coalesce(
            F("category__key"),
            _set_keys(ordered=True),
            Value(""),
            output_field=TextField(),
        ),
        copy_json="CASE WHEN {column} = '' THEN '[]'::json "
        "ELSE to_json(string_to_array({column}, '" + SEPARATOR + "')) END",
        text=True,
    ),
    Column("method", "method", text=True),
    Column("decided_by", "decided_by__username", text=True),
    Column("decided_at", "decided_at", to_json=iso, copy=IsoText("decided_at")),
    Column("posterior", "posterior"),
    Column("codebook_version", "codebook__version"),
    Column("n_ratings", "n_ratings"),
    Column(
        "coder_codes",
        # JSON text, so a CSV writes it as it is.
        Cast("coder_codes", TextField()),
        to_json=json_object,
        to_cell=json_text,
        copy_json="{column}::json",
    ),
    Column(
        "coder_usernames",
        # coder_codes' ids by name: {coder id: username}.
        CoderNames("coder_codes", CODER_NAMES),
        to_json=json_object,
        to_cell=json_text,
        copy_json="{column}::json",
    ),
    Column("agreement", "agreement"),
    Column("note", "note", text=True),
    # Last: the API's keyset pages read it off the end of each tuple.
    Column("updated_at", "updated_at", to_json=iso, copy=IsoText("updated_at")),
)

ANNOTATION = Table(
    # First and last: the API's keyset pages read (updated_at, pk) off the ends.
    Column("annotation_id", "pk"),
    Column("span_id", "assignment__span_id"),
    Column("document_id", "assignment__span__document_id"),
    Column("document_title", "assignment__span__document__title"),
    Column("start", "assignment__span__start"),
    Column("end", "assignment__span__end"),
    Column("text", "assignment__span__text"),
    Column("coder_id", "assignment__coder_id"),
    Column("coder", "assignment__coder__username"),
    Column(
        "labels",
        # 'dimension:key|…'; the CSV spreads it over one column per dimension.
        Subquery(
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
            .values("pairs"),
            output_field=TextField(),
        ),
        to_json=parse_pairs,
    ),
    Column("uncertain", "uncertain"),
    Column("comment", "comment"),
    Column("seconds", "seconds"),
    Column("codebook_version", "codebook__version"),
    Column("source", "source"),  # coded here, or imported (provenance)
    Column("created_at", "created_at", to_json=iso),
    Column("updated_at", "updated_at", to_json=iso),
)

GOLD_COLUMNS = GOLD.names
GOLD_VALUES = GOLD.values  # gold_values()'s values_list names
ANNOTATION_COLUMNS = ANNOTATION.names
ANNOTATION_VALUES = ANNOTATION.values  # annotation_values()'s values_list names
