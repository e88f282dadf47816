"""Jobs as a service: supersede, one at a time, failures in words, progress, sweeps.

Most tests queue on django-tasks' DummyBackend (nothing runs until the test calls
the task) or the suite's ImmediateBackend (the task runs on enqueue); the real
worker is tests/annotator/test_worker.py.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotator.gold import gold_is_fresh, refresh_gold
from annotator.models import GoldLabel, Job, JobState
from annotator.services import claim_next_span, jobs, submit_annotation
from annotator.services.job_sweep import sweep_orphaned_jobs, worker_is_gone
from annotator.tasks import run_job
from corpus.db import portable
from tests.factories import UserFactory, make_project

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
LABELS = [
    {"topic": "arms", "stance": "neutral"},
    {"topic": "trade", "stance": "neutral"},
]


def coded_project(spans: int = 4):
    """Two coders who disagree on the topic of every span they both code."""
    project = make_project(documents=1, spans_per_document=spans, coders=("a", "b"))
    for name, labels in zip(("a", "b"), LABELS, strict=True):
        coder = project.memberships.get(user__username=name).user
        while (assignment := claim_next_span(project=project, coder=coder)) is not None:
            submit_annotation(coder=coder, assignment=assignment, labels=labels)
    return project


def gold_rows(project) -> list[tuple]:
    return sorted(
        GoldLabel.objects.filter(project=project).values_list(
            "span_id", "dimension_id", "category_id", "method", "run_id"
        )
    )


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def queue_only(settings):
    """Enqueued tasks wait (django-tasks' DummyBackend) until the test runs them."""
    settings.TASKS = DUMMY


def test_a_refresh_runs_as_a_job_and_records_its_progress(db):
    project = coded_project()
    boss = UserFactory(username="boss")
    job = jobs.request_gold_refresh(project, by=boss)
    assert job.state == JobState.DONE, job.error
    assert job.requested_by == boss and job.task_id
    assert job.started_at <= job.finished_at
    assert job.total_units > 0 and job.done_units == job.total_units
    assert job.percent == 100
    assert "dimensions recomputed" in job.note
    assert gold_is_fresh(project) and gold_rows(project)


def test_progress_is_reported_per_dimension_up_to_every_rating(db):
    project = coded_project()
    heard = []
    refresh_gold(project, progress=lambda *step: heard.append(step))
    assert heard[0] == (0, None, "reading every rating")
    totals = {total for _, total, _ in heard[1:]}
    assert len(totals) == 1 and (total := totals.pop()) > 0
    done = [d for d, _, _ in heard[1:]]
    assert done == sorted(done) and done[-1] == total
    assert heard[-1][2].startswith("tags: ") and "dimension 3 of 3" in heard[-1][2]


def test_a_newer_request_supersedes_the_waiting_one(db, queue_only):
    project = coded_project()
    first = jobs.request_gold_refresh(project, force=True)
    second = jobs.request_gold_refresh(project)
    first.refresh_from_db()
    assert first.state == JobState.SUPERSEDED and first.finished_at
    assert second.state == JobState.QUEUED
    assert second.options == {"force": True}  # the forced ask is not lost
    assert run_job.call(first.pk).startswith("skipped")
    assert not gold_rows(project)
    assert "dimensions recomputed" in run_job.call(second.pk)
    second.refresh_from_db()
    assert second.state == JobState.DONE


def test_the_database_holds_one_waiting_and_one_running_job_per_project(db):
    project = coded_project(spans=2)
    for state in (JobState.QUEUED, JobState.RUNNING):
        Job.objects.create(project=project, kind="gold_refresh", state=state)
        with pytest.raises(IntegrityError), transaction.atomic():
            Job.objects.create(project=project, kind="gold_refresh", state=state)


def test_a_job_waits_while_another_refresh_of_its_project_runs(db, queue_only):
    project = coded_project()
    running = Job.objects.create(
        project=project,
        kind="gold_refresh",
        state=JobState.RUNNING,
        worker=f"{socket.gethostname()}:{os.getppid()}",
        started_at=timezone.now(),
    )
    waiting = jobs.request_gold_refresh(project)
    first_task = waiting.task_id
    assert run_job.call(waiting.pk) == "waiting for the running gold refresh"
    waiting.refresh_from_db()
    assert waiting.state == JobState.QUEUED and "already running" in waiting.note
    assert waiting.task_id != first_task  # deferred: a new task, run a little later
    running.refresh_from_db()
    assert running.state == JobState.RUNNING  # its worker (our parent) lives
    assert not gold_rows(project)


def test_a_refresh_whose_worker_died_does_not_block_the_next(db, queue_only):
    project = coded_project()
    dead = Job.objects.create(
        project=project,
        kind="gold_refresh",
        state=JobState.RUNNING,
        worker=f"{socket.gethostname()}:{dead_pid()}",
        started_at=timezone.now(),
    )
    job = jobs.request_gold_refresh(project)
    run_job.call(job.pk)
    dead.refresh_from_db()
    job.refresh_from_db()
    assert dead.state == JobState.FAILED and "stopped before it finished" in dead.error
    assert job.state == JobState.DONE and gold_rows(project)


def test_a_bad_gold_setting_fails_the_job_in_words_and_keeps_the_gold(db):
    project = coded_project()
    refresh_gold(project)
    before = gold_rows(project)
    project.gold_methods = ["model", "model"]
    project.save()
    job = jobs.request_gold_refresh(project, force=True)
    assert job.state == JobState.FAILED
    assert "gold_methods entry 2, 'model', is listed twice" in job.error
    assert "A manager can fix this" in job.error
    assert gold_rows(project) == before


def test_a_failure_midway_stores_nothing_and_says_what_failed(db, monkeypatch):
    """The first dimension is written when the second fails: all rolled back."""
    project = coded_project()
    refresh_gold(project)
    before = gold_rows(project)
    from annotator.gold import refresh as refresh_module

    real = refresh_module.aggregate_dimension
    calls = []

    def second_fails(project, dimension, *args):
        calls.append(dimension.key)
        if len(calls) == 2:
            raise MemoryError("out of memory")
        return real(project, dimension, *args)

    monkeypatch.setattr(refresh_module, "aggregate_dimension", second_fails)
    job = jobs.request_gold_refresh(project, force=True)
    assert job.state == JobState.FAILED
    assert job.error == (
        "An unexpected error stopped the work (MemoryError: out of memory)."
    )
    assert gold_rows(project) == before


def test_stale_gold_queues_one_refresh_and_fresh_gold_none(db, queue_only):
    project = coded_project()
    status = jobs.refresh_gold_if_stale(project)
    assert status.job.state == JobState.QUEUED and status.as_of is None
    again = jobs.refresh_gold_if_stale(project)
    assert again.job == status.job  # the waiting one stands for both
    run_job.call(status.job.pk)
    fresh = jobs.refresh_gold_if_stale(project)
    assert fresh.job is None and fresh.as_of is not None
    assert Job.objects.count() == 1


def test_the_sweep_fails_a_dead_workers_job_and_retries_it_once(db, queue_only):
    project = coded_project()
    gone = f"{socket.gethostname()}:{dead_pid()}"
    job = Job.objects.create(
        project=project, kind="gold_refresh", state=JobState.RUNNING, worker=gone
    )
    (line,) = sweep_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error.startswith(f"The worker running this job ({gone}) stopped")
    retry = Job.objects.get(state=JobState.QUEUED)
    assert retry.retry_of == job and retry.attempt == 2
    assert line.endswith(f"retried as job {retry.pk}")
    # The retry dies too: failed, and not retried again.
    Job.objects.filter(pk=retry.pk).update(state=JobState.RUNNING, worker=gone)
    (line,) = sweep_orphaned_jobs()
    assert "retried" not in line
    assert not Job.objects.filter(state__in=(JobState.QUEUED, JobState.RUNNING))
    assert sweep_orphaned_jobs() == []


def test_a_worker_elsewhere_is_gone_when_its_progress_stops(db, settings):
    project = coded_project(spans=2)
    settings.JOB_STALE_AFTER = timedelta(minutes=30)
    job = Job(project=project, worker="another-machine:1", state=JobState.RUNNING)
    job.heartbeat_at = timezone.now() - timedelta(minutes=5)
    assert not worker_is_gone(job)
    job.heartbeat_at = timezone.now() - timedelta(minutes=31)
    assert worker_is_gone(job)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_others_while_the_refresh_writes(monkeypatch):
    """PostgreSQL: another connection reads the progress of a refresh whose
    transaction has not committed; the portable twin shows none midway. Both
    end with the same gold and the same finished job."""
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)  # every step written
    results = []
    for twin in ("fast", "portable"):
        project = coded_project()
        job = jobs.start_job(
            Job.objects.create(project=project, kind="gold_refresh").pk,
            worker=jobs.this_worker(),
        )
        progress = jobs.JobProgress(job)
        seen = []

        def watch(done, total, words, progress=progress, seen=seen):
            progress(done, total, words)
            if done:
                seen.append(read_elsewhere(progress.job.pk))

        if twin == "fast":
            refresh_gold(project, progress=watch)
        else:
            with portable("job-progress-beside-the-work"):
                refresh_gold(project, progress=watch)
        progress.close()
        jobs.finish_job(job, note="done")
        job.refresh_from_db()
        methods = sorted(m for *_, m, _ in gold_rows(project))
        results.append((methods, job.state, job.done_units, job.total_units))
        if twin == "fast":
            assert seen[0][0] > 0 and seen[-1][0] == seen[-1][1]
        else:
            assert all(row == (0, None) for row in seen)
    assert results[0] == results[1]


