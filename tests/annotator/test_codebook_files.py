"""Codebooks in the browser: the list, a version's page, downloads and uploads."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.urls import reverse

from annotator.codebook_forms import CodebookUploadForm
from annotator.codebooks import codebook_to_data, dump_codebook
from annotator.models import Codebook
from tests.factories import SMALL_CODEBOOK, annotate_once, make_codebook

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_list_shows_families_versions_projects_and_frozen(
    manager_client, django_assert_num_queries
):
    first = make_codebook()
    annotate_once(first)
    second = make_codebook(name="Test codebook, revised")
    assert second.version == 2
    make_codebook(family="other", name="Other")
    # session, user, the Managers group (access), codebooks, projects, and the
    # user's and their groups' permissions (the nav's links)
    with django_assert_num_queries(7):
        page = manager_client.get(reverse("codebook-list")).content.decode()
    assert page.count('class="state frozen"') == 1
    assert page.count('class="state editable"') == 2
    assert first.projects.get().name in page
    newest_first = [f'codebooks/{second.pk}/">v2<', f'codebooks/{first.pk}/">v1<']
    assert page.index(newest_first[0]) < page.index(newest_first[1])
    for _ in range(3):
        make_codebook(family=f"more-{_}", name=f"More {_}")
    with django_assert_num_queries(7):  # the same for more codebooks
        manager_client.get(reverse("codebook-list"))


def test_version_page_shows_dimensions_read_only(manager_client):
    codebook = make_codebook()
    page = manager_client.get(
        reverse("codebook-detail", args=[codebook.pk])
    ).content.decode()
    assert "Stance" in page and "<code>friendly</code>" in page
    assert (
        "unused" in page and "<input" not in page.split("<main>")[1].split("</main>")[0]
    )


def test_download_yaml_and_json_are_export_codebook(manager_client):
    codebook = make_codebook()
    response = manager_client.get(reverse("codebook-yaml", args=[codebook.pk]))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="test-codebook-v1.yaml"'
    )
    assert response.content.decode() == dump_codebook(codebook, "yaml")
    response = manager_client.get(reverse("codebook-json", args=[codebook.pk]))
    assert json.loads(response.content) == codebook_to_data(codebook)


def upload(client, name: str, text: str, **headers):
    file = io.BytesIO(text.encode())
    file.name = name
    return client.post(reverse("codebook-upload"), {"file": file}, **headers)


def test_upload_download_round_trip(manager_client):
    codebook = make_codebook()
    text = manager_client.get(
        reverse("codebook-yaml", args=[codebook.pk])
    ).content.decode()
    response = upload(manager_client, "book.yaml", text)
    assert response.status_code == 303
    assert Codebook.objects.count() == 1
    changed = yaml.safe_load(text)
    changed["dimensions"][0]["label"] = "Subject"
    response = upload(manager_client, "book.json", json.dumps(changed))
    assert response.status_code == 303
    codebook.refresh_from_db()
    assert codebook_to_data(codebook)["dimensions"][0]["label"] == "Subject"
    assert Codebook.objects.count() == 1  # unused: updated in place


def test_upload_refuses_a_file_over_the_limit(manager_client, monkeypatch):
    monkeypatch.setattr(CodebookUploadForm, "MAX_BYTES", 10)
    response = upload(manager_client, "big.yaml", "name: Eleven")
    assert response.status_code == 200
    assert "big.yaml: larger than 1 MB; no codebook is." in response.content.decode()
    assert not Codebook.objects.exists()


def test_upload_names_the_line_of_a_parse_error(manager_client):
    response = upload(
        manager_client, "bad.yaml", "name: x\ndimensions: [\n  - key: a\n"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "bad.yaml: cannot parse" in page and "line 3, column 3" in page


def test_upload_names_the_field_of_an_invalid_codebook(manager_client):
    data = json.loads(json.dumps(SMALL_CODEBOOK))
    data["dimensions"][1]["categories"][0]["value"] = "low"
    response = upload(manager_client, "book.json", json.dumps(data), headers=HTMX)
    page = response.content.decode().replace("&#x27;", "'")
    assert page.lstrip().startswith('<form id="upload-form"')
    assert "book.json: invalid codebook, nothing imported:" in page
    assert (
        "dimension 'stance', category 'hostile': ordinal categories need a "
        "numeric value." in page
    )
    assert not Codebook.objects.exists()


def test_upload_page_full_and_partial(manager_client):
    assert "<html" in manager_client.get(reverse("codebook-upload")).content.decode()
    page = manager_client.get(reverse("codebook-upload"), headers=HTMX).content.decode()
    assert page.lstrip().startswith('<form id="upload-form"')


def test_managers_see_the_link(manager_client, client):
    assert (
        reverse("codebook-list") in manager_client.get(reverse("home")).content.decode()
    )
