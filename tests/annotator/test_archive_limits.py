"""restore_project's memory stays bounded whatever a small crafted archive holds."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest
from django.core.management.base import CommandError

from annotator.archive import ArchiveError, restore_project
from corpus.models import Corpus, Document

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
HEADER = b'{"format": "annotator-project-archive", "version": 1}\n'
CORPUS = (
    b'{"t": "corpus.corpus", "id": 1, "f": {"name": "c", "description": "", '
    b'"created_at": "2026-01-01T00:00:00+00:00", "created_by_id": null}}\n'
)


def document(n: int, text_start: bytes = b'"x') -> bytes:
    """A document row's opening, up to (and including) the start of its text."""
    return (
        b'{"t": "corpus.document", "id": %d, "f": {"corpus_id": 1, "title": "t", '
        b'"source": "", "url": "", "published": "", "language": "", '
        b'"metadata": {}, "content_hash": "%064d", '
        b'"imported_at": "2026-01-01T00:00:00+00:00", "text": ' % (n, n)
    ) + text_start


def peak_of_refused(path) -> tuple[str, int]:
    """The restore's refusal and the peak of Python memory it took, in MB."""
    tracemalloc.start()
    try:
        with pytest.raises((ArchiveError, CommandError)) as error:
            restore_project(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not Corpus.objects.exists() and not Document.objects.exists()
    return str(error.value), peak // MB


def crafted(tmp_path, *parts: bytes, repeat: bytes = b"", times: int = 0, tail=b""):
    """HEADER, the parts, then `repeat` written `times` times and `tail`: a file
    of a few hundred KB that decompresses to as much as the test wants."""
    path = tmp_path / "crafted.gz"
    with gzip.open(path, "wb") as z:
        z.write(HEADER)
        for part in parts:
            z.write(part)
        for _ in range(times):
            z.write(repeat)
        z.write(tail)
    assert path.stat().st_size < MB
    return path


def test_a_gzip_bomb_line_is_refused_after_its_first_megabyte(tmp_path):
    path = crafted(
        tmp_path, CORPUS, b'{"t": "corpus.corpus", "id": 2, "f": {"name": "',
        repeat=b"A" * MB, times=256,
    )
    message, peak = peak_of_refused(path)
    assert "line 3: longer than 1,048,576 bytes" in message, message
    assert peak < 16, peak


def test_a_document_line_is_refused_past_the_text_limit(tmp_path):
    path = crafted(tmp_path, CORPUS, document(1), repeat=b"x" * MB, times=200)
    message, peak = peak_of_refused(path)
    assert "line 3: longer than 67,108,864 bytes" in message, message
    assert peak < 100, peak  # the 64 MB read before refusing, not a copy of it


def test_deep_nesting_is_refused_before_parsing(tmp_path):
    deep = b"[" * 200 + b"]" * 200
    path = crafted(tmp_path, CORPUS, document(1, b'"x", "junk": ' + deep + b"}}\n"))
    message, peak = peak_of_refused(path)
    assert "line 3: nested deeper than 32" in message, message
    assert peak < 16, peak


def test_millions_of_tiny_values_are_refused_before_parsing(tmp_path):
    """8 MB of [] in a document line (which may be 64 MB long) would be 2.8
    million lists once parsed: about 250 MB for one line."""
    path = crafted(
        tmp_path, CORPUS, document(1, b'"x", "junk": ['),
        repeat=b"[]," * (MB // 3), times=8, tail=b"[]]}}\n",
    )
    message, peak = peak_of_refused(path)
    assert "line 3: more than 100,000 values" in message, message
    assert peak < 48, peak  # the line and its copy without strings


def test_many_big_rows_are_stored_in_batches_of_bounded_size(tmp_path):
    """30 documents of 4 MB each: a batch of rows is flushed by size (16 MB), not
    held until 2,000 rows have gathered. The archive then ends truncated."""
    rows = [
        document(n, b'"' + (b"%d " % n) * (4 * MB // 3) + b'"}}\n')
        for n in range(1, 31)
    ]
    path = tmp_path / "big-rows.gz"
    with gzip.open(path, "wb", compresslevel=9) as z:
        z.write(HEADER + CORPUS + b"".join(rows))
    message, peak = peak_of_refused(path)
    assert "truncated archive" in message, message
    # A 16 MB batch, its copy the PostgreSQL driver encodes, the row that filled it.
    assert peak < 64, peak


def test_a_row_is_not_parsed_when_it_only_claims_to_be_a_document(tmp_path):
    """The long-line allowance is for document rows: another table's row that
    merely mentions corpus.document is held to 1 MB."""
    fake = b'{"t": "corpus.corpus", "x": "corpus.document", "f": {"name": "'
    path = crafted(tmp_path, CORPUS, fake, repeat=b"A" * MB, times=3, tail=b'"}}\n')
    message, _ = peak_of_refused(path)
    assert "line 3: longer than 1,048,576 bytes" in message, message


def test_row_json_written_by_the_archive_is_within_the_bounds():
    """The writer's own rows fit the pre-scan (ordinary nesting, few values)."""
    row = {"t": "annotator.goldrun", "id": 1, "f": {"coder_accuracy": {
        str(i): 0.9 for i in range(500)}, "methods": ["unanimous", "model"]}}
    from annotator.archive.lines import parse_line

    assert parse_line(json.dumps(row).encode(), "x", 1) == row
