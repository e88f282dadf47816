"""Restoring: an archive → fresh rows with every reference mapped, all or nothing."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from annotator.archive.tables import (
    BATCH,
    FORMAT,
    TABLE_BY_NAME,
    TABLES,
    VERSION,
    ArchiveError,
    Table,
    json_users,
)
from annotator.gold.queue import rebuild_waiting
from annotator.models import Codebook, GoldRun, Project
from corpus.models import Corpus


@contextmanager
def _keeping_timestamps():
    """Let bulk_create store the archived created/updated times, not now()."""
    switched = []
    for table in TABLES:
        for f in table.model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                switched.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# Fields a restore gives a user it creates. Never is_staff or is_superuser: an
# archive is data from elsewhere and must not hand out rights on this server.
RESTORED_USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active")


def _lines(stream: IO[bytes], origin: str) -> Iterator[tuple[int, Any]]:
    """The archive's lines parsed, one at a time, each at most
    ARCHIVE_MAX_LINE_BYTES long once decompressed (a 1 MB gzip can hold a 1 GB
    line: it is refused after reading the limit, never held whole)."""
    most = settings.ARCHIVE_MAX_LINE_BYTES
    try:
        with gzip.open(stream, "rb") as z:
            number = 0
            while line := z.readline(most + 1):
                number += 1
                if len(line) > most:
                    raise ArchiveError(
                        f"{origin}, line {number}: longer than {most:,} bytes "
                        "(ARCHIVE_MAX_LINE_BYTES)."
                    )
                yield number, _parse(line, origin, number)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(
            f"{origin}: not a complete project archive (gzip'd JSON Lines): {exc}."
        ) from None


def _parse(line: bytes, origin: str, number: int) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        problem = "not UTF-8"
    except json.JSONDecodeError as exc:
        problem = f"not JSON ({exc.msg})"
    except (RecursionError, ValueError) as exc:  # nesting; numbers past 4,300 digits
        problem = f"not a row this program reads ({type(exc).__name__})"
    raise ArchiveError(f"{origin}, line {number}: {problem}.")


class _Restorer:
    def __init__(self, origin: str):
        self.origin = origin
        self.ids: dict[str, dict[int, int]] = {t.name: {} for t in TABLES}
        self.users: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.n_rows = 0
        self.pending: list[tuple[int, int, models.Model]] = []
        self.pending_table: Table | None = None

    def fail(self, line: int, problem: str) -> ArchiveError:
        return ArchiveError(f"{self.origin}, line {line}: {problem}")

    def user(self, line: int, fields: dict) -> None:
        User = get_user_model()
        name = fields.get("username")
        if not name:
            raise self.fail(line, "a user without a username.")
        # An existing user is matched by username and left exactly as it is: a
        # restore never changes anyone's rights or details.
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User(**{f: fields[f] for f in RESTORED_USER_FIELDS if f in fields})
            user.date_joined = fields.get("date_joined") or timezone.now()
            user.set_unusable_password()
            try:
                user.full_clean(exclude=["password"])
            except ValidationError as exc:
                raise self.fail(line, f"user '{name}': {_named(exc)}") from None
            user.save()
        self.users[name] = user.pk

    def user_id(self, line: int, name: Any) -> int | None:
        if name is None:
            return None
        if name not in self.users:
            raise self.fail(line, f"user '{name}' is not in the archive.")
        return self.users[name]

    def mapped(self, line: int, model: type[models.Model], old: Any) -> int | None:
        if old is None:
            return None
        name = model._meta.label_lower
        try:
            return self.ids[name][int(old)]
        except (KeyError, ValueError, TypeError):
            raise self.fail(
                line, f"refers to {name} {old!r}, not in the archive."
            ) from None

    def row(self, line: int, table: Table, old_id: Any, fields: dict) -> None:
        if not isinstance(old_id, int):
            raise self.fail(line, f"{table.name} row without an integer id.")
        if table is not self.pending_table:
            # Rows refer to tables above them: those must have their new ids first.
            self.flush()
            self.pending_table = table
        User = get_user_model()
        loose = dict(table.loose_keys)
        values = {}
        for f in table.model._meta.concrete_fields:
            if f.primary_key:
                continue
            if f.attname not in fields:
                raise self.fail(line, f"{table.name} row lacks '{f.attname}'.")
            value = fields[f.attname]
            if f.is_relation and f.related_model is User:
                value = self.user_id(line, value)
            elif f.is_relation:
                value = self.mapped(line, f.related_model, value)
            elif f.attname in loose:
                value = self.mapped(line, loose[f.attname], value)
            elif isinstance(f, models.JSONField):
                value = json_users(
                    table.model, f.name, value, lambda u: self.user_id(line, u)
                )
            elif value is not None:
                try:
                    value = f.to_python(value)
                except ValidationError as exc:
                    raise self.fail(
                        line, f"{table.name}.{f.attname}: {'; '.join(exc.messages)}"
                    ) from None
            values[f.attname] = value
        obj = table.model(**values)
        self.validate(line, table, obj)
        self.pending.append((line, old_id, obj))
        if len(self.pending) >= BATCH:
            self.flush()

    def validate(self, line: int, table: Table, obj: models.Model) -> None:
        """The checks the admin's form runs (each field's own, the model's clean),
        without a query per row: references were mapped above, and the database's
        constraints are checked when the batch is inserted (flush)."""
        exclude = [
            f.name
            for f in table.model._meta.concrete_fields
            if f.is_relation or (f.null and getattr(obj, f.attname) is None)
        ]
        try:
            obj.clean_fields(exclude=exclude)
            obj.clean()
        except ValidationError as exc:
            raise self.fail(line, f"{table.name}: {_named(exc)}") from None

    def flush(self) -> None:
        if not self.pending:
            return
        table = self.pending_table
        try:
            with transaction.atomic():
                objs = table.model.objects.bulk_create(
                    [obj for _, _, obj in self.pending]
                )
        except DatabaseError:
            self.name_refused_row(table)
            raise
        if table.referenced:
            ids = self.ids[table.name]
            for (_, old_id, _), obj in zip(self.pending, objs, strict=True):
                ids[old_id] = obj.pk
        self.counts[table.name] = self.counts.get(table.name, 0) + len(objs)
        self.pending = []

    def name_refused_row(self, table: Table) -> None:
        """The database refused a batch: insert its rows one by one (all undone
        afterwards) to name the line it refused, and why."""
        with transaction.atomic():
            for line, _, obj in self.pending:
                try:
                    with transaction.atomic():
                        table.model.objects.bulk_create([obj])
                except DatabaseError as exc:
                    reason = str(exc).strip().splitlines()[0]
                    raise self.fail(
                        line, f"{table.name}: the database refused the row: {reason}"
                    ) from None
            transaction.set_rollback(True)

    def count_row(self, line: int) -> None:
        self.n_rows += 1
        if self.n_rows > settings.ARCHIVE_MAX_ROWS:
            raise self.fail(
                line,
                f"more than {settings.ARCHIVE_MAX_ROWS:,} rows (ARCHIVE_MAX_ROWS).",
            )

    def check_clashes(self, line: int, table: Table, fields: dict) -> None:
        """Unique names that a restore cannot map away: say so before inserting."""
        if table.model is Corpus and Corpus.objects.filter(name=fields.get("name")):
            raise self.fail(
                line,
                f"a corpus named '{fields.get('name')}' already exists here; restore "
                "into an empty database (or rename that corpus).",
            )
        if table.model is Codebook and Codebook.objects.filter(
            family=fields.get("family"), version=fields.get("version")
        ):
            raise self.fail(
                line,
                f"codebook '{fields.get('family')}' version {fields.get('version')} "
                "already exists here; restore into an empty database.",
            )


def read_archive(stream: IO[bytes], origin: str) -> Project:
    """Load an archive written by write_archive(): all of it, or nothing."""
    restorer = _Restorer(origin)
    lines = _lines(stream, origin)
    first = next(lines, None)
    if (
        first is None
        or not isinstance(first[1], dict)
        or first[1].get("format") != FORMAT
    ):
        raise ArchiveError(f"{origin}: not a project archive (no '{FORMAT}' header).")
    if first[1].get("version") != VERSION:
        raise ArchiveError(
            f"{origin}: archive format version {first[1].get('version')!r}; this "
            f"program reads version {VERSION}."
        )
    trailer = None
    with transaction.atomic(), _keeping_timestamps():
        for number, row in lines:
            if trailer is not None:
                raise restorer.fail(number, "rows after the end marker.")
            if not isinstance(row, dict):
                raise restorer.fail(number, "not a JSON object.")
            if row.get("end"):
                trailer = row
                continue
            restorer.count_row(number)
            kind, fields = row.get("t"), row.get("f")
            if not isinstance(fields, dict):
                raise restorer.fail(number, "a row without fields ('f').")
            if kind == "user":
                restorer.user(number, fields)
                continue
            table = TABLE_BY_NAME.get(kind)
            if table is None:
                raise restorer.fail(number, f"unknown table {kind!r}.")
            restorer.check_clashes(number, table, fields)
            restorer.row(number, table, row.get("id"), fields)
        restorer.flush()
        if trailer is None:
            raise ArchiveError(f"{origin}: truncated archive (no end marker).")
        written = {k: v for k, v in trailer.get("counts", {}).items() if k != "user"}
        if written != restorer.counts:
            raise ArchiveError(
                f"{origin}: the archive lists {written} rows but holds "
                f"{restorer.counts}."
            )
        project_ids = list(restorer.ids["annotator.project"].values())
        if len(project_ids) != 1:
            raise ArchiveError(f"{origin}: holds {len(project_ids)} projects, not 1.")
        project = Project.objects.get(pk=project_ids[0])
        if GoldRun.objects.filter(project=project).exists():
            # Derived, not archived (tables.NOT_ARCHIVED); none before gold was
            # ever computed, as in the project archived.
            rebuild_waiting(project)
        return project


def _named(error: ValidationError) -> str:
    """A ValidationError's messages, each after the field it is about."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return "; ".join(error.messages)


def restore_project(path: str | Path) -> Project:
    with open(path, "rb") as stream:
        return read_archive(stream, str(path))
