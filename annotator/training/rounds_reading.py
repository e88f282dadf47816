"""What the training pages read: a practice answer's feedback, an attempt's figures.

Only the coder's own answers and the reference items: nothing here reads another
coder's codes. A test's report has figures and category confusions, never the
reference of one item, so that a retake is still a test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q

from annotator.models import (
    Category,
    Dimension,
    TrainingAnswer,
    TrainingAttempt,
)
from annotator.services.labels import codebook_dimensions

NONE = "(none)"
CONFUSIONS_SHOWN = 5  # per dimension, the most frequent


@dataclass(frozen=True)
class DimensionFeedback:
    """One dimension of a practice answer: what was given, what the reference
    says (each category with its codebook definition), and whether they match."""

    dimension: Dimension
    given: list[Category]
    reference: list[Category]
    matched: bool

    @property
    def categories(self) -> list[Category]:
        """The chosen and the reference categories, each once (their definitions)."""
        return list({c.key: c for c in [*self.given, *self.reference]}.values())


def _categories(dimension: Dimension, keys) -> list[Category]:
    known = dimension.category_map
    return [known[key] for key in keys or () if key in known]


def feedback(
    answer: TrainingAnswer, codebook_id: int, dimensions: dict | None = None
) -> list[DimensionFeedback]:
    """Per dimension of the codebook, the answer against the reference
    (``dimensions``: ``codebook_dimensions(codebook_id)``, when already read)."""
    dimensions = dimensions or codebook_dimensions(codebook_id)
    given, reference = answer.labels or {}, answer.item.codes or {}
    matched = answer.matched or {}
    return [
        DimensionFeedback(
            dimension,
            _categories(dimension, given.get(key)),
            _categories(dimension, reference.get(key)),
            matched.get(key, False),
        )
        for key, dimension in dimensions.items()
        if dimension.category_map
    ]


@dataclass(frozen=True)
class Confusion:
    reference: str
    given: str
    count: int


@dataclass
class DimensionReport:
    """An attempt's figures on one dimension and its most frequent confusions."""

    dimension: Dimension
    result: dict  # TrainingAttempt.results[key]
    confusions: list[Confusion] = field(default_factory=list)


def _shown(dimension: Dimension, keys) -> str:
    labels = [c.label for c in _categories(dimension, keys)]
    return " + ".join(labels) or NONE


def report(
    attempt: TrainingAttempt, answers: list[TrainingAnswer]
) -> list[DimensionReport]:
    """Per dimension: α, percent, n, pass or fail and the reason; and which
    reference category was answered as which, most frequent first."""
    rows = []
    for key, dimension in codebook_dimensions(attempt.codebook_id).items():
        if key not in attempt.results:
            continue
        counts: Counter = Counter()
        for answer in answers:
            if answer.answered_at is None or (answer.matched or {}).get(key, True):
                continue
            expected = (answer.item.codes or {}).get(key)
            counts[
                (_shown(dimension, expected), _shown(dimension, answer.labels.get(key)))
            ] += 1
        rows.append(
            DimensionReport(
                dimension,
                attempt.results[key],
                [
                    Confusion(reference, given, n)
                    for (reference, given), n in counts.most_common(CONFUSIONS_SHOWN)
                ],
            )
        )
    return rows


def coder_attempts(project, coder) -> list[TrainingAttempt]:
    """The coder's attempts in the project, newest first, each with ``n_items``
    and ``n_answered`` (one query)."""
    return list(
        TrainingAttempt.objects.filter(project=project, coder=coder)
        .select_related("decided_by")
        .annotate(
            n_items=Count("answers"),
            n_answered=Count("answers", filter=Q(answers__answered_at__isnull=False)),
        )
        .order_by("-started_at", "-pk")
    )
