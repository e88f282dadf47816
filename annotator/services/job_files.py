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
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from annotator.models import Job, JobChunk, JobFile
from corpus.bulk import fast_toast_compression
from corpus.db import fast_path

CHUNK_BYTES = 1024 * 1024


@transaction.atomic
def write_upload(job: Job, upload: UploadedFile, *, position: int = 0) -> JobFile:
    """Store an upload for ``job``, chunk by chunk as Django hands it over (from
    memory for small files, from its temporary file for large ones)."""
    stored = JobFile.objects.create(
        job=job, name=upload.name or "upload", size=upload.size or 0, position=position
    )
    db = transaction.get_connection()
    # PostgreSQL compresses each chunk (TOAST): LZ4 is much faster than pglz.
    with fast_toast_compression(db):
        upload.seek(0)
        # Not upload.chunks(): an upload held in memory comes as one piece.
        pieces = iter(lambda: upload.read(CHUNK_BYTES), b"")
        for seq, data in enumerate(pieces):
            _insert_chunk(db, stored, seq, data)
    return stored


def _insert_chunk(
    db: BaseDatabaseWrapper, stored: JobFile, seq: int, data: bytes
) -> None:
    if not fast_path("job-chunks-binary", db):
        JobChunk.objects.using(db.alias).create(file=stored, seq=seq, data=data)
        return
    # Django's psycopg cursors bind parameters on the client: a 1 MB chunk goes
    # as 2 MB of quoted SQL text for the server to parse back (most of an
    # upload's time: bench/RESULTS.md). A server-binding cursor sends the bytes
    # as they are.
    import psycopg

    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(
            f"INSERT INTO {JobChunk._meta.db_table} (file_id, seq, data) "
            "VALUES (%s, %s, %b)",
            [stored.pk, seq, data],
        )


def write_uploads(job: Job, uploads: Iterable[UploadedFile]) -> list[JobFile]:
    return [
        write_upload(job, upload, position=n) for n, upload in enumerate(uploads)
    ]


def stored_files(job: Job) -> list[JobFile]:
    """The job's uploads, in upload order."""
    return list(job.files.filter(role=JobFile.Role.INPUT).order_by("position", "id"))


def chunks(stored: JobFile) -> Iterator[bytes]:
    """The stored file's bytes, one chunk at a time (one query each), so memory
    holds at most one: what the worker and a download read."""
    db = connections[DEFAULT_DB_ALIAS]
    seqs = list(
        JobChunk.objects.filter(file=stored)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    for seq in seqs:
        yield _read_chunk(db, stored, seq)


def open_stream(stored: JobFile) -> BinaryIO:
    """The stored file as a readable, seekable stream at its start (a temporary
    file on the worker's disk; closing it deletes it)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    for data in chunks(stored):
        spool.write(data)
    spool.seek(0)
    return spool


def _read_chunk(db: BaseDatabaseWrapper, stored: JobFile, seq: int) -> bytes:
    if not fast_path("job-chunks-binary", db):
        chunk = JobChunk.objects.using(db.alias).filter(file=stored, seq=seq)
        return bytes(chunk.values_list("data", flat=True)[0])
    import psycopg

    db.ensure_connection()
    # Binary results: the bytes as stored, not their hex text to decode.
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(
            f"SELECT data FROM {JobChunk._meta.db_table} "
            "WHERE file_id = %s AND seq = %s",
            [stored.pk, seq],
            binary=True,
        )
        return cursor.fetchone()[0]


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
        _insert_chunk(transaction.get_connection(), self.file, self.seq, data)
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
