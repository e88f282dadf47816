"""Codebooks in the browser: list, version page, editor, preview, upload, download."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from django.urls import reverse

from annotator.codebook_editor import draft_from_data
from annotator.codebooks import codebook_to_data, dump_codebook
from annotator.models import Codebook
from annotator.services import claim_next_span, submit_annotation
from tests.factories import SMALL_CODEBOOK, make_codebook, make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LIVE_PREVIEW = {**HTMX, "HX-Target": "codebook-preview"}  # the preview's own request


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def editor_post(draft: dict, op: str = "save", sample: str = "") -> dict:
    """The fields the editor page posts for a draft (codebook_editor's names)."""
    post = {
        "name": draft["name"],
        "family": draft.get("family", ""),
        "description": draft.get("description", ""),
        "dimensions": len(draft["dimensions"]),
        "op": op,
        "sample": sample,
    }
    for d, dimension in enumerate(draft["dimensions"]):
        post |= {
            f"d{d}-key": dimension["key"],
            f"d{d}-label": dimension.get("label", ""),
            f"d{d}-level": dimension.get("level", "nominal"),
            f"d{d}-instructions": dimension.get("instructions", ""),
            f"d{d}-categories": len(dimension["categories"]),
        }
        if dimension.get("multiple"):
            post[f"d{d}-multiple"] = "1"
        if dimension.get("required", True):
            post[f"d{d}-required"] = "1"
        for c, category in enumerate(dimension["categories"]):
            for field in (
                "key", "label", "definition", "examples", "typical_words",
                "shortcut", "value",
            ):  # fmt: skip
                value = category.get(field, "")
                post[f"d{d}-c{c}-{field}"] = "" if value is None else value
    return post


def two_dimensions() -> dict:
    return {
        "name": "Frames",
        "dimensions": [
            {
                "key": "frame",
                "label": "Frame",
                "instructions": "The main frame.",
                "categories": [
                    {"key": "economy", "label": "Economy", "shortcut": "e",
                     "definition": "Money, jobs.", "examples": "Taxes rise.\nJobs go."},
                    {"key": "security", "label": "Security", "shortcut": "x"},
                ],
            },
            {
                "key": "tone",
                "label": "Tone",
                "level": "ordinal",
                "categories": [
                    {"key": "negative", "label": "Negative", "value": "-1",
                     "shortcut": "1"},
                    {"key": "positive", "label": "Positive", "value": "1",
                     "shortcut": "2"},
                ],
            },
        ],
    }  # fmt: skip


def annotate_once(codebook: Codebook) -> None:
    project = make_project(documents=1, spans_per_document=2, coders=["ann"])
    project.codebook = codebook
    project.save()
    coder = project.memberships.get().user
    assignment = claim_next_span(project=project, coder=coder)
    submit_annotation(
        coder=coder,
        assignment=assignment,
        labels={"topic": "arms", "stance": "neutral"},
    )


def edited(codebook: Codebook, **changes) -> dict:
    draft = draft_from_data(codebook_to_data(codebook))
    draft.update(changes)
    return draft


# --- the editor: create, edit, buttons --------------------------------------------


def test_create_saves_version_one_and_goes_to_its_page(signed_in):
    response = signed_in.post(reverse("codebook-create"), editor_post(two_dimensions()))
    codebook = Codebook.objects.get(family="frames")
    assert response.status_code == 303
    assert response["Location"] == reverse("codebook-detail", args=[codebook.pk])
    data = codebook_to_data(codebook)
    assert [d["key"] for d in data["dimensions"]] == ["frame", "tone"]
    economy = data["dimensions"][0]["categories"][0]
    assert economy["examples"] == ["Taxes rise.", "Jobs go."]
    assert [c["value"] for c in data["dimensions"][1]["categories"]] == [-1.0, 1.0]
    page = signed_in.get(response["Location"]).content.decode()
    assert "Version 1 of Frames saved: a new codebook." in page


def test_create_refuses_a_family_that_exists(signed_in):
    make_codebook()
    draft = {**two_dimensions(), "family": "test-codebook"}
    response = signed_in.post(reverse("codebook-create"), editor_post(draft))
    assert response.status_code == 200
    assert (
        "a codebook &#x27;test-codebook&#x27; exists already"
        in response.content.decode()
    )
    assert Codebook.objects.filter(family="test-codebook").count() == 1


def test_buttons_add_move_and_remove_without_saving(signed_in):
    url = reverse("codebook-create")
    draft = two_dimensions()
    page = signed_in.post(
        url, editor_post(draft, op="down-dimension-0")
    ).content.decode()
    assert page.index('name="d0-key" value="tone"') < page.index('value="frame"')
    page = signed_in.post(
        url, editor_post(draft, op="up-category-0-1")
    ).content.decode()
    assert re.search(r'name="d0-c0-key" value="security"', page)
    page = signed_in.post(url, editor_post(draft, op="add-category-1")).content.decode()
    assert 'name="d1-categories" value="3"' in page
    page = signed_in.post(
        url, editor_post(draft, op="remove-dimension-0")
    ).content.decode()
    assert 'name="dimensions" value="1"' in page and 'value="frame"' not in page
    page = signed_in.post(url, editor_post(draft, op="add-dimension")).content.decode()
    assert 'name="d2-key" value="dimension_3"' in page
    assert not Codebook.objects.exists()


def test_a_button_by_htmx_answers_the_editor_only(signed_in):
    response = signed_in.post(
        reverse("codebook-create"),
        editor_post(two_dimensions(), op="add-dimension"),
        headers=HTMX,
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="codebook-editor"')
    assert "<html" not in page and 'name="d2-key"' in page


def test_editing_an_unused_version_updates_it_in_place(signed_in):
    codebook = make_codebook()
    draft = edited(codebook, name="Renamed")
    draft["dimensions"][0]["categories"].reverse()
    response = signed_in.post(
        reverse("codebook-edit", args=[codebook.pk]), editor_post(draft)
    )
    assert response.status_code == 303
    assert Codebook.objects.filter(family=codebook.family).count() == 1
    codebook.refresh_from_db()
    assert codebook.name == "Renamed"
    keys = [c["key"] for c in codebook_to_data(codebook)["dimensions"][0]["categories"]]
    assert keys == ["other", "trade", "arms"]
    page = signed_in.get(response["Location"]).content.decode()
    assert (
        "Version 1 of Renamed saved, updated in place: no annotation uses it yet."
        in page
    )


def test_editing_a_frozen_version_makes_the_next_and_leaves_it_untouched(signed_in):
    codebook = make_codebook()
    annotate_once(codebook)
    before = dump_codebook(codebook)
    draft = edited(codebook)
    draft["dimensions"][0]["categories"][0]["label"] = "Weapons"
    response = signed_in.post(
        reverse("codebook-edit", args=[codebook.pk]), editor_post(draft), follow=True
    )
    new = Codebook.objects.get(family=codebook.family, version=2)
    assert response.redirect_chain[-1][0] == reverse("codebook-detail", args=[new.pk])
    assert dump_codebook(Codebook.objects.get(pk=codebook.pk)) == before
    assert codebook_to_data(new)["dimensions"][0]["categories"][0]["label"] == "Weapons"
    assert (
        "Version 2 of Test codebook saved; version 1 stays as it was because "
        "1 annotation uses it." in response.content.decode()
    )


def test_the_edit_page_says_what_saving_a_frozen_version_does(signed_in):
    codebook = make_codebook()
    annotate_once(codebook)
    page = signed_in.get(reverse("codebook-edit", args=[codebook.pk])).content.decode()
    assert (
        "makes version 2: version 1 stays as it was because 1 annotation uses it."
        in page
    )


def test_unchanged_content_saves_nothing(signed_in):
    codebook = make_codebook()
    response = signed_in.post(
        reverse("codebook-edit", args=[codebook.pk]),
        editor_post(edited(codebook)),
        follow=True,
    )
    assert (
        "Nothing changed: version 1 of test codebook is as it was."
        in response.content.decode()
    )


# --- validation ----------------------------------------------------------------------


def save_errors(client, draft, url=None) -> str:
    response = client.post(url or reverse("codebook-create"), editor_post(draft))
    assert response.status_code == 200
    page = response.content.decode()
    match = re.search(
        r'<div class="error" role="alert" id="save-errors">(.*?)</div>', page, re.S
    )
    assert match, "no save errors shown"
    return match.group(1).replace("&#x27;", "'")


def test_a_shortcut_clash_is_refused_naming_both_categories(signed_in):
    draft = two_dimensions()
    draft["dimensions"][0]["categories"][1]["shortcut"] = "E"
    errors = save_errors(signed_in, draft)
    assert (
        "dimension 'frame', category 'security': shortcut 'E' is already used by "
        "dimension 'frame', category 'economy'" in errors
    )
    assert not Codebook.objects.exists()


def test_an_error_is_shown_beside_the_dimension_it_names(signed_in):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][1]["shortcut"] = "1"
    page = signed_in.post(reverse("codebook-create"), editor_post(draft))
    page = page.content.decode().replace("&#x27;", "'")
    tone = page.split('id="dimension-1"')[1].split("</fieldset>")[0]
    assert "category 'positive': shortcut '1' is already used by" in tone
    frame = page.split('id="dimension-0"')[1].split("</fieldset>")[0]
    assert "field-error" not in frame


def test_a_shortcut_clash_across_dimensions_is_refused_too(signed_in):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][0]["shortcut"] = "x"
    errors = save_errors(signed_in, draft)
    assert (
        "category 'negative': shortcut 'x' is already used by dimension 'frame', "
        "category 'security'" in errors
    )


