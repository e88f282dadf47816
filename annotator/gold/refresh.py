"""refresh_gold: recompute a project's automatic gold when something changed.

Something: its annotations or its gold settings, since the last run. Annotation
writes are numbered by the project's ChangeCounter, whose numbers commit in order: a
run records the number it read, and a higher one later means something committed
since, however late and whatever its timestamp.

PostgreSQL fast paths (``corpus.db.fast_path``): "gold-refresh-lock" (an
advisory lock per project serialises concurrent refreshes; the portable twin
takes none, as SQLite serialises writers itself) and "gold-refresh-analyze"
(fresh statistics for the gold table after a full pass; the twin skips it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from annotator.gold.aggregate import aggregate_dimension, gold_settings
from annotator.gold.queue import rebuild_waiting
from annotator.gold.reading import Ratings, chunks, read_spans
from annotator.gold.store import drop_foreign_dimensions, write_dimension
from annotator.models import (
    Annotation,
    ChangeCounter,
    DesignChange,
    Dimension,
    GoldLabel,
    GoldMethod,
    GoldRun,
    Project,
    WorkItem,
)
from annotator.ratings import read_project
from corpus.db import fast_path

LOCK_NAMESPACE = 0x601D  # pg_advisory_xact_lock(namespace, project id)
# Spans changed since the last run up to this many are recomputed alone; more,
# and a full pass (one read per table) is cheaper than reading them by id.
INCREMENTAL_LIMIT = 50_000

# progress(done, total, words): ratings aggregated so far out of all read (total
# None while they are being read). Called a few times per dimension at most.
Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, words: str) -> None:
    pass


def _watermark(project: Project) -> int | None:
    """The project's last committed change number (see ChangeCounter)."""
    return ChangeCounter.objects.number_of(project)


def _is_fresh(project: Project, watermark: int | None) -> bool:
    """True when every dimension's latest run read up to ``watermark`` with the
    project's current settings."""
    return _freshness(project, watermark)[0]


def _freshness(project: Project, watermark: int | None) -> tuple[bool, datetime | None]:
    """``_is_fresh``, and when the newest of the dimensions' latest runs was made."""
    dimension_ids = set(
        Dimension.objects.filter(codebook_id=project.codebook_id).values_list(
            "pk", flat=True
        )
    )
    latest = list(
        GoldRun.objects.filter(
            pk__in=Dimension.objects.filter(codebook_id=project.codebook_id).values(
                last=Subquery(
                    GoldRun.objects.filter(project=project, dimension=OuterRef("pk"))
                    .order_by("-created_at", "-id")
                    .values("pk")[:1]
                )
            )
        ).values_list(
            "dimension_id",
            "watermark",
            "methods",
            "min_share",
            "min_posterior",
            "created_at",
        )
    )
    methods, min_share, min_posterior = gold_settings(project)
    fresh = {
        dimension_id
        for dimension_id, mark, m, share, posterior, _ in latest
        if mark == watermark
        and list(m) == methods
        and share == min_share
        and posterior == min_posterior
    }
    as_of = max((row[-1] for row in latest), default=None)
    return fresh == dimension_ids, as_of


def gold_is_fresh(project: Project) -> bool:
    """Whether every dimension's gold was computed from the project's latest
    change with its current settings: what ``refresh_gold`` would skip on.

    Three indexed queries; ValidationError names a bad gold setting."""
    return gold_freshness(project)[0]


def gold_freshness(project: Project) -> tuple[bool, datetime | None]:
    """``gold_is_fresh``, and when the newest run was made (None: never), in
    the same three queries."""
    return _freshness(project, _watermark(project))


def gold_as_of(project: Project) -> datetime | None:
    """When the project's gold was last computed (its newest run), or None."""
    return (
        GoldRun.objects.filter(project=project)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _sample_spans(project: Project, among: np.ndarray | None = None) -> np.ndarray:
    """Span ids of the reliability sample (designed for more than one coder)."""
    items = WorkItem.objects.filter(project=project, target__gt=1)
    if among is None:
        ids = items.values_list("span_id", flat=True).iterator(chunk_size=50_000)
    else:
        ids = (
            i
            for chunk in chunks(among)
            for i in items.filter(span_id__in=chunk).values_list("span_id", flat=True)
        )
    return np.sort(np.fromiter(ids, dtype=np.int64))


def refresh_gold(
    project: Project,
    *,
    by=None,
    force: bool = False,
    progress: Progress | None = None,
) -> list[GoldRun]:
    """Bring the project's automatic gold labels up to date; returns the new runs.

    Cheap when nothing changed: the project's change number and its gold
    settings are compared with each dimension's last ``GoldRun`` (three
    indexed queries, nothing written, ``[]`` returned).
    Otherwise every dimension of the codebook is recomputed with the project's
    rules (``gold_methods`` in order, ``gold_min_share``,
    ``gold_min_posterior``) and one ``GoldRun`` per dimension records the
    settings, the watermark and, with the model, convergence and each coder's
    estimated accuracy. Decided spans are upserted, rows of spans now undecided
    deleted (they are the adjudication queue); adjudicated rows are never
    touched. ``force`` recomputes even when fresh. Safe to call concurrently:
    on PostgreSQL a per-project advisory lock makes the second caller wait and
    then find the gold fresh. ``progress(done, total, words)`` hears how far
    it got (ratings aggregated of those read); everything is written in one
    transaction, so a run stopped midway leaves the previous gold as it was.
    """
    watermark = _watermark(project)
    if not force and _is_fresh(project, watermark):
        return []
    with transaction.atomic():
        if fast_path("gold-refresh-lock"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, project.pk]
                )
            watermark = _watermark(project)
            if not force and _is_fresh(project, watermark):
                return []
        return _recompute(project, watermark, by, force, progress or _no_progress)


