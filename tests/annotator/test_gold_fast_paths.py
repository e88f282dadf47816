"""A gold refresh writes the same rows through its PostgreSQL fast paths and twins."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import transaction

from annotator.gold import refresh as refresh_module
from annotator.gold import refresh_gold
from annotator.models import Assignment, GoldLabel, GoldLabelCategory, GoldRun
from annotator.services import submit_annotation
from corpus.db import portable
from tests.annotator.test_gold import rate, spans
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

TOPICS = ("arms", "trade", "other")
STANCES = ("hostile", "neutral", "friendly")  # the ordinal dimension
TAGS = ([], ["quote"], ["number"], ["quote", "number"])  # the multi-choice one


def twins() -> Iterator[tuple[str, AbstractContextManager]]:
    """The portable twin of each fast path a refresh takes, then all at once.

    Each name is spelled out: corpus.db asks for a ``portable("name")`` per name.
    """
    yield "gold-stage-copy", portable("gold-stage-copy")
    yield "gold-first-copy", portable("gold-first-copy")
    yield "gold-hold-references", portable("gold-hold-references")
    yield "gold-stage-analyze", portable("gold-stage-analyze")
    yield "gold-stage-on-commit-drop", portable("gold-stage-on-commit-drop")
    yield "gold-refresh-lock", portable("gold-refresh-lock")
    yield "gold-refresh-analyze", portable("gold-refresh-analyze")
    yield "ratings-binary-columns", portable("ratings-binary-columns")
    yield "every one", portable()


def written(project, before: dict, old_runs: set[int]) -> dict[str, Any]:
    """The project's gold rows, runs and categories, minus what legitimately
    differs between two runs: ids, run ids (old, or new) and timestamps (kept
    from before, or stamped by this run)."""
    labels = GoldLabel.objects.filter(project=project)
    gold = sorted(
        (
            g.span_id,
            g.dimension_id,
            g.category_id,
            g.method,
            g.run_id if g.run_id in old_runs else "new run",
            g.decided_by_id,
            g.note,
            g.posterior,
            g.codebook_id,
            g.n_ratings,
            json.dumps(g.coder_codes, sort_keys=True),
            g.agreement,
            "kept"
            if before.get((g.span_id, g.dimension_id)) == g.updated_at
            else "new",
            g.decided_at == g.updated_at,
        )
        for g in labels
    )
    categories = sorted(
        GoldLabelCategory.objects.filter(gold_label__project=project).values_list(
            "gold_label__span_id", "gold_label__dimension_id", "category_id"
        )
    )
    runs = sorted(
        (
            r.dimension_id,
            r.methods,
            r.min_share,
            r.min_posterior,
            r.watermark,
            r.converged,
            r.iterations,
            json.dumps(r.coder_accuracy, sort_keys=True),
            r.n_decided,
            r.n_undecided,
            r.created_by_id,
        )
        for r in GoldRun.objects.filter(project=project).exclude(pk__in=old_runs)
    )
    return {"gold": gold, "categories": categories, "runs": runs}


def refreshed(project) -> dict[str, Any]:
    """What ``refresh_gold`` writes from the current state, rolled back after."""
    labels = GoldLabel.objects.filter(project=project)
    before = {
        (s, d): t
        for s, d, t in labels.values_list("span_id", "dimension_id", "updated_at")
    }
    old_runs = set(GoldRun.objects.filter(project=project).values_list("pk", flat=True))
    with transaction.atomic():
        refresh_gold(project)
        out = written(project, before, old_runs)
        transaction.set_rollback(True)
    out["deleted"] = sorted(set(before) - {(g[0], g[1]) for g in out["gold"]})
    return out


def assert_twins_write_alike(project) -> dict[str, Any]:
    want = refreshed(project)
    assert want["runs"] and want["gold"] and want["categories"]
    for name, twin in twins():
        with twin:
            assert refreshed(project) == want, name
    return want


@pytest.fixture
def coders(db):
    return [UserFactory(username=f"c{i}") for i in range(1, 4)]


def code(project, coders, seed: int) -> None:
    """Each coder rates most spans: topic, stance and tags mostly agree."""
    rng = random.Random(seed)
    for span_id in spans(project):
        truth = rng.randrange(3), rng.randrange(3), rng.randrange(4)
        for user in coders:
            if rng.random() < 0.2:
                continue
            t, s, g = (
                x if rng.random() < 0.75 else rng.randrange(n)
                for x, n in zip(truth, (3, 3, 4), strict=True)
            )
            labels = {"topic": TOPICS[t], "stance": STANCES[s], "tags": TAGS[g]}
            rate(project, user, span_id, **labels)


def complete(project, coders, span_id, **labels) -> None:
    """Every coder who has not rated the span rates it with ``labels``."""
    done = Assignment.objects.filter(project=project, span_id=span_id)
    for user in coders:
        if not done.filter(coder=user).exists():
            rate(project, user, span_id, **labels)


def revise(project, user, span_id, **labels) -> None:
    assignment = Assignment.objects.get(project=project, span_id=span_id, coder=user)
    submit_annotation(coder=user, assignment=assignment, labels=labels)


@pytest.mark.postgres
def test_a_full_refresh_with_the_model_writes_alike(coders):
    project = make_project(documents=2, spans_per_document=10, coders_per_span=3)
    project.gold_methods = ["unanimous", "model", "majority", "single"]
    project.gold_min_posterior = 0.9
    project.save()
    code(project, coders, seed=3)
    assert_twins_write_alike(project)  # from nothing: every row inserted
    refresh_gold(project)
    s = spans(project)
    revise(project, coders[0], s[0], topic="other", stance="hostile", tags=["number"])
    complete(project, coders, s[1], topic="trade", stance="friendly", tags=["quote"])
    want = assert_twins_write_alike(project)  # over the first run's rows
    assert {g[12] for g in want["gold"]} == {"kept", "new"}


@pytest.mark.postgres
def test_an_incremental_refresh_writes_alike(coders, monkeypatch):
    project = make_project(documents=2, spans_per_document=10, coders_per_span=3)
    project.gold_methods = ["unanimous", "majority", "single"]
    project.save()
    code(project, coders, seed=4)
    refresh_gold(project)
    # Two spans rated by two coders who agree: one coder revises the first's
    # tags (undecided now, its row is deleted); the second gets a third rating
    # against them (a majority now, its rows rewritten).
    settled = GoldLabel.objects.filter(
        project=project, method="unanimous", dimension__key="tags", n_ratings=2
    ).order_by("span_id")
    first, second = settled[0], settled[1]
    tags = ["quote"] if not first.categories.exists() else []
    user = (
        Assignment.objects.filter(project=project, span_id=first.span_id)
        .order_by("pk")
        .first()
        .coder
    )
    revise(project, user, first.span_id, topic="arms", stance="neutral", tags=tags)
    tags = ["number"] if not second.categories.exists() else []
    complete(project, coders, second.span_id, topic="other", tags=tags)
    read = []
    monkeypatch.setattr(
        refresh_module,
        "read_spans",
        lambda *args, real=refresh_module.read_spans: read.append(1) or real(*args),
    )
    want = assert_twins_write_alike(project)
    assert len(read) == 1 + sum(1 for _ in twins())  # incremental each time
    assert want["deleted"] and {g[12] for g in want["gold"]} == {"kept", "new"}


def test_a_refresh_leaves_unchanged_rows_and_their_updated_at_alone(coders):
    # The upsert's "changed" test treats NULL as equal to NULL on every database.
    project = make_project(documents=1, spans_per_document=6, coders_per_span=3)
    code(project, coders, seed=5)
    refresh_gold(project)
    stamps = dict(
        GoldLabel.objects.filter(project=project).values_list("pk", "updated_at")
    )
    assert stamps
    assert refresh_gold(project, force=False) == []
    GoldRun.objects.filter(project=project).update(watermark=None)  # stale now
    assert len(refresh_gold(project)) == 3
    after = dict(
        GoldLabel.objects.filter(project=project).values_list("pk", "updated_at")
    )
    assert after == stamps


def test_a_settings_change_names_the_new_run_and_keeps_unchanged_decisions_dates(
    coders,
):
    # A settings change rewrites every automatic row to name the new run, but a
    # single-choice decision it leaves as it was keeps its decided_at and
    # updated_at: incremental exports resend only what changed. Multi-choice
    # rows (their categories are not compared) are stamped anew.
    project = make_project(documents=2, spans_per_document=8, coders_per_span=3)
    project.gold_methods = ["unanimous", "majority", "single"]
    project.save()
    code(project, coders, seed=6)
    refresh_gold(project)
    labels = GoldLabel.objects.filter(project=project, method="unanimous")
    before = {
        g.pk: (g.category_id, g.decided_at, g.updated_at, g.dimension.key)
        for g in labels.select_related("dimension")
    }
    project.gold_min_share = 0.6  # a settings change: every row recomputed
    project.save()
    runs = refresh_gold(project)
    assert runs
    new_runs = {r.pk for r in runs}
    kept = moved = 0
    for g in GoldLabel.objects.filter(pk__in=before):
        category, decided_at, updated_at, key = before[g.pk]
        assert g.run_id in new_runs
        if key == "tags":
            assert g.updated_at > updated_at
            moved += 1
        elif g.category_id == category:
            assert (g.decided_at, g.updated_at) == (decided_at, updated_at)
            kept += 1
    assert kept and moved


@pytest.mark.postgres
def test_a_write_refuses_references_to_rows_that_are_gone(db):
    """GoldLabel's category (and project, dimension, codebook, run) carry no
    database constraint; the write's single check stands in for the per-row
    ones, so a category deleted meanwhile stops it, naming the model."""
    from django.db import connection

    from annotator.gold.store import hold_references
    from annotator.models import Category

    project = make_project(documents=1, spans_per_document=2)
    dimension = project.codebook.dimensions.get(key="topic")
    real = list(dimension.categories.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        hold_references(
            cursor, project.pk, dimension.pk, project.codebook_id, None, real
        )
        with pytest.raises(Category.DoesNotExist, match="Category"):
            hold_references(
                cursor, project.pk, dimension.pk, project.codebook_id, None,
                [*real, 10**12],
            )  # fmt: skip
