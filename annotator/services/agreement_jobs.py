"""The agreement bootstrap of large projects as a background job: ask, compute, store.

A page or the API reads the last stored intervals (``intervals_status``) and,
when they are not of the project's data now, queues a job
(``refresh_intervals_if_stale``) and returns at once; the worker runs
``compute_and_store`` (``annotator.tasks``). The intervals are stored whole in
one transaction, replacing the previous ones, so a reader sees the old result
or the new one, never a half-written one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.agreement_report import ProjectReport, project_report
from annotator.agreement_report.intervals import VERSION
from annotator.agreement_report.report import project_intervals
from annotator.models import (
    AgreementIntervals,
    ChangeCounter,
    Codebook,
    Job,
    JobKind,
    JobState,
    Project,
    ShowsJob,
)
from annotator.services.jobs import JobProgress, request_job

N_RESAMPLES = 1000  # the report's, as the page shows it
SEED = 0


@dataclass(frozen=True)
class IntervalsStatus(ShowsJob):
    stored: AgreementIntervals | None  # the last job's result; None: never ran
    current: bool  # ``stored`` is of the project's data and parameters now
    job: Job | None  # the job waiting or running, else the last one finished


def _change_number(project: Project) -> int | None:
    """The project's last committed change number, as gold freshness reads it
    (``ChangeCounter.objects.number_of``)."""
    return ChangeCounter.objects.number_of(project)


def _is_current(
    stored: AgreementIntervals | None,
    project: Project,
    change: int | None,
    *,
    n_resamples: int,
    seed: int,
) -> bool:
    return (
        stored is not None
        and stored.watermark == change
        and stored.codebook_id == project.codebook_id
        and stored.n_resamples == n_resamples
        and stored.seed == seed
        # An older form (version 1: percentile intervals) is recomputed with
        # each coefficient's method of today.
        and all(d.get("version") == VERSION for d in stored.dimensions.values())
    )


def intervals_status(
    project: Project, *, n_resamples: int = N_RESAMPLES, seed: int = SEED
) -> IntervalsStatus:
    """Three indexed queries: the change number, the stored result, the job."""
    stored = AgreementIntervals.objects.filter(project=project).first()
    current = _is_current(
        stored, project, _change_number(project), n_resamples=n_resamples, seed=seed
    )
    job = Job.objects.latest_of(project, JobKind.AGREEMENT)
    return IntervalsStatus(stored, current, job)


def refresh_intervals_if_stale(
    project: Project, *, by=None, n_resamples: int = N_RESAMPLES, seed: int = SEED
) -> IntervalsStatus:
    """The stored intervals' status, after queuing a job unless they are
    current or one is already waiting (a running one may be computing older
    data: the new one waits for it, and skips if it finds them current)."""
    status = intervals_status(project, n_resamples=n_resamples, seed=seed)
    if status.current or (status.job and status.job.state == JobState.QUEUED):
        return status
    request_job(
        JobKind.AGREEMENT,
        project=project,
        by=by,
        options={"n_resamples": n_resamples, "seed": seed},
    )
    # Read again: the immediate backend (tests, TASKS_BACKEND=immediate) has
    # run the job already.
    return intervals_status(project, n_resamples=n_resamples, seed=seed)


def report_with_intervals(
    project: Project, *, by=None, codebook: Codebook | None = None, **options
) -> tuple[ProjectReport, IntervalsStatus | None]:
    """``project_report`` (``codebook`` and ``options`` are its keywords) with
    the bootstrap of dimensions above ``AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS``
    pairable units from the last background job, queued here when stale; the
    status is None when every interval was computed in the request. Jobs
    compute the project's own version only: a large dimension of an earlier
    version has no interval."""
    report = project_report(
        project,
        codebook=codebook,
        bootstrap_max_units=settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS,
        **options,
    )
    if not report.needs_background:
        return report, None
    if codebook is not None and codebook.pk != project.codebook_id:
        report.fill_intervals(None, current=False, as_of=None)
        return report, None
    status = refresh_intervals_if_stale(
        project, by=by, n_resamples=report.n_resamples, seed=report.seed
    )
    stored = status.stored
    report.fill_intervals(
        stored.dimensions if stored else None,
        current=status.current,
        as_of=stored.computed_at if stored else None,
    )
    return report, status


def compute_and_store(
    project: Project,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    progress: JobProgress | None = None,
) -> str:
    """Every dimension's intervals from the project's data now, stored in one
    transaction; nothing when the stored ones are current. Returns what it did."""
    change = _change_number(project)  # before the ratings are read
    stored = AgreementIntervals.objects.filter(project=project).first()
    if _is_current(stored, project, change, n_resamples=n_resamples, seed=seed):
        return "the intervals were already current: nothing to do"
    dimensions = project_intervals(
        project, n_resamples=n_resamples, seed=seed, progress=progress
    )
    with transaction.atomic():
        AgreementIntervals.objects.update_or_create(
            project=project,
            defaults={
                "codebook_id": project.codebook_id,
                "watermark": change,
                "seed": seed,
                "n_resamples": n_resamples,
                "dimensions": dimensions,
                "computed_at": timezone.now(),
            },
        )
    return (
        f"intervals of {len(dimensions)} dimension{'s' if len(dimensions) != 1 else ''}"
        f" computed from {n_resamples:,} resamples each"
    )
