"""Gold labels: the project's aggregation rules applied to its ratings, and
reviewers' decisions, each stored with how it was reached.

Public interface (pages, API, exports and commands call these):

* ``refresh_gold(project, by=...)``: brings the automatic gold labels up to date
  with the annotations; a no-op (three small indexed queries) when nothing
  changed since the last run. Never touches adjudicated labels.
* ``adjudicate(project, span, dimension, categories, reviewer=..., note=...)``:
  a reviewer's decision, with its revision history.
* ``adjudication_queue(project, below=...)``: the spans waiting for a reviewer,
  in priority order.

Ratings are read as numpy arrays by ``annotator.agreement_report`` (dimensions
and categories matched by key across codebook versions, as the agreement figures
are), aggregated by ``annotator.gold_maths`` and written in bulk through staging
tables (COPY on PostgreSQL), so a million spans is one pass of each.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotator import gold_maths
from annotator.agreement_report import LabelArrays, read_project
from annotator.models import (
    Annotation,
    Assignment,
    Category,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldMethod,
    GoldRun,
    Label,
    Membership,
    Project,
    WorkItem,
)
from corpus.models import Span

# Posteriors and agreements are stored rounded: a model refit after one new
# annotation moves every posterior in the 7th decimal, and rewriting a million
# rows (and their updated_at, which clients sync on) for that would be noise.
DIGITS = 4
LOCK_NAMESPACE = 0x601D  # pg_advisory_xact_lock(namespace, project id)
STAGE_BATCH = 5_000
REVIEWER_ROLES = (Membership.Role.REVIEWER, Membership.Role.MANAGER)


# --- freshness -----------------------------------------------------------------------


def _settings(project: Project) -> tuple[list[str], float, float]:
    return (
        list(project.gold_methods or []),
        project.gold_min_share,
        (project.gold_min_posterior),
    )


def _watermark(project: Project) -> datetime | None:
    """The newest annotation change of the project (one index lookup)."""
    return Annotation.objects.filter(project=project).aggregate(t=Max("updated_at"))[
        "t"
    ]


def _is_fresh(project: Project, watermark: datetime | None) -> bool:
    """True when every dimension's latest run read up to ``watermark`` with the
    project's current settings."""
    dimension_ids = set(
        Dimension.objects.filter(codebook_id=project.codebook_id).values_list(
            "pk", flat=True
        )
    )
    latest = GoldRun.objects.filter(
        pk__in=Dimension.objects.filter(codebook_id=project.codebook_id).values(
            last=Subquery(
                GoldRun.objects.filter(project=project, dimension=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("pk")[:1]
            )
        )
    ).values_list("dimension_id", "watermark", "methods", "min_share", "min_posterior")
    methods, min_share, min_posterior = _settings(project)
    fresh = {
        dimension_id
        for dimension_id, mark, m, share, posterior in latest
        if mark == watermark
        and list(m) == methods
        and share == min_share
        and posterior == min_posterior
    }
    return fresh == dimension_ids


# --- aggregation ---------------------------------------------------------------------


@dataclass
class _Decided:
    """One dimension's automatic decisions, one entry per decided span."""

    spans: np.ndarray
    categories: list[list[int]]  # category ids per span (one for single-choice)
    methods: np.ndarray  # method names (object array)
    posteriors: np.ndarray  # nan without a model
    n_ratings: np.ndarray
    agreement: np.ndarray
    coder_codes: list[str]  # JSON text per span
    n_undecided: int
    # The model's fit, when one ran: converged, iterations, {coder id: accuracy}
    # (multi-choice: every category's binary fit converged, the most iterations,
    # each coder's mean accuracy over the categories).
    fit: tuple[bool, int, dict[str, float]] | None = None


def _fit(models: Sequence[gold_maths.DawidSkeneResult]) -> tuple | None:
    if not models:
        return None
    accuracy: dict[str, list[float]] = {}
    for model in models:
        for coder, a in zip(model.coders.tolist(), model.accuracy, strict=True):
            accuracy.setdefault(str(coder), []).append(float(a))
    return (
        all(m.converged for m in models),
        max(m.n_iter for m in models),
        {c: round(sum(a) / len(a), DIGITS) for c, a in accuracy.items()},
    )


def _indicators(values: np.ndarray, k: int) -> np.ndarray:
    """Per rating, the bool row of chosen scale positions (from frozensets)."""
    rows: dict[frozenset, np.ndarray] = {}
    out = np.zeros((len(values), k), dtype=bool)
    for i, chosen in enumerate(values):
        row = rows.get(chosen)
        if row is None:
            row = rows[chosen] = np.zeros(k, dtype=bool)
            row[list(chosen)] = True
        out[i] = row
    return out


def _coder_codes(
    unit_code: np.ndarray, coders: np.ndarray, keys: list[list[str]], n_units: int
) -> list[str]:
    """{coder id: [category keys]} per unit as JSON text, coders in id order.

    Built as text directly (json.dumps per span is the slow part for a million
    spans); the format equals ``json.dumps`` of the same dict, so the SQLite
    comparison of unchanged rows (text) holds, and PostgreSQL compares jsonb.
    """
    order = np.lexsort((coders, unit_code))
    parts: list[list[str]] = [[] for _ in range(n_units)]
    quoted: dict[tuple[str, ...], str] = {}
    for i in order.tolist():
        codes = tuple(keys[i])
        text = quoted.get(codes)
        if text is None:
            text = quoted[codes] = json.dumps(sorted(codes))
        parts[unit_code[i]].append(f'"{coders[i]}": {text}')
    return ["{" + ", ".join(p) + "}" for p in parts]


def _aggregate(
    project: Project,
    dimension: Dimension,
    ratings: LabelArrays,
    sample: np.ndarray,
) -> _Decided:
    """Apply the project's rules to one dimension's ratings."""
    methods, min_share, min_posterior = _settings(project)
    scale = ratings.categories
    k = len(scale)
    multiple = ratings.level == "set"
    units, coders = ratings.unit, ratings.coder
    if multiple:
        chosen = _indicators(ratings.value, k)
    options = {
        "methods": methods,
        "min_share": min_share,
        "min_posterior": min_posterior,
    }
    if not len(units) or not methods:
        empty = np.zeros(0, dtype=np.int64)
        return _Decided(
            empty, [], empty.astype(object), empty.astype(float), empty, empty, [],
            len(np.unique(units)),
        )  # fmt: skip
    if multiple:
        d = gold_maths.aggregate_sets(
            units, coders, chosen, allow_empty=not dimension.required, **options
        )
    else:
        d = gold_maths.aggregate(units, coders, ratings.value, k, **options)
    decided = d.decided.copy()
    # "single" is for spans outside the reliability sample: a sample span with
    # one rating so far waits for its other coders.
    if "single" in methods and len(sample):
        single = d.methods == gold_maths.METHODS.index("single")
        decided &= ~(single & np.isin(d.units, sample))
    unit_code = np.searchsorted(d.units, units)
    # Share of each unit's ratings equal to its gold value.
    if multiple:
        same = (chosen == d.values[unit_code]).all(axis=1)
    else:
        same = ratings.value == d.values[unit_code]
    agreement = np.bincount(unit_code, same, len(d.units)) / np.maximum(d.n_ratings, 1)
    positions = (
        [np.flatnonzero(row).tolist() for row in chosen]
        if multiple
        else ratings.value.reshape(-1, 1).tolist()
    )
    key_of = [c.key for c in scale]
    keys = [[key_of[p] for p in row] for row in positions]
    codes = _coder_codes(unit_code, coders, keys, len(d.units))
    idx = np.flatnonzero(decided)
    id_of = np.array([c.pk for c in scale], dtype=np.int64)
    if multiple:
        categories = [id_of[np.flatnonzero(d.values[i])].tolist() for i in idx]
    else:
        categories = id_of[d.values[idx]].reshape(-1, 1).tolist()
    return _Decided(
        d.units[idx],
        categories,
        d.method_names[idx],
        d.posteriors[idx],
        d.n_ratings[idx],
        agreement[idx],
        [codes[i] for i in idx.tolist()],
        int(len(d.units) - len(idx)),
        _fit([d.model] if d.model is not None else d.category_models),
    )


# --- writing -------------------------------------------------------------------------


def _float(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), DIGITS)


