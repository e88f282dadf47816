"""The django-tasks tasks: what a ``db_worker`` process runs for a Job.

One task, ``run_job(job_id)``, for every kind: it claims the job (a superseded
one is skipped, one whose project already has a refresh running waits for it),
runs the work with a progress callback and records done or failed, the failure
in words. The work writes in one transaction, so a failure stores nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tasks import task

from annotator.archive import ArchiveError
from annotator.gold import refresh_gold
from annotator.models import Job, JobKind
from annotator.services import agreement_jobs, job_files, jobs
from annotator.services.archive_jobs import run_archive, run_restore
from annotator.services.codebook_move_jobs import MoveFailed, run_codebook_move
from annotator.services.codings_import import run_codings_import
from annotator.services.codings_reading import CodingsImportFailed
from annotator.services.corpus_import import run_corpus_import
from annotator.services.machine_coders import (
    MachineCoderError,
    run_prediction_job,
    run_training_job,
)
from corpus.importing import ImportFailed

# Each wait is a new task record: every few seconds is enough for work of minutes.
RETRY_BUSY_AFTER = timedelta(seconds=5)


def in_words(error: BaseException) -> str:
    """Why a job failed, for the manager reading the job page."""
    if isinstance(error, ImportFailed):  # names the file, line and field
        return f"{error} Nothing was imported."
    if isinstance(error, CodingsImportFailed):  # each problem's line and field
        return f"{error} Nothing was imported."
    if isinstance(error, ArchiveError):  # names the line, table and field
        return f"{error} Nothing was restored."
    if isinstance(error, MoveFailed):  # the version, and why it is no move
        return f"{error} Nothing was moved."
    if isinstance(error, MachineCoderError):  # names the dimension, or what to do
        return f"{error} Nothing was stored."
    if isinstance(error, ValidationError):
        return (
            " ".join(error.messages)
            + " A manager can fix this in the project's admin page."
        )
    if isinstance(error, DatabaseError):
        return f"The database refused the work: {error}".strip()
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        return "The worker was stopped while running this job."
    return f"An unexpected error stopped the work ({type(error).__name__}: {error})."


def _gold_refresh(job: Job, progress: jobs.JobProgress) -> str:
    runs = refresh_gold(
        job.project,
        by=job.requested_by,
        force=bool(job.options.get("force")),
        progress=progress,
    )
    if not runs:
        return "the gold was already fresh: nothing to do"
    decided = sum(run.n_decided for run in runs)
    return f"{len(runs)} dimensions recomputed; {decided:,} automatic labels in all"


def _agreement(job: Job, progress: jobs.JobProgress) -> str:
    return agreement_jobs.compute_and_store(
        job.project,
        n_resamples=int(job.options.get("n_resamples", agreement_jobs.N_RESAMPLES)),
        seed=int(job.options.get("seed", agreement_jobs.SEED)),
        progress=progress,
    )


# Each kind's work: (job, progress) -> a line saying what was done. It writes
# in one transaction (a failure stores nothing) and may set job.result.
WORK = {
    JobKind.GOLD_REFRESH: _gold_refresh,
    JobKind.AGREEMENT: _agreement,
    JobKind.CORPUS_IMPORT: run_corpus_import,
    JobKind.ARCHIVE: run_archive,
    JobKind.RESTORE: run_restore,
    JobKind.CODINGS_IMPORT: run_codings_import,
    JobKind.CODEBOOK_MOVE: run_codebook_move,
    JobKind.MACHINE_TRAIN: run_training_job,
    JobKind.MACHINE_PREDICT: run_prediction_job,
}


@task()
def run_job(job_id: int) -> str:
    job = jobs.start_job(job_id, worker=jobs.this_worker())
    if job is None:
        return "skipped: superseded or already finished"
    if job is jobs.BUSY:
        return _wait(job_id)
    job = Job.objects.select_related("project", "requested_by").get(pk=job_id)
    progress = jobs.JobProgress(job)
    try:
        note = WORK[job.kind](job, progress)
    except BaseException as error:
        progress.close()
        # With its input: whoever sees the job finished sees its upload gone.
        with transaction.atomic():
            jobs.fail_job(job, error=in_words(error))
            job_files.delete_files(job)
        raise  # the worker's own record keeps the traceback for operators
    progress.close()
    with transaction.atomic():
        jobs.finish_job(job, note=note, result=job.result)
        job_files.delete_files(job)
    return note


def _wait(job_id: int) -> str:
    """Run again in a moment; without a backend that defers, fail in words."""
    job = Job.objects.get(pk=job_id)
    if not run_job.get_backend().supports_defer:
        jobs.fail_job(
            job,
            error=f"Another {job.get_kind_display()} of this project was running; "
            "ask again when it has finished.",
        )
        return "failed: another job of its kind was running"
    result = run_job.using(run_after=timezone.now() + RETRY_BUSY_AFTER).enqueue(job_id)
    jobs.wait_for_turn(job, str(result.id))
    return f"waiting for the running {job.get_kind_display()}"
