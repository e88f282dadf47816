"""Downloads from the project page: the export API's files chosen in a form, without JS.

The form answers 303 to the API's file with the same filters, so what the page
downloads is byte for byte what the API (and export_gold) send. Gold rows name the
coders of coder_codes by username as well as id, in the API, files and the command.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from annotator.gold import refresh_gold
from annotator.models import (
    Annotation,
    GoldLabel,
    Job,
    JobFile,
    JobKind,
    JobState,
    Membership,
)
from tests.annotator import test_export_api as api
from tests.annotator.test_export_api import body
from tests.factories import member

pytestmark = pytest.mark.django_db

project = api.project
reviewer = api.reviewer


def downloads(project, **query) -> str:
    return reverse("project-downloads", args=[project.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


def follow(client, response) -> str:
    """The file a 303 from the downloads page leads to."""
    assert response.status_code == 303, response.content[:300]
    return body(client.get(response["Location"]))


@pytest.mark.parametrize("what", ["gold", "annotations"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_each_file_is_the_apis_file(client, project, reviewer, what, fmt):
    refresh_gold(project)
    client.force_login(reviewer)
    response = client.get(downloads(project, what=what, format=fmt))
    location = urlsplit(response["Location"])
    assert location.path == reverse(f"api-{what}-{fmt}", args=[project.pk])
    direct = body(client.get(location.path))
    assert follow(client, response) == direct and direct
    if fmt == "jsonl":
        assert all(json.loads(line) for line in direct.splitlines())


def test_gold_filters_pass_through_to_the_file(client, project, reviewer):
    refresh_gold(project)
    client.force_login(reviewer)
    response = client.get(
        downloads(project, what="gold", format="jsonl", dimension="topic",
                  method="unanimous", since="2000-01-01+00:00", raw="on")
    )  # fmt: skip
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {
        "dimension": ["topic"],
        "method": ["unanimous"],
        "updated_since": ["2000-01-01T00:00:00+00:00"],
    }  # raw is the CSV's alone
    rows = [json.loads(line) for line in follow(client, response).splitlines()]
    want = GoldLabel.objects.filter(
        project=project, dimension__key="topic", method="unanimous"
    ).count()
    assert len(rows) == want > 0
    assert {(r["dimension"], r["method"]) for r in rows} == {("topic", "unanimous")}


def test_since_filters_gold_and_annotations(client, project, reviewer):
    refresh_gold(project)
    later = timezone.now() + timedelta(days=1)
    Annotation.objects.filter(project=project).update(updated_at=timezone.now())
    newest = Annotation.objects.filter(project=project).order_by("pk").last()
    Annotation.objects.filter(pk=newest.pk).update(updated_at=later)
    client.force_login(reviewer)
    since = (later - timedelta(hours=1)).strftime("%Y-%m-%d+%H:%M")
    text = follow(
        client, client.get(downloads(project, what="annotations", format="csv",
                                     since=since))
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["annotation_id"]) for r in rows] == [newest.pk]
    gold = follow(
        client, client.get(downloads(project, what="gold", format="csv", since=since))
    )
    assert list(csv.DictReader(io.StringIO(gold))) == []


def test_the_annotations_api_files_take_updated_since(client, project, reviewer):
    client.force_login(reviewer)
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+", "%2B")
    for fmt in ("csv", "jsonl"):
        url = reverse(f"api-annotations-{fmt}", args=[project.pk])
        everything = body(client.get(url))
        assert len(everything.splitlines()) > 2
        nothing = body(client.get(f"{url}?updated_since={future}"))
        assert nothing.strip() in ("", everything.splitlines()[0])


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"what": "annotations", "format": "csv", "dimension": "topic"}, "dimension"),
        ({"what": "annotations", "format": "csv", "method": "majority"}, "method"),
        ({"what": "gold", "format": "csv", "dimension": "nope"}, "nope"),
        ({"what": "gold", "format": "xml"}, "xml"),
        ({"what": "gold", "format": "csv", "since": "yesterday"}, "date"),
    ],
)
def test_bad_choices_come_back_named_in_the_form(
    client, project, reviewer, query, named
):
    client.force_login(reviewer)
    response = client.get(downloads(project, **query))
    assert response.status_code == 400
    assert named in response.text and 'class="field invalid"' in response.text


def test_the_project_page_offers_downloads_to_reviewers_only(client, project, reviewer):
    client.force_login(reviewer)
    page = client.get(project.get_absolute_url()).text
    assert 'id="downloads"' in page
    assert reverse("project-downloads", args=[project.pk]) in page
    assert reverse("api-project-agreement", args=[project.pk]) in page
    assert 'name="dimension"' in page and 'value="topic"' in page
    coder = Membership.objects.filter(project=project, role="coder").first().user
    client.force_login(coder)
    assert 'id="downloads"' not in client.get(project.get_absolute_url()).text
    assert client.get(downloads(project)).status_code == 403


def test_the_agreement_report_downloads_as_json(client, project, reviewer):
    client.force_login(reviewer)
    response = client.get(
        reverse("api-project-agreement", args=[project.pk]) + "?documents=0&format=json"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    report = json.loads(response.content)
    assert report["project"]["id"] == project.pk
    assert {d["key"] for d in report["dimensions"]} >= {"topic"}


def test_managers_get_the_newest_archive_linked(client, project):
    manager = member(project, "boss", Membership.Role.MANAGER)
    client.force_login(manager)
    assert "No archive yet" in client.get(project.get_absolute_url()).text
    job = Job.objects.create(
        project=project, kind=JobKind.ARCHIVE, state=JobState.DONE, requested_by=manager
    )
    JobFile.objects.create(job=job, role=JobFile.Role.OUTPUT, name="a.jsonl.gz", size=1)
    page = client.get(project.get_absolute_url()).text
    assert reverse("job-archive-download", args=[job.pk]) in page


def test_gold_names_coders_by_username_in_api_files_and_command(
    client, project, reviewer, tmp_path
):
    refresh_gold(project)
    names = {
        str(m.user_id): m.user.username
        for m in Membership.objects.filter(project=project, role="coder")
    }
    client.force_login(reviewer)
    page = client.get(reverse("api-gold", args=[project.pk])).json()["results"]
    jsonl = [
        json.loads(line)
        for line in body(
            client.get(reverse("api-gold-jsonl", args=[project.pk]))
        ).splitlines()
    ]
    text = body(client.get(reverse("api-gold-csv", args=[project.pk])))
    csv_rows = [
        {**r, "coder_codes": json.loads(r["coder_codes"]),
         "coder_usernames": json.loads(r["coder_usernames"])}
        for r in csv.DictReader(io.StringIO(text))
    ]  # fmt: skip
    out = tmp_path / "gold.jsonl"
    call_command("export_gold", "--project", str(project.pk), "--format", "jsonl",
                 "-o", str(out), "--no-progress")  # fmt: skip
    command = [json.loads(line) for line in out.read_text().splitlines()]
    for rows in (page, jsonl, csv_rows, command):
        assert rows
        for row in rows:
            assert set(row["coder_usernames"]) == set(row["coder_codes"])
            assert row["coder_usernames"] == {k: names[k] for k in row["coder_codes"]}
    assert {"c1", "c2"} <= {n for r in page for n in r["coder_usernames"].values()}
