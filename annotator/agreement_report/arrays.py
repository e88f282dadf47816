"""Reading a project's labels into numpy arrays (no model instances).

Single-table reads (``_read_columns``), run in parallel on PostgreSQL
(``_read_all``), joined in numpy (``_locate``): see the package docstring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import psycopg
from django.db import connection, connections
from django.db.models import QuerySet

from annotator.models import (
    Annotation,
    Assignment,
    Category,
    Codebook,
    Dimension,
    Label,
    Project,
    WorkItem,
)

READ_THREADS = 2  # parallel table scans on PostgreSQL (see _read_all)


# --- reading labels ------------------------------------------------------------------


def _read_columns(queryset: QuerySet, kinds: Sequence[str]) -> list[np.ndarray]:
    """The columns of a ``values_list`` queryset as numpy arrays, no model instances.

    ``kinds`` gives each column's type: "int", "float" or "time" (a datetime,
    returned as float seconds since the epoch). On PostgreSQL the server packs
    each row into fixed-width big-endian bytes (``int8send(a) || float8send(b)``)
    and concatenates all rows with one ``string_agg``: a single value crosses
    the wire and numpy reads it as a structured array, with no Python object
    per row. NULLs become NaN (floats) so a row can never drop out of the
    aggregate. Elsewhere the rows stream through ``values_list``.
    """
    if connection.vendor == "postgresql":
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        names = [f"c{i}" for i in range(len(kinds))]
        send = {
            "int": "int8send({}::int8)",
            "float": "float8send(coalesce({}::float8, 'NaN'::float8))",
            # date_part gives float8 directly; extract() goes through numeric
            # (PostgreSQL 14+), which costs twice as much per row.
            "time": "float8send(coalesce(date_part('epoch', {}), 'NaN'::float8))",
        }
        packed = " || ".join(
            send[kind].format(name) for kind, name in zip(kinds, names, strict=True)
        )
        query = (
            f"SELECT string_agg({packed}, ''::bytea) "
            f"FROM ({sql}) AS t({', '.join(names)})"
        )
        # A plain psycopg cursor on Django's connection (same transaction) asks for
        # a binary result: the bytea arrives as raw bytes, not hex text twice its
        # size (Django's own cursor binds client-side, which gives text results).
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(query, params, binary=True)
            blob = cursor.fetchone()[0] or b""
        row = np.dtype(
            [
                (n, ">i8" if k == "int" else ">f8")
                for n, k in zip(names, kinds, strict=True)
            ]
        )
        table = np.frombuffer(blob, dtype=row)
        out = [
            table[n].astype(np.int64 if k == "int" else np.float64)
            for n, k in zip(names, kinds, strict=True)
        ]
        del table, blob
        return out
    rows = list(queryset.iterator(chunk_size=20_000))
    out = []
    for i, kind in enumerate(kinds):
        if kind == "int":
            out.append(np.fromiter((r[i] for r in rows), np.int64, len(rows)))
        elif kind == "float":
            out.append(
                np.fromiter(
                    (math.nan if r[i] is None else r[i] for r in rows),
                    np.float64,
                    len(rows),
                )
            )
        else:
            out.append(
                np.fromiter(
                    (math.nan if r[i] is None else r[i].timestamp() for r in rows),
                    np.float64,
                    len(rows),
                )
            )
    return out


def _locate(keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each id, whether it is among ``keys`` and its index there.

    Primary keys of one project's rows are nearly contiguous, so a lookup
    table over the id range (one scatter, one gather) replaces sorting;
    sparse ids fall back to a sort and a binary search.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
    low, high = int(keys.min()), int(keys.max())
    if high - low < 4 * n + 1_000:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[keys - low] = np.arange(n)
        inside = (ids >= low) & (ids <= high)
        at = np.full(len(ids), -1, dtype=np.int64)
        at[inside] = table[ids[inside] - low]
        found = at >= 0
        return found, np.where(found, at, 0)
    order = np.argsort(keys, kind="stable")
    where = np.minimum(np.searchsorted(keys[order], ids), n - 1)
    found = keys[order][where] == ids
    return found, order[where]


@dataclass(frozen=True)
class AnnotationArrays:
    """One entry per annotation of a project (in the order the database gave)."""

    id: np.ndarray
    unit: np.ndarray  # span id
    coder: np.ndarray  # user id
    time: np.ndarray  # first submit, seconds since the epoch
    seconds: np.ndarray  # time spent on the span (NaN when unknown)
    document: np.ndarray | None  # document id (None unless asked for)


def _read_all(
    reads: dict[str, tuple[QuerySet, Sequence[str]]],
) -> dict[str, list[np.ndarray]]:
    """Run independent ``_read_columns`` calls, in parallel where that is safe.

    On PostgreSQL outside a transaction each read runs on its own connection
    in a thread, so the server scans the tables on several cores at once. In a
    transaction (or elsewhere) other connections could not see its rows, so
    the reads run one after the other on this connection. Separate snapshots
    can differ by a submit made meanwhile; the numpy joins then drop the
    half-seen rows, so a report taken during coding may lag by a few codings.
    """
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or len(reads) < 2
    ):
        return {key: _read_columns(*read) for key, read in reads.items()}

    def run(read: tuple[QuerySet, Sequence[str]]) -> list[np.ndarray]:
        try:
            return _read_columns(*read)
        finally:
            connections.close_all()  # this worker thread's connections only

    with ThreadPoolExecutor(max_workers=min(len(reads), READ_THREADS)) as pool:
        results = list(pool.map(run, reads.values()))
    return dict(zip(reads, results, strict=True))


def _family_codebooks(project: Project) -> list[int]:
    return list(
        Codebook.objects.filter(family=project.codebook.family).values_list(
            "id", flat=True
        )
    )


def _annotation_reads(
    project: Project, documents: bool, times: bool = True
) -> dict[str, tuple[QuerySet, Sequence[str]]]:
    """Single-table reads behind ``AnnotationArrays`` (joined later in numpy).

    Why not one SQL join: on a million annotations PostgreSQL's hash joins cost
    seconds (spilling to disk under the default work_mem) while each table scan
    costs a fraction of one, and independent scans can run in parallel.
    Annotations are read by codebook family (the project's annotations are all
    made under some version of its codebook) and matched to the project's
    assignments exactly in numpy, so another project's rows cost a little
    reading but are never counted.
    """
    reads: dict[str, tuple[QuerySet, Sequence[str]]] = {
        "assignments": (
            Assignment.objects.filter(project=project)
            .order_by()
            .values_list(
                "id", "span_id", "coder_id", *(("work_item_id",) if documents else ())
            ),
            ("int", "int", "int", *(("int",) if documents else ())),
        ),
        "annotations": (
            Annotation.objects.filter(codebook_id__in=_family_codebooks(project))
            .order_by()
            .values_list(
                "id", "assignment_id", *(("created_at", "seconds") if times else ())
            ),
            ("int", "int", *(("time", "float") if times else ())),
        ),
    }
    if documents:
        reads["work_items"] = (
            WorkItem.objects.filter(project=project)
            .order_by()
            .values_list("id", "document_id"),
            ("int", "int"),
        )
    return reads


def _annotations_from(columns: dict[str, list[np.ndarray]]) -> AnnotationArrays:
    """Join the raw columns in numpy; consumed columns leave ``columns`` (memory)."""
    assignment_id, span_id, coder_id, *work_item = columns.pop("assignments")
    ann_id, ann_assignment, *timing = columns.pop("annotations")
    if not timing:  # not read: alpha alone needs no times
        timing = [np.full(len(ann_id), np.nan)] * 2
    created, seconds = timing
    ours, where = _locate(assignment_id, ann_assignment)
    keep = np.flatnonzero(ours)
    row = where[keep]  # each kept annotation's assignment
    document = None
    if "work_items" in columns:
        item_id, item_document = columns.pop("work_items")
        found, at = _locate(item_id, work_item[0][row])
        document = np.where(found, item_document[at], -1)
    return AnnotationArrays(
        ann_id[keep],
        span_id[row],
        coder_id[row],
        created[keep],
        seconds[keep],
        document,
    )


def annotation_arrays(project: Project, *, documents: bool = True) -> AnnotationArrays:
    """Every annotation of the project as parallel arrays."""
    return _annotations_from(_read_all(_annotation_reads(project, documents)))


@dataclass(frozen=True)
class LabelArrays:
    """A dimension's ratings as parallel arrays, ready for the engine."""

    unit: np.ndarray  # span id per rating
    coder: np.ndarray  # user id per rating
    value: np.ndarray  # scale position (int64), or a frozenset of them (multi-choice)
    document: np.ndarray | None
    time: np.ndarray
    seconds: np.ndarray
    categories: tuple[Category, ...]  # the scale, in order
    level: str  # nominal, ordinal or set


