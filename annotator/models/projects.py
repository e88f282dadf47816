"""Projects (a corpus + a codebook + a design), their members and design changes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q
from django.urls import reverse

from annotator.gold_maths import METHODS as GOLD_METHODS
from annotator.models.codebooks import Codebook
from corpus.models import Corpus

User = settings.AUTH_USER_MODEL


class ProjectQuerySet(models.QuerySet):
    def with_user_role(self, user) -> ProjectQuerySet:
        """Annotate `user_role`: the user's role in each project (None if none).

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


class ProjectManager(models.Manager.from_queryset(ProjectQuerySet)):
    """Studies only: a reference pool (training.pool) is never a project anyone
    reads, lists or opens. Only annotator/training/pool.py uses all_objects."""

    def get_queryset(self) -> ProjectQuerySet:
        return super().get_queryset().filter(pool_of__isnull=True)


def default_gold_methods() -> list[str]:
    return ["unanimous", "single"]


def gold_methods_problem(methods: object) -> str | None:
    """What is wrong with a gold_methods value, naming the bad entry; None if fine.

    The one rule: the admin (Project.clean), an archive's restore and the gold
    refresh (gold.aggregate.gold_settings) all ask it.
    """
    allowed = ", ".join(GOLD_METHODS)
    if not isinstance(methods, list):
        return f"must be a list of rules from {allowed}; got {methods!r}."
    for at, method in enumerate(methods):
        if method not in GOLD_METHODS:
            return f"entry {at + 1}, {method!r}, is not a rule; use {allowed}."
        if method in methods[:at]:
            return f"entry {at + 1}, {method!r}, is listed twice."
    return None


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
    # Bumped whenever a span may need a coder it did not need before (a place given
    # back, a design asking for more): a coder told "nothing left" at this version
    # is told so again without the queue being searched (see services.queue).
    queue_version = models.PositiveBigIntegerField(default=0, editable=False)
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
    # Set while the project is closed (services.lifecycle): no claims, no submits;
    # every page, gold, agreement and export still read it.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set on a study's reference pool only: the hidden checks' queue, a project of
    # its own so that nothing coded in it can reach the study's data (training.pool).
    pool_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pool",
        editable=False,
    )

    # Coder training (annotator/training): the gate before real coding, the
    # certification test's thresholds and the hidden checks' rate.
    class Gate(models.TextChoices):
        OFF = "off", "off: anyone may code"
        WARN = "warn", "warn: uncertified coders are reminded"
        REQUIRE = "require", "require: only certified coders may code"

    certification_gate = models.CharField(max_length=10, choices=Gate, default=Gate.OFF)
    certification_min_alpha = models.FloatField(
        default=0.8,
        help_text="A test passes when the coder's α with the reference is at least "
        "this on every dimension.",
    )
    certification_min_percent = models.FloatField(
        null=True,
        blank=True,
        help_text="Also require this share of items matching the reference (0–1) on "
        "every dimension; empty: not required.",
    )
    certification_items = models.PositiveSmallIntegerField(
        default=0, help_text="Items in one test (0: every test item)."
    )
    check_rate = models.PositiveSmallIntegerField(
        default=0,
        help_text="Serve a hidden check about 1 in this many claims (0: none).",
    )
    check_window = models.PositiveSmallIntegerField(
        default=20, help_text="Rolling accuracy over this many latest checks."
    )
    check_min_accuracy = models.FloatField(
        default=0.8,
        help_text="Alert reviewers when a coder's rolling accuracy falls below this.",
    )

    # Machine coder (annotator/machine; issue 18). Both off by default. Each
    # switch is written as a DesignChange, so reports can say when it was on.
    machine_suggestions = models.BooleanField(
        default=False,
        help_text="Pre-select the machine coder's choices on the coding screen, "
        "for spans outside the reliability sample only (never in practice, "
        "certification or hidden checks).",
    )
    active_learning = models.BooleanField(
        default=False,
        help_text="Serve the single-coded remainder most-uncertain first (by the "
        "machine coder's last predictions); the reliability sample keeps its "
        "random draw.",
    )

    objects = ProjectManager()
    all_objects = models.Manager.from_queryset(ProjectQuerySet)()

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
            models.CheckConstraint(
                condition=Q(check_rate=0) | Q(check_rate__gte=2),
                name="project_check_rate_valid",
            ),
            models.CheckConstraint(
                condition=Q(certification_min_alpha__gte=-1)
                & Q(certification_min_alpha__lte=1)
                & Q(check_min_accuracy__gte=0)
                & Q(check_min_accuracy__lte=1)
                & (
                    Q(certification_min_percent__isnull=True)
                    | (
                        Q(certification_min_percent__gte=0)
                        & Q(certification_min_percent__lte=1)
                    )
                ),
                name="project_training_shares_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project-detail", args=[self.pk])

    def clean(self) -> None:
        problem = gold_methods_problem(self.gold_methods)
        if problem:
            raise ValidationError({"gold_methods": f"gold_methods {problem}"})

    @property
    def is_pool(self) -> bool:
        return self.pool_of_id is not None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def role_of(self, user) -> str | None:
        """The user's role here (None if not a member)."""
        return self.memberships.filter(user=user).values_list("role", flat=True).first()


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
    # The project's queue_version when this coder was last told "nothing left".
    nothing_left_at = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False
    )
    # When the coder last passed the certification test or was certified by hand
    # (training.rounds); None: not certified. The queue's gate reads only this.
    certified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["project_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="membership_unique_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


def switch_periods(switches, option: str) -> list[tuple]:
    """When an on/off ``option`` (e.g. "active_learning") was on, from
    (changed_at, after) pairs of design changes, oldest first: (from, to)
    pairs, ``to`` None while it is still on. Changes without the option are
    passed over."""
    periods: list[tuple] = []
    for changed_at, after in switches:
        if option not in after:
            continue
        if after[option] and (not periods or periods[-1][1] is not None):
            periods.append((changed_at, None))
        elif not after[option] and periods and periods[-1][1] is None:
            periods[-1] = (periods[-1][0], changed_at)
    return periods


class DesignChangeQuerySet(models.QuerySet):
    def periods_on(self, option: str) -> list[tuple]:
        """switch_periods of these changes (one query)."""
        switches = (
            self.filter(after__has_key=option)
            .order_by("changed_at", "id")
            .values_list("changed_at", "after")
        )
        return switch_periods(switches, option)


class DesignChange(models.Model):
    """One change of a project's design after creation, as it was applied.

    Written by services.design.change_design, and by services.codebook_move when
    the project moves to a newer codebook version (before/after: the versions),
    and by services.active_learning when a manager switches active learning
    (before/after: {"active_learning": bool}); the design page and the admin
    show the history.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="design_changes"
    )
    changed_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(
        help_text="coders_per_span, sample_share, lease_minutes; or the codebook"
    )
    after = models.JSONField()
    summary = models.TextField(help_text="The effect on the queue, as previewed.")
    # The project's change number taken when spans entered or left the reliability
    # sample: gold recomputes every span after it (see gold.refresh._changed_spans).
    change = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    objects = DesignChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} · {self.changed_at:%Y-%m-%d %H:%M} · {self.summary}"
