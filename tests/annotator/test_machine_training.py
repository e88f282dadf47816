"""Training a machine coder: the training set leaks nothing, the folds never
score a span's own document, provenance and validation are stored, and the
train_coder command prints the issue's JSON or names what stops it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.machine import validation
from annotator.models import GoldLabel, MachineCoder
from annotator.services import machine_coders
from annotator.services.machine_gold import training_sets
from tests.annotator.machine_world import SMALL_MODELS, make_machine_project
from tests.factories import make_reference_items

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


PROVENANCE = {"gold", "codebook", "classifier", "libraries", "date", "k", "seed"}


@pytest.fixture
def world():
    return make_machine_project()


def gold_spans(project) -> set[int]:
    return set(
        GoldLabel.objects.filter(project=project).values_list("span_id", flat=True)
    )


def test_reference_and_check_spans_never_train(world):
    project, _ = world
    gold = sorted(gold_spans(project))
    practice = make_reference_items(project, 2, "practice", spans=_spans(gold[:2]))
    checks = make_reference_items(project, 2, "check", spans=_spans(gold[2:4]))
    held = {item.span_id for item in practice + checks}
    assert held <= gold_spans(project)  # they are gold: only the rule keeps them out
    for data in training_sets(project).values():
        assert not held & set(data.span_ids)
        assert len(data) == len(gold) - len(held)


def _spans(ids):
    from corpus.models import Span

    return list(Span.objects.filter(pk__in=ids).order_by("pk"))


def test_folds_are_documents_and_never_score_their_own(world, monkeypatch):
    project, _ = world
    seen = []
    real = validation.out_of_fold

    def spy(make, texts, labels, groups, *args, **options):
        result = real(make, texts, labels, groups, *args, **options)
        seen.append((list(groups), list(result.fold)))
        return result

    monkeypatch.setattr(validation, "out_of_fold", spy)
    machine_coders.train(project)
    sets = training_sets(project)
    # Each dimension's validation over all its gold, grouped by the spans'
    # documents; the learning curve's smaller subsets are grouped alike.
    assert all(any(g == d.documents for g, _ in seen) for d in sets.values())
    for groups, folds in seen:
        by_document: dict = {}
        for document, fold in zip(groups, folds, strict=True):
            by_document.setdefault(document, set()).add(fold)
        # A document's spans are all scored in one fold: the model scoring them
        # was trained on the other folds, never on their own document.
        assert all(len(f) == 1 for f in by_document.values())
        assert len({fold for f in by_document.values() for fold in f}) > 1


def test_training_stores_provenance_and_validation(world, manager):
    project, _ = world
    coder = machine_coders.train(project, by=manager)
    assert coder.state == MachineCoder.State.READY
    assert set(coder.provenance) >= PROVENANCE
    gold = coder.provenance["gold"]
    assert gold["n_spans"] == len(gold_spans(project)) == coder.n_train
    assert len(gold["digest"]) == 64 and gold["max_decided_at"]
    assert coder.provenance["codebook"]["version"] == project.codebook.version
    assert coder.model_size == len(bytes(coder.model)) > 0
    assert set(coder.validation) == {"topic", "stance", "tags"}
    topic = coder.validation["topic"]
    assert {
        "alpha_vs_gold",
        "interval",
        "f1_macro",
        "per_category",
        "confusion",
    } <= set(topic)
    # Re-training supersedes: one ready coder per project.
    again = machine_coders.train(project)
    coder.refresh_from_db()
    assert coder.state == MachineCoder.State.SUPERSEDED
    assert MachineCoder.objects.current_of(project) == again
    assert again.provenance["gold"]["digest"] == gold["digest"]  # same gold


def test_train_coder_json(world):
    project, _ = world
    out = StringIO()
    call_command("train_coder", "--project", str(project.pk), "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert set(figures) == {"dimensions"}
    assert set(figures["dimensions"]) == {"topic", "stance", "tags"}
    n = len(gold_spans(project))
    for row in figures["dimensions"].values():
        assert set(row) == {"alpha_vs_gold", "interval", "f1_macro", "n_train"}
        assert row["n_train"] == n
        # [lo, hi] around alpha; null only where the interval is undefined (a
        # machine that never errs: leaving spans out never moves its alpha).
        if row["interval"] is not None:
            lo, hi = row["interval"]
            assert lo <= row["alpha_vs_gold"] <= hi
        else:
            assert row["alpha_vs_gold"] == 1.0
    assert any(row["interval"] for row in figures["dimensions"].values())
    assert figures["dimensions"]["topic"]["alpha_vs_gold"] > 0.5  # words say it


def test_train_coder_table(world):
    project, _ = world
    out = StringIO()
    call_command("train_coder", "--project", str(project.pk), stdout=out)
    assert "topic" in out.getvalue() and "gold spans" in out.getvalue()


def test_no_gold_is_named(db):
    project, _ = make_machine_project(coded=0)
    with pytest.raises(CommandError, match="no gold labels"):
        call_command("train_coder", "--project", str(project.pk))
    assert not MachineCoder.objects.exists()


def test_one_category_is_named(db):
    project, _ = make_machine_project(one_topic=True)
    with pytest.raises(CommandError, match="'topic'.*two categories"):
        call_command("train_coder", "--project", str(project.pk))
    assert not MachineCoder.objects.exists()


def test_unknown_project_is_named(db):
    with pytest.raises(CommandError, match="No project with id 999"):
        call_command("train_coder", "--project", "999")


@pytest.mark.parametrize(
    "value, words", [("[4096]", "a JSON object"), ("{word", "no JSON")]
)
def test_bad_deployment_params_are_named(world, settings, value, words):
    project, _ = world
    settings.MACHINE_CODER_PARAMS = value
    with pytest.raises(CommandError, match=f"MACHINE_CODER_PARAMS .*{words}"):
        call_command("train_coder", "--project", str(project.pk))
