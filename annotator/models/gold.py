"""Gold labels: one code per span and dimension, with how it was reached."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator.models.annotations import Revision
from annotator.models.codebooks import Category, Codebook, Dimension
from annotator.models.projects import Project
from corpus.models import Span

User = settings.AUTH_USER_MODEL


class GoldMethod(models.TextChoices):
    UNANIMOUS = "unanimous", "unanimous"
    SINGLE = "single", "single coder"
    MAJORITY = "majority", "majority"
    MODEL = "model", "model (Dawid–Skene)"
    ADJUDICATED = "adjudicated", "adjudicated"


class GoldRun(models.Model):
    """One aggregation pass over a project dimension: the settings labels came from."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="gold_runs"
    )
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    methods = models.JSONField(default=list)
    min_share = models.FloatField()
    min_posterior = models.FloatField()
    # The project's change number (ChangeCounter.n) the run read: every annotation
    # write numbered up to it was seen; a higher number makes gold stale. None: the
    # project had no write yet.
    watermark = models.BigIntegerField(null=True, blank=True)
    converged = models.BooleanField(null=True, blank=True)
    iterations = models.PositiveIntegerField(null=True, blank=True)
    coder_accuracy = models.JSONField(
        default=dict, blank=True, help_text="{coder id: estimated accuracy} (model)."
    )
    coder_confusion = models.JSONField(
        default=dict,
        blank=True,
        help_text="{coder id: {categories, matrix}}: Dawid–Skene's confusion matrix "
        "per coder (model).",
    )
    n_decided = models.PositiveIntegerField(default=0)
    n_undecided = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "dimension", "created_at"])]

    def __str__(self) -> str:
        return f"gold run {self.pk} of {self.project_id}/{self.dimension_id}"


class GoldLabel(models.Model):
    """The gold code of one span on one dimension, with how it was reached.

    Single-choice dimensions use `category`; multi-choice ones use
    GoldLabelCategory rows (an empty set is no rows). Undecided spans have no row.

    Project, dimension, category, codebook and run carry no database constraint
    (``db_constraint=False``): a refresh writes a million rows whose values of
    these are one project, one dimension, one run, one codebook and a handful of
    categories, and PostgreSQL checked each row's five references at commit
    (about 100 s at 1M rows). Every writer instead locks those few referenced
    rows once (``annotator.gold.store.hold_references``: what the per-row checks
    did), and deleting them goes through the ORM, whose ``on_delete`` below
    still protects, cascades or nulls. The span keeps its constraint: it is the
    one reference that differs row by row.
    """

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="gold_labels",
        db_constraint=False,
        db_index=False,  # the unique (project, span, dimension) leads with it
    )
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    dimension = models.ForeignKey(
        Dimension,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # a handful of values; looked up with the project
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # only a category's deletion looks it up: rare
    )
    method = models.CharField(max_length=12, choices=GoldMethod)
    run = models.ForeignKey(
        GoldRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        # Unindexed: a settings change points every automatic row at the new
        # run, and with no index on the run an unchanged row is updated in
        # place (HOT) and a changed one costs one index entry less. Only a
        # run's deletion (with its project) looks labels up by it.
        db_index=False,
    )
    decided_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # indexed where set (the partial index below)
    )
    decided_at = models.DateTimeField()
    note = models.TextField(blank=True)
    posterior = models.FloatField(null=True, blank=True)
    codebook = models.ForeignKey(
        Codebook,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # only a codebook's deletion looks it up: rare
    )
    n_ratings = models.PositiveSmallIntegerField(default=0)
    coder_codes = models.JSONField(
        default=dict, blank=True, help_text="{coder id: [category keys]} when decided."
    )
    agreement = models.FloatField(
        null=True, blank=True, help_text="Share of ratings equal to the gold code."
    )
    # Set explicitly by every write (bulk writes skip auto_now): clients sync on it.
    updated_at = models.DateTimeField(db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "span", "dimension"], name="goldlabel_unique"
            ),
            models.CheckConstraint(
                condition=~Q(method="adjudicated") | Q(decided_by__isnull=False),
                name="goldlabel_adjudicated_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(method="model") | Q(posterior__isnull=False),
                name="goldlabel_model_has_posterior",
            ),
            models.CheckConstraint(
                condition=Q(posterior__isnull=True)
                | (Q(posterior__gte=0) & Q(posterior__lte=1)),
                name="goldlabel_posterior_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "updated_at", "id"]),
            models.Index(fields=["project", "dimension", "method"]),
            # Only adjudicated rows have a reviewer: a user's deletion finds
            # them without every automatic row in the index.
            models.Index(
                fields=["decided_by"],
                condition=Q(decided_by__isnull=False),
                name="goldlabel_decided_by",
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.dimension_id} of span {self.span_id} ({self.method})"


class GoldLabelCategory(models.Model):
    """One category of a multi-choice gold label."""

    gold_label = models.ForeignKey(
        GoldLabel, on_delete=models.CASCADE, related_name="categories"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gold_label", "category"], name="goldlabelcategory_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gold_label_id}: category {self.category_id}"


class GoldLabelRevision(Revision):
    """A reviewer's change to a gold label: who, when, old → new (with notes)."""

    gold_label = models.ForeignKey(
        GoldLabel, on_delete=models.CASCADE, related_name="revisions"
    )

    class Meta:
        ordering = ["gold_label_id", "changed_at", "id"]

    def __str__(self) -> str:
        return (
            f"revision of gold {self.gold_label_id} at {self.changed_at:%Y-%m-%d %H:%M}"
        )


class GoldWaiting(models.Model):
    """A span waiting for a reviewer, as of the last gold refresh or decision.

    The adjudication queue's rule (``annotator.gold.queue.waiting_live``)
    materialised: written by ``refresh_gold`` in the transaction that writes the
    gold and by each adjudication for its span, so the queue's first page is one
    index range scan instead of a pass over every double-coded span.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    n_ratings = models.PositiveSmallIntegerField()  # completed codings
    n_codes = models.PositiveSmallIntegerField()  # distinct categories among them
    position = models.PositiveBigIntegerField()  # the span's reading order

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "span"], name="goldwaiting_unique"
            ),
        ]
        indexes = [
            # The queue's order: most ratings, least agreement, reading order.
            models.Index(
                "project",
                models.F("n_ratings").desc(),
                models.F("n_codes").desc(),
                "position",
                name="goldwaiting_queue_order",
            ),
        ]

    def __str__(self) -> str:
        return f"span {self.span_id} waits in project {self.project_id}"
