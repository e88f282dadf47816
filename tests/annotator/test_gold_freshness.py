"""Gold freshness is exact: a change that commits after a refresh read the project
is seen by the next refresh, however late it commits or whatever its timestamp."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from annotator.gold import refresh_gold
from annotator.models import Annotation, GoldLabel
from annotator.services import claim_next_span, submit_annotation
from tests.factories import make_project

LABELS = {"topic": "arms", "stance": "neutral"}


def gold_spans(project) -> set[int]:
    return set(
        GoldLabel.objects.filter(project=project, dimension__key="topic").values_list(
            "span_id", flat=True
        )
    )


def single_coder_project():
    """Every span outside the reliability sample: one coding decides it (`single`)."""
    from django.contrib.auth.models import User

    project = make_project(
        documents=1, spans_per_document=4, coders=("late", "early"), coders_per_span=1
    )
    late, early = (User.objects.get(username=n) for n in ("late", "early"))
    return project, late, early


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_submit_that_commits_after_a_refresh_is_in_the_next_one():
    """Submit A stamps its change, then commits late; meanwhile submit B (stamped
    after A) is made and a refresh runs. Timestamps taken before commit let the
    refresh record B's stamp as read, and A, committing later with an earlier
    stamp, was never recomputed: its span had no gold label."""
    project, late, early = single_coder_project()
    slow = claim_next_span(project=project, coder=late)
    quick = claim_next_span(project=project, coder=early)
    stored, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def on_own_connection(work):
        def run():
            try:
                work()
            except BaseException as error:  # reported by the main thread
                errors.append(error)
            finally:
                connection.close()

        return threading.Thread(target=run)

    def late_submit():
        with transaction.atomic():
            submit_annotation(coder=late, assignment=slow.pk, labels=LABELS)
            stored.set()
            assert release.wait(timeout=30)

    def quick_submit():
        submit_annotation(coder=early, assignment=quick.pk, labels=LABELS)

    a = on_own_connection(late_submit)
    a.start()
    assert stored.wait(timeout=30)
    b = on_own_connection(quick_submit)
    b.start()
    # B commits at once where writers do not queue behind A, else it waits for A.
    b.join(timeout=2)
    refresh_gold(project)
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not errors, errors
    refresh_gold(project)
    assert gold_spans(project) == {slow.span_id, quick.span_id}


@pytest.mark.django_db
def test_a_change_stamped_before_the_last_refresh_is_still_seen():
    """What a late commit looks like to a reader, made on any database: an
    annotation that appears after a refresh with an older timestamp than the
    newest one that refresh read."""
    project, late, early = single_coder_project()
    first = claim_next_span(project=project, coder=early)
    submit_annotation(coder=early, assignment=first, labels=LABELS)
    refresh_gold(project)
    assert gold_spans(project) == {first.span_id}
    second = claim_next_span(project=project, coder=late)
    annotation = submit_annotation(coder=late, assignment=second, labels=LABELS)
    backdated = Annotation.objects.get(assignment=first).updated_at - timedelta(hours=1)
    Annotation.objects.filter(pk=annotation.pk).update(updated_at=backdated)
    assert refresh_gold(project)
    assert gold_spans(project) == {first.span_id, second.span_id}
    assert refresh_gold(project) == []


@pytest.mark.django_db
def test_a_revision_makes_gold_stale_and_nothing_else_does():
    project, late, early = single_coder_project()
    first = claim_next_span(project=project, coder=early)
    submit_annotation(coder=early, assignment=first, labels=LABELS, token="t1")
    refresh_gold(project)
    # A replay (same token) writes nothing: gold stays fresh.
    submit_annotation(coder=early, assignment=first, labels=LABELS, token="t1")
    assert refresh_gold(project) == []
    submit_annotation(
        coder=early,
        assignment=first,
        labels={"topic": "trade", "stance": "neutral"},
        token="t2",
    )
    assert refresh_gold(project)
    label = GoldLabel.objects.get(
        project=project, span_id=first.span_id, dimension__key="topic"
    )
    assert label.category.key == "trade"


@pytest.mark.django_db
def test_an_annotation_edited_in_the_admin_makes_gold_stale(client):
    """The admin edits an annotation's labels by hand: the next refresh sees it."""
    from django.contrib.auth.models import User

    from annotator.models import Category, Label

    project, late, early = single_coder_project()
    first = claim_next_span(project=project, coder=early)
    annotation = submit_annotation(coder=early, assignment=first, labels=LABELS)
    refresh_gold(project)
    label = Label.objects.get(annotation=annotation, dimension__key="topic")
    trade = Category.objects.get(dimension=label.dimension, key="trade")
    client.force_login(User.objects.create_superuser("root", "r@example.org", "pw"))
    url = f"/admin/annotator/annotation/{annotation.pk}/change/"
    labels = list(Label.objects.filter(annotation=annotation).order_by("pk"))
    form = {
        "assignment": annotation.assignment_id,
        "project": project.pk,
        "codebook": annotation.codebook_id,
        "comment": "",
        "seconds": annotation.seconds,
        "submission_token": "",
        "labels-TOTAL_FORMS": len(labels),
        "labels-INITIAL_FORMS": len(labels),
        "revisions-TOTAL_FORMS": 0,
        "revisions-INITIAL_FORMS": 0,
    }
    for i, row in enumerate(labels):
        form |= {
            f"labels-{i}-id": row.pk,
            f"labels-{i}-annotation": annotation.pk,
            f"labels-{i}-project": project.pk,
            f"labels-{i}-span": row.span_id,
            f"labels-{i}-coder": row.coder_id,
            f"labels-{i}-dimension": row.dimension_id,
            f"labels-{i}-category": trade.pk if row.pk == label.pk else row.category_id,
        }
    response = client.post(url, form)
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "error" in line
    ]
    assert Label.objects.get(pk=label.pk).category_id == trade.pk
    assert refresh_gold(project)
    gold = GoldLabel.objects.get(
        project=project, span_id=first.span_id, dimension__key="topic"
    )
    assert gold.category.key == "trade"
