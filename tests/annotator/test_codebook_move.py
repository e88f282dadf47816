"""Moving a project to a newer codebook version: carried codes, codes made again."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotator.codebooks import import_codebook
from annotator.gold import refresh_gold
from annotator.gold.refresh import gold_is_fresh
from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    ChangeCounter,
    DesignChange,
    GoldLabel,
    Label,
)
from annotator.services import claim_next_span, skip_span, submit_annotation
from annotator.services.codebook_move import move_codebook, preview_move
from tests.factories import (
    SMALL_CODEBOOK,
    UserFactory,
    make_topics_project,
    newer_data,
)

pytestmark = pytest.mark.django_db
Status = Assignment.Status


@pytest.fixture
def project():
    return make_topics_project(tags=["quote"])


@pytest.fixture
def newer(project):
    codebook, what = import_codebook(newer_data())
    assert what == "new version" and codebook.version == 2
    return codebook


def by_span(project, **filters):
    return {
        (a.span.index, a.coder.username): a
        for a in Assignment.objects.filter(project=project, **filters).select_related(
            "span", "coder"
        )
    }


def test_preview_lists_the_codes_to_make_again_and_writes_nothing(project, newer):
    plan = preview_move(project, newer)
    assert plan.n_annotations == 6 and plan.n_recode == 4
    assert plan.by_coder == [("ann", 2), ("bob", 2)]
    assert [(r.coder, r.codes) for r in plan.recodes] == [
        ("ann", ("topic: trade",)), ("bob", ("topic: trade",)),
        ("ann", ("topic: other",)), ("bob", ("topic: other",)),
    ]  # fmt: skip
    assert plan.lines()[1:] == [
        "2 of 6 annotations keep their codes (remapped to the new version by key).",
        "4 annotations go back to the coders who made them, to be coded again: "
        "ann 2, bob 2.",
    ]
    project.refresh_from_db()
    assert project.codebook.version == 1
    assert not Assignment.objects.filter(status=Status.RECODE).exists()


def test_move_carries_untouched_codes_and_hands_the_rest_back(project, newer):
    manager = UserFactory(username="boss")
    before = ChangeCounter.objects.number_of(project)
    record = move_codebook(project=project, new=newer, by=manager)
    project.refresh_from_db()
    assert project.codebook == newer
    assert isinstance(record, DesignChange) and record.change == before + 1
    assert record.before == {"codebook": "test-codebook", "version": 1}
    # Every annotation is under version 2 now, with the new change number.
    annotations = Annotation.objects.filter(project=project)
    assert set(annotations.values_list("codebook__version", "change")) == {
        (2, before + 1)
    }
    # Carried labels point at version 2's categories, by key.
    assert set(
        Label.objects.filter(project=project).values_list(
            "category__dimension__codebook__version", flat=True
        )
    ) == {2}
    untouched = by_span(project, span__index=0)
    assert {a.status for a in untouched.values()} == {Status.COMPLETED}
    assert untouched[(0, "ann")].annotation.label_keys() == {
        "topic": ["arms"], "stance": ["neutral"], "tags": ["quote"]
    }  # fmt: skip
    # The rest wait for their own coder; their changed codes are gone...
    waiting = by_span(project, status=Status.RECODE)
    assert sorted(waiting) == [(1, "ann"), (1, "bob"), (2, "ann"), (2, "bob")]
    assert waiting[(2, "bob")].annotation.label_keys() == {
        "stance": ["neutral"], "tags": ["quote"]
    }  # fmt: skip
    # ...and kept in the history, with who moved them and both versions.
    revision = AnnotationRevision.objects.get(annotation=waiting[(2, "bob")].annotation)
    assert revision.changed_by == manager
    assert revision.old["labels"]["topic"] == ["other"]
    assert revision.old["codebook_version"] == 1
    assert revision.new["to_code_again"] == ["topic"]
    assert revision.new["codebook_version"] == 2
    assert AnnotationRevision.objects.count() == 4


def test_the_same_coder_gets_the_span_back_and_completes_it(project, newer):
    carl = UserFactory(username="carl")
    from annotator.services import set_membership

    set_membership(project=project, user=carl, role="coder")
    move_codebook(project=project, new=newer, by=None)
    # Nobody else takes those places.
    assert claim_next_span(project=project, coder=carl) is None
    ann = project.memberships.get(user__username="ann").user
    waiting = by_span(project, status=Status.RECODE)
    first = claim_next_span(project=project, coder=ann)
    assert first.pk == waiting[(1, "ann")].pk and first.status == Status.CLAIMED
    # A span to code again cannot be skipped away.
    with pytest.raises(ValidationError, match="code it again"):
        skip_span(coder=ann, assignment=first, reason="no")
    saved = submit_annotation(
        coder=ann, assignment=first, labels={"topic": "energy", "stance": "hostile"}
    )
    assert saved.label_keys() == {"topic": ["energy"], "stance": ["hostile"]}
    assert Assignment.objects.get(pk=first.pk).status == Status.COMPLETED
    second = claim_next_span(project=project, coder=ann)
    assert second.pk == waiting[(2, "ann")].pk
    # The next one comes back next; its submit completes it as well.
    submit_annotation(
        coder=ann, assignment=second,
        labels={"topic": "arms", "stance": "neutral", "tags": ["quote"]},
    )  # fmt: skip
    assert claim_next_span(project=project, coder=ann) is None
    assert (
        Annotation.objects.filter(project=project, assignment__coder=ann).count() == 3
    )


def test_a_lapsed_claim_to_code_again_stays_with_its_coder(project, newer):
    move_codebook(project=project, new=newer, by=None)
    ann = project.memberships.get(user__username="ann").user
    first = claim_next_span(project=project, coder=ann)
    later = timezone.now() + timedelta(hours=2)
    carl = UserFactory(username="carl")
    from annotator.services import set_membership

    set_membership(project=project, user=carl, role="coder")
    assert claim_next_span(project=project, coder=carl, now=later) is None
    assert Assignment.objects.get(pk=first.pk).status == Status.RECODE
    assert claim_next_span(project=project, coder=ann, now=later).pk == first.pk


def test_gold_goes_stale_and_changed_gold_goes(project, newer):
    refresh_gold(project)
    assert gold_is_fresh(project)
    assert GoldLabel.objects.filter(project=project).count() == 9  # 3 spans × 3
    move_codebook(project=project, new=newer, by=None)
    project.refresh_from_db()
    assert not gold_is_fresh(project)
    kept = GoldLabel.objects.filter(project=project)
    # Gold on trade and other is gone; the rest is remapped to version 2.
    assert kept.count() == 7
    assert set(kept.values_list("dimension__codebook__version", flat=True)) == {2}
    assert set(kept.values_list("codebook__version", flat=True)) == {2}
    refresh_gold(project)
    assert gold_is_fresh(project)


def test_refused_moves(project, newer):
    other, _ = import_codebook({**SMALL_CODEBOOK, "family": "elsewhere"})
    with pytest.raises(ValidationError, match="another codebook"):
        move_codebook(project=project, new=other, by=None)
    with pytest.raises(ValidationError, match="not newer"):
        move_codebook(project=project, new=project.codebook, by=None)
    move_codebook(project=project, new=newer, by=None)
    project.refresh_from_db()
    older = project.codebook.__class__.objects.get(family="test-codebook", version=1)
    with pytest.raises(ValidationError, match="only forward"):
        move_codebook(project=project, new=older, by=None)
    assert DesignChange.objects.filter(project=project).count() == 1


def test_codes_on_a_removed_dimension_go_into_the_history(project):
    data = copy.deepcopy(SMALL_CODEBOOK)
    del data["dimensions"][2]  # tags
    newer, _ = import_codebook(data)
    plan = preview_move(project, newer)
    assert plan.n_recode == 0 and plan.n_dropped == 6
    assert plan.lines()[-1] == (
        "6 annotations lose their codes on the removed dimension(s) tags (kept in "
        "their history)."
    )
    move_codebook(project=project, new=newer, by=None)
    assert not Assignment.objects.filter(status=Status.RECODE).exists()
    assert set(
        Label.objects.filter(project=project).values_list("dimension__key", flat=True)
    ) == {"topic", "stance"}
    # Every label's dimension is of its annotation's version.
    assert not Label.objects.exclude(dimension__codebook=newer).exists()
    revision = AnnotationRevision.objects.filter(annotation__project=project).first()
    assert revision.old["labels"]["tags"] == ["quote"]
    assert "tags" not in revision.new["labels"] and revision.new["to_code_again"] == []


def test_a_moved_project_archives_and_restores(transactional_db, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from annotator.models import Project

    project = make_topics_project()
    newer, _ = import_codebook(newer_data())
    move_codebook(project=project, new=newer, by=None)
    path = tmp_path / "moved.jsonl.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_project", str(path), stdout=StringIO())
    restored = Project.objects.get()
    assert restored.codebook.version == 2
    assert Assignment.objects.filter(status=Status.RECODE).count() == 4
    assert AnnotationRevision.objects.count() == 4


def test_removing_a_coder_gives_their_spans_to_code_again_to_the_pool(project, newer):
    """A removed coder can never code their spans again: both the one they hold
    claimed and the ones waiting for them go back to the pool for another coder,
    and their annotation stays, with its codes before the move in its history."""
    from annotator.services import preview_design, remove_member, set_membership

    move_codebook(project=project, new=newer, by=None)
    ann = project.memberships.get(user__username="ann").user
    waiting = by_span(project, status=Status.RECODE)
    claimed = claim_next_span(project=project, coder=ann)
    assert claimed.pk == waiting[(1, "ann")].pk
    assert preview_design(project, remove_coders=[ann]).lines()[0] == (
        "Coder ann leaves: their 1 open claim released; 1 span to code again "
        "handed to other coders; their 3 submitted codings stay."
    )
    remove_member(project=project, user=ann)
    for key in [(1, "ann"), (2, "ann")]:
        released = Assignment.objects.get(pk=waiting[key].pk)
        assert released.status == Status.EXPIRED
        assert AnnotationRevision.objects.filter(annotation=released.annotation)
        assert released.annotation.label_keys()["stance"] == ["neutral"]
    carl = UserFactory(username="carl")
    set_membership(project=project, user=carl, role="coder")
    taken = []
    while (assignment := claim_next_span(project=project, coder=carl)) is not None:
        taken.append(assignment.span.index)
        submit_annotation(
            coder=carl, assignment=assignment,
            labels={"topic": "energy", "stance": "hostile"},
        )  # fmt: skip
    assert sorted(taken) == [1, 2]
    # bob's spans still wait for bob.
    assert set(by_span(project, status=Status.RECODE)) == {(1, "bob"), (2, "bob")}


def test_closing_a_project_keeps_a_claimed_span_to_code_again_for_its_coder(
    project, newer
):
    """Closing gives live claims back as a lapsed lease does: a span to code again
    that its coder had claimed waits for them again (not for the pool), so after
    the project reopens their next claim hands it back to them."""
    from annotator.services.lifecycle import close_project, reopen_project

    move_codebook(project=project, new=newer, by=None)
    ann = project.memberships.get(user__username="ann").user
    claimed = claim_next_span(project=project, coder=ann)
    assert claimed.status == Status.CLAIMED and claimed.annotation is not None
    assert close_project(project) == 1
    assert Assignment.objects.get(pk=claimed.pk).status == Status.RECODE
    reopen_project(project)
    again = claim_next_span(project=project, coder=ann)
    assert again.pk == claimed.pk


def test_check_answers_move_with_the_study_and_keep_their_scores(
    project, newer, monkeypatch
):
    """A coder's hidden-check answers (in the study's pool) follow the move, so
    their recent work shows one version; codes carry by key, a changed one goes
    (kept in a revision); none is handed back, and the scores stay as they were."""
    from django.db.models import F

    from annotator.models import CheckAnswer, WorkItem
    from annotator.services import queue_checks
    from annotator.training.checks import score_pending
    from annotator.training.pool import pool_id
    from tests.factories import DueRandom, make_reference_items, member

    cleo = member(project, "cleo", "coder")
    items = make_reference_items(project, 2, "check")
    WorkItem.objects.filter(project=project).update(taken=F("target"))
    project.check_rate = 2
    project.save(update_fields=["check_rate"])
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True, seed=1))
    for topic in ("arms", "trade"):  # arms is carried, trade was redefined
        check = claim_next_span(project=project, coder=cleo)
        assert check.project_id == pool_id(project)
        submit_annotation(
            coder=cleo, assignment=check, labels={"topic": topic, "stance": "neutral"}
        )
    score_pending(project)
    scores = sorted(CheckAnswer.objects.values_list("item_id", "correct"))
    move_codebook(project=project, new=newer, by=None)
    answers = Annotation.objects.filter(project_id=pool_id(project))
    assert set(answers.values_list("codebook_id", flat=True)) == {newer.pk}
    topics = sorted(
        Label.objects.filter(project_id=pool_id(project), dimension__key="topic")
        .values_list("category__key", "category__dimension__codebook_id")
    )
    assert topics == [("arms", newer.pk)]  # trade's meaning changed: it went
    assert AnnotationRevision.objects.filter(annotation__in=answers).count() == 1
    assert not Assignment.objects.filter(
        project_id=pool_id(project), status=Status.RECODE
    ).exists()
    score_pending(project)
    assert sorted(CheckAnswer.objects.values_list("item_id", "correct")) == scores
    assert len(items) == 2
