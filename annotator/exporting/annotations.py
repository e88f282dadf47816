"""Coders' annotations as rows (raw codes per coder) and as CSV cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet

from annotator.exporting.columns import (
    ANNOTATION,
    ANNOTATION_COLUMNS,
    CHUNK_ROWS,
    SEPARATOR,
    T,
    read_rows,
)
from annotator.models import Annotation, Dimension, Project


def annotations_of(project: Project, since: datetime | None = None) -> QuerySet:
    """The project's annotations; with `since`, those updated at or after it
    (inclusive, as gold's updated_since: a resuming client gets the boundary again)."""
    annotations = Annotation.objects.filter(project=project)
    if since is not None:
        annotations = annotations.filter(updated_at__gte=since)
    return annotations


def annotation_values(annotations: QuerySet) -> QuerySet:
    """Annotations as tuples in ANNOTATION_VALUES order (columns.ANNOTATION)."""
    return ANNOTATION.select(annotations)


def annotation_row(values: tuple) -> dict:
    """One annotation_values() tuple as the row the API and JSONL share."""
    return ANNOTATION.row(values)


def annotation_rows(
    project: Project,
    *,
    make_row: Callable[[tuple], T] = annotation_row,
    chunk: int = CHUNK_ROWS,
    since: datetime | None = None,
) -> Iterator[T]:
    """Every annotation of the project (raw codes per coder), oldest first; with
    `since`, those updated at or after it."""
    values = annotation_values(annotations_of(project, since)).order_by("pk")
    return read_rows(values, make_row, chunk)


def dimension_keys(project: Project) -> list[str]:
    """Dimension keys of the project's codebook, then any only older versions had.

    They are the annotation CSV's label columns, one per dimension.
    """
    keys: list[str] = []
    for key in (
        Dimension.objects.in_family_of(project.codebook_id)
        .order_by("-codebook__version", "position", "pk")
        .values_list("key", flat=True)
    ):
        if key not in keys:
            keys.append(key)
    return keys


_LABELS = ANNOTATION_COLUMNS.index("labels")


def annotation_csv_cells(labels: Iterable[str]) -> Callable[[tuple], list]:
    """annotation_values() tuples as CSV cells: ANNOTATION_COLUMNS, `labels`
    replaced by one `label_<key>` column per dimension key."""
    keys = list(labels)

    def cells(values: tuple) -> list:
        row = ANNOTATION.cells(values)
        codes = row.pop(_LABELS)  # {dimension: [keys]}, spread over the label columns
        return row + [SEPARATOR.join(codes.get(key, ())) for key in keys]

    return cells


def annotation_csv_header(labels: Iterable[str]) -> list[str]:
    return [c for c in ANNOTATION_COLUMNS if c != "labels"] + [
        f"label_{key}" for key in labels
    ]
