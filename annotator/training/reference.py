"""Reference items written: marked (gold, by hand, a file), edited, retired, carried.

Every write checks the same things and refuses in words: the span must be in the
project's corpus, not already a reference item of the project (one use per span),
and the codes valid for the codebook version (services.labels, as a submit).
An item whose use becomes ``check`` gets its work item in the reference pool
(training.pool.place_check), which is how the queue serves it. Reference codes
are never ratings: nothing here touches annotations, labels or gold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.models import (
    Codebook,
    GoldLabel,
    GoldLabelCategory,
    Project,
    ReferenceItem,
)
from annotator.services.codings_reading import Problems
from annotator.services.labels import codebook_dimensions, resolve_against
from annotator.training.pool import place_check
from annotator.training.reference_reading import codes_of, read_reference
from corpus.models import Span

Use = ReferenceItem.Use
Source = ReferenceItem.Source


def checked_use(use: str) -> str:
    if use not in Use.values:
        raise ValidationError(
            {"use": f"'{use}' is not a use; choose {', '.join(Use.values)}."}
        )
    return use


def checked_codes(
    codebook_id: int, codes: Mapping[str, str | Sequence[str]], read=None
) -> dict[str, list[str]]:
    """The codes as {dimension key: sorted category keys} (every dimension), or
    the validator's ValidationError keyed by dimension."""
    dimensions = (read or codebook_dimensions)(codebook_id)
    return codes_of(dimensions, resolve_against(dimensions, codes))


def span_in_corpus(project: Project, span_id: int) -> Span:
    span = Span.objects.filter(
        pk=span_id, document__corpus_id=project.corpus_id
    ).first()
    if span is None:
        raise ValidationError(
            {"span": f"Span {span_id} is not in this project's corpus."}
        )
    return span


def taken_message(span_id: int, use: str, retired: bool) -> str:
    state = ", retired" if retired else ""
    return (
        f"Span {span_id} is already a reference item ({Use(use).label}{state}); "
        "a span has one use: edit that item instead."
    )


def refuse_taken(project: Project, span_id: int) -> None:
    row = (
        ReferenceItem.objects.filter(project=project, span_id=span_id)
        .values_list("use", "retired_at")
        .first()
    )
    if row is not None:
        raise ValidationError(
            {"span": taken_message(span_id, row[0], row[1] is not None)}
        )


def _create(project: Project, span: Span, **fields) -> ReferenceItem:
    try:
        with transaction.atomic():
            item = ReferenceItem.objects.create(
                project=project, codebook_id=project.codebook_id, span=span, **fields
            )
    except IntegrityError:  # marked by someone else a moment ago
        refuse_taken(project, span.pk)
        raise
    if item.use == Use.CHECK:
        place_check(item)
    return item


@transaction.atomic
def mark(
    project: Project,
    *,
    span_id: int,
    use: str,
    codes: Mapping[str, str | Sequence[str]],
    explanation: str = "",
    by=None,
    source: str = Source.HAND,
) -> ReferenceItem:
    """A span marked as a reference item with its correct codes (by hand)."""
    checked_use(use)
    span = span_in_corpus(project, span_id)
    refuse_taken(project, span.pk)
    return _create(
        project,
        span,
        use=use,
        codes=checked_codes(project.codebook_id, codes),
        explanation=explanation.strip(),
        source=source,
        created_by=by,
    )


def gold_codes(project: Project, span_id: int) -> dict[str, list[str]]:
    """The span's gold codes now ({dimension key: category keys}): decided by a
    reviewer or by the project's rule; a dimension without gold is absent."""
    codes: dict[str, list[str]] = {}
    labels = GoldLabel.objects.filter(project=project, span_id=span_id).values_list(
        "pk", "dimension__key", "category__key"
    )
    multi = {}
    for pk, dimension, category in labels:
        codes[dimension] = [category] if category else []
        multi[pk] = dimension
    for pk, category in GoldLabelCategory.objects.filter(
        gold_label_id__in=multi
    ).values_list("gold_label_id", "category__key"):
        codes[multi[pk]].append(category)
    return codes


