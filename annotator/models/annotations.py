"""Annotations: a coder's codes of one span, as label rows, with revisions."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
from django.conf import settings
from django.db import models

from annotator.medians import medians_by_group
from annotator.models.codebooks import Category, Codebook, Dimension
from annotator.models.projects import Project
from annotator.models.queue import Assignment
from corpus.db import fast_path
from corpus.models import Span

User = settings.AUTH_USER_MODEL


class Median(models.Aggregate):
    """PostgreSQL's exact median (the fast path of annotator.medians)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()


def keys_by_dimension(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(dimension key, category key) pairs as {dimension key: sorted category keys}:
    the shape submits, revisions and the API use for a coder's codes."""
    keys: dict[str, list[str]] = {}
    for dimension, category in pairs:
        keys.setdefault(dimension, []).append(category)
    return {key: sorted(values) for key, values in keys.items()}


class AnnotationQuerySet(models.QuerySet):
    def for_project(self, project: Project | int) -> AnnotationQuerySet:
        return self.filter(assignment__project=project)

    def by(self, user) -> AnnotationQuerySet:
        return self.filter(assignment__coder=user)

    def own_work(self, project: Project | int, user) -> AnnotationQuerySet:
        """The coder's annotations in the study and in its reference pool (their
        hidden checks, which only they see as their own; training.pool)."""
        from annotator.training.pool import own_projects

        return self.filter(
            assignment__project_id__in=own_projects(project), assignment__coder=user
        )

    def with_labels(self) -> AnnotationQuerySet:
        """Each annotation's labels loaded with their dimension and category, in
        codebook order (what label_keys() and the pages read): one more query, not
        one per row."""
        labels = Label.objects.select_related("dimension", "category").order_by(
            "dimension__position", "dimension_id", "category__position", "category_id"
        )
        return self.prefetch_related(models.Prefetch("labels", queryset=labels))

    def suggested(self) -> AnnotationQuerySet:
        """The annotations whose coder was shown a machine suggestion (their
        ``suggestion_kept`` is set exactly then)."""
        return self.filter(suggestion_kept__isnull=False)

    def suggestion_counts_by_coder(self) -> list[tuple[str, int, int]]:
        """(coder's username, suggestions shown, suggestions kept) per coder, in
        one query: how strongly each coder anchors on the machine."""
        return list(
            self.suggested()
            .order_by()
            .values("assignment__coder__username")
            .annotate(
                shown=models.Count("pk"),
                kept=models.Count("pk", filter=models.Q(suggestion_kept=True)),
            )
            .order_by("assignment__coder__username")
            .values_list("assignment__coder__username", "shown", "kept")
        )

    def median_seconds_by_coder(self) -> dict[int, float]:
        """{coder id: median seconds per annotation}, in one query.

        PostgreSQL computes the median itself (PERCENTILE_CONT); elsewhere the
        seconds stream into two compact columns and annotator.medians groups them.
        """
        rows = self.filter(seconds__isnull=False).order_by()
        if fast_path("median-aggregate"):
            return dict(
                rows.values("assignment__coder_id")
                .annotate(median=Median("seconds"))
                .values_list("assignment__coder_id", "median")
            )
        coders, seconds = array("q"), array("d")  # 16 bytes a row, not a tuple
        for coder, value in rows.values_list(
            "assignment__coder_id", "seconds"
        ).iterator(chunk_size=10_000):
            coders.append(coder)
            seconds.append(value)
        return medians_by_group(np.frombuffer(coders, np.int64), np.frombuffer(seconds))


class Annotation(models.Model):
    class Source(models.TextChoices):
        CODED = "coded", "coded here"
        IMPORTED = "imported", "imported"

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="annotation"
    )
    # Copied from the assignment so "what changed in this project since T" (gold
    # refresh, incremental export) is one index range, not a join.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    codebook = models.ForeignKey(
        Codebook, on_delete=models.PROTECT, related_name="annotations"
    )
    uncertain = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    seconds = models.FloatField(
        null=True, blank=True, help_text="From showing the span to the first submit."
    )
    submission_token = models.CharField(max_length=64, blank=True)
    # Provenance: coded on the coding screen or API, or brought in by
    # services.codings_import (a database default: the submit's SQL names no source).
    source = models.CharField(
        max_length=10, choices=Source, default=Source.CODED, db_default=Source.CODED
    )
    # The machine coder's pre-selected choices when the coding screen showed
    # them ({"machine_coder": id, "labels": {dimension key: [category keys]}}),
    # and whether the submitted labels equal them: anchoring can be measured.
    # Null: no suggestion was shown.
    suggestion = models.JSONField(null=True, blank=True, editable=False)
    suggestion_kept = models.BooleanField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The project's change number of the last write (ChangeCounter): what a gold
    # refresh asks "changed since I read?" by, exactly, where updated_at (taken
    # before commit) is not.
    change = models.BigIntegerField(default=0, editable=False)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["project", "updated_at"]),
            models.Index(fields=["project", "change"]),
        ]

    def __str__(self) -> str:
        return f"annotation of {self.assignment}"

    def label_keys(self) -> dict[str, list[str]]:
        """{dimension key: [category keys]} — the shape submits and history use."""
        return keys_by_dimension(
            (label.dimension.key, label.category.key) for label in self.labels.all()
        )


class Label(models.Model):
    """One chosen category: rows, not JSON, so agreement reads integer arrays.

    `project`, `span` and `coder` repeat the annotation's assignment so a
    dimension's ratings (unit, coder, value) are one index range of one table.
    """

    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="labels"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    coder = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "category"], name="label_unique_category"
            )
        ]
        indexes = [
            models.Index(fields=["project", "dimension"]),
            models.Index(fields=["project", "span"]),
            models.Index(fields=["dimension", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.dimension.key}={self.category.key}"


class Revision(models.Model):
    """A change someone made to a stored decision: who, when, old → new (JSON)."""

    changed_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    old = models.JSONField()
    new = models.JSONField()

    class Meta:
        abstract = True


class AnnotationRevision(Revision):
    """A change to a submitted annotation: who, when, old → new."""

    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="revisions"
    )

    class Meta:
        ordering = ["annotation_id", "changed_at", "id"]

    def __str__(self) -> str:
        return f"revision of {self.annotation_id} at {self.changed_at:%Y-%m-%d %H:%M}"


class ChangeCounterQuerySet(models.QuerySet["ChangeCounter"]):
    def number_of(self, project: Project | int) -> int | None:
        """The project's last committed change number; None before its first
        write. Read it before the ratings: each later read (READ COMMITTED, or
        another connection) sees at least the changes numbered up to it."""
        return self.filter(project=project).values_list("n", flat=True).first()


class ChangeCounter(models.Model):
    """A project's count of annotation writes, numbered inside each write's transaction.

    A submit or revision takes the next number (services.submits.next_change) and
    keeps the row locked until it commits, so numbers commit in order: a reader that
    sees n has seen every change numbered up to n and none above. No row: nothing
    was ever written.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="+")
    n = models.BigIntegerField(default=0)

    objects = ChangeCounterQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.n} change(s) in project {self.project_id}"
