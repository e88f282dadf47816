"""Files a job works on (uploads), kept in the database in chunks of about 1 MB.

Written as an upload streams in, read back by the worker, deleted when the job
has finished.

Workers may run on other machines and share only PostgreSQL, so an upload cannot
wait on the web server's disk: it is stored in ``JobChunk`` rows of about 1 MB, never
held whole in memory. The worker reads a file back into a local temporary file
(``open_stream``) before its work starts: an import's write-behind thread then owns
the database connection, and the readers need a plain seekable byte stream.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from django.core.files.uploadedfile import UploadedFile

from annotator.models import Job, JobChunk, JobFile

CHUNK_BYTES = 1024 * 1024


def write_upload(job: Job, upload: UploadedFile, *, position: int = 0) -> JobFile:
    """Store an upload for ``job``, chunk by chunk as Django hands it over (from
    memory for small files, from its temporary file for large ones)."""
    stored = JobFile.objects.create(
        job=job, name=upload.name or "upload", size=upload.size or 0, position=position
    )
    for seq, data in enumerate(upload.chunks(CHUNK_BYTES)):
        JobChunk.objects.create(file=stored, seq=seq, data=data)
    return stored


def write_uploads(job: Job, uploads: Iterable[UploadedFile]) -> list[JobFile]:
    return [
        write_upload(job, upload, position=n) for n, upload in enumerate(uploads)
    ]


def stored_files(job: Job) -> list[JobFile]:
    return list(job.files.order_by("position", "id"))


def open_stream(stored: JobFile) -> BinaryIO:
    """The stored file as a readable, seekable stream at its start (a temporary
    file on the worker's disk; closing it deletes it). Chunks are fetched one at
    a time, so memory holds at most one."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    seqs = JobChunk.objects.filter(file=stored).order_by("seq").values_list(
        "seq", flat=True
    )
    for seq in seqs:
        data = JobChunk.objects.filter(file=stored, seq=seq).values_list(
            "data", flat=True
        )[0]
        spool.write(data)
    spool.seek(0)
    return spool


def hand_over(old: Job, new: Job) -> None:
    """A retry works on the files of the job it retries."""
    JobFile.objects.filter(job=old).update(job=new)


def delete_files(job: Job) -> None:
    """Free the space once the job has finished (prune_jobs catches the rest)."""
    JobChunk.objects.filter(file__job=job).delete()
    JobFile.objects.filter(job=job).delete()
