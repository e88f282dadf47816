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
    return list(job.files.order_by("position", "id"))


def open_stream(stored: JobFile) -> BinaryIO:
    """The stored file as a readable, seekable stream at its start (a temporary
    file on the worker's disk; closing it deletes it). Chunks are fetched one at
    a time, so memory holds at most one."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    db = connections[DEFAULT_DB_ALIAS]
    seqs = list(
        JobChunk.objects.filter(file=stored)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    for seq in seqs:
        spool.write(_read_chunk(db, stored, seq))
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


def hand_over(old: Job, new: Job) -> None:
    """A retry works on the files of the job it retries."""
    JobFile.objects.filter(job=old).update(job=new)


def delete_files(job: Job) -> None:
    """Free the space once the job has finished (prune_jobs catches the rest)."""
    JobChunk.objects.filter(file__job=job).delete()
    JobFile.objects.filter(job=job).delete()
