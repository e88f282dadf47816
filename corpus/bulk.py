"""Bulk writes shared by imports and project set-up: COPY on PostgreSQL.

Also a write-behind helper: a long import can hand its batches to a background thread
that streams them into the open transaction while the caller parses the next batch,
so Python work and PostgreSQL's work (constraints, indexes, TOAST, WAL) overlap
instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from corpus.db import fast_path

T = TypeVar("T")


def _database(db: BaseDatabaseWrapper | None) -> BaseDatabaseWrapper:
    """The given connection, or this thread's default one."""
    return db if db is not None else connections[DEFAULT_DB_ALIAS]


def copy_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    db: BaseDatabaseWrapper | None = None,
    chunk_rows: int = 20_000,
) -> None:
    """PostgreSQL COPY FROM STDIN: several times faster than INSERT for bulk loads.

    `columns` are field names or attnames (`document_id`); rows are plain tuples.
    Rows are drawn `chunk_rows` at a time *before* each COPY starts, because nothing
    else can run on the connection while a COPY is open: a generator that reads the
    database as it goes (a server-side cursor, say) would otherwise wait on itself
    for ever. `db` is the connection to write on (default: this thread's); a
    write-behind thread passes its caller's, so the rows land in that transaction.
    """
    db = _database(db)
    table = db.ops.quote_name(model._meta.db_table)
    names = ", ".join(
        db.ops.quote_name(model._meta.get_field(column).column) for column in columns
    )
    pending = iter(rows)
    while chunk := list(islice(pending, chunk_rows)):
        with (
            db.cursor() as cursor,
            db.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in chunk:
                copy.write_row(row)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    batch_size: int = 2000,
    *,
    db: BaseDatabaseWrapper | None = None,
) -> None:
    """COPY on PostgreSQL, batched INSERT of model instances elsewhere."""
    db = _database(db)
    if fast_path("copy-rows", db):
        copy_rows(model, columns, rows, db=db)
        return
    model.objects.using(db.alias).bulk_create(
        (model(**dict(zip(columns, row, strict=True))) for row in rows),
        batch_size=batch_size,
    )


def reserve_ids(
    model: type[models.Model], count: int, *, db: BaseDatabaseWrapper | None = None
) -> list[int]:
    """Primary keys taken from the table's sequence, so COPY rows can carry them.

    PostgreSQL only, and no fast path of its own: it serves COPY, so callers reach
    it only inside theirs (SQLite has no sequence to take keys from ahead of time).
    """
    with _database(db).cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def fast_toast_compression(db: BaseDatabaseWrapper | None = None) -> Iterator[None]:
    """Compress large values written inside the block with LZ4 instead of pglz.

    Long document texts are stored compressed (TOAST); pglz compresses about three
    times slower than LZ4, which made it a third of an import's database time. Reading
    is transparent, and the column's own setting, if any, still wins. Where the server
    was built without LZ4 (or is not PostgreSQL) nothing changes. Use inside a
    transaction: the setting is SET LOCAL, put back when the block ends.
    """
    db = _database(db)
    previous = None
    # The portable twin is to do nothing: other databases have no TOAST to tune.
    if fast_path("lz4-toast-compression", db):
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT setting, 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
            found = cursor.fetchone()
            if found and found[1] and found[0] != "lz4":
                previous = found[0]
                cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
    yield
    # Only on success: a rollback to before the block undoes the SET LOCAL by itself.
    if previous is not None:
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('default_toast_compression', %s, true)", [previous]
            )


class WriteBehind(Generic[T]):
    """Runs `write(batch)` for each put() batch, in order, on one background thread.

    The thread shares the caller's connection (and so its transaction). At most
    `depth` batches wait in the queue, so memory stays bounded however long the input.
    A failure on the thread is raised again in the caller at its next put() or at
    close(); an exception in the caller stops the thread before it propagates, so
    the caller's transaction is never rolled back under a running COPY.
    """

    _DONE = object()

    def __init__(
        self, write: Callable[[T], None], *, db: BaseDatabaseWrapper, depth: int = 2
    ) -> None:
        self.write = write
        self.db = db
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="write-behind", daemon=True
        )

    def _run(self) -> None:
        # The ORM on this thread must write into the caller's transaction too: a
        # portable twin (bulk_create) asks connections[alias], which would otherwise
        # open this thread's own connection, outside it.
        connections[self.db.alias] = self.db
        while True:
            batch = self.queue.get()
            if batch is self._DONE:
                return
            if self.error is not None or self.stopping.is_set():
                continue  # drain without writing, so put() never blocks forever
            try:
                self.write(batch)
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                self.error = error

    def _raise_failure(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, batch: T) -> None:
        self._raise_failure()
        self.queue.put(batch)

    def __enter__(self) -> WriteBehind[T]:
        self.db.inc_thread_sharing()
        self.thread.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.stopping.set()
        self.queue.put(self._DONE)
        self.thread.join()
        self.db.dec_thread_sharing()
        if kind is None:
            self._raise_failure()


@contextmanager
def batch_writer(
    write: Callable[[T], None], *, db: BaseDatabaseWrapper | None = None
) -> Iterator[Callable[[T], None]]:
    """A put(batch) function: write-behind on PostgreSQL, plain calls elsewhere.

    SQLite connections cannot be shared between threads, and there the write is
    cheap next to parsing anyway.
    """
    db = _database(db)
    if not fast_path("write-behind-thread", db):
        yield write
        return
    with WriteBehind(write, db=db) as writer:
        yield writer.put


@contextmanager
def checks_as_you_go(
    model: type[models.Model], db: BaseDatabaseWrapper | None = None
) -> Iterator[None]:
    """Check `model`'s foreign keys at the end of each statement inside the block.

    Django makes foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL queues one
    check per inserted row and runs them all at COMMIT: for a million spans, seconds
    of work that nothing overlaps, and a queue held in server memory. Checked per
    statement, the same checks run inside each batch's COPY, while a write-behind
    thread's caller is busy parsing. The constraints return to deferred afterwards.
    """
    db = _database(db)
    names: list[str] = []
    # The portable twin is to do nothing: the checks then all run at COMMIT.
    if fast_path("immediate-fk-checks", db):
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                "AND condeferrable AND conrelid = %s::regclass",
                [model._meta.db_table],
            )
            names = [db.ops.quote_name(row[0]) for row in cursor.fetchall()]
            if names:
                cursor.execute(f"SET CONSTRAINTS {', '.join(names)} IMMEDIATE")
    yield
    if names:
        with db.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {', '.join(names)} DEFERRED")
