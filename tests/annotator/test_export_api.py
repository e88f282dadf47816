"""The export API: gold and annotation pages, streamed files, and who may read them.

Files are read back with the csv module and line by line as JSON, and compared
with what the database holds, field by field.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotator.gold import adjudicate, refresh_gold
from annotator.models import Annotation, GoldLabel, Membership
from annotator.services import create_project
from tests.factories import (
    CorpusFactory,
    DocumentFactory,
    UserFactory,
    code_everything,
    make_codebook,
    member,
)

pytestmark = pytest.mark.django_db

# Commas, quotes, a line break inside a span, non-ASCII and an emoji: what breaks
# a hand-made CSV writer or a reader that splits on newlines.
TEXTS = [
    'He said, "no deal" — and left.\n\nЛавров: «мы готовы»; 日本語 🙂.\n\nPlain one.',
    'Line one, "quoted"\nline two, same span.\n\nA \'quoted\', comma, "double" span.',
]
TITLES = ['Talks, "round 2"', "Заявление МИД"]
NOTE = "Settled, after \"long\" talk:\nthe minister's — not TASS's — view. ✓"


@pytest.fixture
def project():
    corpus = CorpusFactory()
    for title, text in zip(TITLES, TEXTS, strict=True):
        DocumentFactory(corpus=corpus, title=title, text=text)
    coders = {UserFactory(username=n): Membership.Role.CODER for n in ("c1", "c2")}
    project = create_project(
        name="Export test",
        corpus=corpus,
        codebook=make_codebook(),
        members=coders,
        coders_per_span=2,
        sample_share=0.5,
    )
    code_everything(project, coders=("c1", "c2"))
    return project


@pytest.fixture
def reviewer(project):
    return member(project, "rev", Membership.Role.REVIEWER)


def settle_disagreements(project, reviewer):
    """A reviewer overrides one span (with NOTE) and settles every open one."""
    from annotator.gold import adjudication_queue

    refresh_gold(project)
    first = GoldLabel.objects.filter(project=project).order_by("span_id")[0].span_id
    adjudicate(project, first, "topic", "trade", reviewer=reviewer, note=NOTE)
    adjudicate(project, first, "tags", ["quote", "number"], reviewer=reviewer)
    choice = {"topic": "trade", "stance": "neutral", "tags": ["number"]}
    for item in adjudication_queue(project):
        for key, categories in choice.items():
            if not GoldLabel.objects.filter(
                project=project, span_id=item.span_id, dimension__key=key
            ).exists():
                adjudicate(project, item.span_id, key, categories, reviewer=reviewer)


def url(name, project, **query):
    path = reverse(name, args=[project.pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def expected_gold(project) -> dict[tuple[int, str], dict]:
    """Every gold label as the export should show it, straight from the ORM."""
    out = {}
    for g in GoldLabel.objects.filter(project=project).select_related(
        "span__document", "dimension", "category", "decided_by", "codebook"
    ):
        keys = (
            [g.category.key]
            if g.category_id
            else sorted(c.category.key for c in g.categories.select_related("category"))
        )
        out[(g.span_id, g.dimension.key)] = {
            "span_id": g.span_id,
            "document_id": g.span.document_id,
            "document_title": g.span.document.title,
            "start": g.span.start,
            "end": g.span.end,
            "text": g.span.text,
            "dimension": g.dimension.key,
            "categories": keys,
            "method": g.method,
            "decided_by": g.decided_by.username if g.decided_by else None,
            "decided_at": g.decided_at,
            "posterior": g.posterior,
            "codebook_version": g.codebook.version,
            "n_ratings": g.n_ratings,
            "coder_codes": g.coder_codes,
            "coder_usernames": {
                coder: User.objects.get(pk=int(coder)).username
                for coder in g.coder_codes
            },
            "agreement": g.agreement,
            "note": g.note,
            "updated_at": g.updated_at,
        }
    return out


def parse_gold(row: dict) -> dict:
    """A JSON row's values typed like expected_gold()'s."""
    return {
        **row,
        "decided_at": datetime.fromisoformat(row["decided_at"]),
        "updated_at": datetime.fromisoformat(row["updated_at"]),
    }


def parse_gold_csv(row: dict) -> dict:
    def number(cell, kind):
        return kind(cell) if cell != "" else None

    return parse_gold(
        {
            **row,
            "span_id": int(row["span_id"]),
            "document_id": int(row["document_id"]),
            "start": int(row["start"]),
            "end": int(row["end"]),
            "categories": row["categories"].split("|") if row["categories"] else [],
            "decided_by": row["decided_by"] or None,
            "posterior": number(row["posterior"], float),
            "codebook_version": int(row["codebook_version"]),
            "n_ratings": int(row["n_ratings"]),
            "coder_codes": json.loads(row["coder_codes"]),
            "coder_usernames": json.loads(row["coder_usernames"]),
            "agreement": number(row["agreement"], float),
        }
    )


# --- round trips ---------------------------------------------------------------------


def test_gold_csv_round_trips_with_awkward_text_and_multi_choice(
    client, project, reviewer
):
    settle_disagreements(project, reviewer)
    client.force_login(reviewer)
    response = client.get(url("api-gold-csv", project))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="project-{project.pk}-gold.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(body(response), newline="")))
    want = expected_gold(project)
    got = {(int(r["span_id"]), r["dimension"]): parse_gold_csv(r) for r in rows}
    assert len(rows) == len(want) == len(got)
    assert got == want
    methods = {r["method"] for r in got.values()}
    assert {"unanimous", "single", "adjudicated"} <= methods
    tags = [r for r in got.values() if r["dimension"] == "tags"]
    assert any(len(r["categories"]) == 2 for r in tags)  # a multi-choice code
    assert any(r["note"] == NOTE for r in got.values())
    assert any("\n" in r["text"] and '"' in r["text"] for r in got.values())
    assert any("🙂" in r["text"] for r in got.values())
    # Reading order: span by span.
    spans = [int(r["span_id"]) for r in rows]
    assert spans == sorted(spans)


def test_gold_jsonl_round_trips_line_by_line(client, project, reviewer):
    settle_disagreements(project, reviewer)
    client.force_login(reviewer)
    response = client.get(url("api-gold-jsonl", project))
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"].endswith('gold.jsonl"')
    lines = body(response).split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    rows = [parse_gold(json.loads(line)) for line in lines[:-1]]
    want = expected_gold(project)
    assert {(r["span_id"], r["dimension"]): r for r in rows} == want
    assert len(rows) == len(want)


def expected_annotations(project) -> dict[int, dict]:
    out = {}
    for a in Annotation.objects.filter(project=project).select_related(
        "assignment__span__document", "assignment__coder", "codebook"
    ):
        span = a.assignment.span
        out[a.pk] = {
            "annotation_id": a.pk,
            "span_id": span.pk,
            "document_id": span.document_id,
            "document_title": span.document.title,
            "start": span.start,
            "end": span.end,
            "text": span.text,
            "coder_id": a.assignment.coder_id,
            "coder": a.assignment.coder.username,
            "labels": a.label_keys(),
            "uncertain": a.uncertain,
            "comment": a.comment,
            "seconds": a.seconds,
            "codebook_version": a.codebook.version,
            "source": a.source,
            "created_at": a.created_at,
            "updated_at": a.updated_at,
        }
    return out


def test_annotations_jsonl_and_csv_round_trip(client, project, reviewer):
    Annotation.objects.filter(project=project).update(
        comment='Unsure, "really":\nsee ¶2 🙂', uncertain=True
    )
    want = expected_annotations(project)
    client.force_login(reviewer)

    response = client.get(url("api-annotations-jsonl", project))
    assert response["Content-Disposition"].endswith('annotations.jsonl"')
    rows = [json.loads(line) for line in body(response).splitlines()]
    for row in rows:
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        row["updated_at"] = datetime.fromisoformat(row["updated_at"])
    assert {r["annotation_id"]: r for r in rows} == want and len(rows) == len(want)

    response = client.get(url("api-annotations-csv", project))
    reader = csv.DictReader(io.StringIO(body(response), newline=""))
    assert reader.fieldnames[-3:] == ["label_topic", "label_stance", "label_tags"]
    got = {}
    for r in reader:
        labels = {
            key[len("label_") :]: value.split("|")
            for key, value in r.items()
            if key.startswith("label_") and value
        }
        got[int(r["annotation_id"])] = {
            "annotation_id": int(r["annotation_id"]),
            "span_id": int(r["span_id"]),
            "document_id": int(r["document_id"]),
            "document_title": r["document_title"],
            "start": int(r["start"]),
            "end": int(r["end"]),
            "text": r["text"],
            "coder_id": int(r["coder_id"]),
            "coder": r["coder"],
            "labels": labels,
            "uncertain": r["uncertain"] == "True",
            "comment": r["comment"],
            "seconds": float(r["seconds"]) if r["seconds"] else None,
            "codebook_version": int(r["codebook_version"]),
            "source": r["source"],
            "created_at": datetime.fromisoformat(r["created_at"]),
            "updated_at": datetime.fromisoformat(r["updated_at"]),
        }
    assert got == want


# --- pages ---------------------------------------------------------------------------


def all_pages(client, first_url, **headers):
    rows, link, pages = [], first_url, 0
    while link:
        assert pages < 100, f"endless pages: {link}"
        response = client.get(link, **headers)
        assert response.status_code == 200, response.content
        data = response.json()
        rows += data["results"]
        link = data["next"]
        pages += 1
    return rows, pages


def test_gold_pages_cover_every_label_once_in_keyset_order(client, project, reviewer):
    settle_disagreements(project, reviewer)
    client.force_login(reviewer)
    rows, pages = all_pages(client, url("api-gold", project, page_size=3))
    want = expected_gold(project)
    assert pages == -(-len(want) // 3)
    got = [parse_gold(r) for r in rows]
    assert {(r["span_id"], r["dimension"]): r for r in got} == want
    assert len(got) == len(want)
    moments = [r["updated_at"] for r in got]
    assert moments == sorted(moments)
    # Same fields as the files, and as the schema's serializer says.
    from annotator.exporting import GOLD_COLUMNS
    from annotator.serializers import GoldRowSerializer

    assert list(rows[0]) == list(GOLD_COLUMNS) == list(GoldRowSerializer().fields)


def test_many_labels_with_one_updated_at_still_page_exactly(client, project, reviewer):
    refresh_gold(project)
    moment = timezone.now()
    GoldLabel.objects.filter(project=project).update(updated_at=moment)
    client.force_login(reviewer)
    rows, _ = all_pages(client, url("api-gold", project, page_size=2))
    assert sorted((r["span_id"], r["dimension"]) for r in rows) == sorted(
        expected_gold(project)
    )


def test_updated_since_returns_what_changed_for_an_incremental_sync(
    client, project, reviewer
):
    refresh_gold(project)
    client.force_login(reviewer)
    first, _ = all_pages(client, url("api-gold", project, page_size=1000))
    last_seen = max(datetime.fromisoformat(r["updated_at"]) for r in first)
    settle_disagreements(project, reviewer)
    since = (last_seen + timedelta(microseconds=1)).isoformat().replace("+", "%2B")
    changed, _ = all_pages(client, url("api-gold", project, updated_since=since))
    adjudicated = GoldLabel.objects.filter(project=project, method="adjudicated")
    assert {(r["span_id"], r["dimension"]) for r in changed} == {
        (g.span_id, g.dimension.key) for g in adjudicated.select_related("dimension")
    }
    # Inclusive at the boundary, and 'Z' is accepted for UTC.
    boundary = last_seen.astimezone().strftime("%Y-%m-%dT%H:%M:%S.%f")
    response = client.get(
        url("api-gold", project, updated_since=boundary + "Z", page_size=1000)
    )
    assert len(response.json()["results"]) >= len(changed)


def test_gold_filters(client, project, reviewer):
    settle_disagreements(project, reviewer)
    client.force_login(reviewer)
    want = expected_gold(project)
    rows = client.get(url("api-gold", project, dimension="tags")).json()["results"]
    assert {r["dimension"] for r in rows} == {"tags"}
    assert len(rows) == sum(1 for k in want if k[1] == "tags")
    rows = client.get(url("api-gold", project, method="adjudicated")).json()["results"]
    assert rows and {r["method"] for r in rows} == {"adjudicated"}
    assert {r["decided_by"] for r in rows} == {"rev"}
    document = next(iter(want.values()))["document_id"]
    rows = client.get(url("api-gold", project, document=document)).json()["results"]
    assert rows and {r["document_id"] for r in rows} == {document}
    # The files take the same filters.
    response = client.get(url("api-gold-jsonl", project, dimension="topic"))
    assert {json.loads(x)["dimension"] for x in body(response).splitlines()} == {
        "topic"
    }


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"dimension": "colour"}, "dimension: 'colour' is not in the codebook"),
        ({"method": "vote"}, "method: 'vote' is not one of unanimous"),
        ({"document": "abc"}, "document: expected a document id"),
        # Unicode digits pass str.isdigit() but not int(): named, not a 500.
        ({"document": "\u00b2"}, "document: expected a document id"),
        ({"document": "\u0665"}, "document: expected a document id"),
        ({"document": "99999999999999999999"}, "document: expected a document id"),
        ({"updated_since": "yesterday"}, "updated_since: expected an ISO 8601"),
        ({"page_size": "1001"}, "page_size must be a whole number from 1 to 1000"),
        ({"page_size": "0"}, "page_size must be a whole number from 1 to 1000"),
        ({"page_size": "\u00b2"}, "page_size must be a whole number from 1 to 1000"),
        ({"cursor": "bogus"}, "cursor: not one this API made"),
    ],
)
def test_bad_parameters_are_named(client, project, reviewer, query, named):
    client.force_login(reviewer)
    response = client.get(url("api-gold", project, **query))
    assert response.status_code == 400
    assert named in response.json()["detail"]


def test_bad_filters_on_a_download_are_400_before_streaming(client, project, reviewer):
    client.force_login(reviewer)
    response = client.get(url("api-gold-csv", project, method="vote"))
    assert response.status_code == 400 and not response.streaming
    assert "method" in response.json()["detail"]


def test_page_size_up_to_1000(client, project, reviewer):
    refresh_gold(project)
    client.force_login(reviewer)
    data = client.get(url("api-gold", project, page_size=1000)).json()
    assert len(data["results"]) == len(expected_gold(project))
    assert data["next"] is None


def test_annotation_pages(client, project, reviewer):
    client.force_login(reviewer)
    rows, _ = all_pages(client, url("api-annotations", project, page_size=4))
    want = expected_annotations(project)
    assert len(rows) == len(want)
    for row in rows:
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        row["updated_at"] = datetime.fromisoformat(row["updated_at"])
    assert {r["annotation_id"]: r for r in rows} == want
    from annotator.serializers import AnnotationRowSerializer

    assert set(rows[0]) == set(AnnotationRowSerializer().fields)


def test_pages_cost_a_fixed_number_of_queries(
    client, project, reviewer, django_assert_max_num_queries
):
    refresh_gold(project)
    token = Token.objects.create(user=reviewer)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    # token+user, project with role, the freshness check (3), the page
    with django_assert_max_num_queries(7):
        client.get(url("api-gold", project, page_size=2), **auth)
    with django_assert_max_num_queries(7):
        client.get(url("api-gold", project, page_size=1000), **auth)
    with django_assert_max_num_queries(4):
        client.get(url("api-annotations", project, page_size=1000), **auth)


# --- who may read what ---------------------------------------------------------------

ENDPOINTS = [
    "api-gold",
    "api-gold-csv",
    "api-gold-jsonl",
    "api-annotations",
    "api-annotations-csv",
    "api-annotations-jsonl",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("coder", 403),
        ("other project's manager", 404),
        ("reviewer", 200),
        ("manager", 200),
        ("staff", 200),
    ],
)
def test_permission_matrix(client, project, endpoint, who, status):
    if who == "coder":
        client.force_login(User.objects.get(username="c1"))
    elif who == "other project's manager":
        other = create_project(
            name="Other", corpus=project.corpus, codebook=project.codebook
        )
        client.force_login(member(other, "outsider", Membership.Role.MANAGER))
    elif who in ("reviewer", "manager"):
        client.force_login(member(project, who, who))
    elif who == "staff":
        client.force_login(UserFactory(username="staff", is_staff=True))
    response = client.get(url(endpoint, project))
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Token")
    if status != 200:
        assert "detail" in response.json()  # errors in JSON, never a partial file


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_token_authentication_and_any_accept_header(client, project, endpoint):
    manager = member(project, "boss", Membership.Role.MANAGER)
    token = Token.objects.create(user=manager)
    response = client.get(
        url(endpoint, project),
        HTTP_AUTHORIZATION=f"Token {token.key}",
        HTTP_ACCEPT="text/csv",
    )
    assert response.status_code == 200


def test_a_missing_project_is_404_for_everyone(client, reviewer):
    client.force_login(reviewer)
    missing = reverse("api-gold", args=[10**9])
    assert client.get(missing).status_code == 404


def test_downloads_stream_the_header_first(client, project, reviewer):
    refresh_gold(project)
    client.force_login(reviewer)
    response = client.get(url("api-gold-csv", project))
    chunks = iter(response.streaming_content)
    assert next(chunks).decode().startswith("span_id,document_id,document_title,")
    rest = b"".join(chunks).decode()
    assert rest.count("\n") >= len(expected_gold(project))


def test_settle_helper_uses_real_adjudication(project, reviewer):
    settle_disagreements(project, reviewer)
    label = GoldLabel.objects.get(project=project, note=NOTE)
    assert label.method == "adjudicated" and label.decided_by == reviewer
