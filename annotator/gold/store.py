"""Writing one dimension's decisions in bulk, through staging tables.

A dimension's first write (no row of it yet) goes straight into the gold
table; later ones through staging tables (COPY on PostgreSQL), one upsert that
skips adjudicated and unchanged rows, deletes of now-undecided spans.

PostgreSQL fast paths (``corpus.db.fast_path``), each with a portable twin that
writes the same rows: "gold-stage-copy" (COPY into the staging tables, else
batched INSERTs), "gold-first-copy" (the first write COPYs into the gold
table, else batched INSERTs), "gold-stage-analyze" (statistics for the staging
tables, else none), "gold-stage-on-commit-drop" (the staging tables vanish at
commit, else they are dropped after each dimension) and "gold-hold-references"
(the rows a gold label refers to besides its span are locked against deletion
until commit, once per write, as the per-row constraint checks did; SQLite
serialises writers, so the twin takes no lock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np
from django.db import connection

from annotator.gold.aggregate import DIGITS, Decided
from annotator.models import (
    Category,
    Codebook,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldMethod,
    GoldRun,
    Project,
)
from corpus.db import fast_path

STAGE_BATCH = 5_000
ROW_BATCH = 20_000  # decided spans turned into rows at a time


def _float(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), DIGITS)


def _stage_rows(d: Decided, multiple: bool) -> Iterator[tuple]:
    """One row per decided span, made ``ROW_BATCH`` spans at a time so no
    Python object exists per span beyond the batch (memory stays flat)."""
    for a in range(0, len(d.spans), ROW_BATCH):
        b = a + ROW_BATCH
        categories = (
            [None] * len(d.spans[a:b]) if multiple else d.categories[a:b].tolist()
        )
        yield from zip(
            d.spans[a:b].tolist(),
            categories,
            d.methods[a:b].tolist(),
            map(_float, d.posteriors[a:b].tolist()),
            d.n_ratings[a:b].tolist(),
            map(_float, d.agreement[a:b].tolist()),
            d.coder_codes.batch(a, min(b, len(d.spans))),
            strict=True,
        )


def _stage_categories(d: Decided) -> Iterator[tuple]:
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
    "gold_scope": "span_id bigint PRIMARY KEY",
}


def _create_stage(cursor, on_commit_drop: bool) -> None:
    # coder_codes staged in the gold table's own column type (jsonb on
    # PostgreSQL, text on SQLite), so the upsert copies and compares it as is.
    json_type = GoldLabel._meta.get_field("coder_codes").db_type(connection)
    for name, columns in STAGE_COLUMNS.items():
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        columns = columns.format(json=json_type)
        drop = " ON COMMIT DROP" if on_commit_drop else ""
        cursor.execute(f"CREATE TEMP TABLE {name} ({columns}){drop}")


def hold_references(
    cursor, project_id: int, dimension_id: int, codebook_id: int,
    run_id: int | None, category_ids: Sequence[int],
) -> None:  # fmt: skip
    """Lock what gold labels about to be written refer to (besides their span)
    against deletion until commit: one ``FOR KEY SHARE`` per referenced row,
    what PostgreSQL's constraint check did per written row (see GoldLabel)."""
    if not fast_path("gold-hold-references"):
        return
    tables = [
        (Project, [project_id]),
        (Dimension, [dimension_id]),
        (Codebook, [codebook_id]),
        (GoldRun, [] if run_id is None else [run_id]),
        (Category, list(category_ids)),
    ]
    for model, ids in tables:
        if ids:
            cursor.execute(
                f"SELECT 1 FROM {model._meta.db_table} WHERE id = ANY(%s) "
                "FOR KEY SHARE",
                [list(ids)],
            )
            if cursor.rowcount != len(set(ids)):
                raise model.DoesNotExist(
                    f"gold refers to a {model.__name__} that no longer exists "
                    f"(one of ids {sorted(set(ids))})"
                )


