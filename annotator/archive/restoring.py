"""Restoring: an archive → fresh rows with every reference mapped, all or nothing."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from annotator.archive.checks import (
    Consistency,
    Problem,
    shape_problem,
    typed_value,
)
from annotator.archive.lines import archive_lines
from annotator.archive.tables import (
    ADDED_LATER,
    BATCH,
    BATCH_BYTES,
    FORMAT,
    TABLE_BY_NAME,
    TABLES,
    VERSION,
    ArchiveError,
    Table,
    json_users,
)
from annotator.gold.queue import rebuild_waiting
from annotator.models import CheckAnswer, Codebook, GoldRun, Membership, Project
from annotator.training.pool import rebuild_pool
from corpus.models import Corpus, Document, Span


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
# One of each per archive: a second would be rows of a project nobody asked for.
SINGLE = (Corpus, Project)


class _Restorer:
    def __init__(self, origin: str, allow_managers: bool | Collection[str]):
        self.origin = origin
        self.allow_managers = allow_managers
        self.ids: dict[str, dict[int, int]] = {t.name: {} for t in TABLES}
        self.users: dict[str, int] = {}
        self.created_users: set[str] = set()
        self.counts: dict[str, int] = {}
        self.n_rows = 0
        self.pending: list[tuple[int, int, models.Model]] = []
        self.pending_ids: set[int] = set()
        self.pending_bytes = 0
        self.pending_table: Table | None = None
        self.consistency = Consistency(
            lambda pk: Document.objects.only("text").get(pk=pk)
        )

    def fail(self, line: int, problem: str) -> ArchiveError:
        return ArchiveError(f"{self.origin}, line {line}: {problem}")

    def user(self, line: int, fields: dict) -> None:
        User = get_user_model()
        try:
            values = {
                f: typed_value(User._meta.get_field(f), fields.get(f))
                for f in (*RESTORED_USER_FIELDS, "date_joined")
                if f in fields or f == "username"
            }
        except Problem as exc:
            raise self.fail(line, f"user.{exc}") from None
        name = values["username"]
        # An existing user is matched by username and left exactly as it is: a
        # restore never changes anyone's rights or details.
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User(**values)
            user.date_joined = user.date_joined or timezone.now()
            user.set_unusable_password()
            try:
                user.full_clean(exclude=["password"])
            except ValidationError as exc:
                raise self.fail(line, f"user '{name}': {_named(exc, 'user')}") from None
            user.save()
            self.created_users.add(name)
        self.users[name] = user.pk

    def user_id(self, name: Any) -> int | None:
        """A username's new id; a ValueError the caller names when it has none."""
        if name is None:
            return None
        if not isinstance(name, str):  # inside JSON, not typed by its field
            raise ValueError(f"expected a username, got {name!r}.")
        if name not in self.users:
            raise ValueError(f"user {name!r} is not in the archive.")
        return self.users[name]

    def mapped(self, model: type[models.Model], old: int | None) -> int | None:
        if old is None:
            return None
        name = model._meta.label_lower
        if old not in self.ids[name]:
            raise ValueError(f"refers to {name} {old!r}, not in the archive.")
        return self.ids[name][old]

    def row(self, line: int, size: int, table: Table, old_id: Any, fields: dict):
        if not isinstance(old_id, int) or isinstance(old_id, bool):
            raise self.fail(
                line, f"{table.name}.id: expected a row id, got {old_id!r}."
            )
        if table is not self.pending_table:
            # Rows refer to tables above them: those must have their new ids first.
            self.flush()
            self.pending_table = table
        if table.model in SINGLE and (self.ids[table.name] or self.pending):
            raise self.fail(
                line, f"{table.name}: a second one; an archive holds only one."
            )
        seen = self.ids[table.name]
        if table.referenced and (old_id in seen or old_id in self.pending_ids):
            raise self.fail(
                line, f"{table.name}.id: {old_id} is the id of an earlier row too."
            )
        try:
            obj = self.build(table, old_id, fields)
        except Problem as exc:
            raise self.fail(line, f"{table.name}.{exc}") from None
        self.validate(line, table, obj)
        self.check_role(line, table, fields)
        self.pending.append((line, old_id, obj))
        self.pending_ids.add(old_id)
        self.pending_bytes += size
        if len(self.pending) >= BATCH or self.pending_bytes >= BATCH_BYTES:
            self.flush()

    def build(self, table: Table, old_id: int, fields: dict) -> models.Model:
        """The row as an unsaved model: each field typed, shaped, agreeing with the
        rows it refers to, and its references mapped to the new ids."""
        User = get_user_model()
        typed = {}
        unknown = fields.keys() - {f.attname for f in table.model._meta.concrete_fields}
        if unknown:  # dropping it silently would lose what a newer format says
            raise Problem(min(unknown), "not a field of this table.")
        for f in table.model._meta.concrete_fields:
            if f.primary_key:
                continue
            if f.attname not in fields and (table.name, f.attname) in ADDED_LATER:
                typed[f.attname] = f.get_default()  # an archive older than it
                continue
            if f.attname not in fields:
                raise Problem(f.attname, "missing.")
            typed[f.attname] = typed_value(f, fields[f.attname])
            shape_problem(table.model, f.name, typed[f.attname])
        self.check_clashes(table, typed)
        loose = dict(table.loose_keys)
        values = {}
        for f in table.model._meta.concrete_fields:
            if f.primary_key:
                continue
            value = typed[f.attname]
            try:
                if f.is_relation and f.related_model is User:
                    value = self.user_id(value)
                elif f.is_relation:
                    value = self.mapped(f.related_model, value)
                elif f.attname in loose:
                    value = self.mapped(loose[f.attname], value)
                elif isinstance(f, models.JSONField):
                    value = json_users(table.model, f.name, value, self.user_id)
            except ValueError as exc:
                raise Problem(f.attname, str(exc)) from None
            values[f.attname] = value
        self.consistency.check(table.model, typed)
        self.consistency.remember(table.model, old_id, typed)
        return table.model(**values)

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
            if isinstance(obj, Span):
                self.consistency.check_span(obj)
            else:
                obj.clean()
        except ValidationError as exc:
            raise self.fail(line, _named(exc, table.name)) from None
        except Problem as exc:
            raise self.fail(line, f"{table.name}.{exc}") from None

    def check_role(self, line: int, table: Table, fields: dict) -> None:
        """An account that existed before this restore is made a manager of the
        restored project only when the operator said so (--allow-managers), or
        when it is one of the accounts ``allow_managers`` names (the web's
        requester, who becomes its manager anyway)."""
        allowed = self.allow_managers
        if (
            table.model is Membership
            and fields["role"] == Membership.Role.MANAGER
            and fields["user_id"] not in self.created_users
            and not (allowed is True or fields["user_id"] in (allowed or ()))
        ):
            raise self.fail(
                line,
                f"{table.name}.role: would make the existing account "
                f"'{fields['user_id']}' a manager of the restored project; an "
                "operator can restore it with `manage.py restore_project "
                "--allow-managers` if it should be.",
            )

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
        self.pending, self.pending_ids, self.pending_bytes = [], set(), 0

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

    def check_clashes(self, table: Table, fields: dict) -> None:
        """Unique names that a restore cannot map away: say so before inserting."""
        if table.model is Corpus and Corpus.objects.filter(name=fields["name"]):
            raise Problem(
                "name",
                f"a corpus named '{fields['name']}' already exists here; restore "
                "into an empty database (or rename that corpus).",
            )
        if table.model is Codebook and Codebook.objects.filter(
            family=fields["family"], version=fields["version"]
        ):
            raise Problem(
                "version",
                f"codebook '{fields['family']}' version {fields['version']} "
                "already exists here; restore into an empty database.",
            )


