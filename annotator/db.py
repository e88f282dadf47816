"""Raw-SQL helpers for the hot paths: run a statement, lock clauses, rows as models.

The claim, the submit, the coders' access check, their progress and the span in
context run every few seconds per coder, for hours: their statements are written out
in SQL, fixed strings with parameters, because building and compiling the equivalent
QuerySets cost more CPU than the database spends running them. These helpers are
what such code shares; everything else uses the ORM. Which statements take a
PostgreSQL-only shape is decided by ``corpus.db.fast_path``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from django.db import connection
from django.db.models import DateTimeField, Model

Params = Mapping | Sequence
M = TypeVar("M", bound=Model)
# The largest id a bigint column holds: raw SQL must not be handed a bigger one
# (SQLite's driver raises OverflowError where the ORM would find no row).
MAX_ID = 2**63 - 1


def row_id(value: object) -> int | None:
    """`value` (a URL's or a form's text) as a row id, or None if it cannot be one."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def fetch_rows(sql: str, params: Params = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_row(sql: str, params: Params = ()) -> tuple | None:
    rows = fetch_rows(sql, params)
    return rows[0] if rows else None


def execute(sql: str, params: Params = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def for_update(of: str = "", *, skip_locked: bool = False) -> str:
    """The row-lock clause where the database has row locks ("" on SQLite, whose
    IMMEDIATE transactions serialise the writers instead)."""
    if not connection.features.has_select_for_update:
        return ""
    return (
        " FOR UPDATE"
        + (f" OF {of}" if of else "")
        + (" SKIP LOCKED" if skip_locked else "")
    )


def db_time(value: datetime | None):
    """A datetime as a query parameter (SQLite stores naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value) -> datetime | None:
    """A datetime read by raw SQL: PostgreSQL returns it aware, SQLite naive UTC."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def from_row(model: type[M], **values) -> M:
    """An instance of values read by raw SQL, as the ORM would load it: not
    "unsaved", datetimes aware; fields not given are deferred (read on first
    access, never silently empty)."""
    names = []
    for field in model._meta.concrete_fields:
        if field.attname in values:
            names.append(field.attname)
            if isinstance(field, DateTimeField):
                values[field.attname] = aware(values[field.attname])
    return model.from_db(connection.alias, names, [values[name] for name in names])