def dimension_scale(dimension: Dimension) -> tuple[Category, ...]:
    """The dimension's categories in scale order (ordinal: by value if all have one)."""
    categories = list(dimension.categories.all())
    if dimension.level == Dimension.Level.ORDINAL and all(
        c.value is not None for c in categories
    ):
        categories.sort(key=lambda c: (c.value, c.position, c.pk))
    return tuple(categories)


@dataclass(frozen=True)
class _Scale:
    """A dimension's scale and the position of every category id (all versions)."""

    dimension: Dimension
    categories: tuple[Category, ...]
    ids: np.ndarray  # category ids, sorted
    positions: np.ndarray  # scale position of each id
    dimension_ids: list[int]


def _scale(dimension: Dimension) -> _Scale:
    """The scale of a dimension matched by key across its codebook's versions.

    A category key that the current version no longer has is appended.
    """
    scale = list(dimension_scale(dimension))
    dimension_ids = list(
        Dimension.objects.filter(
            codebook__family=dimension.codebook.family, key=dimension.key
        ).values_list("id", flat=True)
    )
    position = {c.key: i for i, c in enumerate(scale)}
    category_position: dict[int, int] = {}
    for category in Category.objects.filter(dimension_id__in=dimension_ids).order_by(
        "dimension__codebook__version", "position", "id"
    ):
        if category.key not in position:
            position[category.key] = len(scale)
            scale.append(category)
        category_position[category.pk] = position[category.key]
    ids = np.array(sorted(category_position), dtype=np.int64)
    positions = np.array([category_position[i] for i in ids], dtype=np.int64)
    return _Scale(dimension, tuple(scale), ids, positions, dimension_ids)