def _stage_rows(d: _Decided, multiple: bool) -> Iterator[tuple]:
    for i, span in enumerate(d.spans.tolist()):
        yield (
            span,
            None if multiple else d.categories[i][0],
            d.methods[i],
            _float(d.posteriors[i]),
            int(d.n_ratings[i]),
            _float(d.agreement[i]),
            d.coder_codes[i],
        )


def _stage_categories(d: _Decided) -> Iterator[tuple]:
    for span, categories in zip(d.spans.tolist(), d.categories, strict=True):
        for category in categories:
            yield (span, category)


STAGE_COLUMNS = {
    "gold_stage": (
        "span_id bigint PRIMARY KEY, category_id bigint, method varchar(12), "
        "posterior double precision, n_ratings integer, agreement double precision, "
        "coder_codes {json}"
    ),
    "gold_stage_cat": "span_id bigint, category_id bigint",
    "gold_changed": "id bigint PRIMARY KEY",
}


def _create_stage(cursor) -> None:
    pg = connection.vendor == "postgresql"
    for name, columns in STAGE_COLUMNS.items():
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        columns = columns.format(json="jsonb" if pg else "text")
        drop = " ON COMMIT DROP" if pg else ""
        cursor.execute(f"CREATE TEMP TABLE {name} ({columns}){drop}")


