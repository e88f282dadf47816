"""A project's annotations and ratings as numpy arrays (no model instances).

Every read is a single-table index range (``read_columns``): a dimension's
ratings come from ``Label`` alone, filtered by project and dimension (the label
repeats its annotation's span and coder); submit times and seconds from
``Annotation`` and documents from ``WorkItem``, both filtered by project, and
only when a figure needs them. Independent reads run in parallel on PostgreSQL
(``read_all``) and are joined in numpy (``locate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotator.models import (
    Annotation,
    Category,
    Dimension,
    Label,
    Project,
    WorkItem,
)
from annotator.ratings.columns import Read, coder_kind, read_all, read_columns
from annotator.ratings.scales import CategoryScale, category_scale

# Annotations without any label read are few (every dimension left blank); their
# span and coder are looked up by id up to this many, else for the whole project.
OWNER_LOOKUP_LIMIT = 10_000


def locate(
    keys: np.ndarray, ids: np.ndarray, table_limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each id, whether it is among ``keys`` and its index there (0 if not).

    Primary keys of one project's rows are nearly contiguous, so a lookup
    table over the id range (one scatter, one gather) replaces sorting, for
    ranges up to ``table_limit`` ids (default: about four per key); sparse
    ids fall back to a sort and a binary search.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
    low, high = int(keys.min()), int(keys.max())
    if high - low < (4 * n + 1_000 if table_limit is None else table_limit):
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[keys - low] = np.arange(n)
        if len(ids) and low <= int(ids.min()) and int(ids.max()) <= high:
            at = table[ids - low]  # the usual case: every id in range
        else:
            inside = (ids >= low) & (ids <= high)
            at = np.full(len(ids), -1, dtype=np.int64)
            at[inside] = table[ids[inside] - low]
        found = at >= 0
        if not found.all():
            at[~found] = 0
        return found, at
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


@dataclass(frozen=True)
class LabelArrays:
    """A dimension's ratings as parallel arrays, ready for the engine."""

    unit: np.ndarray  # span id per rating
    coder: np.ndarray  # user id per rating
    value: np.ndarray  # scale position (int64), or a frozenset of them (multi-choice)
    document: np.ndarray | None  # document id per rating (None unless read)
    time: np.ndarray  # submit time per rating, seconds since the epoch (or NaN)
    categories: tuple[Category, ...]  # the scale, in order
    level: str  # nominal, ordinal or set


def _labels_read(
    project: Project, scales: Sequence[CategoryScale], *columns: str
) -> Read:
    """The project's labels on these dimensions (all versions): one index range.

    The dimension of a row is told by its category (each category belongs to
    one dimension), so no dimension column is read.
    """
    ids = sorted({i for s in scales for i in s.dimension_ids})
    kinds = {"coder_id": coder_kind()}
    return (
        Label.objects.filter(project=project, dimension_id__in=ids)
        .order_by()
        .values_list(*columns),
        tuple(kinds.get(name, "int") for name in columns),
    )


def _annotations_read(project: Project, times: bool, codebook_id: int | None) -> Read:
    columns = ("id", *(("created_at", "seconds") if times else ()))
    rows = Annotation.objects.filter(project=project)
    if codebook_id is not None:
        rows = rows.filter(codebook_id=codebook_id)
    return (
        rows.order_by().values_list(*columns),
        ("int", *(("time", "float") if times else ())),
    )


def _documents_read(project: Project) -> Read:
    return (
        WorkItem.objects.filter(project=project)
        .order_by()
        .values_list("span_id", "document_id"),
        ("int", "int"),
    )


