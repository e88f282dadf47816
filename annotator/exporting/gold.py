"""Gold labels as rows: the query, the API/JSONL row, the CSV cells, the downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from django.db.models import QuerySet

from annotator.exporting.columns import CHUNK_ROWS, GOLD, GOLD_COLUMNS, T, read_rows
from annotator.exporting.filters import NO_FILTERS, GoldFilters, gold_labels
from annotator.exporting.machine import machine_rows
from annotator.exporting.pg_copy import gold_copy_csv, gold_copy_jsonl
from annotator.exporting.writers import csv_chunks, jsonl_chunks
from annotator.models import Project
from corpus.db import fast_path


def gold_values(labels: QuerySet) -> QuerySet:
    """Gold labels as tuples in GOLD_VALUES order (columns.GOLD): one query, joins
    and a multi-choice subquery only."""
    return GOLD.select(labels)


def gold_row(values: tuple) -> dict:
    """One gold_values() tuple as the row the API and JSONL share (GOLD_COLUMNS)."""
    return GOLD.row(values)


def gold_csv_cells(values: tuple) -> list:
    """One gold_values() tuple as CSV cells (GOLD_COLUMNS), without a dict between."""
    return GOLD.cells(values)


def gold_rows(
    project: Project,
    filters: GoldFilters = NO_FILTERS,
    *,
    make_row: Callable[[tuple], T] = gold_row,
    chunk: int = CHUNK_ROWS,
) -> Iterator[T]:
    """Every gold label under the filters, in reading order (span, then dimension).

    The order follows the (project, span, dimension) unique index, so the first
    rows arrive before the last are read.
    """
    values = gold_values(gold_labels(project, filters)).order_by(
        "span_id", "dimension_id"
    )
    return read_rows(values, make_row, chunk)


def gold_csv(
    project: Project,
    filters: GoldFilters = NO_FILTERS,
    *,
    raw: bool = False,
    include_machine: bool = False,
) -> Iterator[str]:
    """The gold CSV download: the header, then pieces of rows as they are read.

    On the "gold-csv-copy" fast path PostgreSQL writes the CSV itself
    (pg_copy.gold_copy_csv: the same columns and cells, rows ending in \\n);
    otherwise the csv module writes gold_csv_cells() (rows ending in \\r\\n). Both
    read back alike with any CSV reader (tests/annotator/test_export_fast_paths.py).
    The path is chosen when called, so a caller inside `portable()` gets the
    portable twin however late it reads. Cells that would open as a formula in
    a spreadsheet are quoted on both paths unless `raw` (writers.formula_safe).
    With `include_machine`, the machine codes follow the gold (machine.py),
    written by the csv module, rows marked method "machine".
    """
    if fast_path("gold-csv-copy"):
        chunks = gold_copy_csv(gold_labels(project, filters), raw=raw)
    else:
        chunks = csv_chunks(
            gold_rows(project, filters, make_row=gold_csv_cells), GOLD_COLUMNS, raw=raw
        )
    if not include_machine:
        return chunks
    machine = csv_chunks(
        machine_rows(project, filters, make_row=gold_csv_cells), (), raw=raw
    )
    next(machine)  # its empty header line: the gold's header stands for both
    return chain(chunks, machine)


def gold_jsonl(
    project: Project,
    filters: GoldFilters = NO_FILTERS,
    *,
    include_machine: bool = False,
) -> Iterator[str]:
    """The gold JSONL download: json.dumps of gold_row(), or on the
    "gold-jsonl-copy" fast path each line built by PostgreSQL
    (pg_copy.gold_copy_jsonl: the same objects, its own spacing); with
    `include_machine`, the machine codes after them (method "machine")."""
    if fast_path("gold-jsonl-copy"):
        chunks = gold_copy_jsonl(gold_labels(project, filters))
    else:
        chunks = jsonl_chunks(gold_rows(project, filters))
    if not include_machine:
        return chunks
    return chain(chunks, jsonl_chunks(machine_rows(project, filters)))
