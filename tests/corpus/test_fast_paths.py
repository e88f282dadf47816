"""Each corpus fast path stores exactly what its portable twin stores, on PostgreSQL."""

from __future__ import annotations

import csv
import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from corpus import bulk
from corpus.bulk import checks_as_you_go, fast_toast_compression, insert_rows
from corpus.db import fast_path, portable
from corpus.importing import SPAN_COLUMNS, import_documents, read_paths
from corpus.importing import writer as import_writer
from corpus.models import Corpus, Document, Span
from corpus.segmenting import paragraphs

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
EXCLUDE = [
    *json.loads((SEEDS / "manifest.json").read_text(encoding="utf-8"))["exclude"],
    r"Excluded: .*",
    r"Реклама «.*»",
]
# Every fast path an import asks for; each test below forces one onto its twin.
IMPORT_FAST_PATHS = {
    "copy-documents",
    "copy-rows",
    "write-behind-thread",
    "immediate-fk-checks",
    "lz4-toast-compression",
}
# Stored fields compared; ids, the owning corpus and timestamps legitimately differ.
DOCUMENT_FIELDS = [
    f.attname
    for f in Document._meta.concrete_fields
    if f.name not in ("id", "corpus", "imported_at")
]
SPAN_FIELDS = [f.attname for f in Span._meta.concrete_fields if f.name != "id"]

CONTROL = "bell \x07 esc \x1b[31m del \x7f vt \x0b ff \x0c nel \x85 ls \u2028 ps \u2029"
# What COPY's text format must escape: its null marker, end-of-data marker, tabs.
COPY_MARKERS = r"backslash \ then \N and \. and \\N, a tab	here, C:\temp\new"
LONG_TEXT = "\n\n".join(
    f"Paragraph {n}: {'Ünïcödé ' * (n % 7)}sentence {n} «quoted» — 😀 {'x' * (n % 97)}."
    for n in range(1500)
)


def awkward_records() -> list[dict[str, Any]]:
    """JSON records no import should find easy; the repeats must come out duplicate."""
    return [
        {
            "title": "Кириллица, Ελληνικά, 中文, עברית",
            "text": "Привет, мир.\n\nΕλληνικά κείμενα.\n\n中文文本。\n\n"
            "e\u0301 combining, ﬁ ligature, Å\n\nעברית מימין לשמאל",
            "language": "ru",
            "published": "2017-07-30T12:00:00Z",
        },
        {
            "text": "Emoji 👩‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 🎉\n\nSecond 😀 paragraph.",
            "metadata": {"emoji": "🎉", "ключ": ["a", 1, 2.5, None, True]},
        },
        {"title": "Controls", "text": f"{CONTROL}\n\nplain paragraph after"},
        {
            "title": "Quotes \"double\" 'single'",
            "text": "She said \"yes\"; he said 'no'.\n\n„ja“ «oui» ‘single’ “double”"
            f"\n\n{COPY_MARKERS}",
            "source": 'Outlet "Q" \\ backslash',
            "url": "https://example.org/path?q=%22x%22&r=1",
            "extra": {"nested": {"deep": [[{"k": '"\\'}]]}, "big": 2**70},
        },
        {"title": "Long", "text": LONG_TEXT, "published": "2022"},
        {
            "title": "Chrome",
            "text": "Excluded: page chrome\n\nReal content.\n\nSubscribe to EIR\n\n"
            "Реклама «скидки»\n\nMore real content.",
        },
        {"text": "Filler one."},
        {"text": "Filler two."},
        {"text": "Filler three."},
        {"text": "Filler four."},
        # Same texts again, several batches later: CRLF and outer spaces differ only.
        {"text": "Emoji 👩‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 🎉\r\n\r\nSecond 😀 paragraph.  "},
        {"title": "Again", "text": f"  {CONTROL}\n\nplain paragraph after"},
        {"text": "Filler one."},
    ]