def _header(lines: Iterator[tuple[int, int, Any]], origin: str) -> None:
    first = next(lines, None)
    if (
        first is None
        or not isinstance(first[2], dict)
        or first[2].get("format") != FORMAT
    ):
        raise ArchiveError(f"{origin}: not a project archive (no '{FORMAT}' header).")
    if first[2].get("version") != VERSION:
        raise ArchiveError(
            f"{origin}: archive format version {first[2].get('version')!r}; this "
            f"program reads version {VERSION}."
        )


def read_archive(
    stream: IO[bytes],
    origin: str,
    *,
    allow_managers: bool | Collection[str] = False,
) -> Project:
    """Load an archive written by write_archive(): all of it, or nothing.

    ``allow_managers``: True lets the archive make any existing account a
    manager of the restored project; a collection of usernames, only those."""
    restorer = _Restorer(origin, allow_managers)
    lines = archive_lines(stream, origin)
    _header(lines, origin)
    trailer = None
    with transaction.atomic():
        # Until the rows are in: the pool rebuilt below gets its own times.
        with _keeping_timestamps():
            for number, size, row in lines:
                if trailer is not None:
                    raise restorer.fail(number, "rows after the end marker.")
                if not isinstance(row, dict):
                    raise restorer.fail(number, "not a JSON object.")
                if row.get("end"):
                    trailer = _counts(restorer, number, row)
                    continue
                restorer.count_row(number)
                kind, fields = row.get("t"), row.get("f")
                if not isinstance(fields, dict):
                    raise restorer.fail(number, "a row without fields ('f').")
                if kind == "user":
                    restorer.user(number, fields)
                    continue
                table = TABLE_BY_NAME.get(kind) if isinstance(kind, str) else None
                if table is None:
                    raise restorer.fail(number, f"unknown table {kind!r}.")
                restorer.row(number, size, table, row.get("id"), fields)
            restorer.flush()
        if trailer is None:
            raise ArchiveError(f"{origin}: truncated archive (no end marker).")
        if trailer != restorer.counts:
            raise ArchiveError(
                f"{origin}: the archive lists {trailer} rows but holds "
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
        # The pool is not archived either: a new one, with a work item per check
        # item. A check answer's change number named an annotation of the old
        # pool; scoring the new pool's starts afresh (training.checks).
        rebuild_pool(project)
        CheckAnswer.objects.filter(project=project).update(change=None)
        return project


def _counts(restorer: _Restorer, line: int, trailer: dict) -> dict[str, int]:
    """The end marker's rows per table (users aside: they are matched, not made)."""
    counts = trailer.get("counts")
    if not isinstance(counts, dict) or not all(
        isinstance(n, int) for n in counts.values()
    ):
        raise restorer.fail(line, "the end marker's counts are not {table: rows}.")
    return {k: v for k, v in counts.items() if k != "user"}


def _named(error: ValidationError, table: str) -> str:
    """A ValidationError's messages, each after the table.field it is about."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{table}.{field}: {' '.join(messages)}"
            if field != NON_FIELD_ERRORS
            else f"{table}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return f"{table}: {'; '.join(error.messages)}"


def restore_project(path: str | Path, *, allow_managers: bool = False) -> Project:
    with open(path, "rb") as stream:
        return read_archive(stream, str(path), allow_managers=allow_managers)
