"""A reviewer's decisions on a span's dimensions, each with its revision history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotator.access import may_review
from annotator.gold.disputes import coder_codes, gold_keys, span_golds
from annotator.gold.queue import rebuild_waiting
from annotator.gold.store import hold_references
from annotator.models import (
    Annotation,
    Category,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldMethod,
    Label,
    Project,
    WorkItem,
)
from annotator.services import codebook_dimensions, codebook_groups, resolve_choice
from annotator.services.text import typed_text
from corpus.models import Span


def span_codes(project: Project, span_id: int, dimension: Dimension) -> dict[str, list]:
    """{coder id: [category keys]} of the span's ratings on the dimension now.

    Labels made under other codebook versions count by dimension key. For a
    multi-choice dimension every coder who annotated the span gave a rating,
    possibly the empty set.
    """
    codes: dict[int, list[str]] = {}
    if dimension.multiple:
        for coder_id in Annotation.objects.filter(
            project=project, assignment__span_id=span_id
        ).values_list("assignment__coder_id", flat=True):
            codes[coder_id] = []
    for coder_id, key in Label.objects.filter(
        project=project,
        span_id=span_id,
        dimension__in=Dimension.objects.in_family_of(dimension.codebook_id).filter(
            key=dimension.key
        ),
    ).values_list("coder_id", "category__key"):
        codes.setdefault(coder_id, []).append(key)
    return {str(c): sorted(codes[c]) for c in sorted(codes)}


def gold_state(label: GoldLabel | None) -> dict:
    """What a revision records of a gold label (an empty dict when there was none)."""
    if label is None:
        return {}
    return {
        "method": label.method,
        "categories": gold_keys(label),
        "note": label.note,
        "decided_by": label.decided_by_id,
        "decided_at": label.decided_at.isoformat(),
    }


def _resolve(
    project: Project, dimension: Dimension | str | int, categories
) -> tuple[Dimension, list[Category]]:
    """The project's dimension and the chosen categories, or a ValidationError
    naming what is wrong (the coders' validator: services.resolve_choice)."""
    dimensions = codebook_dimensions(project.codebook_id)
    if isinstance(dimension, str):
        found = dimensions.get(dimension)
    else:
        pk = getattr(dimension, "pk", dimension)
        found = next((d for d in dimensions.values() if d.pk == pk), None)
    if found is None:
        raise ValidationError(
            {"dimension": f"{dimension!r} is not a dimension of the codebook."}
        )
    if isinstance(categories, (str, Category)):
        categories = [categories]
    keys = [getattr(c, "key", c) for c in categories if c]
    return found, resolve_choice(found, keys)


@transaction.atomic
def adjudicate(
    project: Project,
    span: Span | int,
    dimension: Dimension | str | int,
    categories: Sequence[str | Category] | str | Category,
    *,
    reviewer,
    note: str = "",
    now: datetime | None = None,
) -> GoldLabel:
    """A reviewer's gold label for one span and dimension (method ``adjudicated``).

    ``categories`` are category keys (or Category rows) of the project's
    codebook dimension: exactly one for a single-choice dimension, any number
    for a multi-choice one (none only where the dimension is optional). The
    label records who, when, the note, the coders' codes at this moment and
    their agreement with the decision; every change is kept as a
    GoldLabelRevision (old → new), and re-sending the same decision writes
    nothing. ``refresh_gold`` never overwrites the result.
    """
    now = now or timezone.now()
    if not may_review(reviewer, project):
        raise PermissionDenied("Only the project's reviewers and managers adjudicate.")
    span_id = getattr(span, "pk", span)
    if not WorkItem.objects.filter(project=project, span_id=span_id).exists():
        raise ValidationError({"span": f"Span {span_id} is not in this project."})
    note = typed_text(note, field="note", label="Note")
    dimension, chosen = _resolve(project, dimension, categories)
    with connection.cursor() as cursor:  # what the label will refer to stays
        hold_references(
            cursor, project.pk, dimension.pk, project.codebook_id, None,
            [c.pk for c in chosen],
        )  # fmt: skip
    label = (
        GoldLabel.objects.select_for_update(of=("self",))
        .filter(project=project, span_id=span_id, dimension=dimension)
        .select_related("category", "dimension")
        .first()
    )
    old = gold_state(label)
    new_keys = sorted(c.key for c in chosen)
    if (
        old
        and old["method"] == GoldMethod.ADJUDICATED
        and old["categories"] == new_keys
        and old["note"] == note
    ):
        return label
    codes = span_codes(project, span_id, dimension)
    agree = sum(1 for keys in codes.values() if keys == new_keys)
    fields = {
        "category": None if dimension.multiple else (chosen[0] if chosen else None),
        "method": GoldMethod.ADJUDICATED,
        "run": None,
        "decided_by": reviewer,
        "decided_at": now,
        "note": note,
        "posterior": None,
        "codebook_id": project.codebook_id,
        "n_ratings": len(codes),
        "coder_codes": codes,
        "agreement": agree / len(codes) if codes else None,
        "updated_at": now,
    }
    if label is None:
        label = GoldLabel.objects.create(
            project=project, span_id=span_id, dimension=dimension, **fields
        )
    else:
        for name, value in fields.items():
            setattr(label, name, value)
        label.save()
    if dimension.multiple:
        GoldLabelCategory.objects.filter(gold_label=label).delete()
        GoldLabelCategory.objects.bulk_create(
            GoldLabelCategory(gold_label=label, category=c) for c in chosen
        )
    label.dimension = dimension
    new = {
        "method": GoldMethod.ADJUDICATED.value,
        "categories": new_keys,
        "note": note,
        "decided_by": reviewer.pk,
        "decided_at": now.isoformat(),
    }
    GoldLabelRevision.objects.create(
        gold_label=label, changed_by=reviewer, old=old, new=new
    )
    rebuild_waiting(project, np.array([span_id], dtype=np.int64))
    return label


def settle_span(
    project: Project,
    span_id: int,
    chosen: Mapping[str, Sequence[str]],
    *,
    reviewer,
    note: str = "",
) -> int:
    """A reviewer's decisions on one span, every dimension at once, all or nothing.

    A dimension is written when it has no gold label yet (disputed) or the choice
    differs from its gold label, or when the note changed on a label a reviewer
    already decided; a dimension nobody coded and the reviewer leaves empty is left
    alone. Returns how many labels were written; a ValidationError names each
    dimension at fault (keyed by its key) and nothing is stored.
    """
    # Checked once here: per dimension, adjudicate's refusal would be filed under
    # each dimension's key instead of the note's.
    note = typed_text(note, field="note", label="Note")
    groups = codebook_groups(project.codebook_id)
    golds = span_golds(project, span_id)
    _, votes = coder_codes(project, span_id, groups)
    written = 0
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        for dimension, _ in groups:
            gold = golds.get(dimension.pk)
            picked = sorted(chosen.get(dimension.key, ()))
            rated = sum(votes[dimension.key].values()) > 0
            if gold is None and not rated and not picked:
                continue  # nobody coded it and the reviewer adds nothing
            adjudicated = gold is not None and gold.method == GoldMethod.ADJUDICATED
            if (
                gold is not None
                and picked == gold_keys(gold)
                and not (adjudicated and gold.note != note)
            ):
                continue
            try:
                adjudicate(
                    project, span_id, dimension, picked, reviewer=reviewer, note=note
                )
            except ValidationError as error:
                if not hasattr(error, "error_dict"):
                    error = ValidationError({dimension.key: error.messages})
                for key, messages in error.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
            written += 1
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return written
