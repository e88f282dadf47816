"""Jobs: ask for long work in a worker, and move a job from queued to done or failed.

Requests call ``request_job`` (``request_gold_refresh`` for a manager's explicit ask
of gold, ``refresh_gold_if_stale`` for a page or the API about to read gold) and
return at once; the task in ``annotator/tasks.py`` runs the work in a ``db_worker``
and records it here with ``start_job``, ``JobProgress``, ``finish_job`` and
``fail_job``. One waiting and one running job per project and kind: a newer request
supersedes the waiting one (a partial unique index on ``Job`` holds it even between
two web servers), and a job that finds another running waits for it (``start_job``
answers ``BUSY``); a codings import or a codebook move is refused instead while
one is waiting (a move: or running), ``REFUSED_WHILE``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connections,
    transaction,
)
from django.utils import timezone

from annotator.gold import gold_as_of, gold_freshness
from annotator.gold.freshness import GoldStatus
from annotator.models import Job, JobKind, JobState, Project
from annotator.services import job_files
from corpus.db import fast_path

BUSY = "busy"  # start_job: another job of the project and kind is running
PROGRESS_EVERY = 0.5  # seconds between two progress writes of one job
SUPERSEDED_NOTE = "superseded by a newer request before it started"
# Kinds whose newer request of a project never supersedes an earlier one: it is
# refused, in words, while an earlier one of the project is in these states.
REFUSED_WHILE = {
    # Its input is an upload, its own work: not a newer request for the same.
    JobKind.CODINGS_IMPORT: (JobState.QUEUED,),
    # One decision about where the project goes: a second move waiting behind the
    # first would have been asked of a version the project has since left.
    JobKind.CODEBOOK_MOVE: (JobState.QUEUED, JobState.RUNNING),
}


def this_worker() -> str:
    """Who runs a job: "host:pid", what the start-up sweep checks for life."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- asking for work -----------------------------------------------------------------


def request_job(
    kind: str,
    *,
    project: Project | None = None,
    by=None,
    options: dict | None = None,
    retry_of: Job | None = None,
    prepare: Callable[[Job], object] | None = None,
) -> Job:
    """Queue work of ``kind`` (see ``annotator.tasks.WORK``); returns its job.

    ``prepare(job)`` runs before the work is queued, in the same transaction:
    what stores the job's input (``job_files.write_upload``). A retry takes
    over the files of the job it retries.

    A project's job of the same kind still waiting is superseded (its task
    finds it so and exits); its options are merged into the new job's by
    ``merge_options``, so nothing asked for is lost. A running one is left
    alone: the new job waits for it. Work without a project (a corpus import,
    a restore) is never superseded.
    """
    from annotator.services.job_sweep import fail_if_orphaned
    from annotator.tasks import run_job

    user = by if by is not None and by.is_authenticated else None
    options = dict(options or {})
    with transaction.atomic():
        waiting = []
        if project is not None:
            refused_while = REFUSED_WHILE.get(kind, ())
            earlier = list(
                Job.objects.of(project, kind)
                .filter(state__in={JobState.QUEUED, *refused_while})
                .select_for_update()
            )
            # A running job whose worker died would refuse every later request
            # until some worker restarted and swept it: fail it here, in words.
            refusing = [
                j
                for j in earlier
                if j.state in refused_while and not fail_if_orphaned(j)
            ]
            if refusing:
                raise ValidationError(refusal(refusing[0]))
            waiting = [j for j in earlier if j.state == JobState.QUEUED]
            for old in waiting:
                options = merge_options(kind, old.options, options)
            Job.objects.filter(pk__in=[j.pk for j in waiting]).update(
                state=JobState.SUPERSEDED,
                note=SUPERSEDED_NOTE,
                finished_at=timezone.now(),
            )
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    project=project,
                    kind=kind,
                    options=options,
                    requested_by=user,
                    note="waiting for a worker",
                    attempt=1 if retry_of is None else retry_of.attempt + 1,
                    retry_of=retry_of,
                )
        except IntegrityError:
            # Another request queued one between our read and our insert: it
            # will read the same state, so it stands for this one too, unless
            # its kind refuses a second request.
            queued = Job.objects.of(project, kind).get(state=JobState.QUEUED)
            if kind in REFUSED_WHILE:
                raise ValidationError(refusal(queued)) from None
            return queued
        if retry_of is not None:
            job_files.hand_over(retry_of, job)
        if prepare is not None:
            prepare(job)
        result = run_job.enqueue(job.pk)
        # The immediate backend has already run the job: update, never save over it.
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.refresh_from_db()
    return job


def refusal(earlier: Job) -> str:
    """Why a request of a kind in ``REFUSED_WHILE`` is refused, in words."""
    what = f"A {earlier.get_kind_display()} of this project"
    if earlier.state == JobState.RUNNING:
        return f"{what} is running (job {earlier.pk}); ask again when it has finished."
    return (
        f"{what} is waiting already (job {earlier.pk}); send this one when it has run."
    )


def merge_options(kind: str, older: dict, newer: dict) -> dict:
    """The options of a job that supersedes a waiting one: a forced refresh
    stays forced; otherwise the newer request's options stand."""
    merged = dict(newer)
    if kind == JobKind.GOLD_REFRESH and (older.get("force") or newer.get("force")):
        merged["force"] = True
    return merged


