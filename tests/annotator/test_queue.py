from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotator.models import Assignment, WorkItem
from annotator.services import (
    claim_next_span,
    release_expired_claims,
    remove_member,
    skip_span,
    submit_annotation,
)
from tests.factories import make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}


def coder(name):
    return User.objects.get(username=name)


def code(project, name, now=None):
    """Claim and submit one span; returns the assignment (or None when done)."""
    assignment = claim_next_span(project=project, coder=coder(name), now=now)
    if assignment:
        submit_annotation(
            coder=coder(name), assignment=assignment, labels=LABELS, now=now
        )
    return assignment


def test_sample_is_stratified_reproducible_and_exact_in_expectation():
    a = make_project(documents=10, spans_per_document=10, sample_share=0.2, seed=5)
    b = make_project(documents=10, spans_per_document=10, sample_share=0.2, seed=5)
    sampled = lambda p: [  # noqa: E731
        (item.position)
        for item in p.work_items.filter(in_sample=True).order_by("position")
    ]
    assert sampled(a) == sampled(b)
    per_document = Counter(
        a.work_items.filter(in_sample=True).values_list("document_id", flat=True)
    )
    assert (
        all(count in (2,) for count in per_document.values())
        and len(per_document) == 10
    )
    assert a.total_codings == 100 + 20
    assert set(a.work_items.values_list("target", flat=True)) == {1, 2}


def test_excluded_spans_are_not_queued():
    project = make_project(documents=1, spans_per_document=3)
    span = project.corpus.documents.get().spans.get(index=1)
    span.excluded = True
    span.save()
    from annotator.services import create_project

    again = create_project(
        name="again", corpus=project.corpus, codebook=project.codebook
    )
    assert again.work_items.count() == 2


def test_no_coder_gets_a_span_twice_and_no_span_is_over_coded():
    project = make_project(documents=2, spans_per_document=3, coders=["c1", "c2", "c3"])
    while any([code(project, "c1"), code(project, "c2"), code(project, "c3")]):
        pass
    done = Assignment.objects.done().filter(project=project)
    assert done.count() == project.total_codings == 12
    per_coder = Counter(done.values_list("span_id", "coder_id"))
    assert max(per_coder.values()) == 1
    per_span = Counter(done.values_list("span_id", flat=True))
    assert set(per_span.values()) == {2}
    assert not WorkItem.objects.filter(project=project, taken__lt=2).exists()
    assert claim_next_span(project=project, coder=coder("c1")) is None


def test_started_spans_are_completed_first():
    project = make_project(documents=3, spans_per_document=3, coders=["c1", "c2"])
    first = code(project, "c1")
    second = claim_next_span(project=project, coder=coder("c2"))
    assert second.span_id == first.span_id


def test_coder_reads_a_document_in_order():
    project = make_project(
        documents=3, spans_per_document=4, coders=["c1"], coders_per_span=1
    )
    spans = [code(project, "c1").span for _ in range(4)]
    assert len({span.document_id for span in spans}) == 1
    assert [span.index for span in spans] == [0, 1, 2, 3]


def test_second_coder_follows_the_first_through_the_document():
    project = make_project(documents=2, spans_per_document=3, coders=["c1", "c2"])
    for _ in range(3):
        code(project, "c1")
    spans = [code(project, "c2").span for _ in range(3)]
    assert [span.index for span in spans] == [0, 1, 2]
    assert len({span.document_id for span in spans}) == 1


def test_a_live_claim_is_resumed_not_duplicated():
    project = make_project(coders=["c1"])
    first = claim_next_span(project=project, coder=coder("c1"))
    again = claim_next_span(project=project, coder=coder("c1"))
    assert first.pk == again.pk
    assert Assignment.objects.live().count() == 1


def test_an_abandoned_claim_expires_and_returns_to_the_pool():
    project = make_project(
        documents=1, spans_per_document=1, coders=["c1", "c2", "c3"], lease_minutes=30
    )
    start = timezone.now()
    claim_next_span(project=project, coder=coder("c1"), now=start)
    claim_next_span(project=project, coder=coder("c2"), now=start)
    assert claim_next_span(project=project, coder=coder("c3"), now=start) is None
    later = start + timedelta(minutes=31)
    taken = claim_next_span(project=project, coder=coder("c3"), now=later)
    assert taken is not None
    assert Assignment.objects.filter(status=Assignment.Status.EXPIRED).count() == 2
    assert WorkItem.objects.get(project=project).taken == 1


def test_release_expired_claims_counts_what_it_released():
    project = make_project(coders=["c1"])
    start = timezone.now()
    claim_next_span(project=project, coder=coder("c1"), now=start)
    assert release_expired_claims(project=project, now=start) == 0
    assert release_expired_claims(project=project, now=start + timedelta(hours=1)) == 1


def test_work_on_a_lapsed_claim_is_kept_while_the_span_has_room():
    project = make_project(
        documents=1, spans_per_document=2, coders=["c1", "c2"], lease_minutes=5
    )
    start = timezone.now()
    assignment = claim_next_span(project=project, coder=coder("c1"), now=start)
    release_expired_claims(project=project, now=start + timedelta(minutes=6))
    annotation = submit_annotation(
        coder=coder("c1"),
        assignment=assignment,
        labels=LABELS,
        now=start + timedelta(minutes=7),
    )
    assert annotation.pk and WorkItem.objects.get(span=assignment.span).taken == 1