def _owners(
    project: Project,
    ann_id: np.ndarray,
    found: np.ndarray,
    at: np.ndarray,
    label_span: np.ndarray,
    label_coder: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Span and coder of each annotation (-1 for one deleted meanwhile).

    Labels carry their annotation's span and coder (``at``: each label's
    annotation, where ``found``); an annotation with no label among those read
    (every dimension left blank) is looked up with a join, by id when there
    are few.
    """
    unit = np.full(len(ann_id), -1, dtype=np.int64)
    coder = np.full(len(ann_id), -1, dtype=np.int64)
    if found.all():  # the usual case: no masks over every label
        unit[at], coder[at] = label_span, label_coder
    else:
        unit[at[found]], coder[at[found]] = label_span[found], label_coder[found]
    missing = np.flatnonzero(unit < 0)
    if len(missing):
        rows = Annotation.objects.filter(project=project)
        if len(missing) <= OWNER_LOOKUP_LIMIT:
            rows = rows.filter(pk__in=ann_id[missing].tolist())
        ids, span, user = read_columns(
            rows.order_by().values_list(
                "id", "assignment__span_id", "assignment__coder_id"
            ),
            ("int", "int", coder_kind()),
        )
        hit, where = locate(ids, ann_id[missing])
        unit[missing[hit]] = span[where[hit]]
        coder[missing[hit]] = user[where[hit]]
    return unit, coder


def _document_of(
    columns: list[np.ndarray] | None, span: np.ndarray
) -> np.ndarray | None:
    """Each span's document (-1 if not in the project's queue); None if not read."""
    if columns is None:
        return None
    item_span, item_document = columns
    found, at = locate(item_span, span)
    document = item_document[at]
    if not found.all():
        document[~found] = -1
    return document


def _split(
    scales: Sequence[CategoryScale], category_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each label's scale (index into ``scales``) and position on it."""
    if not scales:
        return np.zeros(len(category_id), np.int64), np.zeros(
            len(category_id), np.int64
        )
    ids = np.concatenate([s.ids for s in scales])
    which = np.concatenate(
        [np.full(len(s.ids), i, dtype=np.int64) for i, s in enumerate(scales)]
    )
    positions = np.concatenate([s.positions for s in scales])
    # A table over the category id range, however sparse, while it is smaller
    # than the labels looked up in it.
    _, at = locate(ids, category_id, table_limit=len(category_id) + 1_000)
    return which[at], positions[at]


def read_project(
    project: Project,
    dimensions: Sequence[Dimension],
    *,
    documents: bool = True,
    times: bool = True,
    version_only: bool = False,
) -> tuple[AnnotationArrays, list[LabelArrays]]:
    """Annotations and every dimension's ratings, from one batch of parallel reads.

    Reads (each one index range of one table, filtered by project): the labels
    of every dimension at once (annotation, span, coder, category), the
    annotations (id, and submit time and seconds when ``times``) and, when
    ``documents``, each queued span's document. Labels whose annotation was not
    seen (submitted between two reads) are dropped. The labels are grouped by
    dimension once (database order kept within each), and each dimension's
    arrays are slices of those: no copy per dimension.

    ``version_only``: only the annotations made under the dimensions' codebook
    version (and so only their labels) count, on that version's scales: the
    agreement of one version (labels are made under their annotation's
    version, and moved with it: ``services.codebook_move``).
    """
    scales = [category_scale(d, version_only=version_only) for d in dimensions]
    codebook_id = dimensions[0].codebook_id if version_only and dimensions else None
    reads: dict[str, Read] = {
        "annotations": _annotations_read(project, times, codebook_id)
    }
    if scales:
        reads["labels"] = _labels_read(
            project, scales, "annotation_id", "span_id", "coder_id", "category_id"
        )
    if documents:
        reads["documents"] = _documents_read(project)
    columns = read_all(reads)
    label_ann, span, coder, category_id = columns.pop(
        "labels", [np.zeros(0, dtype=np.int64)] * 4
    )
    ann_id, *timing = columns.pop("annotations")
    created, seconds = timing or [np.full(len(ann_id), np.nan)] * 2
    found, at = locate(ann_id, label_ann)
    del label_ann
    ann_unit, ann_coder = _owners(project, ann_id, found, at, span, coder)
    if (ann_unit < 0).any():  # deleted meanwhile: renumber what is left
        keep = np.flatnonzero(ann_unit >= 0)
        renumber = np.full(len(ann_id), -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep))
        at = renumber[at]
        found &= at >= 0
        ann_id, ann_unit, ann_coder = ann_id[keep], ann_unit[keep], ann_coder[keep]
        created, seconds = created[keep], seconds[keep]
    doc_columns = columns.pop("documents", None)
    annotations = AnnotationArrays(
        ann_id,
        ann_unit,
        ann_coder,
        created,
        seconds,
        _document_of(doc_columns, ann_unit),
    )
    which, value = _split(scales, category_id)
    del category_id
    groups = [np.flatnonzero(found & (which == i)) for i in range(len(scales))]
    bounds = np.cumsum([0] + [len(g) for g in groups]).tolist()
    order = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    del which, found, groups
    # One gather per column (each replaces its ungrouped original).
    value, at, span, coder = value[order], at[order], span[order], coder[order]
    del order
    submitted = created[at]
    document = _document_of(doc_columns, span)
    ratings = []
    for i, scale in enumerate(scales):
        part = slice(bounds[i], bounds[i + 1])
        if scale.is_set:
            ratings.append(_set_ratings(annotations, scale, at[part], value[part]))
            continue
        ratings.append(
            LabelArrays(
                span[part],
                coder[part],
                value[part],
                None if document is None else document[part],
                submitted[part],
                scale.categories,
                str(scale.dimension.level),
            )
        )
    return annotations, ratings


