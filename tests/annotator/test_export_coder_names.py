"""The gold export's coder_usernames: one map of the project's coders, read once
per export (exporting.filters.coder_names), on both export paths; and the export's
query counts, pinned whatever the number of rows."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from annotator.exporting import pg_copy
from annotator.exporting.columns import read_rows
from annotator.exporting.filters import coder_names, gold_labels
from annotator.exporting.gold import gold_row, gold_rows, gold_values
from annotator.gold import refresh_gold
from annotator.models import GoldLabel
from annotator.services import remove_member
from corpus.db import portable
from tests.annotator import test_export_api as api
from tests.annotator.test_export_api import body, url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
project = api.project
reviewer = api.reviewer


def names_in(rows) -> set[str]:
    return {name for row in rows for name in row["coder_usernames"].values()}


def csv_names(text: str) -> set[str]:
    return names_in(
        {"coder_usernames": json.loads(row["coder_usernames"])}
        for row in csv.DictReader(io.StringIO(text))
    )


def jsonl_names(text: str) -> set[str]:
    return names_in(json.loads(line) for line in text.splitlines())


def test_usernames_come_from_the_map_read_when_the_export_starts(project):
    """The rows are read after a coder's name changed: they show the name the
    export started with, as one map does (a lookup per row would show the new),
    on the portable path and, on PostgreSQL, on COPY's."""
    refresh_gold(project)
    labels = gold_labels(project)
    User.objects.filter(username="c1").update(username="c1-renamed")
    with portable("gold-csv-copy"), portable("gold-jsonl-copy"):
        assert names_in(read_rows(gold_values(labels), gold_row)) == {"c1", "c2"}
    if connection.vendor == "postgresql":
        assert csv_names("".join(pg_copy.gold_copy_csv(labels))) == {"c1", "c2"}
        assert jsonl_names("".join(pg_copy.gold_copy_jsonl(labels))) == {"c1", "c2"}
    # A new export reads the names anew.
    assert "c1-renamed" in names_in(gold_rows(project))


def test_the_map_holds_the_project_people_only(project):
    """Members, and coders whose membership is gone (their codes stay in gold)."""
    refresh_gold(project)
    api.member(project, "rev", "reviewer")
    UserFactory(username="stranger")
    remove_member(project=project, user=User.objects.get(username="c2"))
    names = json.loads(coder_names(project))
    assert sorted(names.values()) == ["c1", "c2", "rev"]
    assert set(names) == {
        str(pk)
        for pk in User.objects.filter(username__in=["c1", "c2", "rev"]).values_list(
            "pk", flat=True
        )
    }
    coded = {
        key
        for codes in GoldLabel.objects.values_list("coder_codes", flat=True)
        for key in codes
    }
    assert coded <= set(names)


def count(client, path, auth) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **auth)
        if response.streaming:
            body(response)
    assert response.status_code == 200
    return len(queries)


# token and user, the project with the role, the gold freshness check (3), the
# coders' names, then the page or the file (on SQLite, the portable file's
# transaction is a savepoint and its release: one more than COPY's statement).
QUERIES = {
    "postgresql": {"page": 7, "file": 8},
    "sqlite": {"page": 7, "file": 9},
}


def test_export_query_counts_are_pinned_whatever_the_rows(client, project, reviewer):
    refresh_gold(project)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=reviewer).key}"}
    want = QUERIES[connection.vendor]
    assert count(client, url("api-gold", project, page_size=1), auth) == want["page"]
    assert count(client, url("api-gold", project, page_size=1000), auth) == want["page"]
    assert count(client, url("api-gold-csv", project), auth) == want["file"]
    assert count(client, url("api-gold-jsonl", project), auth) == want["file"]