def _label_read(scale: _Scale) -> tuple[QuerySet, Sequence[str]]:
    return (
        Label.objects.filter(dimension_id__in=scale.dimension_ids)
        .order_by()
        .values_list("annotation_id", "category_id"),
        ("int", "int"),
    )


def _labels_from(
    a: AnnotationArrays, scale: _Scale, columns: list[np.ndarray]
) -> LabelArrays:
    annotation_id, category_id = columns
    ours, row = _locate(a.id, annotation_id)
    row, category_id = row[ours], category_id[ours]
    value = scale.positions[np.searchsorted(scale.ids, category_id)]
    if scale.dimension.multiple:
        values = _label_sets(len(a.id), row, value)
        return LabelArrays(
            a.unit,
            a.coder,
            values,
            a.document,
            a.time,
            a.seconds,
            scale.categories,
            "set",
        )
    return LabelArrays(
        a.unit[row],
        a.coder[row],
        value,
        None if a.document is None else a.document[row],
        a.time[row],
        a.seconds[row],
        scale.categories,
        str(scale.dimension.level),
    )


def label_arrays(
    project: Project,
    dimension: Dimension,
    annotations: AnnotationArrays | None = None,
) -> LabelArrays:
    """A project's ratings on one dimension, read with ``values_list``/SQL into numpy.

    Labels made under other versions of the codebook count for the dimension
    with the same key, and for the category with the same key. Without
    ``annotations`` only what alpha needs is read (times and seconds are NaN,
    documents None); pass ``annotation_arrays(project)`` for them.
    """
    scale = _scale(dimension)
    if annotations is not None:
        return _labels_from(annotations, scale, _read_columns(*_label_read(scale)))
    reads = _annotation_reads(project, documents=False, times=False)
    reads["labels"] = _label_read(scale)
    columns = _read_all(reads)
    return _labels_from(_annotations_from(columns), scale, columns.pop("labels"))


def read_project(
    project: Project, dimensions: Sequence[Dimension], *, documents: bool = True
) -> tuple[AnnotationArrays, list[LabelArrays]]:
    """Annotations and every dimension's ratings, from one batch of parallel reads."""
    scales = [_scale(d) for d in dimensions]
    reads = _annotation_reads(project, documents)
    for i, scale in enumerate(scales):
        reads[f"labels-{i}"] = _label_read(scale)
    columns = _read_all(reads)
    annotations = _annotations_from(columns)
    return annotations, [
        _labels_from(annotations, scale, columns.pop(f"labels-{i}"))
        for i, scale in enumerate(scales)
    ]


def _label_sets(n: int, row: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per annotation, the frozenset of chosen scale positions (empty if none)."""
    masks = np.zeros(n, dtype=np.int64)
    if len(value) and int(value.max()) >= 62:  # too many categories for a bitmask
        chosen: list[set[int]] = [set() for _ in range(n)]
        for r, v in zip(row.tolist(), value.tolist(), strict=True):
            chosen[r].add(v)
        out = np.empty(n, dtype=object)
        out[:] = [frozenset(s) for s in chosen]
        return out
    np.bitwise_or.at(masks, row, np.left_shift(1, value))
    distinct, inverse = np.unique(masks, return_inverse=True)
    sets = np.empty(len(distinct), dtype=object)
    sets[:] = [frozenset(i for i in range(62) if (int(m) >> i) & 1) for m in distinct]
    return sets[inverse.ravel()]