def _fill(cursor, table: str, n_columns: int, rows: Iterable[tuple]) -> None:
    """Rows into a staging table: COPY on PostgreSQL, batched INSERTs elsewhere."""
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} VALUES ({', '.join(['%s'] * n_columns)})"
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= STAGE_BATCH:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


COMPARED = (
    "category_id",
    "method",
    "posterior",
    "n_ratings",
    "agreement",
    "coder_codes",
)


def _write(
    cursor,
    project: Project,
    dimension: Dimension,
    run: GoldRun,
    d: _Decided,
    now: datetime,
    force: bool,
) -> tuple[int, int]:
    """Upsert one dimension's decided spans, delete its now-undecided ones.

    Adjudicated rows are never written. Unchanged rows are left alone (their
    ``updated_at`` too, so incremental exports only see real changes) unless
    ``force`` (the settings changed: every row then names the new run).
    Returns (rows written, rows deleted).
    """
    multiple = dimension.multiple
    gl, glc = GoldLabel._meta.db_table, GoldLabelCategory._meta.db_table
    _create_stage(cursor)
    _fill(cursor, "gold_stage", 7, _stage_rows(d, multiple))
    if multiple:
        _fill(cursor, "gold_stage_cat", 2, _stage_categories(d))
    pg = connection.vendor == "postgresql"
    distinct = " OR ".join(
        f"{gl}.{c} IS DISTINCT FROM EXCLUDED.{c}"
        if pg
        else f"{gl}.{c} IS NOT excluded.{c}"
        for c in COMPARED
    )
    changed = "TRUE" if force else distinct
    cursor.execute(
        f"""
        INSERT INTO {gl} (project_id, span_id, dimension_id, category_id, method,
            run_id, decided_by_id, decided_at, note, posterior, codebook_id,
            n_ratings, coder_codes, agreement, updated_at)
        SELECT %s, s.span_id, %s, s.category_id, s.method, %s, NULL, %s, '',
            s.posterior, %s, s.n_ratings, s.coder_codes, s.agreement, %s
        FROM gold_stage s WHERE TRUE
        ON CONFLICT (project_id, span_id, dimension_id) DO UPDATE SET
            category_id = EXCLUDED.category_id, method = EXCLUDED.method,
            run_id = EXCLUDED.run_id, decided_by_id = NULL,
            decided_at = EXCLUDED.decided_at, note = '',
            posterior = EXCLUDED.posterior, codebook_id = EXCLUDED.codebook_id,
            n_ratings = EXCLUDED.n_ratings, coder_codes = EXCLUDED.coder_codes,
            agreement = EXCLUDED.agreement, updated_at = EXCLUDED.updated_at
        WHERE {gl}.method <> 'adjudicated' AND ({changed})
        RETURNING id
        """,
        [project.pk, dimension.pk, run.pk, now, project.codebook_id, now],
    )
    written = [row[0] for row in cursor.fetchall()]
    stale = (
        f"SELECT g.id FROM {gl} g WHERE g.project_id = %s AND g.dimension_id = %s "
        "AND g.method <> 'adjudicated' "
        "AND NOT EXISTS (SELECT 1 FROM gold_stage s WHERE s.span_id = g.span_id)"
    )
    if multiple:
        _fill(cursor, "gold_changed", 1, ((i,) for i in written))
        cursor.execute(
            f"DELETE FROM {glc} WHERE gold_label_id IN (SELECT id FROM gold_changed)"
        )
        cursor.execute(
            f"""
            INSERT INTO {glc} (gold_label_id, category_id)
            SELECT g.id, c.category_id FROM gold_stage_cat c
            JOIN {gl} g ON g.project_id = %s AND g.dimension_id = %s
                AND g.span_id = c.span_id
            JOIN gold_changed x ON x.id = g.id
            """,
            [project.pk, dimension.pk],
        )
        cursor.execute(
            f"DELETE FROM {glc} WHERE gold_label_id IN ({stale})",
            [project.pk, dimension.pk],
        )
    cursor.execute(
        f"DELETE FROM {gl} WHERE id IN ({stale})", [project.pk, dimension.pk]
    )
    deleted = cursor.rowcount
    if not pg:
        for name in STAGE_COLUMNS:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return len(written), deleted


