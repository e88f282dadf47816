"""What people make of the corpus: codebooks, projects, assignments, annotations."""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from statistics import median

from django.conf import settings
from django.db import connection, models
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from corpus.models import Corpus, Span

User = settings.AUTH_USER_MODEL


# --- codebooks -----------------------------------------------------------------------


class Codebook(models.Model):
    """One version of a codebook. Versions in use are frozen; changes make a new one."""

    family = models.SlugField(
        max_length=100, help_text="Stable identifier shared by all versions."
    )
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "version"], name="codebook_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def is_in_use(self) -> bool:
        """True once any annotation was made under this version: it is then frozen."""
        return Annotation.objects.filter(codebook_id=self.pk).exists()


class Dimension(models.Model):
    class Level(models.TextChoices):
        NOMINAL = "nominal", "nominal"
        ORDINAL = "ordinal", "ordinal"

    codebook = models.ForeignKey(
        Codebook, on_delete=models.CASCADE, related_name="dimensions"
    )
    key = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    level = models.CharField(max_length=10, choices=Level, default=Level.NOMINAL)
    multiple = models.BooleanField(
        default=False, help_text="Coders may pick several categories."
    )
    required = models.BooleanField(default=True)
    instructions = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["codebook_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["codebook", "key"], name="dimension_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.label


class Category(models.Model):
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="categories"
    )
    key = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    typical_words = models.JSONField(
        default=list, blank=True, help_text="Words that often signal this category."
    )
    shortcut = models.CharField(max_length=1, blank=True)
    value = models.FloatField(
        null=True, blank=True, help_text="Numeric position for ordinal dimensions."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dimension_id", "position", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key"], name="category_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return self.label


# --- projects ------------------------------------------------------------------------


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        """The only way pages and the API reach projects: members only (staff: all)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(memberships__user=user).distinct()

    def with_role(self, user, *roles: str) -> ProjectQuerySet:
        """Projects where the user holds one of the roles."""
        return self.filter(memberships__user=user, memberships__role__in=roles)

    def with_user_role(self, user) -> ProjectQuerySet:
        """Annotate `user_role`: the user's role in each project (None for staff).

        One subquery instead of a membership query per project, so lists of projects
        and permission checks read the role without extra round trips.
        """
        return self.annotate(
            user_role=models.Subquery(
                Membership.objects.filter(
                    project=OuterRef("pk"), user_id=user.pk
                ).values("role")[:1]
            )
        )


def default_gold_methods() -> list[str]:
    return ["unanimous", "single"]


class Project(models.Model):
    class Order(models.TextChoices):
        DOCUMENT = "document", "document order"
        RANDOM = "random", "seeded random order of documents"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    corpus = models.ForeignKey(
        Corpus, on_delete=models.PROTECT, related_name="projects"
    )
    codebook = models.ForeignKey(
        Codebook, on_delete=models.PROTECT, related_name="projects"
    )
    coders_per_span = models.PositiveSmallIntegerField(
        default=2, help_text="k: coders per span in the reliability sample."
    )
    sample_share = models.FloatField(
        default=1.0,
        help_text="Share of spans in the reliability sample (0–1); the rest get one "
        "coder.",
    )
    order = models.CharField(max_length=10, choices=Order, default=Order.DOCUMENT)
    seed = models.PositiveIntegerField(
        default=1, help_text="Seeds the sample and the random order."
    )
    lease_minutes = models.PositiveIntegerField(
        default=30, help_text="An unsubmitted claim returns to the pool after this."
    )
    gold_methods = models.JSONField(
        default=default_gold_methods,
        blank=True,
        help_text="Aggregation rules tried in order, first to decide wins: unanimous, "
        "single, majority, model (Dawid–Skene). Undecided spans go to adjudication.",
    )
    gold_min_share = models.FloatField(
        default=0.5,
        help_text="Majority rule: the winning code needs more than this share of the "
        "ratings.",
    )
    gold_min_posterior = models.FloatField(
        default=0.9,
        help_text="Model rule: decide only when the posterior is at least this.",
    )
    total_codings = models.PositiveIntegerField(
        default=0, editable=False, help_text="Sum of every span's designed coders."
    )
    created_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(coders_per_span__gte=1), name="project_k_positive"
            ),
            models.CheckConstraint(
                condition=Q(sample_share__gte=0) & Q(sample_share__lte=1),
                name="project_share_in_range",
            ),
            models.CheckConstraint(
                condition=Q(gold_min_share__gte=0) & Q(gold_min_share__lt=1),
                name="project_gold_share_in_range",
            ),
            models.CheckConstraint(
                condition=Q(gold_min_posterior__gte=0) & Q(gold_min_posterior__lte=1),
                name="project_gold_posterior_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project-detail", args=[self.pk])

    def role_of(self, user) -> str | None:
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None


class Membership(models.Model):
    class Role(models.TextChoices):
        CODER = "coder", "coder"
        REVIEWER = "reviewer", "reviewer"
        MANAGER = "manager", "manager"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.CODER)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="membership_unique_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


# --- the queue -----------------------------------------------------------------------


class Median(models.Aggregate):
    """PostgreSQL's exact median; other databases use AnnotationQuerySet's fallback."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()


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
    # (document rank << 32) + span index: needs 64 bits (services.DOCUMENT_SHIFT).
    position = models.PositiveBigIntegerField(help_text="Reading order in the project.")
    target = models.PositiveSmallIntegerField(help_text="Designed number of coders.")
    taken = models.PositiveSmallIntegerField(default=0)
    in_sample = models.BooleanField(default=False)

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


