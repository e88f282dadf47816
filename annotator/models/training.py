"""Coder training: reference codes, practice and test attempts, hidden-check answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from annotator.models.codebooks import Codebook
from annotator.models.projects import Project
from corpus.models import Span

User = settings.AUTH_USER_MODEL


class ReferenceItemQuerySet(models.QuerySet):
    def current(self) -> ReferenceItemQuerySet:
        """Not retired."""
        return self.filter(retired_at__isnull=True)

    def for_use(self, project: Project, use: str) -> ReferenceItemQuerySet:
        """The project's live items of one use, on its current codebook version."""
        return self.current().filter(
            project=project, use=use, codebook_id=project.codebook_id
        )


class ReferenceItem(models.Model):
    """A span with its correct codes, for practice, the test or hidden checks.

    Never a rating: reference codes live here, not in Annotation/Label, so they
    cannot reach agreement, gold or exports. A check item also has a work item in
    the study's reference pool (training.pool), which is how the queue serves it.
    """

    class Use(models.TextChoices):
        PRACTICE = "practice", "practice"
        TEST = "test", "certification test"
        CHECK = "check", "hidden check"

    class Source(models.TextChoices):
        GOLD = "gold", "from adjudicated gold"
        UPLOAD = "upload", "uploaded"
        HAND = "hand", "marked by hand"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="reference_items"
    )
    # The codebook version the codes were given in.
    codebook = models.ForeignKey(Codebook, on_delete=models.PROTECT, related_name="+")
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    use = models.CharField(max_length=10, choices=Use)
    # {dimension key: [category key, ...]}: the shape services.labels.resolve_labels
    # checks.
    codes = models.JSONField()
    explanation = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source, default=Source.HAND)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = ReferenceItemQuerySet.as_manager()

    class Meta:
        ordering = ["project_id", "use", "id"]
        constraints = [
            # One use per span: a check is never a span the coder met in training.
            models.UniqueConstraint(
                fields=["project", "span"], name="referenceitem_one_set_per_span"
            ),
        ]
        indexes = [models.Index(fields=["project", "use", "codebook"])]

    def __str__(self) -> str:
        return f"{self.project_id}: span {self.span_id} ({self.use})"


class TrainingAttempt(models.Model):
    """One practice round, one certification test, or a manager's decision."""

    class Kind(models.TextChoices):
        PRACTICE = "practice", "practice"
        TEST = "test", "certification test"
        MANUAL = "manual", "certified by hand"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="training_attempts"
    )
    coder = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind)
    codebook = models.ForeignKey(Codebook, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    # {dimension key: {alpha, percent, n, level, passed, reason}} once finished.
    results = models.JSONField(default=dict, blank=True)
    # The project's thresholds when the attempt was scored.
    thresholds = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project_id", "coder_id", "-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "coder", "kind"],
                condition=Q(finished_at__isnull=True) & ~Q(kind="manual"),
                name="trainingattempt_one_open",
            ),
        ]
        indexes = [models.Index(fields=["project", "coder", "kind"])]

    def __str__(self) -> str:
        return f"{self.coder_id} · {self.kind} · {self.started_at:%Y-%m-%d %H:%M}"


class TrainingAnswer(models.Model):
    """One item of an attempt, in the order served; labels once answered."""

    attempt = models.ForeignKey(
        TrainingAttempt, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(ReferenceItem, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveSmallIntegerField()
    # {dimension key: [category key, ...]} as answered; None until answered.
    labels = models.JSONField(null=True, blank=True)
    # {dimension key: bool}: did the answer match the reference (training.scoring).
    matched = models.JSONField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt_id", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "item"], name="traininganswer_unique_item"
            ),
            models.UniqueConstraint(
                fields=["attempt", "order"], name="traininganswer_unique_order"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} · item {self.item_id}"


class CheckAnswer(models.Model):
    """A coder's answer to a hidden check, scored against the reference.

    Scored from the reference pool's annotations (training.checks): the record of
    checks that the coders page, the API and the archive read.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="check_answers"
    )
    coder = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        ReferenceItem, on_delete=models.CASCADE, related_name="check_answers"
    )
    labels = models.JSONField()
    matched = models.JSONField()
    correct = models.BooleanField()
    answered_at = models.DateTimeField()
    # The pool annotation's change number when scored: a revision re-scores it.
    change = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "coder_id", "answered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "coder"], name="checkanswer_unique_coder"
            ),
        ]
        indexes = [models.Index(fields=["project", "coder", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.coder_id} · item {self.item_id} · {self.correct}"
