"""Archives and restores from the web: the request queues a job, a worker does it.

An archive is written by ``write_archive`` (what ``manage.py archive_project``
writes) into the job's output file, chunk by chunk in the database, so a download
on any web server can stream it; its progress counts rows written. A restore reads
the stored upload through ``read_archive`` (what ``manage.py restore_project``
reads) in one transaction, then makes the requester the restored project's
manager; its progress counts bytes read. Either stores nothing when it fails.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import IO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from annotator.archive import read_archive, rows_to_archive, write_archive
from annotator.models import Job, JobKind, Membership, Project
from annotator.services import job_files
from annotator.services.jobs import JobProgress, request_job

# What the archive counts, to give its progress a total: the same helpers
# write_archive walks (the codebook versions and users a project refers to).
from annotator.training.checks import score_pending


def archive_name(project: Project, day=None) -> str:
    """project-<id>-<date>.jsonl.gz: the download's name (and gzip's)."""
    day = day or timezone.localdate()
    return f"project-{project.pk}-{day.isoformat()}.jsonl.gz"


def request_archive(project: Project, *, by=None) -> Job:
    """Queue an archive of the project; returns its job."""
    return request_job(JobKind.ARCHIVE, project=project, by=by)


class RowsWritten:
    """A writable stream in front of another that counts the archive's rows in
    the gzip'd bytes going through it (one per line, less the header and the
    trailer), for the job's progress."""

    def __init__(self, out: job_files.OutputWriter, report: Callable[[int], None]):
        self.out = out
        self.name = out.name  # what gzip records in its header
        self.report = report
        self.lines = 0
        self.inflate = zlib.decompressobj(wbits=31)  # gzip framing

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.lines += self.inflate.decompress(data).count(b"\n")
        self.report(max(0, self.lines - 1))  # less the header line
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def run_archive(job: Job, progress: JobProgress) -> str:
    """The job's work: the project's archive into the job's output file, in one
    transaction (a failure keeps no part of it); sets ``job.result``."""
    project = job.project
    score_pending(project)  # as archive.archive_project: checks live as scored rows
    total = rows_to_archive(project)
    progress(0, total, "counting done; writing the archive")
    with transaction.atomic():
        out = job_files.OutputWriter(job, archive_name(project))

        def report(rows: int) -> None:
            rows = min(rows, total)  # the trailer is a line, not a row
            progress(rows, total, f"{rows:,} rows written")

        counts = write_archive(project, RowsWritten(out, report))
        stored = out.close()
    rows = sum(counts.values())
    progress(rows, total, f"{rows:,} rows written")
    job.result = {"archive": stored.pk, "rows": rows, "size": stored.size}
    return f"{rows:,} rows archived in {stored.size:,} bytes"


# --- restoring ---------------------------------------------------------------------


def request_restore(*, upload: UploadedFile, by) -> Job:
    """Store the uploaded archive and queue its restore; returns the job."""
    return request_job(
        JobKind.RESTORE,
        by=by,
        prepare=lambda job: job_files.write_upload(job, upload),
    )


class BytesReadFrom:
    """A readable stream in front of another that reports the bytes read."""

    def __init__(self, stream: IO[bytes], report: Callable[[int], None]) -> None:
        self.stream = stream
        self.report = report
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.done += len(data)
        self.report(self.done)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.done = self.stream.seek(offset, whence)
        return self.done

    def tell(self) -> int:
        return self.stream.tell()


def run_restore(job: Job, progress: JobProgress) -> str:
    """The job's work: the stored archive into fresh rows, and the requester its
    manager, in one transaction; sets ``job.result``.

    The archive's own memberships come back as ``read_archive`` restores them
    (accounts it creates have no password and are never staff); the requester
    is the one account this adds, as a manager. The command's way of letting an
    archive make other existing accounts managers is not offered here.
    """
    (stored,) = job_files.stored_files(job)
    with job_files.open_stream(stored) as spool:
        reader = BytesReadFrom(
            spool,
            lambda done: progress(done, stored.size, "restoring the archive"),
        )
        with transaction.atomic():
            # The requester becomes its manager below in any case, so the
            # archive may say so too (restoring one's own archive).
            requester = job.requested_by
            project = read_archive(
                reader,
                stored.name,
                allow_managers={requester.get_username()} if requester else (),
            )
            if job.requested_by is not None:
                Membership.objects.update_or_create(
                    project=project,
                    user=job.requested_by,
                    defaults={"role": Membership.Role.MANAGER},
                )
    progress(stored.size, stored.size, "restored")
    job.result = {"project": project.pk, "project_name": project.name}
    return f"restored as project {project.pk} '{project.name}'"
