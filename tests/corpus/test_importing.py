import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from corpus.importing import ImportFailed, expand_paths, import_documents, read_paths
from corpus.models import Corpus, Document, Span
from tests.factories import CorpusFactory

pytestmark = pytest.mark.django_db


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def run_import(corpus, *paths, **options):
    return import_documents(
        corpus=corpus, records=read_paths(expand_paths(paths)), **options
    )


def database_state():
    return (Corpus.objects.count(), Document.objects.count(), Span.objects.count())


# --- formats ---------------------------------------------------------------------


def test_txt_title_is_first_non_empty_line(tmp_path):
    path = write(
        tmp_path, "a.txt", "\n\n  Headline here\n\nBody paragraph one.\n\nTwo.\n"
    )
    report = run_import(CorpusFactory(), path)
    document = Document.objects.get()
    assert document.title == "Headline here"
    assert report.documents == 1 and report.spans == 3
    assert [s.text for s in document.spans.all()] == [
        "Headline here",
        "Body paragraph one.",
        "Two.",
    ]


def test_folder_of_txt_files_is_imported_in_name_order(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    write(folder, "b.txt", "Second\n\nText b.")
    write(folder, "a.txt", "First\n\nText a.")
    write(folder, "notes.md", "ignored")
    run_import(CorpusFactory(), folder)
    assert list(Document.objects.in_corpus_order().values_list("title", flat=True)) == [
        "First",
        "Second",
    ]


def test_csv_with_all_columns_and_extra_metadata(tmp_path):
    path = write(
        tmp_path,
        "docs.csv",
        "title,text,source,url,published,language,speaker\n"
        'One,"First para.\n\nSecond para.",TASS,https://tass.com/1,2017-03-30,en,Putin\n'
        "Two,Another text.,,,2022,ru,Lavrov\n",
    )
    report = run_import(CorpusFactory(), path)
    assert report.documents == 2 and report.spans == 3
    one, two = Document.objects.in_corpus_order()
    assert (one.title, one.source, one.url, one.published, one.language) == (
        "One",
        "TASS",
        "https://tass.com/1",
        "2017-03-30",
        "en",
    )
    assert one.metadata == {"speaker": "Putin"}
    assert (two.published, two.language, two.metadata) == (
        "2022",
        "ru",
        {"speaker": "Lavrov"},
    )


def test_csv_without_title_column_takes_first_line(tmp_path):
    path = write(tmp_path, "docs.csv", "text\nHeadline\n")
    run_import(CorpusFactory(), path)
    assert Document.objects.get().title == "Headline"


def test_jsonl_keeps_extra_keys_and_nested_metadata(tmp_path):
    rows = [
        {
            "title": "A",
            "text": "Text A.",
            "published": 2019,
            "tags": ["x"],
            "metadata": {"wave": 2},
        },
        {"text": "Text B.\n\nMore.", "published": "2017-07-30T12:00:00Z"},
    ]
    path = write(
        tmp_path, "docs.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n"
    )
    run_import(CorpusFactory(), path, segmentation="none")
    a, b = Document.objects.in_corpus_order()
    assert a.metadata == {"tags": ["x"], "wave": 2} and a.published == "2019"
    assert b.published == "2017-07-30" and b.title == "Text B."
    assert [s.text for s in b.spans.all()] == ["Text B.\n\nMore."]


def test_sentence_segmentation_on_import(tmp_path):
    path = write(
        tmp_path,
        "a.txt",
        "T\n\nThe U.S. said no. J. P. Biden agreed. A.N.Darchiev spoke.",
    )
    run_import(CorpusFactory(), path, segmentation="sentence")
    assert [s.text for s in Span.objects.all()] == [
        "T",
        "The U.S. said no.",
        "J. P. Biden agreed.",
        "A.N.Darchiev spoke.",
    ]


def test_line_segmentation_gives_one_span_per_line(tmp_path):
    path = write(tmp_path, "a.txt", "one\ntwo\n\nthree\n")
    run_import(CorpusFactory(), path, segmentation="line")
    assert [s.text for s in Span.objects.all()] == ["one", "two", "three"]


def test_exclusion_patterns_mark_page_chrome(tmp_path):
    path = write(tmp_path, "a.txt", "All news\n\nReal content.\n\nSubscribe  to EIR\n")
    report = run_import(
        CorpusFactory(), path, exclude_patterns=["All news", "Subscribe to EIR"]
    )
    assert report.excluded_spans == 2
    assert list(Span.objects.codable().values_list("text", flat=True)) == [
        "Real content."
    ]
    assert "All news" in Span.objects.filter(excluded=True).first().exclusion_reason


def test_utf8_bom_and_crlf_are_normalised(tmp_path):
    path = write(tmp_path, "a.txt", b"\xef\xbb\xbfTitle\r\n\r\nBody.\r\n")
    run_import(CorpusFactory(), path)
    document = Document.objects.get()
    assert document.text == "Title\n\nBody.\n" and document.title == "Title"


def test_seed_corpus_by_paragraph_reads_cleanly(seed_corpus):
    spans = Span.objects.in_corpus(seed_corpus)
    assert spans.count() > 100
    for span in spans.select_related("document"):
        assert span.document.text[span.start : span.end] == span.text
        assert span.text == span.text.strip()
    assert {s.text for s in spans.filter(excluded=True)} >= {
        "All news",
        "Leave A Reply",
    }
    titles = set(
        Document.objects.filter(corpus=seed_corpus).values_list("title", flat=True)
    )
    assert "Putin Hopes for Change in U.S. Policy" in titles
    darchiev = Document.objects.get(corpus=seed_corpus, title__contains="Darchiev")
    assert (
        darchiev.published == "2022"
        and darchiev.metadata["page_date"] == "Monday, May 20"
    )


# --- duplicates ------------------------------------------------------------------


def test_reimport_reports_duplicates_and_adds_nothing(tmp_path):
    corpus = CorpusFactory()
    path = write(tmp_path, "docs.csv", "title,text\nA,Alpha text.\nB,Beta text.\n")
    run_import(corpus, path)
    before = database_state()
    report = run_import(corpus, path)
    assert report.documents == 0 and len(report.duplicates) == 2
    assert "docs.csv, line 2: A" in report.duplicates[0]
    assert database_state() == before


def test_duplicate_within_one_import_is_skipped(tmp_path):
    path = write(tmp_path, "docs.csv", "text\nSame text.\nSame   text.\n")
    report = run_import(CorpusFactory(), path)
    assert report.documents == 1 and len(report.duplicates) == 1


def test_same_text_may_live_in_two_corpora(tmp_path):
    path = write(tmp_path, "a.txt", "Shared text.")
    run_import(CorpusFactory(), path)
    run_import(CorpusFactory(), path)
    assert Document.objects.count() == 2


def test_duplicate_detection_spans_batches(tmp_path):
    rows = "".join(f"Text number {i}.\n" for i in range(30))
    path = write(tmp_path, "docs.csv", "text\n" + rows + "Text number 3.\n")
    report = run_import(CorpusFactory(), path, batch_size=7)
    assert report.documents == 30 and len(report.duplicates) == 1


# --- bad input: a clear message, and nothing stored ------------------------------


def word_document() -> bytes:
    """The bytes of a (minimal) .docx: a ZIP archive with Word's parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>caf\u00e9</w:document>")
    return buffer.getvalue()


BAD_INPUTS = [
    (
        "docs.csv",
        "title,text\nA,Good.\nB,\n",
        "docs.csv, line 3, field 'text': missing or empty",
    ),
    (
        "docs.csv",
        b"title,text\nA,Good.\nB,caf\xe9\n",
        "docs.csv, line 3: not valid UTF-8 (byte 0xe9",
    ),
    (
        "docs.csv",
        "title,text,published\nA,Good.,2017-07-30\nB,Text.,30/07/2017\n",
        "docs.csv, line 3, field 'published': cannot read '30/07/2017' as a date",
    ),
    (
        "docs.csv",
        "title,text,published\nA,Good.,2017-02-30\n",
        "docs.csv, line 2, field 'published': cannot read '2017-02-30'",
    ),
    (
        "docs.csv",
        "title,body\nA,Good.\n",
        "docs.csv, line 1, field 'text': the header has no 'text' column",
    ),
    (
        "docs.csv",
        "title,text\nA,Good.,extra\n",
        "docs.csv, line 2: 3 field(s), but the header has 2",
    ),
    (
        "docs.csv",
        "title,text,text\nA,B,C\n",
        "docs.csv, line 1, field 'text': this column appears twice",
    ),
    (
        "docs.csv",
        "title,text,url\nA,Good.,not a url\n",
        "docs.csv, line 2, field 'url': 'not a url' is not an http(s) URL",
    ),
    ("docs.csv", "", "docs.csv, line 1: the file is empty"),
    (
        "docs.csv",
        'title,text\nA,"Line one\nline two\nB,Text\n',
        "docs.csv, line 2: malformed CSV",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n{"title": 5, "text": "x"}\n',
        "docs.jsonl, line 2, field 'title': expected text, got a number",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n{"text": ["a", "b"]}\n',
        "docs.jsonl, line 2, field 'text': expected text, got a list",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n{"text": "x", "published": {"y": 1}}\n',
        "docs.jsonl, line 2, field 'published': expected a date as text, got dict",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n{"title": "no text"}\n',
        "docs.jsonl, line 2, field 'text': missing or empty",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n{not json}\n',
        "docs.jsonl, line 2: not valid JSON",
    ),
    (
        "docs.jsonl",
        '{"text": "Good."}\n[1, 2]\n',
        "docs.jsonl, line 2: expected a JSON object, got list",
    ),
    (
        "docs.jsonl",
        b'{"text": "Good."}\n{"text": "caf\xc3"}\n',
        "docs.jsonl, line 2: not valid UTF-8",
    ),
    (
        "a.txt",
        b"Title\n\nGood line.\nBad \xff byte.\n",
        "a.txt, line 4: not valid UTF-8 (byte 0xff at column 5)",
    ),
    ("a.txt", "   \n\n  ", "a.txt, line 1, field 'text': missing or empty"),
    ("a.pdf", "%PDF", "a.pdf: unsupported file type '.pdf'"),
    # A Word document renamed .csv (a ZIP archive: its header's NUL bytes are valid
    # UTF-8, so it failed later as "not valid UTF-8", which says nothing useful).
    (
        "report.csv",
        word_document(),
        "report.csv: this looks like a Word/ZIP file, not text; save it as CSV (UTF-8)",
    ),
    (
        "old.txt",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "old.txt: this looks like a Word/ZIP file, not text; save it as plain text",
    ),
    ("notes.jsonl", word_document(), "notes.jsonl: this looks like a Word/ZIP file"),
]


@pytest.mark.parametrize("name,content,message", BAD_INPUTS)
def test_bad_input_names_file_line_and_field_and_stores_nothing(
    tmp_path, name, content, message
):
    corpus = CorpusFactory()
    good = write(tmp_path, "0-good.txt", "An earlier good file.\n\nWith text.")
    bad = write(tmp_path, name, content)
    before = database_state()
    with pytest.raises(ImportFailed) as failure:
        run_import(corpus, good, bad)
    assert message in str(failure.value)
    assert database_state() == before


def test_bad_row_after_many_batches_rolls_back_everything(tmp_path):
    rows = "".join(f"Doc {i},Text {i}.\n" for i in range(50))
    path = write(tmp_path, "docs.csv", "title,text\n" + rows + "Bad,\n")
    corpus = CorpusFactory()
    with pytest.raises(ImportFailed, match="line 52, field 'text'"):
        run_import(corpus, path, batch_size=10)
    assert not corpus.documents.exists() and not Span.objects.exists()


def test_csv_line_numbers_count_physical_lines(tmp_path):
    path = write(tmp_path, "docs.csv", 'title,text\nA,"multi\n\nline"\nB,\n')
    with pytest.raises(ImportFailed, match="docs.csv, line 5, field 'text'"):
        run_import(CorpusFactory(), path)


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(ImportFailed, match="no such file or folder"):
        expand_paths([tmp_path / "nope.csv"])


# --- the command -----------------------------------------------------------------


def test_command_imports_reports_and_is_idempotent(tmp_path, capsys):
    path = write(tmp_path, "docs.jsonl", '{"title": "A", "text": "One.\\n\\nTwo."}\n')
    call_command("import_corpus", str(path), "--corpus", "News", "--no-progress")
    assert (
        "Imported 1 document(s) with 2 span(s) into 'News'" in capsys.readouterr().out
    )
    call_command("import_corpus", str(path), "--corpus", "News", "--no-progress")
    out = capsys.readouterr().out
    assert "Imported 0 document(s)" in out and "1 duplicate(s) skipped" in out
    assert "duplicate: docs.jsonl, line 1: A" in out
    assert Document.objects.count() == 1


def test_command_progress_bar_is_printed(tmp_path, capsys):
    path = write(tmp_path, "docs.csv", "text\n" + "".join(f"T{i}.\n" for i in range(5)))
    call_command("import_corpus", str(path), "--corpus", "News")
    assert "import [" in capsys.readouterr().err


def test_command_failure_leaves_no_new_corpus(tmp_path):
    path = write(tmp_path, "docs.csv", "title,text\nA,\n")
    with pytest.raises(
        CommandError, match="docs.csv, line 2, field 'text'.*Nothing was imported"
    ):
        call_command("import_corpus", str(path), "--corpus", "Fresh", "--no-progress")
    assert not Corpus.objects.filter(name="Fresh").exists()


def test_command_bad_exclusion_pattern(tmp_path):
    path = write(tmp_path, "a.txt", "Text.")
    with pytest.raises(CommandError, match="exclusion pattern"):
        call_command(
            "import_corpus",
            str(path),
            "--corpus",
            "X",
            "--exclude",
            "(",
            "--no-progress",
        )


# --- exclusion patterns that backtrack for ever --------------------------------------

# (a|a)+$ backtracks in 2**n steps on n a's and a b; `re` matched without a limit.
CATASTROPHIC = "(a|a)+$"


def test_a_pattern_that_takes_too_long_refuses_the_import(tmp_path, settings):
    settings.CORPUS_IMPORT_PATTERN_SECONDS = 0.05
    slow = "a" * 40 + "b"
    path = write(tmp_path, "docs.csv", f"title,text\nFine,Short\nSlow,{slow}\n")
    before = database_state()
    with pytest.raises(ImportFailed) as error:
        run_import(CorpusFactory(), path, exclude_patterns=["Subscribe", CATASTROPHIC])
    message = str(error.value)
    assert "docs.csv, line 3" in message
    took = f"pattern '{CATASTROPHIC}' took over 0.05 s on span 1 of document 'Slow'"
    assert took in message
    assert "simplify it" in message
    assert database_state() == (before[0] + 1, *before[1:])  # the factory's corpus only


def test_the_command_refuses_a_slow_pattern_and_imports_nothing(tmp_path, settings):
    settings.CORPUS_IMPORT_PATTERN_SECONDS = 0.05
    path = write(tmp_path, "slow.txt", "Title\n\n" + "a" * 40 + "b")
    with pytest.raises(CommandError, match="took over 0.05 s.*Nothing was imported"):
        call_command(
            "import_corpus", str(path), "--corpus", "Slow", "--exclude", CATASTROPHIC,
            "--segment", "line", "--no-progress",
        )  # fmt: skip
    assert not Corpus.objects.filter(name="Slow").exists()


def test_the_command_checks_patterns_before_reading_any_file(tmp_path):
    """The same engine as the import: its own syntax error, before any path is read."""
    with pytest.raises(CommandError, match="exclusion pattern") as error:
        call_command(
            "import_corpus", str(tmp_path / "missing.txt"), "--corpus", "X",
            "--exclude", "(", "--no-progress",
        )  # fmt: skip
    assert "missing.txt" not in str(error.value)


def test_patterns_use_the_timed_engine_s_syntax(tmp_path):
    """Unicode properties (which `re` lacks) work, so the form accepts them too."""
    path = write(tmp_path, "a.txt", "Title\n\nSHOUTING\n\nquiet words")
    report = run_import(
        CorpusFactory(), path, segmentation="line", exclude_patterns=[r"\p{Lu}+"]
    )
    assert report.excluded_spans == 1