def test_the_coding_screens_own_key_is_refused(signed_in):
    draft = two_dimensions()
    draft["dimensions"][0]["categories"][0]["shortcut"] = "?"
    errors = save_errors(signed_in, draft)
    assert (
        "dimension 'frame', category 'economy': shortcut '?' is the coding screen's "
        "own key (opens the codebook panel)" in errors
    )


def test_validation_messages_name_dimension_category_and_field(signed_in):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][1]["value"] = "high"
    draft["dimensions"][0]["categories"][1]["key"] = "bad key!"
    errors = save_errors(signed_in, draft)
    assert (
        "dimension 'tone', category 'positive': value 'high' is not a number." in errors
    )
    # The typing errors come first; once they are fixed import's own checks speak.
    draft["dimensions"][1]["categories"][1]["value"] = "1"
    draft["dimensions"][1]["key"] = "comment"
    errors = save_errors(signed_in, draft)
    assert "dimension 'frame', category 'bad key!': key must be a slug." in errors
    assert "dimension 'comment': 'comment' is reserved by the coding form" in errors
    assert not Codebook.objects.exists()


def test_an_ordinal_dimension_needs_values(signed_in):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][0]["value"] = ""
    errors = save_errors(signed_in, draft)
    assert (
        "dimension 'tone', category 'negative': ordinal categories need a numeric "
        "value." in errors
    )