def _drop_foreign_dimensions(project: Project, dimension_ids: Sequence[int]) -> None:
    """Automatic rows of dimensions no longer in the project's codebook go."""
    rows = GoldLabel.objects.filter(project=project).exclude(
        dimension_id__in=dimension_ids
    )
    rows = rows.exclude(method=GoldMethod.ADJUDICATED)
    GoldLabelCategory.objects.filter(gold_label__in=rows).delete()
    rows.delete()


# --- refresh -------------------------------------------------------------------------


def _sample_spans(project: Project) -> np.ndarray:
    """Span ids of the reliability sample (designed for more than one coder)."""
    ids = WorkItem.objects.filter(project=project, target__gt=1).values_list(
        "span_id", flat=True
    )
    return np.sort(np.fromiter(ids.iterator(chunk_size=50_000), dtype=np.int64))


def refresh_gold(project: Project, *, by=None, force: bool = False) -> list[GoldRun]:
    """Bring the project's automatic gold labels up to date; returns the new runs.

    Cheap when nothing changed: the newest ``Annotation.updated_at`` of the
    project and its gold settings are compared with each dimension's last
    ``GoldRun`` (three indexed queries, nothing written, ``[]`` returned).
    Otherwise every dimension of the codebook is recomputed with the project's
    rules (``gold_methods`` in order, ``gold_min_share``,
    ``gold_min_posterior``) and one ``GoldRun`` per dimension records the
    settings, the watermark and, with the model, convergence and each coder's
    estimated accuracy. Decided spans are upserted, rows of spans now undecided
    deleted (they are the adjudication queue); adjudicated rows are never
    touched. ``force`` recomputes even when fresh. Safe to call concurrently:
    on PostgreSQL a per-project advisory lock makes the second caller wait and
    then find the gold fresh.
    """
    watermark = _watermark(project)
    if not force and _is_fresh(project, watermark):
        return []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, project.pk]
                )
            watermark = _watermark(project)
            if not force and _is_fresh(project, watermark):
                return []
        return _recompute(project, watermark, by, force)


def _recompute(
    project: Project, watermark: datetime | None, by, force: bool
) -> list[GoldRun]:
    methods, min_share, min_posterior = _settings(project)
    dimensions = list(Dimension.objects.filter(codebook_id=project.codebook_id))
    previous = {
        run.dimension_id: run
        for run in GoldRun.objects.filter(project=project).order_by("created_at", "id")
    }
    _, ratings = read_project(project, dimensions, documents=False, times=False)
    sample = _sample_spans(project)
    now = timezone.now()
    runs = []
    with connection.cursor() as cursor:
        for dimension, arrays in zip(dimensions, ratings, strict=True):
            d = _aggregate(project, dimension, arrays, sample)
            last = previous.get(dimension.pk)
            changed_settings = last is None or (
                list(last.methods),
                last.min_share,
                last.min_posterior,
            ) != (methods, min_share, min_posterior)
            run = GoldRun.objects.create(
                project=project,
                dimension=dimension,
                methods=methods,
                min_share=min_share,
                min_posterior=min_posterior,
                watermark=watermark,
                converged=None if d.fit is None else d.fit[0],
                iterations=None if d.fit is None else d.fit[1],
                coder_accuracy={} if d.fit is None else d.fit[2],
                n_decided=len(d.spans),
                n_undecided=d.n_undecided,
                created_by=by if by is not None and by.is_authenticated else None,
            )
            _write(cursor, project, dimension, run, d, now, force or changed_settings)
            runs.append(run)
    _drop_foreign_dimensions(project, [d.pk for d in dimensions])
    return runs


