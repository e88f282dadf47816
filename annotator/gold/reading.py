"""Reading the ratings of chosen spans (the incremental refresh).

A full refresh reads every rating through ``annotator.ratings``; after
a few annotations changed, only their spans' ratings are read here, by id, with
the same scale (dimensions and categories matched by key across codebook
versions). Both come to ``aggregate_dimension`` as ``Ratings``: what the rules
need and nothing more, so the shared reader's arrays may grow other fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from annotator.models import Annotation, Category, Dimension, Label, Project
from annotator.ratings import LabelArrays, category_scale

CHUNK = 5_000  # ids per IN list (SQLite allows 32,766 parameters)


@dataclass(frozen=True)
class Ratings:
    """One dimension's ratings: span, coder and value (scale position, or a
    frozenset of positions for multi-choice) per rating, and the scale."""

    unit: np.ndarray
    coder: np.ndarray
    value: np.ndarray
    categories: tuple[Category, ...]
    level: str  # nominal, ordinal or set

    @classmethod
    def of(cls, arrays: LabelArrays) -> Ratings:
        """From the shared reader's ``LabelArrays``."""
        return cls(
            arrays.unit, arrays.coder, arrays.value, arrays.categories, arrays.level
        )


def chunks(ids: np.ndarray) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK].tolist()


def _scale(dimension: Dimension) -> tuple[tuple[Category, ...], dict[int, int]]:
    """The categories in scale order and the position of every category id of
    every version of the dimension: the shared reader's scale, so a full and
    an incremental refresh code values alike."""
    scale = category_scale(dimension)
    return scale.categories, dict(
        zip(scale.ids.tolist(), scale.positions.tolist(), strict=True)
    )


def read_spans(
    project: Project, dimensions: Sequence[Dimension], spans: np.ndarray
) -> list[Ratings]:
    """Each dimension's ratings on ``spans`` only (one entry per dimension)."""
    scales = [_scale(d) for d in dimensions]
    position: dict[int, tuple[int, int]] = {}  # category id -> (dimension, pos)
    for i, (_, of_id) in enumerate(scales):
        for category_id, pos in of_id.items():
            position[category_id] = (i, pos)
    labels: list[tuple[int, int, int]] = []
    owners: list[tuple[int, int]] = []
    for chunk in chunks(spans):
        labels.extend(
            Label.objects.filter(
                project=project,
                span_id__in=chunk,
                category_id__in=list(position),
            ).values_list("span_id", "coder_id", "category_id")
        )
        if any(d.multiple for d in dimensions):
            owners.extend(
                Annotation.objects.filter(
                    project=project, assignment__span_id__in=chunk
                ).values_list("assignment__span_id", "assignment__coder_id")
            )
    out = []
    for i, (dimension, (scale, _)) in enumerate(zip(dimensions, scales, strict=True)):
        mine = [(s, c, position[k][1]) for s, c, k in labels if position[k][0] == i]
        if dimension.multiple:
            sets: dict[tuple[int, int], set[int]] = {o: set() for o in owners}
            for s, c, p in mine:
                sets.setdefault((s, c), set()).add(p)
            keys = list(sets)
            value = np.empty(len(keys), dtype=object)
            value[:] = [frozenset(sets[k]) for k in keys]
            unit = np.array([k[0] for k in keys], dtype=np.int64)
            coder = np.array([k[1] for k in keys], dtype=np.int64)
            level = "set"
        else:
            unit = np.array([m[0] for m in mine], dtype=np.int64)
            coder = np.array([m[1] for m in mine], dtype=np.int64)
            value = np.array([m[2] for m in mine], dtype=np.int64)
            level = str(dimension.level)
        out.append(Ratings(unit, coder, value, scale, level))
    return out