# --- the preview ---------------------------------------------------------------------


def test_the_editor_page_shows_the_preview_of_the_stored_version(signed_in):
    codebook = make_codebook()
    page = signed_in.get(reverse("codebook-edit", args=[codebook.pk])).content.decode()
    assert 'id="codebook-preview"' in page
    assert '<fieldset class="dimension" data-dimension="stance">' in page
    assert 'data-keys="s"' in page  # the coding screen's own inputs, with their keys
    assert 'id="codebook-panel"' in page


def test_preview_as_a_full_page_without_javascript(signed_in):
    draft = two_dimensions()
    response = signed_in.post(
        reverse("codebook-create"),
        editor_post(draft, op="preview", sample="Jobs and taxes."),
    )
    page = response.content.decode()
    assert "<html" in page and 'id="codebook-form"' in page
    assert "<mark>Jobs and taxes.</mark>" in page
    assert re.search(r"<kbd>e</kbd>Economy", page)
    assert not Codebook.objects.exists()


def test_the_live_preview_by_htmx_answers_the_preview_only(signed_in):
    draft = two_dimensions()
    draft["dimensions"][0]["label"] = "Main frame"
    draft["dimensions"][0]["categories"][0]["shortcut"] = "u"
    response = signed_in.post(
        reverse("codebook-create"),
        editor_post(draft, op="preview"),
        headers=LIVE_PREVIEW,
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="preview-body"')
    assert 'id="codebook-form"' not in page
    assert "Main frame" in page
    # A category took "u": the coding screen's "uncertain" moves to Alt+U.
    assert "<kbd>Alt+U</kbd> uncertain" in page


def test_the_preview_button_by_htmx_answers_the_whole_editor(signed_in):
    """The form's own Preview button targets the editor: it must get the editor
    back (with the preview in it), not the preview alone in the form's place."""
    response = signed_in.post(
        reverse("codebook-create"),
        editor_post(two_dimensions(), op="preview"),
        headers={**HTMX, "HX-Target": "codebook-editor"},
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="codebook-editor"')
    assert 'id="codebook-form"' in page and 'id="codebook-preview"' in page


def test_preview_says_what_saving_would_refuse(signed_in):
    draft = two_dimensions()
    draft["dimensions"][0]["categories"][1]["shortcut"] = "e"
    response = signed_in.post(
        reverse("codebook-create"),
        editor_post(draft, op="preview"),
        headers=LIVE_PREVIEW,
    )
    page = response.content.decode().replace("&#x27;", "'")
    assert "Saving would be refused" in page
    assert "category 'security': shortcut 'e' is already used by" in page


# --- list, version page, downloads, upload ------------------------------------------


def test_list_shows_families_versions_projects_and_frozen(
    signed_in, django_assert_num_queries
):
    first = make_codebook()
    annotate_once(first)
    second = make_codebook(name="Test codebook, revised")
    assert second.version == 2
    make_codebook(family="other", name="Other")
    # session, user, the Managers group (access), codebooks, projects, and the
    # user's and their groups' permissions (the nav's links)
    with django_assert_num_queries(7):
        page = signed_in.get(reverse("codebook-list")).content.decode()
    assert page.count('class="state frozen"') == 1
    assert page.count('class="state editable"') == 2
    assert first.projects.get().name in page
    newest_first = [f'codebooks/{second.pk}/">v2<', f'codebooks/{first.pk}/">v1<']
    assert page.index(newest_first[0]) < page.index(newest_first[1])
    for _ in range(3):
        make_codebook(family=f"more-{_}", name=f"More {_}")
    with django_assert_num_queries(7):  # the same for more codebooks
        signed_in.get(reverse("codebook-list"))


def test_version_page_shows_dimensions_read_only(signed_in):
    codebook = make_codebook()
    page = signed_in.get(
        reverse("codebook-detail", args=[codebook.pk])
    ).content.decode()
    assert "Stance" in page and "<code>friendly</code>" in page
    assert (
        "unused" in page and "<input" not in page.split("<main>")[1].split("</main>")[0]
    )


def test_download_yaml_and_json_are_export_codebook(signed_in):
    codebook = make_codebook()
    response = signed_in.get(reverse("codebook-yaml", args=[codebook.pk]))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="test-codebook-v1.yaml"'
    )
    assert response.content.decode() == dump_codebook(codebook, "yaml")
    response = signed_in.get(reverse("codebook-json", args=[codebook.pk]))
    assert json.loads(response.content) == codebook_to_data(codebook)


def upload(client, name: str, text: str, **headers):
    file = io.BytesIO(text.encode())
    file.name = name
    return client.post(reverse("codebook-upload"), {"file": file}, **headers)


def test_upload_download_round_trip(signed_in):
    codebook = make_codebook()
    text = signed_in.get(reverse("codebook-yaml", args=[codebook.pk])).content.decode()
    response = upload(signed_in, "book.yaml", text)
    assert response.status_code == 303
    assert Codebook.objects.count() == 1
    changed = yaml.safe_load(text)
    changed["dimensions"][0]["label"] = "Subject"
    response = upload(signed_in, "book.json", json.dumps(changed))
    assert response.status_code == 303
    codebook.refresh_from_db()
    assert codebook_to_data(codebook)["dimensions"][0]["label"] == "Subject"
    assert Codebook.objects.count() == 1  # unused: updated in place


def test_upload_names_the_line_of_a_parse_error(signed_in):
    response = upload(signed_in, "bad.yaml", "name: x\ndimensions: [\n  - key: a\n")
    page = response.content.decode()
    assert response.status_code == 200
    assert "bad.yaml: cannot parse" in page and "line 3, column 3" in page


def test_upload_names_the_field_of_an_invalid_codebook(signed_in):
    data = json.loads(json.dumps(SMALL_CODEBOOK))
    data["dimensions"][1]["categories"][0]["value"] = "low"
    response = upload(signed_in, "book.json", json.dumps(data), headers=HTMX)
    page = response.content.decode().replace("&#x27;", "'")
    assert page.lstrip().startswith('<form id="upload-form"')
    assert "book.json: invalid codebook, nothing imported:" in page
    assert (
        "dimension 'stance', category 'hostile': ordinal categories need a "
        "numeric value." in page
    )
    assert not Codebook.objects.exists()


def test_upload_page_full_and_partial(signed_in):
    assert "<html" in signed_in.get(reverse("codebook-upload")).content.decode()
    page = signed_in.get(reverse("codebook-upload"), headers=HTMX).content.decode()
    assert page.lstrip().startswith('<form id="upload-form"')


def test_managers_see_the_link(signed_in, client):
    assert reverse("codebook-list") in signed_in.get(reverse("home")).content.decode()
