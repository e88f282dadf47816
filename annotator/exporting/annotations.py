"""Coders' annotations as rows (raw codes per coder) and as CSV cells."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from django.db.models import (
    CharField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Concat

from annotator.exporting.columns import (
    ANNOTATION_COLUMNS,
    CHUNK_ROWS,
    SEPARATOR,
    KeysAgg,
    T,
    iso,
    parse_pairs,
    read_rows,
)
from annotator.models import Annotation, Dimension, Label, Project


def annotations_of(project: Project) -> QuerySet:
    return Annotation.objects.filter(project=project)


ANNOTATION_VALUES = (
    "pk", "assignment__span_id", "assignment__span__document_id",
    "assignment__span__document__title", "assignment__span__start",
    "assignment__span__end", "assignment__span__text", "assignment__coder_id",
    "assignment__coder__username", "label_pairs", "uncertain", "comment", "seconds",
    "codebook__version", "created_at", "updated_at",
)  # fmt: skip


def annotation_values(annotations: QuerySet) -> QuerySet:
    """Annotations as tuples in ANNOTATION_VALUES order; labels as 'dim:key|…'."""
    pairs = (
        Label.objects.filter(annotation=OuterRef("pk"))
        .order_by()
        .values("annotation")
        .annotate(
            pairs=KeysAgg(
                Concat(
                    F("dimension__key"),
                    Value(":"),
                    F("category__key"),
                    output_field=CharField(),
                )
            )
        )
        .values("pairs")
    )
    return annotations.annotate(
        label_pairs=Subquery(pairs, output_field=TextField())
    ).values_list(*ANNOTATION_VALUES)


def annotation_row(values: tuple) -> dict:
    (pk, span_id, document_id, title, start, end, text, coder_id, coder, pairs,
     uncertain, comment, seconds, codebook_version, created_at,
     updated_at) = values  # fmt: skip
    return {
        "annotation_id": pk,
        "span_id": span_id,
        "document_id": document_id,
        "document_title": title,
        "start": start,
        "end": end,
        "text": text,
        "coder_id": coder_id,
        "coder": coder,
        "labels": parse_pairs(pairs),
        "uncertain": uncertain,
        "comment": comment,
        "seconds": seconds,
        "codebook_version": codebook_version,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def annotation_rows(
    project: Project,
    *,
    make_row: Callable[[tuple], T] = annotation_row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every annotation of the project (raw codes per coder), oldest first."""
    values = annotation_values(annotations_of(project)).order_by("pk")
    return read_rows(values, make_row, chunk)


def dimension_keys(project: Project) -> list[str]:
    """Dimension keys of the project's codebook, then any only older versions had.

    They are the annotation CSV's label columns, one per dimension.
    """
    keys: list[str] = []
    for key in (
        Dimension.objects.filter(codebook__family=project.codebook.family)
        .order_by("-codebook__version", "position", "pk")
        .values_list("key", flat=True)
    ):
        if key not in keys:
            keys.append(key)
    return keys


def _csv_cell(value):
    if isinstance(value, list):
        return SEPARATOR.join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value  # None is written as an empty cell


def annotation_csv_cells(labels: Iterable[str]) -> Callable[[tuple], list]:
    """annotation_values() tuples as CSV cells: ANNOTATION_COLUMNS, `labels`
    replaced by one `label_<key>` column per dimension key."""
    keys = list(labels)

    def cells(values: tuple) -> list:
        row = annotation_row(values)
        codes = row.pop("labels")
        return [_csv_cell(value) for value in row.values()] + [
            SEPARATOR.join(codes.get(key, ())) for key in keys
        ]

    return cells


def annotation_csv_header(labels: Iterable[str]) -> list[str]:
    return [c for c in ANNOTATION_COLUMNS if c != "labels"] + [
        f"label_{key}" for key in labels
    ]