def test_work_on_a_lapsed_claim_is_refused_once_others_took_the_span():
    project = make_project(
        documents=1, spans_per_document=1, coders=["c1", "c2", "c3"], lease_minutes=5
    )
    start = timezone.now()
    lapsed = claim_next_span(project=project, coder=coder("c1"), now=start)
    later = start + timedelta(minutes=6)
    code(project, "c2", now=later)
    code(project, "c3", now=later)
    with pytest.raises(ValidationError, match="lapsed after 5 minutes"):
        submit_annotation(
            coder=coder("c1"), assignment=lapsed, labels=LABELS, now=later
        )
    assert WorkItem.objects.get(project=project).taken == 2


def test_skip_returns_the_span_to_others_and_never_to_the_skipper():
    project = make_project(
        documents=1, spans_per_document=2, coders=["c1", "c2"], coders_per_span=1
    )
    first = claim_next_span(project=project, coder=coder("c1"))
    with pytest.raises(ValidationError):
        skip_span(coder=coder("c1"), assignment=first, reason="  ")
    skip_span(coder=coder("c1"), assignment=first, reason="Not in English")
    assert Assignment.objects.get(pk=first.pk).skip_reason == "Not in English"
    nxt = claim_next_span(project=project, coder=coder("c1"))
    assert nxt.span_id != first.span_id
    assert claim_next_span(project=project, coder=coder("c2")).span_id == first.span_id


def test_non_coders_cannot_claim():
    project = make_project()
    outsider = User.objects.create(username="outsider")
    with pytest.raises(ValidationError, match="not a coder"):
        claim_next_span(project=project, coder=outsider)


def test_removing_a_coder_releases_their_claims():
    project = make_project(coders=["c1"])
    claim_next_span(project=project, coder=coder("c1"))
    remove_member(project=project, user=coder("c1"))
    assert not Assignment.objects.live().exists()
    assert not WorkItem.objects.filter(project=project, taken__gt=0).exists()


def test_a_coder_gets_their_own_lapsed_span_back_as_the_same_claim():
    project = make_project(
        documents=1, spans_per_document=1, coders=["c1"], lease_minutes=5
    )
    start = timezone.now()
    first = claim_next_span(project=project, coder=coder("c1"), now=start)
    later = start + timedelta(minutes=6)
    again = claim_next_span(project=project, coder=coder("c1"), now=later)
    assert (again.pk, again.span_id) == (first.pk, first.span_id)
    stored = Assignment.objects.get()
    assert stored.status == Assignment.Status.CLAIMED
    assert stored.claimed_at == again.claimed_at == later
    assert stored.expires_at == again.expires_at == later + timedelta(minutes=5)
    assert WorkItem.objects.get().taken == 1


def test_a_resumed_claim_reads_back_as_stored():
    project = make_project(coders=["c1"])
    first = claim_next_span(project=project, coder=coder("c1"), shown=True)
    again = claim_next_span(project=project, coder=coder("c1"), shown=True)
    stored = Assignment.objects.get()
    for field in ("claimed_at", "shown_at", "expires_at"):
        value = getattr(again, field)
        assert value.tzinfo is not None and value == getattr(stored, field), field
    assert again.shown_at == first.shown_at  # the clock started once


def test_submits_follow_codebook_edits_until_it_is_in_use():
    """Dimensions are cached per process only once a codebook version is in use
    (frozen); before that, an edit in place is seen by the next submit."""
    from annotator.models import Category

    project = make_project(documents=1, spans_per_document=3, coders=["c1"])
    arms = Category.objects.get(dimension__codebook=project.codebook, key="arms")
    arms.key = "weapons"
    arms.save()
    held = claim_next_span(project=project, coder=coder("c1"))
    with pytest.raises(ValidationError, match="'arms' is not a category"):
        submit_annotation(coder=coder("c1"), assignment=held, labels=LABELS)
    labels = {**LABELS, "topic": "weapons"}
    stored = submit_annotation(coder=coder("c1"), assignment=held, labels=labels)
    assert stored.label_keys()["topic"] == ["weapons"]
    # In use now: read once more (and cached), then the same answers.
    for _ in range(2):
        held = claim_next_span(project=project, coder=coder("c1"))
        with pytest.raises(ValidationError, match="'arms' is not a category"):
            submit_annotation(coder=coder("c1"), assignment=held, labels=LABELS)
        submit_annotation(coder=coder("c1"), assignment=held, labels=labels)


def test_an_unchanged_resubmit_writes_nothing_and_keeps_label_ids():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotator.models import Annotation, AnnotationRevision, Label

    project = make_project(documents=1, spans_per_document=2, coders=["ann"])
    assignment = claim_next_span(project=project, coder=coder("ann"))
    submit_annotation(
        coder=coder("ann"), assignment=assignment, labels=LABELS, token="first"
    )
    before = list(Label.objects.order_by("pk").values_list("pk", "category__key"))
    stored = Annotation.objects.get()
    # Same content under a new token (a form sent again): nothing is written.
    ann = coder("ann")
    with CaptureQueriesContext(connection) as queries:
        again = submit_annotation(
            coder=ann,
            assignment=assignment,
            labels={"stance": ["neutral"], "topic": "arms"},
            comment="  ",
            token="second",
        )
    assert not again.created
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries]
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements
    assert list(Label.objects.order_by("pk").values_list("pk", "category__key")) == (
        before
    )
    assert Annotation.objects.get().updated_at == stored.updated_at
    assert not AnnotationRevision.objects.exists()
    # A revision rewrites only what changed: the topic's label keeps its id.
    submit_annotation(
        coder=coder("ann"),
        assignment=assignment,
        labels={"topic": "arms", "stance": "hostile"},
        token="third",
    )
    after = dict(Label.objects.values_list("category__key", "pk"))
    assert after["arms"] == dict((k, pk) for pk, k in before)["arms"]
    assert set(after) == {"arms", "hostile"}
    assert AnnotationRevision.objects.get().new["labels"] == {
        "stance": ["hostile"],
        "topic": ["arms"],
    }
