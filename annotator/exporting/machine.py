"""Machine codes as gold export rows: only when asked, always marked "machine".

Machine codes are kept apart from the human gold (``MachineLabel``); a gold
download with ``include_machine`` appends them after the gold, in the gold's
columns: ``method`` is "machine", ``posterior`` the predicted probability,
``note`` the machine coder that gave them, and no coder codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from annotator.exporting.columns import CHUNK_ROWS, GOLD, SEPARATOR, T, read_rows
from annotator.exporting.filters import NO_FILTERS, GoldFilters
from annotator.models import MACHINE_METHOD, MachineLabel, Project

READ = (
    "span_id",
    "span__document_id",
    "span__document__title",
    "span__start",
    "span__end",
    "span__text",
    "dimension__key",
    "category__key",
    "categories",
    "probability",
    "machine_coder__codebook__version",
    "machine_coder_id",
    "created_at",
)


def machine_labels(project: Project, filters: GoldFilters = NO_FILTERS):
    """The project's machine labels under the gold filters: a method filter
    (a human gold method) leaves none; ``updated_since`` reads when coded."""
    labels = MachineLabel.objects.filter(project=project)
    if filters.method is not None:
        return labels.none()
    if filters.dimension_ids is not None:
        labels = labels.filter(dimension_id__in=filters.dimension_ids)
    if filters.document is not None:
        labels = labels.filter(span__document_id=filters.document)
    if filters.updated_since is not None:
        labels = labels.filter(created_at__gte=filters.updated_since)
    return labels


def as_gold_values(row: tuple) -> tuple:
    """A READ tuple as a gold_values() tuple (columns.GOLD's order)."""
    (span, document, title, start, end, text, dimension, key, keys, probability,
     version, coder, created_at) = row  # fmt: skip
    joined = key if key is not None else SEPARATOR.join(sorted(keys or ()))
    return (
        span, document, title, start, end, text, dimension, joined,
        MACHINE_METHOD, None, created_at, probability, version, 0, "{}", "{}",
        None, f"machine coder {coder}", created_at,
    )  # fmt: skip


def machine_rows(
    project: Project,
    filters: GoldFilters = NO_FILTERS,
    *,
    make_row: Callable[[tuple], T] = GOLD.row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every machine label under the filters as gold rows, span then dimension."""
    values = (
        machine_labels(project, filters)
        .order_by("span_id", "dimension_id")
        .values_list(*READ)
    )
    return read_rows(values, lambda row: make_row(as_gold_values(row)), chunk)
