"""Changing a project's design after creation: the service and its rules."""

from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from annotator.gold.refresh import refresh_gold
from annotator.models import (
    Annotation,
    Assignment,
    DesignChange,
    GoldLabel,
    Membership,
    Project,
    WorkItem,
)
from annotator.services import (
    change_design,
    claim_next_span,
    create_project,
    design_problem,
    preview_design,
    set_membership,
    submit_annotation,
)
from tests.factories import UserFactory, make_codebook, make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}


def coder(name):
    return User.objects.get(username=name)


def code(project, name):
    """Claim and submit one span; the assignment, or None when nothing is left."""
    assignment = claim_next_span(project=project, coder=coder(name))
    if assignment:
        submit_annotation(coder=coder(name), assignment=assignment, labels=LABELS)
    return assignment


def code_all(project, names):
    while any([code(project, name) for name in names]):
        pass


def sampled(project):
    return set(
        WorkItem.objects.filter(project=project, in_sample=True).values_list(
            "span_id", flat=True
        )
    )


def designed_total(project):
    return sum(
        WorkItem.objects.filter(project=project).values_list("target", flat=True)
    )


def test_design_problem_names_k_and_the_coders():
    assert design_problem(3, 1) == (
        "3 coders per span need at least 3 coders; this project has 1."
    )
    assert design_problem(1, 0) == (
        "1 coder per span needs at least 1 coder; this project has 0."
    )
    assert design_problem(2, 2) is None and design_problem(2, 5) is None


def test_create_project_refuses_k_above_the_coders_named():
    corpus = make_project(documents=1).corpus
    solo = UserFactory(username="solo")
    with pytest.raises(ValidationError) as refused:
        create_project(
            name="k3",
            corpus=corpus,
            codebook=make_codebook(),
            coders_per_span=3,
            members={solo: Membership.Role.CODER},
        )
    assert refused.value.message_dict == {
        "coders_per_span": [
            "3 coders per span need at least 3 coders; this project has 1."
        ]
    }
    assert not Project.objects.filter(name="k3").exists()


def test_raising_k_gives_the_extra_codings_to_coders_told_nothing_left():
    project = make_project(documents=2, spans_per_document=3, coders=["c1", "c2", "c3"])
    code_all(project, ["c1", "c2"])
    version = Project.objects.get(pk=project.pk).queue_version
    assert [code(project, name) for name in ("c1", "c2", "c3")] == [None] * 3
    told = Membership.objects.filter(project=project, nothing_left_at=version)
    assert told.count() == 3

    change_design(project, coders_per_span=3, by=coder("c1"))

    project.refresh_from_db()
    assert project.coders_per_span == 3
    targets = WorkItem.objects.filter(project=project).values_list("target", flat=True)
    assert set(targets) == {3}
    assert project.total_codings == designed_total(project) == 18
    assert code(project, "c3") is not None  # asked again, not told "nothing left"
    code_all(project, ["c1", "c2", "c3"])
    done = Counter(
        Assignment.objects.done()
        .filter(project=project)
        .values_list("span_id", flat=True)
    )
    assert set(done.values()) == {3} and len(done) == 6


def test_lowering_k_keeps_every_coding_and_no_span_asks_for_more():
    project = make_project(
        documents=1, spans_per_document=4, coders=["c1", "c2", "c3"], coders_per_span=3
    )
    for name in ("c1", "c2", "c3"):
        code(project, name)  # the first span: three codings
    code(project, "c1")  # the second: one
    annotations = Annotation.objects.filter(project=project).count()

    change = change_design(project, coders_per_span=2)

    targets = dict(
        WorkItem.objects.filter(project=project).values_list("position", "taken")
    )
    items = {item.position: item for item in WorkItem.objects.filter(project=project)}
    first, second, *rest = sorted(items)
    assert (items[first].target, items[first].taken) == (3, 3)  # stays complete
    assert (items[second].target, items[second].taken) == (2, 1)
    assert all(items[p].target == 2 for p in rest) and len(targets) == 4
    assert Annotation.objects.filter(project=project).count() == annotations == 4
    assert "1 spans keep the codings" in change.summary
    project.refresh_from_db()
    assert project.total_codings == designed_total(project) == 9
    code_all(project, ["c1", "c2", "c3"])
    per_span = Counter(
        Assignment.objects.done()
        .filter(project=project)
        .values_list("work_item__position", flat=True)
    )
    assert per_span == {first: 3, second: 2, rest[0]: 2, rest[1]: 2}


