"""The gold downloads' PostgreSQL fast paths give what their portable twins give.

Each test runs the same public function twice on one PostgreSQL database: as it
is (the fast path) and inside ``portable("<name>")`` (corpus/db.py), over a
project with awkward data and under each filter. The files differ only where
documented: COPY ends CSV rows with \\n and the csv module with \\r\\n, and
json_build_object spaces its JSON differently, so CSV is compared as the rows a
CSV reader gets and JSONL as parsed objects. Two more, found by these tests and
left as they were (the outputs must not change): PostgreSQL writes timestamps
with trailing zeros of the microseconds dropped (.64312, Python .643120), and in
the CSV a whole float as 1 (Python 1.0); so timestamps are compared as datetimes
and CSV floats as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from functools import partial

import pytest

from annotator import exporting
from annotator.codebooks import new_codebook_version
from annotator.exporting import pg_copy
from annotator.gold import adjudicate
from annotator.models import Dimension, GoldLabel
from corpus.db import portable
from corpus.models import Document
from tests.annotator import test_export_api as api
from tests.annotator.test_export_api import (
    expected_gold,
    parse_gold_csv,
    settle_disagreements,
)

pytestmark = pytest.mark.django_db

# The export API tests' project: commas, quotes, line breaks, Cyrillic, CJK and an
# emoji in span texts and titles; a multi-choice dimension; an adjudicated NOTE.
project = api.project
reviewer = api.reviewer

EMPTY_NOTE = 'Nothing to tag — "none", really;\nchecked twice 🙂'
# Cells a spreadsheet would run: both CSV paths must quote them alike.
FORMULA_TITLE = '=HYPERLINK("http://evil.example/","details")'
FORMULA_NOTE = "\t@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def awkward(project, reviewer):
    """The project, settled, with what the plain fixture lacks.

    An empty multi-choice set, a model label with a long posterior and a
    non-round agreement, a title with a line break and an emoji, labels under a
    second codebook version, and updated_at spread over a week.
    """
    settle_disagreements(project, reviewer)
    labels = GoldLabel.objects.filter(project=project).order_by("span_id", "pk")
    # Which spans the coders agreed on follows from the span ids, and those
    # differ from run to run on PostgreSQL (sequences are not rolled back), so
    # nothing here may depend on a label's method after settling.
    tags = labels.filter(dimension__key="tags")
    assert tags.count() >= 2, "the awkward data needs two spans in the sample"
    adjudicate(
        project, tags.last().span_id, "tags", [], reviewer=reviewer, note=EMPTY_NOTE
    )
    model = labels.filter(dimension__key="stance").last()
    GoldLabel.objects.filter(pk=model.pk).update(
        method="model",
        decided_by=None,
        note="",
        posterior=0.8123456789012345,
        agreement=2 / 3,
    )
    Document.objects.filter(pk=labels[0].span.document_id).update(
        title='Talks, "round 2"\r\nand after — 🙂'
    )
    last_document = labels.order_by("-span_id")[0].span.document_id
    Document.objects.filter(pk=last_document).update(title=FORMULA_TITLE)
    GoldLabel.objects.filter(pk=tags.first().pk).update(note=FORMULA_NOTE)
    # Gold kept under v2 of the codebook: one key, two dimension rows.
    v2 = new_codebook_version(project.codebook)
    topic_v2 = Dimension.objects.get(codebook=v2, key="topic")
    moved = labels.filter(dimension__key="topic").order_by("-span_id")[:2]
    GoldLabel.objects.filter(pk__in=[g.pk for g in moved]).update(
        codebook=v2, dimension=topic_v2
    )
    start = labels.order_by("pk")[0].updated_at - timedelta(days=7)
    for i, pk in enumerate(labels.order_by("pk").values_list("pk", flat=True)):
        GoldLabel.objects.filter(pk=pk).update(updated_at=start + timedelta(hours=i))
    return project


def filter_cases(project) -> dict[str, dict[str, str]]:
    labels = GoldLabel.objects.filter(project=project).order_by("updated_at")
    middle = labels[labels.count() // 2].updated_at.isoformat()
    document = labels.order_by("span_id")[0].span.document_id
    return {
        "everything": {},
        "a multi-choice dimension": {"dimension": "tags"},
        "a dimension in two codebook versions": {"dimension": "topic"},
        "adjudicated": {"method": "adjudicated"},
        "model": {"method": "model"},
        "updated since": {"updated_since": middle},
        "document and dimension": {"document": str(document), "dimension": "tags"},
        "nothing": {"updated_since": "2999-01-01T00:00:00Z"},
    }


def both(name: str, make_file) -> tuple[str, str]:
    """make_file() on the fast path `name`, then inside portable(name)."""
    fast = "".join(make_file())
    with portable(name):
        slow = "".join(make_file())
    return fast, slow


MOMENTS = ("decided_at", "updated_at")
FLOATS = ("posterior", "agreement")


# UTC with a T, as `updated_since` takes it back: only the fraction may differ.
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")


def moment(text: str | None) -> datetime | None:
    if not text:
        return None
    assert ISO_UTC.fullmatch(text), text
    return datetime.fromisoformat(text)


def csv_rows(text: str) -> list[list]:
    """The rows a CSV reader gets; timestamps and floats typed (see the docstring)."""
    rows: list[list] = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows[1:]:
        for name in MOMENTS:
            at = exporting.GOLD_COLUMNS.index(name)
            row[at] = moment(row[at])
        for name in FLOATS:
            at = exporting.GOLD_COLUMNS.index(name)
            row[at] = float(row[at]) if row[at] else None
    return rows


def jsonl_rows(text: str) -> list[dict]:
    """The objects of the lines; timestamps as datetimes (see the docstring)."""
    rows = [json.loads(line) for line in text.split("\n")[:-1]]
    for row in rows:
        for name in MOMENTS:
            row[name] = moment(row[name])
    return rows


@pytest.mark.postgres
def test_gold_csv_copy_reads_back_like_the_csv_module(awkward):
    for case, params in filter_cases(awkward).items():
        filters = exporting.parse_gold_filters(awkward, params)
        fast, slow = both(
            "gold-csv-copy", partial(exporting.gold_csv, awkward, filters)
        )
        assert csv_rows(fast) == csv_rows(slow), case
        assert csv_rows(fast)[0] == list(exporting.GOLD_COLUMNS), case
        assert (len(csv_rows(fast)) > 1) == (case != "nothing"), case
        # The documented difference: COPY's rows end in \n, the csv module's in
        # \r\n (cells hold \n and \r\n too, quoted: the reader sees no other).
        header = ",".join(exporting.GOLD_COLUMNS)
        assert fast.startswith(header + "\n") and slow.startswith(header + "\r\n")
        assert fast.endswith("\n") and not fast.endswith("\r\n"), case
        assert slow.endswith("\r\n"), case
    everything = csv_rows("".join(exporting.gold_csv(awkward)))[1:]
    assert len(everything) == GoldLabel.objects.filter(project=awkward).count()
    categories = [r[exporting.GOLD_COLUMNS.index("categories")] for r in everything]
    assert "" in categories and "number|quote" in categories
    titles = {r[exporting.GOLD_COLUMNS.index("document_title")] for r in everything}
    notes = {r[exporting.GOLD_COLUMNS.index("note")] for r in everything}
    assert "'" + FORMULA_TITLE in titles and "'" + FORMULA_NOTE in notes
    raw = csv_rows("".join(exporting.gold_csv(awkward, raw=True)))[1:]
    with portable("gold-csv-copy"):
        assert raw == csv_rows("".join(exporting.gold_csv(awkward, raw=True)))[1:]
    assert FORMULA_TITLE in {
        r[exporting.GOLD_COLUMNS.index("document_title")] for r in raw
    }


@pytest.mark.postgres
def test_gold_jsonl_copy_builds_the_same_objects(awkward):
    for case, params in filter_cases(awkward).items():
        filters = exporting.parse_gold_filters(awkward, params)
        fast, slow = both(
            "gold-jsonl-copy", partial(exporting.gold_jsonl, awkward, filters)
        )
        fast_rows, slow_rows = jsonl_rows(fast), jsonl_rows(slow)
        assert fast_rows == slow_rows, case
        assert [list(r) for r in fast_rows] == [list(r) for r in slow_rows], case
        assert all(list(r) == list(exporting.GOLD_COLUMNS) for r in fast_rows)
    rows = jsonl_rows("".join(exporting.gold_jsonl(awkward)))
    assert [] in [r["categories"] for r in rows]
    assert {r["note"] for r in rows} >= {api.NOTE, EMPTY_NOTE, FORMULA_NOTE}
    assert FORMULA_TITLE in {r["document_title"] for r in rows}
    model = next(r for r in rows if r["method"] == "model")
    assert model["posterior"] == 0.8123456789012345 and model["decided_by"] is None


@pytest.mark.postgres
def test_portable_runs_the_twin_and_only_that_one(awkward, monkeypatch):
    # Equal files prove nothing if both came from COPY: count the COPY statements.
    copies: list[str] = []
    real = pg_copy.copy_text

    def counted(statement, params):
        copies.append(statement)
        return real(statement, params)

    monkeypatch.setattr(pg_copy, "copy_text", counted)

    def copies_for(make_file) -> int:
        before = len(copies)
        "".join(make_file(awkward))
        return len(copies) - before

    gold_csv, gold_jsonl = exporting.gold_csv, exporting.gold_jsonl
    assert (copies_for(gold_csv), copies_for(gold_jsonl)) == (1, 1)
    with portable("gold-csv-copy"):
        assert (copies_for(gold_csv), copies_for(gold_jsonl)) == (0, 1)
    with portable("gold-jsonl-copy"):
        assert (copies_for(gold_csv), copies_for(gold_jsonl)) == (1, 0)
    with portable():
        assert (copies_for(gold_csv), copies_for(gold_jsonl)) == (0, 0)
    # Chosen when called: a file asked for inside portable() stays portable.
    with portable("gold-csv-copy"):
        late = exporting.gold_csv(awkward)
    assert copies_for(lambda _: late) == 0


@pytest.mark.postgres
def test_postgresql_copy_csv_reads_back_like_the_portable_writer(project, reviewer):
    settle_disagreements(project, reviewer)
    copied = "".join(exporting.gold_csv(project))
    with portable("gold-csv-copy"):
        portable_text = "".join(exporting.gold_csv(project))
    read = [
        [parse_gold_csv(r) for r in csv.DictReader(io.StringIO(text, newline=""))]
        for text in (copied, portable_text)
    ]
    assert read[0] == read[1] and len(read[0]) == len(expected_gold(project))