# --- annotations ---------------------------------------------------------------------


class AnnotationQuerySet(models.QuerySet):
    def for_project(self, project: Project | int) -> AnnotationQuerySet:
        return self.filter(assignment__project=project)

    def by(self, user) -> AnnotationQuerySet:
        return self.filter(assignment__coder=user)

    def median_seconds_by_coder(self) -> dict[int, float]:
        """{coder id: median seconds per annotation}, in one query.

        PostgreSQL computes the median itself (PERCENTILE_CONT); elsewhere the
        seconds stream through once, ordered by coder, so memory stays per coder.
        """
        rows = self.filter(seconds__isnull=False).order_by()
        if connection.vendor == "postgresql":
            return dict(
                rows.values("assignment__coder_id")
                .annotate(median=Median("seconds"))
                .values_list("assignment__coder_id", "median")
            )
        medians: dict[int, float] = {}
        stream = rows.order_by("assignment__coder_id").values_list(
            "assignment__coder_id", "seconds"
        )
        for coder_id, group in groupby(stream.iterator(), key=itemgetter(0)):
            medians[coder_id] = median(seconds for _, seconds in group)
        return medians

    def with_revisions(self) -> AnnotationQuerySet:
        return self.filter(
            Exists(AnnotationRevision.objects.filter(annotation=OuterRef("pk")))
        )


class Annotation(models.Model):
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["project", "updated_at"])]

    def __str__(self) -> str:
        return f"annotation of {self.assignment}"

    def label_keys(self) -> dict[str, list[str]]:
        """{dimension key: [category keys]} — the shape submits and history use."""
        keys: dict[str, list[str]] = {}
        for label in self.labels.all():
            keys.setdefault(label.dimension.key, []).append(label.category.key)
        return {key: sorted(values) for key, values in keys.items()}


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


class AnnotationRevision(models.Model):
    """A change to a submitted annotation: who, when, old → new."""

    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="revisions"
    )
    changed_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    old = models.JSONField()
    new = models.JSONField()

    class Meta:
        ordering = ["annotation_id", "changed_at", "id"]

    def __str__(self) -> str:
        return f"revision of {self.annotation_id} at {self.changed_at:%Y-%m-%d %H:%M}"


# --- gold standard -------------------------------------------------------------------


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
    # Annotations updated up to this moment were read; later ones make gold stale.
    watermark = models.DateTimeField(null=True, blank=True)
    converged = models.BooleanField(null=True, blank=True)
    iterations = models.PositiveIntegerField(null=True, blank=True)
    coder_accuracy = models.JSONField(
        default=dict, blank=True, help_text="{coder id: estimated accuracy} (model)."
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
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="gold_labels"
    )
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=12, choices=GoldMethod)
    run = models.ForeignKey(
        GoldRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    note = models.TextField(blank=True)
    posterior = models.FloatField(null=True, blank=True)
    codebook = models.ForeignKey(Codebook, on_delete=models.PROTECT, related_name="+")
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


class GoldLabelRevision(models.Model):
    """A reviewer's change to a gold label: who, when, old → new (with notes)."""

    gold_label = models.ForeignKey(
        GoldLabel, on_delete=models.CASCADE, related_name="revisions"
    )
    changed_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    old = models.JSONField()
    new = models.JSONField()

    class Meta:
        ordering = ["gold_label_id", "changed_at", "id"]

    def __str__(self) -> str:
        return (
            f"revision of gold {self.gold_label_id} at {self.changed_at:%Y-%m-%d %H:%M}"
        )
