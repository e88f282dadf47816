"""Jobs: long work a request asked for, as shown to managers (state, progress, error).

A job is run by a django-tasks task (``annotator/tasks.py``) in a ``db_worker``
process; django-tasks keeps its own row per attempt (``task_id``), this one is what
managers see and what supersede and one-at-a-time are decided on.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, When

from annotator.models.projects import Project

User = settings.AUTH_USER_MODEL


class JobKind(models.TextChoices):
    GOLD_REFRESH = "gold_refresh", "gold refresh"
    CORPUS_IMPORT = "corpus_import", "corpus import"
    ARCHIVE = "archive", "project archive"
    RESTORE = "restore", "project restore"
    AGREEMENT = "agreement", "agreement report"
    CODINGS_IMPORT = "codings_import", "codings import"
    CODEBOOK_MOVE = "codebook_move", "codebook move"
    MACHINE_TRAIN = "machine_train", "machine coder training"
    MACHINE_PREDICT = "machine_predict", "machine coding of the rest"


# What a kind's progress counts ("40 % (400 of 1,000 ratings)").
UNITS = {
    JobKind.GOLD_REFRESH: "ratings",
    JobKind.CORPUS_IMPORT: "bytes",
    JobKind.ARCHIVE: "rows",
    JobKind.RESTORE: "bytes",
    JobKind.AGREEMENT: "resamples",
    JobKind.CODINGS_IMPORT: "bytes",
    JobKind.CODEBOOK_MOVE: "steps",
    JobKind.MACHINE_TRAIN: "steps",
    JobKind.MACHINE_PREDICT: "spans",
}


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    SUPERSEDED = "superseded", "superseded"


ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class JobQuerySet(models.QuerySet["Job"]):
    def of(
        self, project: Project | int, kind: str = JobKind.GOLD_REFRESH
    ) -> JobQuerySet:
        return self.filter(project=project, kind=kind)

    def active(self) -> JobQuerySet:
        return self.filter(state__in=ACTIVE)

    def latest_of(self, project: Project | int, kind: str) -> Job | None:
        """What a page says of a kind of work: the job running (its progress),
        else the one waiting, else the newest finished (a failure is said);
        superseded ones never. One indexed query."""
        active_first = Case(
            When(state=JobState.RUNNING, then=0),
            When(state=JobState.QUEUED, then=1),
            default=2,
        )
        return (
            self.of(project, kind)
            .exclude(state=JobState.SUPERSEDED)
            .order_by(active_first, "-created_at", "-id")
            .first()
        )

    def latest_archive(self, project: Project | int) -> Job | None:
        """The newest finished archive of the project that left a file (the
        project page's download link); one query."""
        return (
            self.of(project, JobKind.ARCHIVE)
            .filter(state=JobState.DONE, files__role="output")
            .order_by("-created_at", "-id")
            .first()
        )

    def imports_of(self, user, *, finished_since: datetime) -> JobQuerySet:
        """The user's corpus imports still waiting or running, or finished since
        ``finished_since`` (what the corpora list shows them)."""
        return self.filter(kind=JobKind.CORPUS_IMPORT, requested_by=user).filter(
            Q(state__in=ACTIVE) | Q(finished_at__gte=finished_since)
        )


class ShowsJob:
    """What a page says of the job behind a stored result; the class using it
    has ``job``: ``JobQuerySet.latest_of`` (running, else waiting, else the
    newest finished), None if none was ever asked for."""

    job: Job | None

    @property
    def refreshing(self) -> bool:
        return self.job is not None and self.job.is_active

    @property
    def failed(self) -> bool:
        return self.job is not None and self.job.state == JobState.FAILED


class Job(models.Model):
    """One request for long work, from queued to done or failed.

    Most work is a project's (gold, archive, agreement); a corpus import or a
    restore has no project when it is asked for (``project`` is empty), and
    only its requester (or staff) sees it.
    """

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=20, choices=JobKind)
    state = models.CharField(max_length=12, choices=JobState, default=JobState.QUEUED)
    options = models.JSONField(default=dict, blank=True)  # e.g. {"force": true}
    done_units = models.BigIntegerField(default=0)
    total_units = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)  # the progress, in words
    error = models.TextField(blank=True)  # why it failed, in words
    # What the work made, for the job page to link: {"corpus": 3}, {"project": 7}.
    result = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress moved (or the job started) at this time: how a sweep on another
    # machine tells a dead worker from a slow one.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)  # "host:pid" running it
    task_id = models.CharField(max_length=64, blank=True)  # django-tasks' result id
    attempt = models.PositiveSmallIntegerField(default=1)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "kind", "state"])]
        constraints = [
            # The database, not only the service, keeps one waiting and one running
            # job per project and kind: a newer request supersedes the waiting one.
            models.UniqueConstraint(
                fields=["project", "kind"],
                condition=Q(state="queued"),
                name="job_one_queued",
            ),
            models.UniqueConstraint(
                fields=["project", "kind"],
                condition=Q(state="running"),
                name="job_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} of project {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE

    @property
    def units(self) -> str:
        return UNITS.get(self.kind, "units")

    @property
    def percent(self) -> int | None:
        if not self.total_units:
            return None
        return min(100, round(100 * self.done_units / self.total_units))


class JobFile(models.Model):
    """A file a job works on (an upload to import) or made (an archive to
    download), stored in the database.

    Workers may run on other machines and share only the database, so an upload
    is kept here, in ``JobChunk`` rows, until its job has finished; what a job
    made is kept until the job is pruned (``prune_jobs``).
    """

    class Role(models.TextChoices):
        INPUT = "input", "input"
        OUTPUT = "output", "output"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=6, choices=Role, default=Role.INPUT)
    name = models.CharField(max_length=255)  # as uploaded: what errors name
    size = models.BigIntegerField()
    position = models.PositiveSmallIntegerField(default=0)  # upload order

    def __str__(self) -> str:
        return f"{self.name} ({self.size:,} bytes) of job {self.job_id}"


class JobChunk(models.Model):
    """One piece (about 1 MB) of a stored file, read back in ``seq`` order."""

    file = models.ForeignKey(JobFile, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "seq"], name="job_chunk_seq")
        ]

    def __str__(self) -> str:
        return f"chunk {self.seq} of file {self.file_id}"
