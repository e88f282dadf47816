"""A reviewer's decision on one span and dimension, with its revision history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.models import (
    Annotation,
    Category,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldMethod,
    Label,
    Membership,
    Project,
    WorkItem,
)
from corpus.models import Span

REVIEWER_ROLES = (Membership.Role.REVIEWER, Membership.Role.MANAGER)


def _family_dimension_ids(dimension: Dimension) -> list[int]:
    """Ids of this dimension in every version of its codebook (matched by key)."""
    return list(
        Dimension.objects.filter(
            codebook__family=dimension.codebook.family, key=dimension.key
        ).values_list("pk", flat=True)
    )


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
        dimension_id__in=_family_dimension_ids(dimension),
    ).values_list("coder_id", "category__key"):
        codes.setdefault(coder_id, []).append(key)
    return {str(c): sorted(codes[c]) for c in sorted(codes)}


def gold_state(label: GoldLabel | None) -> dict:
    """What a revision records of a gold label (an empty dict when there was none)."""
    if label is None:
        return {}
    if label.dimension.multiple:
        keys = sorted(c.category.key for c in label.categories.all())
    else:
        keys = [label.category.key] if label.category_id else []
    return {
        "method": label.method,
        "categories": keys,
        "note": label.note,
        "decided_by": label.decided_by_id,
        "decided_at": label.decided_at.isoformat(),
    }


def _resolve(
    project: Project, dimension: Dimension | str | int, categories
) -> tuple[Dimension, list[Category]]:
    """The project's dimension and the chosen categories, or a ValidationError
    naming what is wrong."""
    lookup = (
        {"key": dimension}
        if isinstance(dimension, str)
        else {"pk": getattr(dimension, "pk", dimension)}
    )
    found = (
        Dimension.objects.filter(codebook_id=project.codebook_id, **lookup)
        .select_related("codebook")
        .first()
    )
    if found is None:
        raise ValidationError(
            {"dimension": f"{dimension!r} is not a dimension of the codebook."}
        )
    if isinstance(categories, (str, Category)):
        categories = [categories]
    keys = list(dict.fromkeys(getattr(c, "key", c) for c in categories if c))
    by_key = {c.key: c for c in found.categories.all()}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValidationError(
            {found.key: f"{found.label}: '{unknown[0]}' is not a category of it."}
        )
    if not keys and found.required:
        raise ValidationError({found.key: f"{found.label}: choose a category."})
    if len(keys) > 1 and not found.multiple:
        raise ValidationError(
            {found.key: f"{found.label}: choose one category, not {len(keys)}."}
        )
    return found, [by_key[k] for k in keys]


def can_adjudicate(user, project: Project) -> bool:
    """Reviewers and managers of the project (and staff) settle gold labels."""
    if not user.is_authenticated:
        return False
    return (
        user.is_staff
        or project.memberships.filter(user=user, role__in=REVIEWER_ROLES).exists()
    )


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
    if not can_adjudicate(reviewer, project):
        raise PermissionDenied("Only the project's reviewers and managers adjudicate.")
    span_id = getattr(span, "pk", span)
    if not WorkItem.objects.filter(project=project, span_id=span_id).exists():
        raise ValidationError({"span": f"Span {span_id} is not in this project."})
    dimension, chosen = _resolve(project, dimension, categories)
    note = note.strip()
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
    return label
