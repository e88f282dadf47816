"""A codebook move as a job: queued by the page, made by a worker, one at a time;
a move that fails stores nothing and says why; the page while a move waits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import (
    AnnotationRevision,
    Assignment,
    ChangeCounter,
    DesignChange,
    Job,
    JobKind,
    JobState,
    Label,
)
from annotator.services import codebook_move
from annotator.services.codebook_move import MOVE_STEPS, move_codebook
from annotator.services.codebook_move_jobs import MoveFailed, request_codebook_move
from annotator.tasks import run_job

# Fixtures (an alias to itself marks a name imported to be used as one).
from tests.annotator.test_agreement_jobs import queue_only as queue_only
from tests.annotator.test_codebook_move_pages import newer as newer
from tests.annotator.test_codebook_move_pages import project as project
from tests.annotator.test_worker import wait_for
from tests.annotator.test_worker import workers as workers

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
POLLING = 'hx-trigger="every 2s"'


def move_url(of) -> str:
    return reverse("project-codebook", args=[of.pk])


def stored(of) -> tuple:
    """Everything a move writes to a project, to compare before and after."""
    of.refresh_from_db()
    return (
        of.codebook_id,
        sorted(
            Label.objects.filter(project=of).values_list(
                "annotation_id", "dimension_id", "category_id"
            )
        ),
        sorted(Assignment.objects.filter(project=of).values_list("pk", "status")),
        AnnotationRevision.objects.filter(annotation__project=of).count(),
        DesignChange.objects.filter(project=of).count(),
        ChangeCounter.objects.number_of(of),
    )


def test_one_move_at_a_time_and_the_page_says_so_full_and_partial(
    client,
    manager,
    project,
    newer,
    queue_only,
):
    client.force_login(manager)
    url = move_url(project)
    asked = client.post(url, {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    assert asked["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.QUEUED and job.requested_by == manager
    page = client.get(url).content.decode()
    assert "<html" in page and POLLING in page
    assert "A move to version 2 is queued: waiting for a worker." in page
    assert ">Move</button>" not in page  # the form comes back when it has run
    polled = client.get(url, headers=HTMX).content.decode()
    assert "<html" not in polled and 'id="move-form"' in polled
    assert POLLING in polled and "A move to version 2 is queued" in polled
    again = client.post(url, {"version": 2})
    assert again.status_code == 200
    assert (
        f"A codebook move of this project is waiting already (job {job.pk}); "
        "send this one when it has run." in again.content.decode()
    )
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, note="moving codes")
    assert "A move to version 2 is running: moving codes." in (
        client.get(url).content.decode()
    )
    refused = client.post(url, {"version": 2}).content.decode()
    assert (
        f"A codebook move of this project is running (job {job.pk}); ask again "
        "when it has finished." in refused
    )
    assert Job.objects.filter(kind=JobKind.CODEBOOK_MOVE).count() == 1
    project.refresh_from_db()
    assert project.codebook.version == 1


def test_a_move_whose_worker_died_does_not_refuse_the_next_one(
    client, manager, project, newer, queue_only
):
    """A running move whose worker is gone (killed, its machine lost) is failed
    in words when the next move is asked for, instead of refusing every request
    until some worker restarts and sweeps it."""
    import socket

    from tests.annotator.test_jobs import dead_pid

    client.force_login(manager)
    client.post(move_url(project), {"version": 2})
    stuck = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    Job.objects.filter(pk=stuck.pk).update(
        state=JobState.RUNNING, worker=f"{socket.gethostname()}:{dead_pid()}"
    )
    asked = client.post(move_url(project), {"version": 2})
    fresh = Job.objects.filter(kind=JobKind.CODEBOOK_MOVE).latest("pk")
    assert fresh.pk != stuck.pk and fresh.state == JobState.QUEUED
    assert asked["Location"] == reverse("job-detail", args=[fresh.pk])
    stuck.refresh_from_db()
    assert stuck.state == JobState.FAILED
    assert "stopped before it finished" in stuck.error
    assert "the project is on the codebook version it was on" in stuck.error


def test_a_move_stored_before_its_worker_died_is_swept_as_done(
    client, manager, project, newer, queue_only
):
    """The worker died between the move's commit and its job's finish: the sweep
    reads the project's version and says the move was made; it neither fails it
    (saying, falsely, the project stayed on its version) nor retries it."""
    import socket

    from annotator.models import Project
    from annotator.services.job_sweep import sweep_orphaned_jobs
    from tests.annotator.test_jobs import dead_pid

    client.force_login(manager)
    client.post(move_url(project), {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    move_codebook(project=project, new=newer, by=manager)  # what the worker stored
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, worker=f"{socket.gethostname()}:{dead_pid()}"
    )
    lines = sweep_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == JobState.DONE and not job.error
    assert "after its work was stored" in job.note
    assert lines == [
        f"job {job.pk} (codebook move, project {project.pk}): its worker "
        f"{job.worker} stopped after its work was stored; marked done"
    ]
    assert Job.objects.filter(kind=JobKind.CODEBOOK_MOVE).count() == 1  # no retry
    assert Project.objects.get(pk=project.pk).codebook_id == newer.pk


def test_only_the_managers_start_a_move_and_see_its_job(
    client,
    project,
    newer,
    queue_only,
):
    for name in ("ann", "bob"):  # coders
        client.force_login(project.memberships.get(user__username=name).user)
        assert client.post(move_url(project), {"version": 2}).status_code == 403
    assert not Job.objects.exists()
    job = request_codebook_move(project=project, new=newer, by=None)
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 403


def test_a_move_the_project_can_no_longer_make_fails_in_words_stores_nothing(
    client,
    manager,
    project,
    newer,
    queue_only,
):
    client.force_login(manager)
    client.post(move_url(project), {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    # Before a worker takes the job the project is moved to version 2 another
    # way (from a shell, say): the queued move is no move any more.
    move_codebook(project=project, new=newer, by=None)
    before = stored(project)
    with pytest.raises(MoveFailed):
        run_job.call(job.pk)
    assert stored(project) == before
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == (
        "Version 2 is not newer than the project's version 2: a project moves "
        "only forward. Nothing was moved."
    )
    page = client.get(move_url(project)).content.decode()
    assert "The last move, to version 2, failed: Version 2 is not newer" in page


def test_a_version_edited_after_the_move_was_asked_for_is_not_moved_to(
    client, manager, project, newer, queue_only
):
    """The version a move goes to stays editable until a project uses it: edited
    while the move waits, the worker would apply changes the manager never saw
    on the move page. The move fails in words instead, and stores nothing."""
    from annotator.codebooks import import_codebook
    from tests.factories import newer_data

    client.force_login(manager)
    client.post(move_url(project), {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    edited, what = import_codebook(newer_data(description="Stance dropped later."))
    assert (edited.pk, what) == (newer.pk, "updated")
    before = stored(project)
    with pytest.raises(MoveFailed):
        run_job.call(job.pk)
    assert stored(project) == before
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == (
        "Version 2 was edited after this move was asked for: look at what the "
        "move changes again and ask for it again. Nothing was moved."
    )


def test_a_move_failing_midway_stores_nothing_and_its_page_says_why(
    client,
    manager,
    project,
    newer,
    monkeypatch,
):
    def broken(moved):
        raise RuntimeError("the reviewers' queue could not be rebuilt")

    monkeypatch.setattr(codebook_move, "rebuild_waiting", broken)
    before = stored(project)
    client.force_login(manager)
    asked = client.post(move_url(project), {"version": 2})  # run in the request
    assert stored(project) == before
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    assert job.state == JobState.FAILED
    page = client.get(asked["Location"]).content.decode()
    assert "An unexpected error stopped the work (RuntimeError: the reviewers" in page
    assert "failed" in client.get(move_url(project)).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_moves_the_project_and_the_pages_show_it(
    client,
    manager,
    project,
    newer,
    workers,
):
    client.force_login(manager)
    url = move_url(project)
    asked = client.post(url, {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    assert job.state == JobState.QUEUED
    assert "A move to version 2 is queued" in client.get(url).content.decode()
    workers.start()
    wait_for(
        lambda: Job.objects.get(pk=job.pk).state == JobState.DONE, "the move", workers
    )
    job.refresh_from_db()
    assert (job.done_units, job.total_units) == (MOVE_STEPS, MOVE_STEPS)
    assert job.note == "moved to version 2" and job.result["version"] == 2
    project.refresh_from_db()
    assert project.codebook == newer
    recode = Assignment.objects.filter(project=project, status="recode")
    assert recode.count() == 4
    assert AnnotationRevision.objects.filter(annotation__project=project).count() == 4
    shown = client.get(asked["Location"]).content.decode()
    assert "moves from version 1 to version 2" in shown and POLLING not in shown
    after = client.get(url, headers=HTMX).content.decode()
    assert "version 2</strong>" in after and "Last move:" in after
    assert POLLING not in after