def _changed_spans(
    project: Project, previous: dict, dimensions: list
) -> np.ndarray | None:
    """Spans to recompute when only they can have changed, else None (all).

    The rules other than the model decide each span from its own ratings, so
    after annotations changed only their spans need recomputing: the ones
    whose annotation's change number is above the last run's watermark.
    The model, a settings change, a new dimension, a design change that changed
    targets (the sample is target > 1) or a large change recompute everything.
    """
    methods = gold_settings(project)
    runs = [previous.get(d.pk) for d in dimensions]
    if (
        not dimensions
        or "model" in methods[0]
        or any(
            run is None
            or run.watermark is None
            or (list(run.methods), run.min_share, run.min_posterior) != methods
            for run in runs
        )
    ):
        return None
    since = min(run.watermark for run in runs)
    if DesignChange.objects.filter(project=project, change__gt=since).exists():
        # Targets changed: spans may have entered or left the sample (target > 1).
        return None
    spans = (
        Annotation.objects.filter(project=project, change__gt=since)
        .values_list("assignment__span_id", flat=True)
        .order_by()[: INCREMENTAL_LIMIT + 1]
    )
    ids = np.unique(np.fromiter(spans.iterator(chunk_size=10_000), dtype=np.int64))
    return None if len(ids) > INCREMENTAL_LIMIT else ids


def _recompute(
    project: Project, watermark: int | None, by, force: bool, progress: Progress
) -> list[GoldRun]:
    methods, min_share, min_posterior = gold_settings(project)
    dimensions = list(
        Dimension.objects.filter(codebook_id=project.codebook_id).select_related(
            "codebook"
        )
    )
    previous = {
        run.dimension_id: run
        for run in GoldRun.objects.filter(project=project).order_by("created_at", "id")
    }
    scope = None if force else _changed_spans(project, previous, dimensions)
    progress(
        0,
        None,
        "reading every rating"
        if scope is None
        else f"reading the ratings of {len(scope):,} changed spans",
    )
    ratings: list[Ratings | None]
    if scope is None:
        _, read = read_project(project, dimensions, documents=False, times=False)
        ratings = [Ratings.of(a) for a in read]
        del read
        sample = _sample_spans(project)
    else:
        ratings = list(read_spans(project, dimensions, scope))
        sample = _sample_spans(project, scope)
    now = timezone.now()
    runs = []
    total, done = sum(len(r.unit) for r in ratings if r is not None), 0
    progress(0, total, f"aggregating {total:,} ratings")
    with connection.cursor() as cursor:
        for number, dimension in enumerate(dimensions, 1):
            # Each dimension's arrays are let go once written, so the process
            # holds one dimension's decisions at a time, not all of them.
            arrays, ratings[number - 1] = ratings[number - 1], None
            d = aggregate_dimension(project, dimension, arrays, sample)
            last = previous.get(dimension.pk)
            changed_settings = last is None or (
                list(last.methods),
                last.min_share,
                last.min_posterior,
            ) != (methods, min_share, min_posterior)
            n_decided, n_undecided = len(d.spans), d.n_undecided
            if scope is not None:
                # Counts of the whole dimension: the automatic labels after this
                # write, and the last run's undecided count moved by what changed
                # (approximate: a newly coded span the rules leave open is not
                # added; a full run counts exactly).
                before = _automatic(project, dimension, scope)
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
                coder_confusion=d.confusion,
                n_decided=n_decided,
                n_undecided=n_undecided,
                created_by=by if by is not None and by.is_authenticated else None,
            )
            write_dimension(
                cursor,
                project,
                dimension,
                run,
                d,
                now,
                force or changed_settings,
                scope,
            )
            if scope is not None:
                after = _automatic(project, dimension, scope)
                run.n_decided = last.n_decided + after - before
                run.n_undecided = max(last.n_undecided - (after - before), 0)
                run.save(update_fields=["n_decided", "n_undecided"])
            runs.append(run)
            done += len(arrays.unit)
            del arrays, d
            progress(
                done,
                total,
                f"{dimension.key}: {n_decided:,} spans decided "
                f"(dimension {number} of {len(dimensions)})",
            )
    drop_foreign_dimensions(project, [d.pk for d in dimensions])
    if scope is None and fast_path("gold-refresh-analyze"):
        # A full pass may have written a million rows: fresh statistics, or the
        # queue's and exports' plans take the gold table for a small one.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {GoldLabel._meta.db_table}")
    # The queue table follows the gold in the same transaction: the spans whose
    # gold may have changed (every span on a full pass).
    rebuild_waiting(project, scope)
    return runs


def _automatic(project: Project, dimension: Dimension, scope: np.ndarray) -> int:
    """Automatic gold labels of the dimension among the scope's spans."""
    rows = GoldLabel.objects.filter(project=project, dimension=dimension).exclude(
        method=GoldMethod.ADJUDICATED
    )
    return sum(rows.filter(span_id__in=chunk).count() for chunk in chunks(scope))
