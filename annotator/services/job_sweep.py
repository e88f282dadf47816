"""Jobs whose worker died mid-run: failed with the reason, and retried once.

A worker killed outright (SIGKILL, a lost machine) cannot say so: its job stays
"running" and its work, one transaction, was rolled back by the database, so the
previous gold stands. ``manage.py db_worker`` sweeps such jobs before it starts
(``sweep_orphaned_jobs``), and a job that finds one in its way sweeps that one
(``fail_if_orphaned``). A worker on this machine is dead when its process is
gone; one elsewhere when its job's progress has not moved for
``settings.JOB_STALE_AFTER``.
"""

from __future__ import annotations

import os
import socket
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from annotator.models import Job, JobKind, JobState, Project
from annotator.services import job_files

MAX_ATTEMPTS = 2  # the first run and one retry


class WorkerStopped(Exception):
    """What the task's own record says when its worker died mid-run."""


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a sweeping worker that has just started runs nothing yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def worker_is_gone(job: Job) -> bool:
    """Whether the worker running ``job`` has died (see the module's rule)."""
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_alive(int(pid))
    beat = job.heartbeat_at or job.started_at or job.created_at
    return timezone.now() - beat > settings.JOB_STALE_AFTER


# What stays as it was when a job's work is rolled back, by kind.
KEPT = {
    JobKind.GOLD_REFRESH: "the gold is as it was before",
    JobKind.CORPUS_IMPORT: "no document of the upload was imported",
    JobKind.ARCHIVE: "no part of the archive was stored",
    JobKind.RESTORE: "no row of the archive was restored",
    JobKind.CODEBOOK_MOVE: "the project is on the codebook version it was on",
}


def _move_stored(job: Job) -> bool:
    return (
        Project.objects.filter(pk=job.project_id)
        .values_list("codebook_id", flat=True)
        .first()
        == job.options.get("codebook")
    )


# Kinds whose stored work can be read off the data: a worker that died between
# the work's commit and the job's own finish left the job "running", and failing
# it would say, falsely, that nothing was kept (and a retry would do it again).
STORED = {JobKind.CODEBOOK_MOVE: _move_stored}


def reason(job: Job) -> str:
    kept = KEPT.get(job.kind, "everything is as it was before")
    return (
        f"The worker running this job ({job.worker or 'unknown'}) stopped before "
        f"it finished. Nothing it computed was kept: {kept}."
    )


def _database_task_id(task_id: str) -> bool:
    """Whether the id can be the database backend's (a UUID); other backends'
    results are not in its table."""
    try:
        uuid.UUID(task_id)
    except ValueError:
        return False
    return True


STORED_NOTE = "done (its worker stopped after its work was stored)"


def fail_if_orphaned(job: Job) -> bool:
    """Fail a running job whose worker is gone; True if it was. One whose work
    was stored all the same (``STORED``) is finished as done instead (also True:
    it no longer runs)."""
    if job.state != JobState.RUNNING or not worker_is_gone(job):
        return False
    stored = STORED.get(job.kind, lambda job: False)(job)
    with transaction.atomic():
        failed = Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=JobState.DONE if stored else JobState.FAILED,
            error="" if stored else reason(job),
            note=STORED_NOTE if stored else "failed",
            finished_at=timezone.now(),
        )
        if _database_task_id(job.task_id):
            # Its django-tasks record says RUNNING forever otherwise, and
            # prune_db_task_results deletes finished records only.
            DBTaskResult.objects.filter(
                id=job.task_id, status=TaskResultStatus.RUNNING
            ).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path=f"{__name__}.WorkerStopped",
                traceback=reason(job),
            )
    return bool(failed)


def sweep_orphaned_jobs() -> list[str]:
    """Fail every running job whose worker is gone and retry each once (unless
    a newer request already waits); returns what was done, a line each.

    Every kind's work writes in one transaction, so a retry starts from
    nothing stored.
    """
    from annotator.services.jobs import request_job

    done = []
    for job in Job.objects.filter(state=JobState.RUNNING).select_related(
        "project", "requested_by"
    ):
        if not fail_if_orphaned(job):
            continue
        whose = f"project {job.project_id}" if job.project_id else "no project"
        line = f"job {job.pk} ({job.get_kind_display()}, {whose}): "
        line += f"its worker {job.worker} stopped"
        if Job.objects.filter(pk=job.pk, state=JobState.DONE).exists():
            done.append(f"{line} after its work was stored; marked done")
            continue
        line += "; marked failed"
        waiting = job.project_id is not None and (
            Job.objects.of(job.project_id, job.kind)
            .filter(state=JobState.QUEUED)
            .exists()
        )
        if job.attempt < MAX_ATTEMPTS and waiting:
            line += "; a newer request already waits"
        elif job.attempt < MAX_ATTEMPTS:
            retry = request_job(
                job.kind,
                project=job.project,
                by=job.requested_by,
                options=job.options,
                retry_of=job,
            )
            line += f"; retried as job {retry.pk}"
        job_files.delete_files(job)  # a retry has taken them over
        done.append(line)
    return done
