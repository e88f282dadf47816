"""Files a job works on (uploads) or makes (archives), in the database in 1 MB chunks.

An upload is written as it streams in, read back by the worker and deleted when
the job has finished; a job's output is written by the worker as it is made
(``OutputWriter``) and read back by a download (``chunks``) until the job is pruned.

Workers may run on other machines and share only PostgreSQL, so an upload cannot
wait on the web server's disk: it is stored in ``JobChunk`` rows of about 1 MB, never
held whole in memory. The worker reads a file back into a local temporary file
(``open_stream``) before its work starts: an import's write-behind thread then owns
the database connection, and the readers need a plain seekable byte stream.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
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
    """The job's uploads, in upload order."""
    return list(job.files.filter(role=JobFile.Role.INPUT).order_by("position", "id"))


def output_of(job: Job) -> JobFile | None:
    """What the job made (an archive), once it is done."""
    return job.files.filter(role=JobFile.Role.OUTPUT).first()


def chunks(stored: JobFile) -> Iterator[bytes]:
    """The stored file's bytes, one chunk at a time (one query each), so memory
    holds at most one: what a download streams."""
    seqs = list(
        JobChunk.objects.filter(file=stored).order_by("seq").values_list(
            "seq", flat=True
        )
    )
    for seq in seqs:
        yield bytes(
            JobChunk.objects.filter(file=stored, seq=seq).values_list(
                "data", flat=True
            )[0]
        )


def open_stream(stored: JobFile) -> BinaryIO:
    """The stored file as a readable, seekable stream at its start (a temporary
    file on the worker's disk; closing it deletes it)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    for data in chunks(stored):
        spool.write(data)
    spool.seek(0)
    return spool


class OutputWriter:
    """A writable binary stream into a job's output file: bytes are gathered
    into chunks of ``CHUNK_BYTES`` rows as they come, never held whole.

    ``name`` is the file's name, which gzip records in its header as it does for
    a file on disk of that name. ``close()`` stores the last chunk and the size;
    the caller's transaction decides whether any of it is kept.
    """

    def __init__(self, job: Job, name: str) -> None:
        self.name = name
        self.file = JobFile.objects.create(
            job=job, name=name, size=0, role=JobFile.Role.OUTPUT
        )
        self.buffer = bytearray()
        self.seq = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.size += len(data)
        while len(self.buffer) >= CHUNK_BYTES:
            self._store(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: chunks are stored whole, the last one at close()."""

    def _store(self, data: bytes) -> None:
        JobChunk.objects.create(file=self.file, seq=self.seq, data=data)
        self.seq += 1

    def close(self) -> JobFile:
        if self.buffer:
            self._store(bytes(self.buffer))
            self.buffer.clear()
        self.file.size = self.size
        self.file.save(update_fields=["size"])
        return self.file


def hand_over(old: Job, new: Job) -> None:
    """A retry works on the uploads of the job it retries."""
    JobFile.objects.filter(job=old, role=JobFile.Role.INPUT).update(job=new)


def delete_files(job: Job) -> None:
    """Free the uploads' space once the job has finished (prune_jobs catches the
    rest); what the job made stays for its page to offer."""
    inputs = JobFile.objects.filter(job=job, role=JobFile.Role.INPUT)
    JobChunk.objects.filter(file__in=inputs).delete()
    inputs.delete()
