"""The write-behind thread and PostgreSQL settings used by imports."""

import threading

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connection,
    connections,
    transaction,
)

from corpus.bulk import WriteBehind
from corpus.importing import import_documents, read_paths
from corpus.importing import writer as import_writer
from corpus.models import Document, Span
from tests.factories import CorpusFactory

pytestmark = pytest.mark.django_db


def test_write_behind_writes_every_batch_in_order_on_another_thread():
    written, threads = [], set()

    def write(batch):
        threads.add(threading.get_ident())
        written.append(batch)

    with WriteBehind(write, db=connection) as writer:
        for number in range(20):
            writer.put([number])
    assert written == [[number] for number in range(20)]
    assert threads and threading.get_ident() not in threads
    assert not writer.thread.is_alive()


def test_write_behind_failure_is_raised_in_the_caller_and_stops_writing():
    written = []

    def write(batch):
        if batch == 3:
            raise RuntimeError("disk on fire")
        written.append(batch)

    writer = WriteBehind(write, db=connection)
    with pytest.raises(RuntimeError, match="disk on fire"), writer:
        for number in range(50):
            writer.put(number)
    assert written == [0, 1, 2]
    assert not writer.thread.is_alive()


def test_write_behind_stops_when_the_caller_fails():
    written, release = [], threading.Event()

    def write(batch):
        release.wait(5)
        written.append(batch)

    writer = WriteBehind(write, db=connection, depth=2)
    with pytest.raises(ValueError, match="bad record"), writer:
        writer.put(0)
        writer.put(1)
        release.set()
        raise ValueError("bad record")
    # The batch being written when the caller failed may finish; queued ones do not.
    assert written in ([], [0])
    assert not writer.thread.is_alive()


def test_the_orm_on_the_write_behind_thread_uses_the_callers_connection():
    caller, seen = connections[DEFAULT_DB_ALIAS], []
    with WriteBehind(
        lambda batch: seen.append(connections[DEFAULT_DB_ALIAS]), db=caller
    ) as writer:
        writer.put(1)
    assert len(seen) == 1 and seen[0] is caller


def jsonl(tmp_path, count, text="Paragraph {i} of the text.\n\nSecond paragraph {i}."):
    path = tmp_path / "docs.jsonl"
    with path.open("w") as out:
        for i in range(count):
            text_i = text.format(i=i).replace("\n", "\\n")
            out.write(f'{{"title": "T{i}", "text": "{text_i}"}}\n')
    return path


@pytest.mark.postgres
def test_database_failure_on_the_writer_thread_rolls_back_the_import(
    tmp_path, monkeypatch
):
    calls = []
    real = import_writer._insert_documents

    def failing(db, documents):
        calls.append(threading.get_ident())
        if len(calls) == 3:
            with db.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        real(db, documents)

    monkeypatch.setattr(import_writer, "_insert_documents", failing)
    corpus = CorpusFactory()
    with pytest.raises(Exception, match="division by zero"):
        import_documents(
            corpus=corpus, records=read_paths([jsonl(tmp_path, 50)]), batch_size=5
        )
    assert threading.get_ident() not in calls
    assert not Document.objects.filter(corpus=corpus).exists()
    assert not Span.objects.filter(document__corpus=corpus).exists()


@pytest.mark.postgres
def test_import_compresses_with_lz4_and_restores_the_session(tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_toast_compression")
        before = cursor.fetchone()[0]
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"
        )
        has_lz4 = cursor.fetchone()[0]
    long_text = " ".join(f"Sentence {{i}} number {n} is here." for n in range(400))
    corpus = CorpusFactory()
    report = import_documents(
        corpus=corpus, records=read_paths([jsonl(tmp_path, 3, long_text)])
    )
    assert report.documents == 3
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_toast_compression")
        assert cursor.fetchone()[0] == before
        cursor.execute(
            "SELECT DISTINCT pg_column_compression(text) FROM corpus_document "
            "WHERE corpus_id = %s",
            [corpus.pk],
        )
        assert cursor.fetchall() == [("lz4" if has_lz4 else before,)]


@pytest.mark.postgres
def test_foreign_keys_are_deferred_again_after_an_import(tmp_path):
    corpus = CorpusFactory()
    import_documents(corpus=corpus, records=read_paths([jsonl(tmp_path, 4)]))
    assert Span.objects.filter(document__corpus=corpus).count() == 8
    # Deferred, a dangling reference is caught only when the constraints are checked
    # (at COMMIT, or here on demand); left IMMEDIATE it would fail at the INSERT.
    inserted = False
    with (
        pytest.raises(IntegrityError, match="foreign key"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            'INSERT INTO corpus_span (document_id, index, start, "end", text, '
            "excluded, exclusion_reason) VALUES (-1, 0, 0, 1, 'x', false, '')"
        )
        inserted = True
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert inserted
