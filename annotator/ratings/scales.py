"""A dimension's category scale, matched by key across its codebook's versions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.models import Category, Dimension


def _in_scale_order(
    dimension: Dimension, categories: list[Category]
) -> tuple[Category, ...]:
    if dimension.level == Dimension.Level.ORDINAL and all(
        c.value is not None for c in categories
    ):
        categories = sorted(categories, key=lambda c: (c.value, c.position, c.pk))
    return tuple(categories)


@dataclass(frozen=True)
class CategoryScale:
    """A dimension's scale and the position of every category id (all versions)."""

    dimension: Dimension
    categories: tuple[Category, ...]
    ids: np.ndarray  # category ids, sorted
    positions: np.ndarray  # scale position of each id
    dimension_ids: list[int]

    @property
    def is_set(self) -> bool:
        return bool(self.dimension.multiple)


def category_scale(
    dimension: Dimension, *, version_only: bool = False
) -> CategoryScale:
    """The scale of a dimension matched by key across its codebook's versions.

    One query: every category of every version's dimension with this key. The
    current version's categories give the scale (ordinal: by value when every
    category has one); a category key that only an older version has is
    appended. ``version_only``: this dimension's own categories alone (the
    scale of one codebook version's ratings).
    """
    every = list(
        Category.objects.filter(dimension=dimension).order_by("position", "id")
        if version_only
        else Category.objects.filter(
            dimension__codebook__family=dimension.codebook.family,
            dimension__key=dimension.key,
        ).order_by("dimension__codebook__version", "position", "id")
    )
    current = sorted(
        (c for c in every if c.dimension_id == dimension.pk),
        key=lambda c: (c.position, c.pk),
    )
    scale = list(_in_scale_order(dimension, current))
    position = {c.key: i for i, c in enumerate(scale)}
    category_position: dict[int, int] = {}
    for category in every:
        if category.key not in position:
            position[category.key] = len(scale)
            scale.append(category)
        category_position[category.pk] = position[category.key]
    ids = np.array(sorted(category_position), dtype=np.int64)
    positions = np.array([category_position[i] for i in ids], dtype=np.int64)
    dimension_ids = sorted({c.dimension_id for c in every} | {dimension.pk})
    return CategoryScale(dimension, tuple(scale), ids, positions, dimension_ids)
