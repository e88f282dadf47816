"""Hidden checks never reach the study's data: after coders answer checks (in
the study's reference pool), its ratings, agreement report, gold, disputes,
reviewers' queue and exports (fast path and twin) are what they were before."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from annotator import exporting
from annotator.agreement_report import project_report
from annotator.gold import adjudication_queue, refresh_gold
from annotator.gold.disputes import coder_codes
from annotator.gold.queue import waiting_live
from annotator.models import Annotation, GoldLabel, Membership
from annotator.ratings import annotation_arrays
from annotator.services import (
    claim_next_span,
    codebook_groups,
    queue_checks,
    submit_annotation,
)
from annotator.training.pool import pool_id
from corpus.db import portable
from corpus.models import Span
from tests.factories import DueRandom, make_coded_project, make_reference_items

pytestmark = pytest.mark.django_db
CODERS = ("c1", "c2", "c3")
# The same codes on every check: a leak into any count or code would show.
CHECK_LABELS = {"topic": "other", "stance": "friendly", "tags": ["quote", "number"]}


def frozen(value):
    """A comparable copy: arrays as lists, dataclasses as dicts, rows by id."""
    if isinstance(value, np.ndarray):
        return frozen(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: frozen(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "generated_at"
        }
    if isinstance(value, models.Model):
        return (type(value).__name__, value.pk)
    if isinstance(value, dict):
        return {key: frozen(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [frozen(item) for item in value]
    if isinstance(value, float) and value != value:
        return "nan"
    return value


def exports(project) -> dict:
    out = {"annotations": list(exporting.annotation_rows(project))}
    for name in ("fast", "twin"):
        with portable() if name == "twin" else _as_is():
            out[f"gold_csv_{name}"] = "".join(exporting.gold_csv(project))
            out[f"gold_jsonl_{name}"] = "".join(exporting.gold_jsonl(project))
    return out


class _as_is:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def snapshot(project, spans) -> dict:
    groups = codebook_groups(project.codebook_id)
    return {
        "ratings": frozen(annotation_arrays(project)),
        "report": frozen(project_report(project, n_resamples=20).dimensions),
        "gold": sorted(
            GoldLabel.objects.filter(project=project).values_list(
                "span_id", "dimension_id", "method", "agreement", "n_ratings", "run_id"
            )
        ),
        "disputes": [frozen(coder_codes(project, span, groups)) for span in spans],
        "waiting": list(waiting_live(project).values_list("span_id", flat=True)),
        "queue": list(adjudication_queue(project).values_list("span_id", flat=True)),
        "exports": exports(project),
        "annotations": Annotation.objects.filter(project=project).count(),
    }


def answer_every_check(project) -> int:
    """Each coder is served every check item and answers it; returns how many."""
    Membership.objects.filter(project=project).update(nothing_left_at=None)
    pool, answered = pool_id(project), 0
    now = timezone.now() + timedelta(days=1)
    for name in CODERS:
        coder = User.objects.get(username=name)
        while (check := claim_next_span(project=project, coder=coder, now=now)) and (
            check.project_id == pool
        ):
            submit_annotation(
                coder=coder, assignment=check.pk, labels=CHECK_LABELS, now=now
            )
            answered += 1
    return answered


def test_answered_checks_change_nothing_the_study_reads(monkeypatch):
    project = make_coded_project(documents=3)
    refresh_gold(project)
    # Two spans coded by two coders, two by one (out of the sample): a check is
    # served only to a coder who never had its span.
    spans = [
        *project.work_items.filter(taken=2).values_list("span_id", flat=True)[:2],
        *project.work_items.filter(taken=1).values_list("span_id", flat=True)[:2],
    ]
    make_reference_items(project, 4, "check", spans=Span.objects.filter(pk__in=spans))
    project.check_rate = 2
    project.save(update_fields=["check_rate"])
    before = snapshot(project, spans)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True, seed=9))
    assert answer_every_check(project) == 2 * 1 + 2 * 2
    assert Annotation.objects.filter(project_id=pool_id(project)).count() == 6
    assert refresh_gold(project) == []  # the study's change number did not move
    assert snapshot(project, spans) == before