def _fill(
    cursor,
    table: str,
    n_columns: int,
    rows: Iterable[tuple],
    columns: str = "",
    fast: str = "gold-stage-copy",
) -> None:
    """Rows into a table (``columns``: its column list, else all in order):
    COPY on PostgreSQL (fast path ``fast``), batched INSERTs elsewhere."""
    names = f" ({columns})" if columns else ""
    if fast_path(fast):
        with cursor.cursor.copy(f"COPY {table}{names} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table}{names} VALUES ({', '.join(['%s'] * n_columns)})"
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= STAGE_BATCH:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


def _distinct(table: str, column: str) -> str:
    """SQL for "the stored value differs from the new one", NULLs equal to NULLs.

    PostgreSQL's ``IS DISTINCT FROM`` and SQLite's ``IS NOT``, spelled in SQL
    both accept (true when one side is NULL and the other not).
    """
    old, new = f"{table}.{column}", f"EXCLUDED.{column}"
    return f"NOT COALESCE({old} = {new}, {old} IS NULL AND {new} IS NULL)"


COMPARED = (
    "codebook_id",
    "category_id",
    "method",
    "posterior",
    "n_ratings",
    "agreement",
    "coder_codes",
)


GOLD_COLUMNS = (
    "project_id, span_id, dimension_id, category_id, method, run_id, "
    "decided_by_id, decided_at, note, posterior, codebook_id, n_ratings, "
    "coder_codes, agreement, updated_at"
)


def _category_ids(d: Decided, multiple: bool) -> list[int]:
    if multiple:
        return sorted({c for chosen in d.categories for c in chosen})
    return np.unique(np.asarray(d.categories, dtype=np.int64)).tolist()


def write_dimension(
    cursor,
    project: Project,
    dimension: Dimension,
    run: GoldRun,
    d: Decided,
    now: datetime,
    force: bool,
    scope: np.ndarray | None = None,
) -> tuple[int, int]:
    """Upsert one dimension's decided spans, delete its now-undecided ones.

    Adjudicated rows are never written. Unchanged rows are left alone (their
    ``updated_at`` too, so incremental exports only see real changes) unless
    ``force`` (the settings changed): every row then names the new run, but a
    single-choice row whose decision is the same keeps its ``decided_at`` and
    ``updated_at`` (the decision dates from then, and exports, which do not
    carry the run, need not resend it).
    ``scope``: the span ids ``d`` covers when only those were recomputed; rows
    of other spans are then left alone. Returns (rows written, rows deleted).
    """
    multiple = dimension.multiple
    hold_references(
        cursor, project.pk, dimension.pk, project.codebook_id, run.pk,
        _category_ids(d, multiple),
    )  # fmt: skip
    on_commit_drop = fast_path("gold-stage-on-commit-drop")
    _create_stage(cursor, on_commit_drop)
    # As the ORM stores it (on SQLite: naive UTC text), so raw and ORM-written
    # timestamps compare and sort alike.
    stamp = connection.ops.adapt_datetimefield_value(now)
    fixed = (project.pk, dimension.pk, run.pk, stamp, project.codebook_id)
    if GoldLabel.objects.filter(project=project, dimension=dimension).exists():
        out = _upsert(cursor, fixed, d, multiple, force, scope)
    else:
        out = _first_write(cursor, fixed, d, multiple), 0
    if not on_commit_drop:
        for name in STAGE_COLUMNS:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return out


def _first_write(cursor, fixed: tuple, d: Decided, multiple: bool) -> int:
    """A dimension without any gold row yet: its rows straight into the gold
    table (nothing to compare, skip or delete), streamed, no staging copy."""
    project_id, dimension_id, run_id, stamp, codebook_id = fixed
    rows = (
        (project_id, span, dimension_id, category, method, run_id, None, stamp,
         "", posterior, codebook_id, n, codes, agreement, stamp)
        for span, category, method, posterior, n, agreement, codes
        in _stage_rows(d, multiple)
    )  # fmt: skip
    gl = GoldLabel._meta.db_table
    _fill(cursor, gl, 15, rows, columns=GOLD_COLUMNS, fast="gold-first-copy")
    if multiple:
        _fill(cursor, "gold_stage_cat", 2, _stage_categories(d))
        _insert_categories(cursor, project_id, dimension_id, changed_only=False)
    return len(d.spans)


def _insert_categories(
    cursor, project_id: int, dimension_id: int, *, changed_only: bool
) -> None:
    """The staged categories (gold_stage_cat) of the dimension's gold rows; with
    ``changed_only``, of the rows just written (gold_changed) only."""
    gl, glc = GoldLabel._meta.db_table, GoldLabelCategory._meta.db_table
    only = "JOIN gold_changed x ON x.id = g.id" if changed_only else ""
    cursor.execute(
        f"""
        INSERT INTO {glc} (gold_label_id, category_id)
        SELECT g.id, c.category_id FROM gold_stage_cat c
        JOIN {gl} g ON g.project_id = %s AND g.dimension_id = %s
            AND g.span_id = c.span_id
        {only}
        """,
        [project_id, dimension_id],
    )


def _upsert(
    cursor, fixed: tuple, d: Decided, multiple: bool, force: bool,
    scope: np.ndarray | None,
) -> tuple[int, int]:  # fmt: skip
    """Through the staging tables: changed rows upserted, undecided deleted."""
    project_id, dimension_id, run_id, stamp, codebook_id = fixed
    gl, glc = GoldLabel._meta.db_table, GoldLabelCategory._meta.db_table
    analyze = fast_path("gold-stage-analyze")
    _fill(cursor, "gold_stage", 7, _stage_rows(d, multiple))
    if analyze:
        # Temporary tables have no statistics until analysed; without them the
        # planner guesses their size and may pick a walk over the gold table.
        cursor.execute("ANALYZE gold_stage")
    if multiple:
        _fill(cursor, "gold_stage_cat", 2, _stage_categories(d))
    changed = " OR ".join(_distinct(gl, c) for c in COMPARED)
    # With force every automatic row names the new run; the rest of a row whose
    # decision is unchanged stays as it was, its times included (see
    # write_dimension), so no indexed column moves and PostgreSQL can update
    # the row in place (a HOT update, no new index entries). A multi-choice
    # row's categories are not among the compared columns, so there every
    # forced row is stamped as changed.
    when = "" if force else f"AND ({changed})"
    stamp_if = "TRUE" if multiple else changed
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
            decided_at = CASE WHEN {stamp_if} THEN EXCLUDED.decided_at
                ELSE {gl}.decided_at END,
            note = '',
            posterior = EXCLUDED.posterior, codebook_id = EXCLUDED.codebook_id,
            n_ratings = EXCLUDED.n_ratings, coder_codes = EXCLUDED.coder_codes,
            agreement = EXCLUDED.agreement,
            updated_at = CASE WHEN {stamp_if} THEN EXCLUDED.updated_at
                ELSE {gl}.updated_at END
        WHERE {gl}.method <> 'adjudicated' {when}
        {"RETURNING id" if multiple else ""}
        """,
        [project_id, dimension_id, run_id, stamp, codebook_id, stamp],
    )
    # Ids only where categories follow: a million of them as Python ints
    # would be a hundred megabytes for nothing.
    written = [row[0] for row in cursor.fetchall()] if multiple else []
    n_written = len(written) if multiple else cursor.rowcount
    undecided = (
        "g.method <> 'adjudicated' "
        "AND NOT EXISTS (SELECT 1 FROM gold_stage s WHERE s.span_id = g.span_id)"
    )
    if scope is None:
        stale = (
            f"SELECT g.id FROM {gl} g WHERE g.project_id = %s "
            f"AND g.dimension_id = %s AND {undecided}"
        )
    else:
        # Driven from the few scope spans through the unique index, not a walk
        # over every label of the dimension.
        _fill(cursor, "gold_scope", 1, ((int(i),) for i in scope))
        stale = (
            f"SELECT g.id FROM gold_scope x JOIN {gl} g ON g.project_id = %s "
            f"AND g.span_id = x.span_id AND g.dimension_id = %s WHERE {undecided}"
        )
        if analyze:
            cursor.execute("ANALYZE gold_scope")
    if multiple:
        _fill(cursor, "gold_changed", 1, ((i,) for i in written))
        cursor.execute(
            f"DELETE FROM {glc} WHERE gold_label_id IN (SELECT id FROM gold_changed)"
        )
        _insert_categories(cursor, project_id, dimension_id, changed_only=True)
        cursor.execute(
            f"DELETE FROM {glc} WHERE gold_label_id IN ({stale})",
            [project_id, dimension_id],
        )
    cursor.execute(
        f"DELETE FROM {gl} WHERE id IN ({stale})", [project_id, dimension_id]
    )
    return n_written, cursor.rowcount


def drop_foreign_dimensions(project: Project, dimension_ids: Sequence[int]) -> None:
    """Automatic rows of dimensions no longer in the project's codebook go.

    Which dimensions had gold is read from the runs (a small table), so the
    usual case, nothing to drop, never walks the gold labels.
    """
    foreign = set(
        GoldRun.objects.filter(project=project).values_list("dimension_id", flat=True)
    ) - set(dimension_ids)
    if not foreign:
        return
    rows = GoldLabel.objects.filter(project=project, dimension_id__in=foreign)
    rows = rows.exclude(method=GoldMethod.ADJUDICATED)
    GoldLabelCategory.objects.filter(gold_label__in=rows).delete()
    rows.delete()
