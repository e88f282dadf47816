"""The PostgreSQL fast path: the database writes the gold CSV and JSONL with COPY."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models import QuerySet

from annotator.exporting.columns import GOLD, GOLD_COLUMNS
from annotator.exporting.writers import FLUSH_CHARS, FORMULA_STARTS


def gold_copy_values(labels: QuerySet) -> QuerySet:
    """GOLD_COLUMNS as PostgreSQL computes them for COPY (columns.GOLD's `copy`)."""
    return GOLD.select_copy(labels).order_by("span_id", "dimension_id")


def safe_sql(column: str) -> str:
    """writers.formula_safe in SQL: a text cell that would open as a formula in a
    spreadsheet gets a leading single quote."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    return (
        f"CASE WHEN left({column}, 1) IN ({starts}) "
        f"THEN chr(39) || {column} ELSE {column} END"
    )


def gold_copy_csv(labels: QuerySet, *, raw: bool = False) -> Iterator[str]:
    """The gold CSV as COPY … TO STDOUT writes it, after a header in its style.

    Python only relays the database's blocks: a million-row file is bound by the
    query, not by per-row Python. Rows end in \\n, COPY's line end. Unless `raw`,
    the text columns pass through safe_sql() in an outer query (the inner one is
    the JSONL's too, whose text stays exact).
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(GOLD_COLUMNS)  # as COPY's rows
    yield header.getvalue()
    sql, params = gold_copy_values(labels).query.sql_with_params()
    if not raw:
        quote = connection.ops.quote_name
        names = ", ".join(quote(name) for name in GOLD_COLUMNS)
        cells = ", ".join(
            safe_sql(f"r.{quote(c.name)}") if c.text else f"r.{quote(c.name)}"
            for c in GOLD.columns
        )
        sql = f"SELECT {cells} FROM ({sql}) AS r({names})"
    yield from copy_text(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)


def gold_copy_jsonl(labels: QuerySet) -> Iterator[str]:
    """The gold JSONL with each line built by the database.

    The COPY query of gold_copy_csv() becomes a subquery and json_build_object
    makes the line with the API's keys in the API's order; CSV mode with delimiter
    and quote bytes JSON never holds raw (\\x01, \\x02) passes each line through as
    it is.
    """
    sql, params = gold_copy_values(labels).query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in GOLD_COLUMNS)
    fields = ", ".join(
        f"'{column.name}', "
        + column.copy_json.replace("{column}", f"r.{quote(column.name)}")
        for column in GOLD.columns
    )
    statement = (
        f"COPY (SELECT json_build_object({fields}) FROM ({sql}) AS r({names})) "
        "TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
    )
    yield from copy_text(statement, params)


def copy_text(statement: str, params) -> Iterator[str]:
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