def test_growing_the_share_adds_spans_per_document_reproducibly():
    def grown(seed):
        project = make_project(
            documents=4, spans_per_document=10, coders=["a", "b"], sample_share=0.2,
            seed=seed,
        )  # fmt: skip
        before = sampled(project)
        change_design(project, sample_share=0.5)
        return project, before, sampled(project)

    project, before, after = grown(seed=3)
    twin, twin_before, twin_after = grown(seed=3)
    position = dict(WorkItem.objects.values_list("span_id", "position"))
    assert sorted(position[s] for s in after) == sorted(position[s] for s in twin_after)
    assert before < after
    per_document = Counter(
        WorkItem.objects.filter(project=project, in_sample=True).values_list(
            "document_id", flat=True
        )
    )
    assert sorted(per_document.values()) == [5, 5, 5, 5]
    assert set(
        WorkItem.objects.filter(project=project, in_sample=True).values_list(
            "target", flat=True
        )
    ) == {2}
    project.refresh_from_db()
    assert project.total_codings == designed_total(project) == 40 + 20


def test_growing_in_two_steps_ends_where_one_step_does():
    one = make_project(documents=3, spans_per_document=7, sample_share=0.1, seed=9)
    two = make_project(documents=3, spans_per_document=7, sample_share=0.1, seed=9)
    change_design(one, sample_share=0.8)
    change_design(two, sample_share=0.4)
    change_design(two, sample_share=0.8)
    ranks = lambda p: sorted(  # noqa: E731
        WorkItem.objects.filter(project=p, in_sample=True).values_list(
            "position", flat=True
        )
    )
    assert ranks(one) == ranks(two)


def test_shrinking_the_share_keeps_coded_spans_in_the_sample():
    project = make_project(
        documents=2, spans_per_document=5, coders=["c1", "c2"], sample_share=1.0
    )
    for _ in range(3):
        code(project, "c1")
        code(project, "c2")
    double = set(
        WorkItem.objects.filter(project=project, taken=2).values_list(
            "span_id", flat=True
        )
    )
    assert len(double) == 3

    change = change_design(project, sample_share=0.1)

    assert double <= sampled(project)
    assert set(
        WorkItem.objects.filter(project=project, in_sample=False).values_list(
            "target", flat=True
        )
    ) == {1}
    assert set(
        WorkItem.objects.filter(project=project, span_id__in=double).values_list(
            "target", flat=True
        )
    ) == {2}
    assert "spans stay in the sample" in change.summary
    project.refresh_from_db()
    assert project.total_codings == designed_total(project)
    assert Annotation.objects.filter(project=project).count() == 6


def test_k_to_one_and_back_keeps_double_codings_for_agreement_and_gold():
    project = make_project(documents=1, spans_per_document=4, coders=["c1", "c2"])
    code(project, "c1")
    code(project, "c2")  # the first span, twice
    code(project, "c1")  # the second, once
    refresh_gold(project)
    change_design(project, coders_per_span=1)
    items = list(WorkItem.objects.filter(project=project).order_by("position"))
    assert [(i.in_sample, i.target, i.taken) for i in items] == [
        (True, 2, 2), (False, 1, 1), (False, 1, 0), (False, 1, 0),
    ]  # fmt: skip
    # The second span is a single-coded span now: gold's "single" rule decides it.
    refresh_gold(project)
    assert GoldLabel.objects.filter(project=project, span_id=items[1].span_id).exists()
    change_design(project, coders_per_span=2)
    assert sampled(project) >= {items[0].span_id}
    project.refresh_from_db()
    assert project.total_codings == designed_total(project)


def test_the_lease_changes_new_claims_only():
    project = make_project(documents=1, spans_per_document=2, coders=["c1", "c2"])
    held = claim_next_span(project=project, coder=coder("c1"))
    change_design(project, lease_minutes=90)
    project.refresh_from_db()
    assert project.lease_minutes == 90
    assert Assignment.objects.get(pk=held.pk).expires_at == held.expires_at
    fresh = claim_next_span(project=project, coder=coder("c2"))
    assert (fresh.expires_at - fresh.claimed_at).total_seconds() == 90 * 60