def read_elsewhere(job_id: int) -> tuple:
    """The job's progress as another connection sees it."""
    found = []

    def read():
        try:
            found.append(
                Job.objects.values_list("done_units", "total_units").get(pk=job_id)
            )
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=10)
    return found[0]


def test_prune_jobs_deletes_only_jobs_finished_long_ago(db):
    from django.core.management import call_command

    project = coded_project(spans=2)
    long_ago = timezone.now() - timedelta(days=40)
    old = Job.objects.create(
        project=project, kind="gold_refresh", state=JobState.DONE, finished_at=long_ago
    )
    recent = Job.objects.create(
        project=project,
        kind="gold_refresh",
        state=JobState.FAILED,
        finished_at=timezone.now(),
    )
    waiting = Job.objects.create(project=project, kind="gold_refresh")
    out = io.StringIO()
    call_command("prune_jobs", "--min-age-days", "30", "--dry-run", stdout=out)
    assert out.getvalue() == "would delete 1 job finished more than 30 days ago\n"
    call_command("prune_jobs", "--min-age-days", "30", stdout=io.StringIO())
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not Job.objects.filter(pk=old.pk).exists()


@pytest.fixture
def projectless_work(monkeypatch):
    """A kind of work with no project (as a corpus import is), recording its runs."""
    from annotator import tasks

    runs = []

    def work(job, progress):
        runs.append(job.pk)
        progress(1, 1, "read the whole file")
        job.result = {"made": job.pk}
        return "imported"

    monkeypatch.setitem(tasks.WORK, "corpus_import", work)
    return runs


def test_work_without_a_project_runs_side_by_side_and_keeps_its_result(
    db, projectless_work, queue_only
):
    first = jobs.request_job("corpus_import", options={"name": "one"})
    second = jobs.request_job("corpus_import", options={"name": "two"})
    # Neither supersedes the other: each is someone's own upload.
    assert {first.state, second.state} == {JobState.QUEUED}
    jobs.start_job(first.pk, worker="elsewhere:1")
    run_job.call(second.pk)  # not BUSY behind the other, which is running
    second.refresh_from_db()
    assert second.state == JobState.DONE and second.result == {"made": second.pk}
    assert second.note == "imported" and second.done_units == 1
    assert projectless_work == [second.pk]


def test_the_sweep_retries_work_without_a_project_too(db, projectless_work, queue_only):
    gone = f"{socket.gethostname()}:{dead_pid()}"
    job = Job.objects.create(
        kind="corpus_import",
        state=JobState.RUNNING,
        worker=gone,
        options={"name": "one"},
    )
    (line,) = sweep_orphaned_jobs()
    assert "(corpus import, no project)" in line
    retry = Job.objects.get(state=JobState.QUEUED)
    assert retry.retry_of == job and retry.options == {"name": "one"}
    assert retry.project is None
