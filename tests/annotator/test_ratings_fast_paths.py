"""The reader's PostgreSQL fast paths read exactly what their portable twins read."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from annotator.models import Annotation, Assignment, Label
from annotator.ratings import (
    AnnotationArrays,
    LabelArrays,
    annotation_arrays,
    columns,
    label_arrays,
    read_columns,
    read_project,
)
from corpus.db import portable
from tests.factories import make_coded_project

ROOT = Path(__file__).resolve().parents[2]


def assert_same(got: Any, want: Any) -> None:
    """Equal arrays (dtype, NaN positions, values), recursively through records."""
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray)
        assert got.dtype == want.dtype and got.shape == want.shape
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got, want)
    elif is_dataclass(want):
        assert type(got) is type(want)
        for field in fields(want):
            assert_same(getattr(got, field.name), getattr(want, field.name))
    else:
        assert got == want


def in_row_order(read: Any) -> Any:
    """The same rows in one canonical order, recursively.

    Both twins return rows in the order the database gave (documented on
    AnnotationArrays), and PostgreSQL's order without ORDER BY follows the heap:
    an updated row moves to its end. So rows are compared as sets: annotations
    by id, ratings by (span, coder), a ``read_columns`` result by its first
    column.
    """
    if isinstance(read, AnnotationArrays):
        return _permuted(read, np.argsort(read.id, kind="stable"))
    if isinstance(read, LabelArrays):
        return _permuted(read, np.lexsort((read.coder, read.unit)))
    if (
        isinstance(read, list)
        and read
        and all(isinstance(c, np.ndarray) and c.shape == read[0].shape for c in read)
    ):
        order = np.argsort(read[0], kind="stable")
        return [column[order] for column in read]
    if isinstance(read, (list, tuple)):
        return type(read)(in_row_order(part) for part in read)
    return read


def _permuted(record: Any, order: np.ndarray) -> Any:
    return replace(
        record,
        **{
            f.name: getattr(record, f.name)[order]
            for f in fields(record)
            if isinstance(getattr(record, f.name), np.ndarray)
        },
    )


def _project():
    project = make_coded_project(documents=3)
    annotations = Annotation.objects.filter(project=project).order_by("pk")
    # Unknown times (NaN), and an annotation with every dimension left blank
    # (its span and coder are then looked up, not taken from a label).
    first = list(annotations.values_list("pk", flat=True)[:3])
    Annotation.objects.filter(pk__in=first).update(seconds=None)
    Label.objects.filter(annotation=annotations.last()).delete()
    assignments = Assignment.objects.filter(project=project).order_by("pk")
    assignments.update(shown_at=F("claimed_at"))
    first = list(assignments.values_list("pk", flat=True)[:2])
    Assignment.objects.filter(pk__in=first).update(shown_at=None)
    return project


def _packed(queries: CaptureQueriesContext) -> int:
    return sum("string_agg(" in q["sql"] for q in queries.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db
def test_binary_columns_equal_the_rows_read_through_values_list():
    project = _project()
    dimensions = list(project.codebook.dimensions.all())
    assert [d.multiple for d in dimensions].count(True) == 1  # a set dimension too
    rows = (
        Assignment.objects.filter(project=project)
        .order_by("pk")
        .values_list("id", "coder_id", "shown_at", "finished_at", "annotation__seconds")
    )
    kinds = ("int", "int4", "time", "time", "float")

    def read() -> list:
        return [
            read_columns(rows, kinds),
            read_project(project, dimensions),
            read_project(project, dimensions, documents=False, times=False),
            annotation_arrays(project),
            [label_arrays(project, d) for d in dimensions],
            [label_arrays(project, d, annotation_arrays(project)) for d in dimensions],
        ]

    with CaptureQueriesContext(connection) as fast_queries:
        fast = read()
    with portable("ratings-binary-columns"), CaptureQueriesContext(connection) as q:
        slow = read()
    assert _packed(fast_queries) > 0 and _packed(q) == 0
    first = fast[0]
    assert np.isnan(first[2]).sum() == 2 and np.isnan(first[4]).sum() >= 3
    assert len(fast[1][1][0].unit) > 0
    assert_same(in_row_order(slow), in_row_order(fast))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reads_equal_reads_on_one_connection(monkeypatch):
    project = _project()
    dimensions = list(project.codebook.dimensions.all())
    pools = []
    real = columns.ThreadPoolExecutor

    def counted(*args, **kwargs):
        pools.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(columns, "ThreadPoolExecutor", counted)
    assert not connection.in_atomic_block
    fast = read_project(project, dimensions)
    assert len(pools) == 1
    with portable("ratings-parallel-reads"):
        slow = read_project(project, dimensions)
    assert len(pools) == 1  # the portable twin read on this connection only
    assert_same(in_row_order(slow), in_row_order(fast))
