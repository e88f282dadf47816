"""Machine coders: a classifier trained on a project's gold, and the codes it gave.

Machine codes live only in ``MachineLabel``, never in Annotation, Label or
GoldLabel, so human agreement, the human gold and the default exports (which
read those tables) cannot see them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from annotator.models.codebooks import Category, Codebook, Dimension
from annotator.models.projects import Project
from annotator.models.queue import WorkItem
from corpus.models import Span

User = settings.AUTH_USER_MODEL

# The method name machine codes carry in exports. Not GoldMethod.MODEL
# ("model"): that one already means Dawid–Skene's aggregation of human ratings.
MACHINE_METHOD = "machine"


class MachineCoderQuerySet(models.QuerySet["MachineCoder"]):
    def current_of(self, project: Project | int) -> MachineCoder | None:
        """The project's coder in use: the newest ready one (one indexed query)."""
        return (
            self.filter(project=project, state=MachineCoder.State.READY)
            .order_by("-created_at", "-id")
            .first()
        )


class MachineCoder(models.Model):
    """One training run of a project: a classifier per dimension of its codebook
    version, stored together with one provenance.

    One row per project and run, holding every dimension, rather than a row per
    dimension: the dimensions are trained on one gold snapshot in one job, so
    they share one provenance, and a re-training replaces them together. The
    per-dimension parts are ``validation`` (keyed by dimension key) and the
    classifiers inside ``model``.
    """

    class State(models.TextChoices):
        READY = "ready", "ready"  # the project's coder in use
        SUPERSEDED = "superseded", "superseded by a newer training"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="machine_coders"
    )
    codebook = models.ForeignKey(Codebook, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=State, default=State.READY)
    # {gold: {n_spans, n_labels, max_decided_at, digest}, codebook: {id, family,
    # version}, classifier: {name, params}, libraries: {...}, date, k, seed,
    # excluded: {reference, check}}: what the model was trained on and how.
    provenance = models.JSONField(default=dict)
    # {dimension key: the out-of-fold validation (alpha, interval, f1_macro, ...)}
    validation = models.JSONField(default=dict)
    # The fitted classifiers, one per dimension key (services.machine_coders).
    # A TF-IDF model of a few thousand spans is a few MB; model_size says.
    model = models.BinaryField()
    model_size = models.PositiveBigIntegerField(default=0)  # bytes of ``model``
    n_train = models.PositiveIntegerField(default=0)  # gold spans trained on

    objects = MachineCoderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "state", "created_at"])]

    def __str__(self) -> str:
        return f"machine coder {self.pk} of project {self.project_id} ({self.state})"


class MachineLabelQuerySet(models.QuerySet["MachineLabel"]):
    def suggestion_for(
        self, *, project_id: int, span_id: int, work_item_id: int, codebook_id: int
    ) -> MachineLabelQuerySet:
        """The machine's codes of a claimed span that may be suggested to its coder,
        as (dimension key, category key, categories, probability, machine coder)
        rows: one query.

        Only the project's current coder (ready, trained on the codebook in use)
        and only a span outside the reliability sample: its work item must say
        ``in_sample`` false (the sample is what agreement is measured on, so no
        coder there may be anchored). A hidden check's claim is in the reference
        pool, which has no machine codes: it gets no rows.
        """
        outside_sample = WorkItem.objects.filter(
            pk=work_item_id, project_id=OuterRef("project_id"), in_sample=False
        )
        return (
            self.filter(
                Exists(outside_sample),
                project_id=project_id,
                span_id=span_id,
                dimension__codebook_id=codebook_id,
                machine_coder__state=MachineCoder.State.READY,
                machine_coder__codebook_id=codebook_id,
            )
            .order_by("dimension__position", "dimension_id")
            .values_list(
                "dimension__key",
                "category__key",
                "categories",
                "probability",
                "machine_coder_id",
            )
        )


class MachineLabel(models.Model):
    """The machine's code of one span on one dimension, with its probability.

    Single-choice dimensions use ``category``; multi-choice ones ``categories``
    (a list of category keys, possibly empty) and leave ``category`` empty.
    """

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="machine_labels",
        db_index=False,  # the unique (project, span, dimension) leads with it
    )
    span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="+")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    categories = models.JSONField(default=list, blank=True)  # multi-choice keys
    # Single-choice: the chosen category's probability; multi-choice: the
    # probability of the predicted set (the product over its categories).
    probability = models.FloatField()
    machine_coder = models.ForeignKey(
        MachineCoder, on_delete=models.CASCADE, related_name="labels"
    )
    created_at = models.DateTimeField()

    objects = MachineLabelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "span", "dimension"], name="machinelabel_unique"
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="machinelabel_probability_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"machine {self.dimension_id} of span {self.span_id}"