def csv_rows() -> list[list[str]]:
    return [
        ["title", "text", "source", "published", "note"],
        ["Commas, quotes", 'A "quoted", comma text.\n\nNext, paragraph.', "", "", ""],
        ["Multi-line", "Line one\nline two\n\n\nAfter blanks\tand a tab.", "", "", ""],
        ["Escapes", f"esc \x1b here\n\n{COPY_MARKERS}", "CSV", "2017-07", "n\\te"],
        ["", "Filler two.", "", "", "duplicate of a JSON record"],
    ]  # fmt: skip


@pytest.fixture
def input_files(tmp_path: Path) -> list[Path]:
    jsonl = tmp_path / "awkward.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        for number, record in enumerate(awkward_records()):
            # Every other line escapes everything, emoji as surrogate pairs included.
            out.write(json.dumps(record, ensure_ascii=number % 2 == 1) + "\n")
    table = tmp_path / "awkward.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(csv_rows())
    repeat = tmp_path / "seed-again.txt"
    seed = (SEEDS / "002_2bfd134c1bcc7a81.txt").read_text(encoding="utf-8")
    repeat.write_bytes(seed.replace("\n", "\r\n").encode("utf-8"))
    return [*sorted(SEEDS.glob("*.txt")), jsonl, table, repeat]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[bool]]:
    """Which way each fast path went, to prove a twin really ran."""
    seen: dict[str, set[bool]] = {}

    def spy(name: str, db=None) -> bool:
        answer = fast_path(name, db)
        seen.setdefault(name, set()).add(answer)
        return answer

    monkeypatch.setattr(bulk, "fast_path", spy)
    monkeypatch.setattr(import_writer, "fast_path", spy)
    return seen


def imported(files: list[Path], name: str) -> dict[str, Any]:
    """Import `files` into a new corpus; what the report says and what was stored."""
    corpus = Corpus.objects.create(name=name)
    report = import_documents(
        corpus=corpus,
        records=read_paths(files),
        exclude_patterns=EXCLUDE,
        default_language="en",
        batch_size=4,
    )
    documents = Document.objects.filter(corpus=corpus).order_by("id")
    position = {pk: n for n, pk in enumerate(documents.values_list("id", flat=True))}
    spans = Span.objects.filter(document__corpus=corpus).order_by(
        "document_id", "index"
    )
    return {
        "report": (
            report.documents,
            report.spans,
            report.excluded_spans,
            report.duplicates,
        ),
        "documents": list(documents.values_list(*DOCUMENT_FIELDS)),
        "spans": [
            (position[row[0]], *row[1:]) for row in spans.values_list(*SPAN_FIELDS)
        ],
    }


def assert_same_import(
    files: list[Path],
    answers: dict[str, set[bool]],
    twin: AbstractContextManager[None],
    forced: set[str],
) -> None:
    """The import stores the same inside `twin` (which forces `forced`) as without."""
    answers.clear()
    fast = imported(files, "fast paths")
    assert answers == {name: {True} for name in IMPORT_FAST_PATHS}
    answers.clear()
    with twin:
        portable_run = imported(files, "portable twins")
    assert answers == {name: {name not in forced} for name in IMPORT_FAST_PATHS}, (
        "the twin did not run, or a fast path was not asked"
    )
    assert portable_run["report"] == fast["report"]
    assert portable_run["documents"] == fast["documents"]
    assert portable_run["spans"] == fast["spans"]


def test_the_input_is_as_awkward_as_intended(input_files):
    stored = imported(input_files, "awkward")
    documents, spans, excluded, duplicates = stored["report"]
    assert documents == len(stored["documents"]) == 5 + 13 + 4 + 1 - 5
    assert len(duplicates) == 5
    assert excluded >= 4
    texts = "".join(row[DOCUMENT_FIELDS.index("text")] for row in stored["documents"])
    for needle in ("👩‍👩‍👧‍👦", "\x1b", "\u2028", "\\N", "\\.", "\t", "„ja“", "e\u0301"):
        assert needle in texts
    assert any(
        len(row[DOCUMENT_FIELDS.index("text")]) > 100_000 for row in stored["documents"]
    )
    assert len(stored["spans"]) == spans > 1500
    metadata = [row[DOCUMENT_FIELDS.index("metadata")] for row in stored["documents"]]
    assert {"extra": awkward_records()[3]["extra"]} in metadata