# --- adjudication --------------------------------------------------------------------


def _family_dimension_ids(dimension: Dimension) -> list[int]:
    """Ids of this dimension in every version of its codebook (matched by key)."""
    return list(
        Dimension.objects.filter(
            codebook__family=dimension.codebook.family, key=dimension.key
        ).values_list("pk", flat=True)
    )


def span_codes(project: Project, span_id: int, dimension: Dimension) -> dict[str, list]:
    """{coder id: [category keys]} of the span's ratings on the dimension now.

    Labels made under other codebook versions count by dimension key. For a
    multi-choice dimension every coder who annotated the span gave a rating,
    possibly the empty set.
    """
    codes: dict[int, list[str]] = {}
    if dimension.multiple:
        for coder_id in Annotation.objects.filter(
            project=project, assignment__span_id=span_id
        ).values_list("assignment__coder_id", flat=True):
            codes[coder_id] = []
    for coder_id, key in Label.objects.filter(
        project=project,
        span_id=span_id,
        dimension_id__in=_family_dimension_ids(dimension),
    ).values_list("coder_id", "category__key"):
        codes.setdefault(coder_id, []).append(key)
    return {str(c): sorted(codes[c]) for c in sorted(codes)}


def gold_state(label: GoldLabel | None) -> dict:
    """What a revision records of a gold label (an empty dict when there was none)."""
    if label is None:
        return {}
    if label.dimension.multiple:
        keys = sorted(c.category.key for c in label.categories.all())
    else:
        keys = [label.category.key] if label.category_id else []
    return {
        "method": label.method,
        "categories": keys,
        "note": label.note,
        "decided_by": label.decided_by_id,
        "decided_at": label.decided_at.isoformat(),
    }


def _resolve(
    project: Project, dimension: Dimension | str | int, categories
) -> tuple[Dimension, list[Category]]:
    """The project's dimension and the chosen categories, or a ValidationError
    naming what is wrong."""
    lookup = (
        {"key": dimension}
        if isinstance(dimension, str)
        else {"pk": getattr(dimension, "pk", dimension)}
    )
    found = (
        Dimension.objects.filter(codebook_id=project.codebook_id, **lookup)
        .select_related("codebook")
        .first()
    )
    if found is None:
        raise ValidationError(
            {"dimension": f"{dimension!r} is not a dimension of the codebook."}
        )
    if isinstance(categories, (str, Category)):
        categories = [categories]
    keys = list(dict.fromkeys(getattr(c, "key", c) for c in categories if c))
    by_key = {c.key: c for c in found.categories.all()}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValidationError(
            {found.key: f"{found.label}: '{unknown[0]}' is not a category of it."}
        )
    if not keys and found.required:
        raise ValidationError({found.key: f"{found.label}: choose a category."})
    if len(keys) > 1 and not found.multiple:
        raise ValidationError(
            {found.key: f"{found.label}: choose one category, not {len(keys)}."}
        )
    return found, [by_key[k] for k in keys]


def can_adjudicate(user, project: Project) -> bool:
    """Reviewers and managers of the project (and staff) settle gold labels."""
    if not user.is_authenticated:
        return False
    return (
        user.is_staff
        or project.memberships.filter(user=user, role__in=REVIEWER_ROLES).exists()
    )