def test_refuses_k_above_the_coders_and_bad_values_writing_nothing():
    project = make_project(documents=1, spans_per_document=3, coders=["c1", "c2"])
    targets = list(WorkItem.objects.values_list("target", flat=True))
    with pytest.raises(ValidationError) as refused:
        change_design(project, coders_per_span=3)
    assert refused.value.message_dict == {
        "coders_per_span": [
            "3 coders per span need at least 3 coders; this project has 2."
        ]
    }
    with pytest.raises(ValidationError) as bad:
        change_design(project, coders_per_span=11, sample_share=0.0, lease_minutes=0)
    assert set(bad.value.message_dict) == {
        "coders_per_span", "sample_share", "lease_minutes"
    }  # fmt: skip
    assert "above 0% and at most 100%" in bad.value.message_dict["sample_share"][0]
    with pytest.raises(ValidationError, match="already so"):
        change_design(project, coders_per_span=2)
    assert list(WorkItem.objects.values_list("target", flat=True)) == targets
    assert not DesignChange.objects.exists()
    set_membership(project=project, user=UserFactory(username="c3"), role="coder")
    change_design(project, coders_per_span=3)


def test_a_change_is_recorded_with_before_after_and_what_it_did():
    project = make_project(documents=2, spans_per_document=3, coders=["c1", "c2"])
    manager = UserFactory(username="boss")
    preview = preview_design(project, sample_share=0.5, lease_minutes=45)
    assert not DesignChange.objects.exists()
    change = change_design(project, sample_share=0.5, lease_minutes=45, by=manager)
    assert change.changed_by == manager
    assert change.before == {
        "coders_per_span": 2, "sample_share": 1.0, "lease_minutes": 30
    }  # fmt: skip
    assert change.after == {
        "coders_per_span": 2, "sample_share": 0.5, "lease_minutes": 45
    }  # fmt: skip
    assert change.summary == preview.summary
    assert change.summary.startswith("sample 100% → 50%, lease 30 → 45 min")
    assert "0 codings are discarded" in change.summary
    assert change.change is not None


def test_preview_counts_match_what_the_change_does():
    project = make_project(
        documents=3, spans_per_document=5, coders=["c1", "c2", "c3"], sample_share=0.4
    )
    code(project, "c1")
    before = designed_total(project)
    preview = preview_design(project, coders_per_span=3, sample_share=0.7)
    change_design(project, coders_per_span=3, sample_share=0.7)
    assert designed_total(project) - before == preview.more - preview.fewer
    assert len(sampled(project)) == len(preview.added) + 6 - len(preview.removed)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_design_changes_while_coders_code_in_threads_stay_consistent():
    """Row locks in the queue's order: no deadlock, no span over- or under-coded."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.annotator.test_concurrency import code_until_done

    names = [f"t{n}" for n in range(6)]
    project = make_project(
        documents=8, spans_per_document=8, coders=names, sample_share=0.5
    )
    manager = UserFactory(username="boss")
    barrier = threading.Barrier(len(names) + 1)

    def manage() -> None:
        try:
            barrier.wait(timeout=30)
            for changes in ({"coders_per_span": 3}, {"sample_share": 0.8},
                            {"coders_per_span": 2}):  # fmt: skip
                time.sleep(0.05)
                change_design(Project.objects.get(pk=project.pk), by=manager, **changes)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(names) + 1) as pool:
        managing = pool.submit(manage)
        coding = [pool.submit(code_until_done, project.pk, n, barrier) for n in names]
        managing.result()
        [future.result() for future in coding]
    for name in names:  # whatever a late change asked for
        code_until_done(project.pk, name)
    project.refresh_from_db()
    assert DesignChange.objects.filter(project=project).count() == 3
    done = Counter(
        Assignment.objects.done()
        .filter(project=project)
        .values_list("work_item_id", flat=True)
    )
    for item in WorkItem.objects.filter(project=project):
        assert done[item.pk] == item.taken == item.target, item
        assert item.target == (max(2, item.taken) if item.in_sample else 1)
    assert project.total_codings == designed_total(project) == sum(done.values())