@pytest.mark.postgres
def test_copied_documents_equal_bulk_created_ones(input_files, answers):
    twin = portable("copy-documents")
    assert_same_import(input_files, answers, twin, {"copy-documents"})


@pytest.mark.postgres
def test_copied_spans_equal_bulk_created_ones(input_files, answers):
    twin = portable("copy-rows")
    assert_same_import(input_files, answers, twin, {"copy-rows"})


@pytest.mark.postgres
def test_writing_behind_on_a_thread_equals_writing_in_line(input_files, answers):
    twin = portable("write-behind-thread")
    assert_same_import(input_files, answers, twin, {"write-behind-thread"})


@pytest.mark.postgres
def test_checking_keys_per_statement_equals_checking_at_commit(input_files, answers):
    twin = portable("immediate-fk-checks")
    assert_same_import(input_files, answers, twin, {"immediate-fk-checks"})


@pytest.mark.postgres
def test_lz4_compression_stores_what_the_default_compression_stores(
    input_files, answers
):
    twin = portable("lz4-toast-compression")
    assert_same_import(input_files, answers, twin, {"lz4-toast-compression"})


@pytest.mark.postgres
def test_every_twin_at_once_stores_what_every_fast_path_stores(input_files, answers):
    assert_same_import(input_files, answers, portable(), IMPORT_FAST_PATHS)


@pytest.mark.postgres
def test_insert_rows_copies_what_its_twin_bulk_creates(answers):
    text = f"{CONTROL}\n\n{COPY_MARKERS}\n\n{LONG_TEXT}"
    stored = []
    for name, twin in (("fast", nullcontext()), ("twin", portable("copy-rows"))):
        corpus = Corpus.objects.create(name=name)
        document = Document.objects.create(corpus=corpus, title=name, text=text)
        rows = (
            (document.pk, index, start, end, text[start:end], index % 3 == 0,
             "reason «ß» \"q\" \\N" if index % 3 == 0 else "")
            for index, (start, end) in enumerate(paragraphs(text))
        )  # fmt: skip
        answers.clear()
        with twin:
            insert_rows(Span, SPAN_COLUMNS, rows, batch_size=7)
        assert answers == {"copy-rows": {name == "fast"}}
        spans = Span.objects.filter(document=document).order_by("index")
        stored.append(list(spans.values_list(*SPAN_FIELDS[1:])))
    assert stored[0] == stored[1]
    assert len(stored[0]) == len(paragraphs(text))


def _toast_compression() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_toast_compression")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_toast_compression_twin_changes_nothing():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"
        )
        has_lz4 = cursor.fetchone()[0]
    before = _toast_compression()
    with transaction.atomic():
        with portable("lz4-toast-compression"), fast_toast_compression(connection):
            assert _toast_compression() == before
        with fast_toast_compression(connection):
            assert _toast_compression() == ("lz4" if has_lz4 else before)
    assert _toast_compression() == before


def _insert_dangling_span() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO corpus_span (document_id, index, start, "end", text, '
            "excluded, exclusion_reason) VALUES (-1, 0, 0, 1, 'x', false, '')"
        )


@pytest.mark.postgres
def test_the_key_check_twin_leaves_the_checks_deferred():
    with transaction.atomic():
        with portable("immediate-fk-checks"), checks_as_you_go(Span, connection):
            _insert_dangling_span()  # deferred: not checked yet
        with (
            pytest.raises(IntegrityError, match="foreign key"),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)
    with (
        pytest.raises(IntegrityError, match="foreign key"),
        transaction.atomic(),
        checks_as_you_go(Span, connection),
    ):
        _insert_dangling_span()
