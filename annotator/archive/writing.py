"""Writing: one project and every row it refers to → a gzip'd JSON Lines archive."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from annotator.archive.tables import (
    BATCH,
    FORMAT,
    TABLES,
    USER_FIELDS,
    VERSION,
    json_users,
)
from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    CheckAnswer,
    Codebook,
    DesignChange,
    GoldLabel,
    GoldLabelRevision,
    GoldRun,
    Membership,
    Project,
    ReferenceItem,
    TrainingAttempt,
)
from annotator.training.checks import score_pending


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _codebook_ids(project: Project) -> list[int]:
    """The project's codebook family, plus any version its rows were made under."""
    used: set[int] = set()
    for model in (Annotation, GoldLabel, ReferenceItem, TrainingAttempt):
        used |= set(
            model.objects.filter(project=project).values_list("codebook_id", flat=True)
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
        (DesignChange, "changed_by"),
        (GoldRun, "created_by"),
        (GoldLabel, "decided_by"),
        (ReferenceItem, "created_by"),
        (TrainingAttempt, "coder"),
        (TrainingAttempt, "decided_by"),
        (CheckAnswer, "coder"),
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


def rows_to_archive(project: Project) -> int:
    """How many rows (users included) write_archive will write for the project:
    the total of an archive job's progress."""
    codebooks = _codebook_ids(project)
    users = len(_user_ids(project))
    return users + sum(table.rows(project, codebooks).count() for table in TABLES)


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
                    value = json_users(table.model, f.name, value, username)
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
    # Answers to hidden checks live in the pool, which is not archived: only the
    # scored rows are (training.checks), so score what no page has scored yet.
    score_pending(project)
    with open(path, "wb") as out:
        return write_archive(project, out)