def request_gold_refresh(
    project: Project, *, by=None, force: bool = False, retry_of: Job | None = None
) -> Job:
    """Queue a gold refresh of the project (everything recomputed if ``force``)."""
    return request_job(
        JobKind.GOLD_REFRESH,
        project=project,
        by=by,
        options={"force": True} if force else {},
        retry_of=retry_of,
    )


def refresh_gold_if_stale(project: Project, *, by=None) -> GoldStatus:
    """Queue a refresh unless the gold is fresh or one is already waiting;
    returns how fresh the gold is, and the refresh on its way if stale.

    What a page or the API calls before reading gold: cheap (the freshness
    check's three queries when fresh; three more when not). ValidationError
    names a bad gold setting.
    """
    fresh, as_of = gold_freshness(project)
    if fresh:
        return GoldStatus(as_of, None)
    waiting = Job.objects.of(project).filter(state=JobState.QUEUED).first()
    job = waiting or request_gold_refresh(project, by=by)
    # The immediate backend (tests, TASKS_BACKEND=immediate) has run it already.
    return GoldStatus(gold_as_of(project) if not job.is_active else as_of, job)


# --- running it ----------------------------------------------------------------------


def start_job(job_id: int, *, worker: str) -> Job | str | None:
    """Mark the job running; None if it is no longer waiting (superseded,
    finished, deleted), ``BUSY`` if another of its project and kind runs."""
    from annotator.services.job_sweep import fail_if_orphaned

    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != JobState.QUEUED:
            return None
        running = (
            None  # work without a project runs side by side
            if job.project_id is None
            else Job.objects.of(job.project_id, job.kind)
            .filter(state=JobState.RUNNING)
            .first()
        )
        if running is not None and not fail_if_orphaned(running):
            return BUSY
        now = timezone.now()
        job.state, job.worker, job.note = JobState.RUNNING, worker, "started"
        job.started_at = job.heartbeat_at = now
        try:
            with transaction.atomic():
                job.save(
                    update_fields=[
                        "state",
                        "worker",
                        "note",
                        "started_at",
                        "heartbeat_at",
                    ]
                )
        except IntegrityError:
            return BUSY  # another worker took the running place meanwhile
    return job


def wait_for_turn(job: Job, task_id: str) -> None:
    """Note that a job waits for the running one (its task was deferred)."""
    Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        task_id=task_id,
        note=f"waiting for the {job.get_kind_display()} already running to finish",
    )


def finish_job(job: Job, *, note: str, result: dict | None = None) -> None:
    done = job.total_units if job.total_units is not None else job.done_units
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.DONE,
        note=note,
        result=result or {},
        done_units=done,
        finished_at=timezone.now(),
    )


def fail_job(job: Job, *, error: str) -> None:
    """Record why a job failed, in words; it wrote nothing (one transaction)."""
    Job.objects.filter(pk=job.pk, state__in=(JobState.RUNNING, JobState.QUEUED)).update(
        state=JobState.FAILED, error=error, note="failed", finished_at=timezone.now()
    )


class JobProgress:
    """The ``progress`` callback of a job's work: writes done/total/words and a
    heartbeat at most every ``PROGRESS_EVERY`` seconds.

    The work writes in one transaction, whose own writes nobody sees before it
    commits, so progress goes through a second connection. PostgreSQL fast path
    "job-progress-beside-the-work"; the portable twin writes no progress midway
    (SQLite has one writer at a time, and the work holds it): the job then shows
    "running" until it is done, which it records with its totals as on PostgreSQL.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.last = 0.0
        self.side = None
        self.pause = settings.JOB_TEST_PAUSE_SECONDS

    def __call__(self, done: int, total: int | None, words: str) -> None:
        self.job.done_units, self.job.total_units, self.job.note = done, total, words
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY or (total is not None and done >= total):
            self.last = now
            self._write(timezone.now())
        if self.pause and done:
            time.sleep(self.pause)  # tests only: a window to kill the worker in

    def _write(self, now: datetime) -> None:
        if not fast_path("job-progress-beside-the-work"):
            return
        try:
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.side.cursor() as cursor:
                    # Never wait behind a lock: progress is worth less than the work.
                    cursor.execute("SET lock_timeout = '1s'")
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET done_units = %s, "
                    "total_units = %s, note = %s, heartbeat_at = %s "
                    "WHERE id = %s AND state = %s",
                    [
                        self.job.done_units,
                        self.job.total_units,
                        self.job.note[:200],
                        now,
                        self.job.pk,
                        JobState.RUNNING,
                    ],
                )
        except DatabaseError:
            self._drop_side()  # progress is shown best-effort; the work goes on

    def _drop_side(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None

    def close(self) -> None:
        """After the work: the last progress, on the work's own connection."""
        self._drop_side()
        Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING).update(
            done_units=self.job.done_units,
            total_units=self.job.total_units,
            note=self.job.note[:200],
        )


def prune_finished_jobs(*, older_than: timedelta, dry_run: bool = False) -> int:
    """Delete jobs that finished (done, failed, superseded) longer ago than
    ``older_than``; returns how many. Waiting and running jobs are kept."""
    old = Job.objects.exclude(state__in=(JobState.QUEUED, JobState.RUNNING)).filter(
        finished_at__lt=timezone.now() - older_than
    )
    if dry_run:
        return old.count()
    return old.delete()[0]
