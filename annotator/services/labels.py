"""Label validation against a codebook, and the cache of codebooks in use.

One validator for every code a person gives: a coder's submit (all dimensions at
once, ``resolve_labels``) and a reviewer's decision (one dimension,
``resolve_choice``) refuse the same things with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db.models import Exists
from django.db.models.signals import post_delete, post_save

from annotator.models import Annotation, Category, Codebook, Dimension
from corpus.text import shown

Chosen = str | Sequence[str]


def resolve_choice(dimension: Dimension, chosen: Chosen | None) -> list[Category]:
    """The categories chosen on one dimension (keys, duplicates and blanks
    dropped), or a ValidationError keyed by the dimension's key.

    `dimension` comes from ``codebook_dimensions`` (it carries ``category_map``).
    """
    if isinstance(chosen, str):
        chosen = [chosen]
    keys = [key for key in dict.fromkeys(chosen or ()) if key]
    categories = dimension.category_map
    unknown = [key for key in keys if key not in categories]
    if unknown:
        message = f"'{shown(unknown[0])}' is not a category of this dimension."
    elif not keys and dimension.required:
        message = "choose a category (required)."
    elif len(keys) > 1 and not dimension.multiple:
        message = f"choose one category, not {len(keys)}."
    else:
        return [categories[key] for key in keys]
    raise ValidationError({dimension.key: f"{dimension.label}: {message}"})


def resolve_labels(
    codebook: Codebook | int, labels: Mapping[str, Chosen]
) -> list[tuple[int, Category]]:
    """Check {dimension key: category key(s)} against the codebook.

    Raises ValidationError keyed by dimension, so a form can show each error beside
    its group of buttons. Each returned Category has its dimension loaded.
    """
    return resolve_against(
        codebook_dimensions(getattr(codebook, "pk", codebook)), labels
    )


def resolve_against(
    dimensions: Mapping[str, Dimension], labels: Mapping[str, Chosen]
) -> list[tuple[int, Category]]:
    """resolve_labels with the codebook's dimensions (``codebook_dimensions``)
    already read: an import checks thousands of codings against one reading
    (a codebook not yet in use is otherwise read again for each)."""
    errors: dict[str, list[str]] = {
        shown(key): [f"'{shown(key)}' is not a dimension of this codebook."]
        for key in labels
        if key not in dimensions
    }
    resolved: list[tuple[int, Category]] = []
    for key, dimension in dimensions.items():
        try:
            chosen = resolve_choice(dimension, labels.get(key))
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            resolved.extend((dimension.pk, category) for category in chosen)
    if errors:
        raise ValidationError(errors)
    return resolved


# {codebook id: its dimensions}, for codebooks in use only: a version with
# annotations is frozen (annotator/codebooks.py; the admin refuses edits), so what
# was read once stays true, and a submit need not read the codebook again. A version
# not yet in use may still be edited in place: read each time until it is. Saving or
# deleting a codebook, dimension or category in this process empties the cache.
_IN_USE_CODEBOOKS: dict[int, dict[str, Dimension]] = {}


def _forget_codebooks(**kwargs) -> None:
    _IN_USE_CODEBOOKS.clear()


for _model in (Codebook, Dimension, Category):
    for _signal in (post_save, post_delete):
        _signal.connect(
            _forget_codebooks, sender=_model, dispatch_uid=f"codebook-cache-{_model}"
        )


def codebook_dimensions(codebook_id: int) -> dict[str, Dimension]:
    """{key: dimension} of a codebook, in order, each with `category_map`
    ({key: category}, in order, each category with its dimension loaded).

    One query (dimensions outer-joined to their categories, so a dimension without
    any still comes), where prefetching took two; full instances, no deferred
    fields. Callers must not change what they get: it may be shared.
    """
    cached = _IN_USE_CODEBOOKS.get(codebook_id)
    if cached is not None:
        return cached
    dimension_fields = [field.attname for field in Dimension._meta.concrete_fields]
    category_fields = [field.attname for field in Category._meta.concrete_fields]
    rows = (
        Dimension.objects.filter(codebook_id=codebook_id)
        .annotate(in_use=Exists(Annotation.objects.filter(codebook_id=codebook_id)))
        .order_by("position", "pk", "categories__position", "categories__pk")
        .values_list(
            *dimension_fields,
            *(f"categories__{name}" for name in category_fields),
            "in_use",
        )
    )
    n = len(dimension_fields)
    dimensions: dict[str, Dimension] = {}
    in_use = False
    for *row, in_use in rows:  # noqa: B007 - the same on every row; kept after
        dimension = Dimension(**dict(zip(dimension_fields, row[:n], strict=True)))
        dimension = dimensions.setdefault(dimension.key, dimension)
        if not hasattr(dimension, "category_map"):
            dimension.category_map = {}
        if row[n] is not None:
            category = Category(**dict(zip(category_fields, row[n:], strict=True)))
            category.dimension = dimension
            dimension.category_map[category.key] = category
    if in_use:
        _IN_USE_CODEBOOKS[codebook_id] = dimensions
    return dimensions


def codebook_groups(codebook_id: int) -> list[tuple[Dimension, list[Category]]]:
    """The codebook's dimensions with their categories, in order (what the coding
    and adjudication screens draw); no query for a codebook in use. A dimension
    without categories offers nothing to choose and is left out."""
    return [
        (dimension, list(dimension.category_map.values()))
        for dimension in codebook_dimensions(codebook_id).values()
        if dimension.category_map
    ]
