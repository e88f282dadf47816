"""The queue: a project's work items (a span's place) and coders' assignments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Now

from annotator.models.projects import Project
from corpus.models import Span

User = settings.AUTH_USER_MODEL


class WorkItemQuerySet(models.QuerySet):
    def progress(self) -> dict[str, int]:
        """Counts of spans: all, in the sample, fully coded, started, untouched.

        One aggregate query: a span is done when its completed codings reach its
        designed number of coders.
        """
        completed = (
            Assignment.objects.filter(
                work_item=OuterRef("pk"), status=Assignment.Status.COMPLETED
            )
            .order_by()
            .values("work_item")
            .annotate(n=Count("pk"))
            .values("n")
        )
        done_items = self.annotate(
            completed=Coalesce(models.Subquery(completed), 0)
        ).filter(completed__gte=F("target"))
        counts = self.aggregate(
            spans=Count("pk"),
            in_sample=Count("pk", filter=Q(in_sample=True)),
            untouched=Count("pk", filter=Q(taken=0)),
            done=Count("pk", filter=Q(pk__in=done_items.values("pk"))),
        )
        counts["left"] = counts["spans"] - counts["done"]
        counts["started"] = counts["left"] - counts["untouched"]
        return counts


class WorkItem(models.Model):
    """A span's place in a project's queue: how many coders it needs and has.

    One row per codable span, made once when the project is created. `taken` counts
    live claims plus finished codings; the claim query reads only open rows through
    partial indexes, so its cost does not grow with the project.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="work_items"
    )
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    document_id = models.BigIntegerField()
    # (document rank << 32) + span index: needs 64 bits (see
    # annotator.services.queue_sql.DOCUMENT_SHIFT).
    position = models.PositiveBigIntegerField(help_text="Reading order in the project.")
    target = models.PositiveSmallIntegerField(help_text="Designed number of coders.")
    taken = models.PositiveSmallIntegerField(default=0)
    in_sample = models.BooleanField(default=False)
    # The machine coder's uncertainty about the span at its last prediction
    # (1 - the probability of its least sure decision over the dimensions:
    # annotator/machine/uncertainty.py); null: not predicted. Active learning
    # serves the single-coded remainder by it (services.queue_order).
    uncertainty = models.FloatField(null=True, blank=True, editable=False)

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "span"], name="workitem_unique"),
            models.UniqueConstraint(
                fields=["project", "position"], name="workitem_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(taken__lte=F("target")), name="workitem_not_over_target"
            ),
        ]
        indexes = [
            # Started but not finished: completed first, so agreement data comes early.
            models.Index(
                fields=["project", "position"],
                condition=Q(taken__gt=0) & Q(taken__lt=F("target")),
                name="workitem_partial_idx",
            ),
            models.Index(
                fields=["project", "position"],
                condition=Q(taken=0),
                name="workitem_fresh_idx",
            ),
            models.Index(fields=["project", "document_id", "position"]),
            # Active learning: the sample's fresh spans first (services/queue_order),
            # one probe even when none is left.
            models.Index(
                fields=["project", "position"],
                condition=Q(taken=0) & Q(in_sample=True),
                name="workitem_sample_fresh_idx",
            ),
            # Active learning: fresh single-coded spans, most uncertain first.
            models.Index(
                fields=["project", "-uncertainty", "position"],
                condition=Q(taken=0) & Q(in_sample=False),
                name="workitem_uncertain_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.position} ({self.taken}/{self.target})"


class AssignmentQuerySet(models.QuerySet):
    def live(self) -> AssignmentQuerySet:
        return self.filter(status=Assignment.Status.CLAIMED)

    def done(self) -> AssignmentQuerySet:
        return self.filter(status=Assignment.Status.COMPLETED)

    def of(self, user) -> AssignmentQuerySet:
        return self.filter(coder=user)

    def held_or_done(self) -> AssignmentQuerySet:
        """Claims not yet lapsed, and finished codings (not skips)."""
        live = Q(status=Assignment.Status.CLAIMED, expires_at__gt=Now())
        return self.filter(live | Q(status=Assignment.Status.COMPLETED))

    def own_work(self, project, user) -> AssignmentQuerySet:
        """The coder's assignments in the study and in its reference pool (a
        hidden check is their work as a span is; training.pool)."""
        from annotator.training.pool import own_projects

        return self.filter(project_id__in=own_projects(project), coder=user)

    def recent_skips(self, project, user) -> AssignmentQuerySet:
        """The user's skips in the project (and its pool), newest first, with their
        span, document title and work item (whether it still has a place: an undo
        needs one)."""
        return (
            self.own_work(project, user)
            .filter(status=Assignment.Status.SKIPPED)
            .select_related("span__document", "work_item")
            .defer("span__document__text", "span__document__metadata")
            .order_by("-finished_at", "-pk")
        )

    def coder_stats(self) -> AssignmentQuerySet:
        """One row per coder: completed, skipped, live claims, last activity.

        A single GROUP BY, so a progress page costs the same for 3 coders or 300.
        """
        status = Assignment.Status
        return (
            self.order_by()
            .values("coder_id")
            .annotate(
                done=Count("pk", filter=Q(status=status.COMPLETED)),
                skipped=Count("pk", filter=Q(status=status.SKIPPED)),
                live=Count("pk", filter=Q(status=status.CLAIMED)),
                last_claimed=Max("claimed_at"),
                last_finished=Max("finished_at"),
            )
        )


class Assignment(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", "claimed"
        COMPLETED = "completed", "completed"
        SKIPPED = "skipped", "skipped"
        EXPIRED = "expired", "expired"
        # Coded under a codebook version whose change took the code's meaning: the
        # place stays the coder's, and their next claim hands it back to them
        # (services.codebook_move, services.queue).
        RECODE = "recode", "to code again"

    # No index of its own: both composite indexes below lead with project, and a
    # lone project index let a planner with stale statistics walk a coder's whole
    # history to find their place in the queue.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    work_item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, related_name="assignments"
    )
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    coder = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.CLAIMED)
    claimed_at = models.DateTimeField()
    shown_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            # A coder never gets the same span twice.
            models.UniqueConstraint(
                fields=["project", "span", "coder"], name="assignment_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="claimed"),
                name="assignment_live_expiry_idx",
            ),
            models.Index(fields=["project", "coder", "status", "finished_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.coder} · span {self.span_id} · {self.status}"