@transaction.atomic
def adjudicate(
    project: Project,
    span: Span | int,
    dimension: Dimension | str | int,
    categories: Sequence[str | Category] | str | Category,
    *,
    reviewer,
    note: str = "",
    now: datetime | None = None,
) -> GoldLabel:
    """A reviewer's gold label for one span and dimension (method ``adjudicated``).

    ``categories`` are category keys (or Category rows) of the project's
    codebook dimension: exactly one for a single-choice dimension, any number
    for a multi-choice one (none only where the dimension is optional). The
    label records who, when, the note, the coders' codes at this moment and
    their agreement with the decision; every change is kept as a
    GoldLabelRevision (old → new), and re-sending the same decision writes
    nothing. ``refresh_gold`` never overwrites the result.
    """
    now = now or timezone.now()
    if not can_adjudicate(reviewer, project):
        raise PermissionDenied("Only the project's reviewers and managers adjudicate.")
    span_id = getattr(span, "pk", span)
    if not WorkItem.objects.filter(project=project, span_id=span_id).exists():
        raise ValidationError({"span": f"Span {span_id} is not in this project."})
    dimension, chosen = _resolve(project, dimension, categories)
    note = note.strip()
    label = (
        GoldLabel.objects.select_for_update(of=("self",))
        .filter(project=project, span_id=span_id, dimension=dimension)
        .select_related("category", "dimension")
        .first()
    )
    old = gold_state(label)
    new_keys = sorted(c.key for c in chosen)
    if (
        old
        and old["method"] == GoldMethod.ADJUDICATED
        and old["categories"] == new_keys
        and old["note"] == note
    ):
        return label
    codes = span_codes(project, span_id, dimension)
    agree = sum(1 for keys in codes.values() if keys == new_keys)
    fields = {
        "category": None if dimension.multiple else (chosen[0] if chosen else None),
        "method": GoldMethod.ADJUDICATED,
        "run": None,
        "decided_by": reviewer,
        "decided_at": now,
        "note": note,
        "posterior": None,
        "codebook_id": project.codebook_id,
        "n_ratings": len(codes),
        "coder_codes": codes,
        "agreement": agree / len(codes) if codes else None,
        "updated_at": now,
    }
    if label is None:
        label = GoldLabel.objects.create(
            project=project, span_id=span_id, dimension=dimension, **fields
        )
    else:
        for name, value in fields.items():
            setattr(label, name, value)
        label.save()
    if dimension.multiple:
        GoldLabelCategory.objects.filter(gold_label=label).delete()
        GoldLabelCategory.objects.bulk_create(
            GoldLabelCategory(gold_label=label, category=c) for c in chosen
        )
    label.dimension = dimension
    new = {
        "method": GoldMethod.ADJUDICATED.value,
        "categories": new_keys,
        "note": note,
        "decided_by": reviewer.pk,
        "decided_at": now.isoformat(),
    }
    GoldLabelRevision.objects.create(
        gold_label=label, changed_by=reviewer, old=old, new=new
    )
    return label


# --- the queue -----------------------------------------------------------------------


def adjudication_queue(project: Project, *, below: float | None = None) -> QuerySet:
    """The project's spans waiting for a reviewer, as WorkItems, most urgent first.

    A span waits when at least two coders annotated it and some dimension that
    has ratings on it has no gold label (the rules did not decide it; an
    adjudicated label counts as decided), or, with ``below``, when an automatic
    gold label's posterior is under that threshold. Order: most ratings first,
    then most distinct codes (least agreement), then reading order. Each row is
    annotated with ``n_ratings`` and ``n_codes``. Call ``refresh_gold`` first so
    the gold labels reflect the latest annotations.
    """
    dimensions = list(Dimension.objects.filter(codebook_id=project.codebook_id))
    family: dict[str, list[int]] = {}
    for pk, key in Dimension.objects.filter(
        codebook__family=Subquery(
            Project.objects.filter(pk=project.pk).values("codebook__family")
        ),
        key__in=[d.key for d in dimensions],
    ).values_list("pk", "key"):
        family.setdefault(key, []).append(pk)
    span = OuterRef("span_id")
    labels = Label.objects.filter(project=project, span_id=span)
    golds = GoldLabel.objects.filter(project=project, span_id=span)
    disputed = Q(pk__in=[])
    for d in dimensions:
        disputed |= Exists(labels.filter(dimension_id__in=family[d.key])) & ~Exists(
            golds.filter(dimension_id=d.pk)
        )
    completed = (
        Assignment.objects.filter(
            project=project, span_id=span, status=Assignment.Status.COMPLETED
        )
        .order_by()
        .values("span_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    codes = (
        labels.order_by()
        .values("span_id")
        .annotate(n=Count("category_id", distinct=True))
        .values("n")
    )
    waiting = Q(target__gte=2, taken__gte=2) & disputed
    items = WorkItem.objects.filter(project=project).annotate(
        n_ratings=Coalesce(Subquery(completed), 0)
    )
    if below is not None:
        low = golds.filter(posterior__lt=below).exclude(method=GoldMethod.ADJUDICATED)
        items = items.filter((waiting & Q(n_ratings__gte=2)) | Exists(low))
    else:
        items = items.filter(waiting, n_ratings__gte=2)
    return items.annotate(n_codes=Coalesce(Subquery(codes), 0)).order_by(
        "-n_ratings", "-n_codes", "position"
    )
