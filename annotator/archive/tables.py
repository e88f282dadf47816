"""The archive's shape, shared by writing and restoring: format, tables, user ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from annotator.models import (
    AgreementIntervals,
    Annotation,
    AnnotationRevision,
    Assignment,
    Category,
    ChangeCounter,
    CheckAnswer,
    Codebook,
    CoderPreferences,
    DesignChange,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldRun,
    GoldWaiting,
    Invitation,
    Job,
    JobChunk,
    JobFile,
    Label,
    MachineCoder,
    MachineLabel,
    Membership,
    PasswordResetAttempt,
    Project,
    ReferenceItem,
    TrainingAnswer,
    TrainingAttempt,
    WorkItem,
)
from corpus.models import Corpus, Document, Span

FORMAT = "annotator-project-archive"
VERSION = 1
BATCH = 2000
# A restore stores its rows when this many bytes of them (as archived) are waiting,
# or BATCH rows: a batch of big documents is flushed long before 2,000 gather.
BATCH_BYTES = 16 * 1024**2
USER_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "date_joined",
)

# Fields added after VERSION 1 was written: an archive without them restores
# with their defaults (a code "coded" here, a project open). {(table, field)}.
ADDED_LATER = frozenset(
    {
        ("annotator.annotation", "source"),
        ("annotator.project", "closed_at"),
        # Coder training (issue 16): the gate off, no checks, nobody certified.
        *(
            ("annotator.project", name)
            for name in (
                "pool_of_id",
                "certification_gate",
                "certification_min_alpha",
                "certification_min_percent",
                "certification_items",
                "check_rate",
                "check_window",
                "check_min_accuracy",
            )
        ),
        ("annotator.membership", "certified_at"),
        ("annotator.goldrun", "coder_confusion"),
        # Machine coders (issue 18): options off, no suggestion shown, unranked.
        ("annotator.project", "machine_suggestions"),
        ("annotator.project", "active_learning"),
        ("annotator.annotation", "suggestion"),
        ("annotator.annotation", "suggestion_kept"),
        ("annotator.workitem", "uncertainty"),
    }
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

    @property
    def referenced(self) -> bool:
        """Does a row of another table refer to this one? Only then does a restore
        keep its map of old to new ids (labels and revisions are most rows)."""
        return self.model in REFERENCED


# In dependency order: a row only refers to tables above it.
TABLES: tuple[Table, ...] = (
    Table(Corpus, lambda p, cb: Corpus.objects.filter(pk=p.corpus_id)),
    Table(Document, lambda p, cb: Document.objects.filter(corpus_id=p.corpus_id)),
    Table(Span, lambda p, cb: Span.objects.filter(document__corpus_id=p.corpus_id)),
    Table(Codebook, lambda p, cb: Codebook.objects.filter(pk__in=cb)),
    Table(Dimension, lambda p, cb: Dimension.objects.filter(codebook__in=cb)),
    Table(Category, lambda p, cb: Category.objects.filter(dimension__codebook__in=cb)),
    Table(Project, lambda p, cb: Project.objects.filter(pk=p.pk)),
    # Restored with the annotations' change numbers and the runs' watermarks it
    # counted, so gold freshness keeps working in the restored project.
    Table(ChangeCounter, lambda p, cb: ChangeCounter.objects.filter(project=p)),
    Table(Membership, lambda p, cb: Membership.objects.filter(project=p)),
    Table(DesignChange, lambda p, cb: DesignChange.objects.filter(project=p)),
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
    # Coder training. Check items' pool work items and the pool's claims are not
    # here (the pool is a project of its own): a restore rebuilds the pool, and
    # the scored CheckAnswer rows are the record of checks.
    Table(ReferenceItem, lambda p, cb: ReferenceItem.objects.filter(project=p)),
    Table(TrainingAttempt, lambda p, cb: TrainingAttempt.objects.filter(project=p)),
    Table(
        TrainingAnswer,
        lambda p, cb: TrainingAnswer.objects.filter(attempt__project=p),
    ),
    Table(CheckAnswer, lambda p, cb: CheckAnswer.objects.filter(project=p)),
)
TABLE_BY_NAME = {table.name: table for table in TABLES}
# Not the project's content but the record of work done on it: a restored project
# starts with no jobs (their workers' task ids mean nothing in another database),
# no agreement intervals (a cache its first agreement page recomputes), nor jobs'
# input files (uploads kept only until their job has finished); and the
# adjudication queue's table, derived from the rows above and rebuilt when the
# project is restored; nor invitations (a pending invitation is a signed link
# for one database's accounts: the restoring team invites its own people). Nor
# what belongs to an account rather than a project: screen preferences and the
# password reset limit's rows. Nor machine coders and their codes: derived
# from the gold, pickled for one set of library versions, and retrained from
# the restored gold in minutes; the archive keeps the human record.
NOT_ARCHIVED = frozenset(
    {
        MachineCoder,
        MachineLabel,
        Job,
        AgreementIntervals,
        JobChunk,
        JobFile,
        GoldWaiting,
        Invitation,
        CoderPreferences,
        PasswordResetAttempt,
    }
)
REFERENCED = frozenset(
    [
        f.related_model
        for t in TABLES
        for f in t.model._meta.concrete_fields
        if f.is_relation
    ]
    + [model for t in TABLES for _, model in t.loose_keys]
)


# --- user ids inside JSON ------------------------------------------------------------

CODER_KEYED = ("coder_codes", "coder_accuracy", "coder_confusion")


def json_users(model: type[models.Model], name: str, value: Any, to: Callable) -> Any:
    """JSON values that hold user ids, with each id passed through `to`.

    GoldLabel.coder_codes, GoldRun.coder_accuracy and GoldRun.coder_confusion are
    keyed by coder id; a gold revision's old/new state names its deciding reviewer
    by id.
    """
    if model in (GoldLabel, GoldRun) and name in CODER_KEYED:
        return {str(to(key)): codes for key, codes in (value or {}).items()}
    if (
        model is GoldLabelRevision
        and name in ("old", "new")
        and isinstance(value, dict)
        and value.get("decided_by") is not None
    ):
        return {**value, "decided_by": to(value["decided_by"])}
    return value