@transaction.atomic
def mark_from_gold(
    project: Project, *, span_id: int, use: str, by=None, explanation: str = ""
) -> ReferenceItem:
    """A span marked with its gold codes as the reference (one click on a decision)."""
    checked_use(use)
    span = span_in_corpus(project, span_id)
    refuse_taken(project, span.pk)
    codes = gold_codes(project, span.pk)
    if not codes:
        raise ValidationError({"span": f"Span {span.pk} has no gold codes yet."})
    try:
        checked = checked_codes(project.codebook_id, codes)
    except ValidationError as error:
        raise ValidationError(
            {
                "span": f"Span {span.pk}'s gold is not a complete coding in this "
                "codebook version: " + " ".join(error.messages)
            }
        ) from None
    return _create(
        project,
        span,
        use=use,
        codes=checked,
        explanation=explanation.strip(),
        source=Source.GOLD,
        created_by=by,
    )


@transaction.atomic
def import_reference(
    project: Project, stream: BinaryIO, name: str, *, by=None
) -> list[ReferenceItem]:
    """A file's reference items, all or nothing: any problem (each naming line
    and field) refuses the file and nothing is written."""
    entries = read_reference(project, stream, name)
    problems = Problems(name)
    taken = dict(
        ReferenceItem.objects.filter(
            project=project, span_id__in=[e.span_id for e in entries]
        ).values_list("span_id", "use")
    )
    for entry in entries:
        if entry.span_id in taken:
            problems.add(
                entry.line,
                "span_id",
                taken_message(entry.span_id, taken[entry.span_id], False).replace(
                    "edit that item instead", "leave it out of the file"
                ),
            )
    problems.stop()
    items = ReferenceItem.objects.bulk_create(
        ReferenceItem(
            project=project,
            codebook_id=project.codebook_id,
            span_id=entry.span_id,
            use=entry.use,
            codes=entry.codes,
            explanation=entry.explanation,
            source=Source.UPLOAD,
            created_by=by,
        )
        for entry in entries
    )
    for item in items:
        if item.use == Use.CHECK:
            place_check(item)
    return items


@transaction.atomic
def edit(
    item: ReferenceItem,
    *,
    use: str,
    codes: Mapping[str, str | Sequence[str]],
    explanation: str,
) -> ReferenceItem:
    """New codes, use or explanation for an item. The codes are given in the
    project's current codebook version, so an item of an older one moves to it."""
    checked_use(use)
    codebook_id = item.project.codebook_id
    item.codes = checked_codes(codebook_id, codes)
    item.codebook_id = codebook_id
    item.use = use
    item.explanation = explanation.strip()
    item.save(update_fields=["codes", "codebook", "use", "explanation"])
    if use == Use.CHECK:
        place_check(item)
    return item


def retire(item: ReferenceItem) -> ReferenceItem:
    """The item is no longer served (kept: past answers point at it)."""
    if item.retired_at is None:
        item.retired_at = timezone.now()
        item.save(update_fields=["retired_at"])
    return item


def restore(item: ReferenceItem) -> ReferenceItem:
    """A retired item served again."""
    item.retired_at = None
    item.save(update_fields=["retired_at"])
    if item.use == Use.CHECK:
        place_check(item)
    return item


def carry_problem(item: ReferenceItem, codebook: Codebook | int, read=None) -> str:
    """Why the item's codes cannot move to ``codebook`` ('' when they can)."""
    codebook_id = getattr(codebook, "pk", codebook)
    if item.codebook_id == codebook_id:
        return ""
    try:
        checked_codes(codebook_id, item.codes, read)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


@transaction.atomic
def carry_to_version(item: ReferenceItem) -> ReferenceItem:
    """An item of an older codebook version moved to the project's current one,
    when its codes mean the same keys there (else refused, saying why)."""
    project = item.project
    problem = carry_problem(item, project.codebook_id)
    if problem:
        raise ValidationError(
            "Its codes are not valid in the project's codebook version, so it "
            f"cannot be carried as it is: give its codes again below. {problem}"
        )
    item.codes = checked_codes(project.codebook_id, item.codes)
    item.codebook_id = project.codebook_id
    item.save(update_fields=["codes", "codebook"])
    if item.use == Use.CHECK:
        place_check(item)
    return item