def _set_ratings(
    a: AnnotationArrays, scale: CategoryScale, row: np.ndarray, value: np.ndarray
) -> LabelArrays:
    """A multi-choice dimension: one rating per annotation, its set of categories."""
    return LabelArrays(
        a.unit,
        a.coder,
        _label_sets(len(a.id), row, value),
        a.document,
        a.time,
        scale.categories,
        "set",
    )


def annotation_arrays(project: Project, *, documents: bool = True) -> AnnotationArrays:
    """Every annotation of the project as parallel arrays."""
    dimensions = list(project.codebook.dimensions.all())
    return read_project(project, dimensions, documents=documents)[0]


def label_arrays(
    project: Project,
    dimension: Dimension,
    annotations: AnnotationArrays | None = None,
) -> LabelArrays:
    """A project's ratings on one dimension, read into numpy.

    Labels made under other versions of the codebook count for the dimension
    with the same key, and for the category with the same key. Without
    ``annotations`` only what alpha needs is read: for a single-choice
    dimension that is one index range of the label table (span, coder,
    category), times are NaN and documents None. Pass
    ``annotation_arrays(project)`` for them.
    """
    scale = category_scale(dimension)
    if annotations is None and not scale.is_set:
        span, coder, category_id = read_columns(
            *_labels_read(project, [scale], "span_id", "coder_id", "category_id")
        )
        return LabelArrays(
            span,
            coder,
            scale.positions[np.searchsorted(scale.ids, category_id)],
            None,
            np.full(len(span), np.nan),
            scale.categories,
            str(dimension.level),
        )
    if annotations is None:
        return read_project(project, [dimension], documents=False, times=False)[1][0]
    label_ann, category_id = read_columns(
        *_labels_read(project, [scale], "annotation_id", "category_id")
    )
    # The annotations given say which labels count (one snapshot for a report).
    seen, row = locate(annotations.id, label_ann)
    row = row[seen]
    value = scale.positions[np.searchsorted(scale.ids, category_id[seen])]
    if scale.is_set:
        return _set_ratings(annotations, scale, row, value)
    return LabelArrays(
        annotations.unit[row],
        annotations.coder[row],
        value,
        None if annotations.document is None else annotations.document[row],
        annotations.time[row],
        scale.categories,
        str(dimension.level),
    )


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
