"""A whole project in one file, and back: archive_project / restore_project.

The archive is gzip'd JSON Lines: a header line (format name, version), then one line
per row, table by table in dependency order (users, corpus, documents, spans,
codebook versions, the project, memberships, work items, assignments, annotations,
labels, their revisions, gold runs, gold labels, their categories and revisions),
then a trailer with the row count of every table, so a truncated file is refused
rather than half restored.

Rows keep their original ids only as references inside the file: a restore inserts
fresh rows and maps every foreign key (and the user ids kept inside JSON: coder_codes,
coder_accuracy, a gold revision's decided_by) through what it inserted, so an
archive loads into any database. Users travel by username and are created, without a
usable password, when missing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Category,
    Codebook,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldRun,
    Label,
    Membership,
    Project,
    WorkItem,
)
from corpus.models import Corpus, Document, Span

FORMAT = "annotator-project-archive"
VERSION = 1
BATCH = 2000
USER_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "date_joined",
)


class ArchiveError(ValidationError):
    """The file is not a restorable archive, or it clashes with the database."""

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    rows: Callable[[Project, list[int]], models.QuerySet]
    # Integer columns that are references without a ForeignKey: {attname: model}.
    loose_keys: tuple[tuple[str, type[models.Model]], ...] = ()

    @property
    def name(self) -> str:
        return self.model._meta.label_lower


# In dependency order: a row only refers to tables above it.
TABLES: tuple[Table, ...] = (
    Table(Corpus, lambda p, cb: Corpus.objects.filter(pk=p.corpus_id)),
    Table(Document, lambda p, cb: Document.objects.filter(corpus_id=p.corpus_id)),
    Table(Span, lambda p, cb: Span.objects.filter(document__corpus_id=p.corpus_id)),
    Table(Codebook, lambda p, cb: Codebook.objects.filter(pk__in=cb)),
    Table(Dimension, lambda p, cb: Dimension.objects.filter(codebook__in=cb)),
    Table(Category, lambda p, cb: Category.objects.filter(dimension__codebook__in=cb)),
    Table(Project, lambda p, cb: Project.objects.filter(pk=p.pk)),
    Table(Membership, lambda p, cb: Membership.objects.filter(project=p)),
    Table(
        WorkItem,
        lambda p, cb: WorkItem.objects.filter(project=p),
        loose_keys=(("document_id", Document),),
    ),
    Table(Assignment, lambda p, cb: Assignment.objects.filter(project=p)),
    Table(Annotation, lambda p, cb: Annotation.objects.filter(project=p)),
    Table(Label, lambda p, cb: Label.objects.filter(project=p)),
    Table(
        AnnotationRevision,
        lambda p, cb: AnnotationRevision.objects.filter(annotation__project=p),
    ),
    Table(GoldRun, lambda p, cb: GoldRun.objects.filter(project=p)),
    Table(GoldLabel, lambda p, cb: GoldLabel.objects.filter(project=p)),
    Table(
        GoldLabelCategory,
        lambda p, cb: GoldLabelCategory.objects.filter(gold_label__project=p),
    ),
    Table(
        GoldLabelRevision,
        lambda p, cb: GoldLabelRevision.objects.filter(gold_label__project=p),
    ),
)
TABLE_BY_NAME = {table.name: table for table in TABLES}


# --- user ids inside JSON ------------------------------------------------------------


def _json_users(model: type[models.Model], name: str, value: Any, to: Callable) -> Any:
    """JSON values that hold user ids, with each id passed through `to`.

    GoldLabel.coder_codes and GoldRun.coder_accuracy are keyed by coder id; a gold
    revision's old/new state names its deciding reviewer by id.
    """
    if model in (GoldLabel, GoldRun) and name in ("coder_codes", "coder_accuracy"):
        return {str(to(key)): codes for key, codes in (value or {}).items()}
    if (
        model is GoldLabelRevision
        and name in ("old", "new")
        and isinstance(value, dict)
        and value.get("decided_by") is not None
    ):
        return {**value, "decided_by": to(value["decided_by"])}
    return value


# --- writing -------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _codebook_ids(project: Project) -> list[int]:
    """The project's codebook family, plus any version its rows were made under."""
    used = set(
        Annotation.objects.filter(project=project).values_list("codebook_id", flat=True)
    ) | set(
        GoldLabel.objects.filter(project=project).values_list("codebook_id", flat=True)
    )
    family = project.codebook.family
    return list(
        Codebook.objects.filter(Q(family=family) | Q(pk__in=used))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _user_ids(project: Project) -> set[int]:
    """Every user a row of the project refers to."""
    ids = set(Membership.objects.filter(project=project).values_list("user", flat=True))
    for model, column in (
        (Assignment, "coder"),
        (Project, "created_by"),
        (GoldRun, "created_by"),
        (GoldLabel, "decided_by"),
    ):
        key = "pk" if model is Project else "project"
        ids |= set(
            model.objects.filter(**{key: project.pk}).values_list(column, flat=True)
        )
    ids |= set(
        AnnotationRevision.objects.filter(annotation__project=project).values_list(
            "changed_by", flat=True
        )
    )
    ids |= set(
        GoldLabelRevision.objects.filter(gold_label__project=project).values_list(
            "changed_by", flat=True
        )
    )
    return {i for i in ids if i is not None}


def _rows(project: Project) -> Iterator[dict]:
    User = get_user_model()
    usernames = dict(
        User.objects.filter(pk__in=_user_ids(project)).values_list("pk", "username")
    )
    for user in User.objects.filter(pk__in=usernames).order_by("pk"):
        yield {"t": "user", "f": {f: _plain(getattr(user, f)) for f in USER_FIELDS}}

    def username(user_id: Any) -> str | None:
        return None if user_id is None else usernames[int(user_id)]

    codebooks = _codebook_ids(project)
    for table in TABLES:
        fields = table.model._meta.concrete_fields
        for obj in table.rows(project, codebooks).order_by("pk").iterator(BATCH):
            row = {}
            for f in fields:
                if f.primary_key:
                    continue
                value = getattr(obj, f.attname)
                if f.is_relation and f.related_model is User:
                    value = username(value)
                elif isinstance(f, models.JSONField):
                    value = _json_users(table.model, f.name, value, username)
                row[f.attname] = _plain(value)
            yield {"t": table.name, "id": obj.pk, "f": row}


def write_archive(project: Project, out: IO[bytes]) -> dict[str, int]:
    """Write `project` and everything it refers to; returns rows per table."""
    counts: dict[str, int] = {}
    with gzip.open(out, "wt", encoding="utf-8") as z:
        header = {
            "format": FORMAT,
            "version": VERSION,
            "project": {"id": project.pk, "name": project.name},
            "written_at": timezone.now().isoformat(),
        }
        z.write(json.dumps(header) + "\n")
        with transaction.atomic():  # one consistent snapshot on PostgreSQL
            for row in _rows(project):
                counts[row["t"]] = counts.get(row["t"], 0) + 1
                z.write(json.dumps(row, ensure_ascii=False) + "\n")
        z.write(json.dumps({"end": True, "counts": counts}) + "\n")
    return counts


def archive_project(project: Project, path: str | Path) -> dict[str, int]:
    with open(path, "wb") as out:
        return write_archive(project, out)


# --- reading -------------------------------------------------------------------------


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


def _lines(stream: IO[bytes], origin: str) -> Iterator[tuple[int, dict]]:
    try:
        with gzip.open(stream, "rt", encoding="utf-8") as z:
            for number, line in enumerate(z, start=1):
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ArchiveError(
                        f"{origin}, line {number}: not JSON ({exc.msg})."
                    ) from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ArchiveError(
            f"{origin}: not a complete project archive (gzip'd JSON Lines): {exc}."
        ) from None


class _Restorer:
    def __init__(self, origin: str):
        self.origin = origin
        self.ids: dict[str, dict[int, int]] = {t.name: {} for t in TABLES}
        self.users: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.pending: list[tuple[int, models.Model]] = []
        self.pending_table: Table | None = None

    def fail(self, line: int, problem: str) -> ArchiveError:
        return ArchiveError(f"{self.origin}, line {line}: {problem}")

    def user(self, line: int, fields: dict) -> None:
        User = get_user_model()
        name = fields.get("username")
        if not name:
            raise self.fail(line, "a user without a username.")
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User(**{f: fields[f] for f in USER_FIELDS if f in fields})
            user.date_joined = fields.get("date_joined") or timezone.now()
            user.set_unusable_password()
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
                value = _json_users(
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
        self.pending.append((old_id, table.model(**values)))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = self.pending_table
        objs = table.model.objects.bulk_create([obj for _, obj in self.pending])
        ids = self.ids[table.name]
        for (old_id, _), obj in zip(self.pending, objs, strict=True):
            ids[old_id] = obj.pk
        self.counts[table.name] = self.counts.get(table.name, 0) + len(objs)
        self.pending = []

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
        return Project.objects.get(pk=project_ids[0])


def restore_project(path: str | Path) -> Project:
    with open(path, "rb") as stream:
        return read_archive(stream, str(path))
