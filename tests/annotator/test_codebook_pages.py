"""Codebooks in the browser: the editor, its checks and its live preview."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.codebook_editor import draft_from_data
from annotator.codebooks import codebook_to_data, dump_codebook
from annotator.models import Codebook
from tests.factories import annotate_once, make_codebook

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LIVE_PREVIEW = {**HTMX, "HX-Target": "codebook-preview"}  # the preview's own request


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


def edited(codebook: Codebook, **changes) -> dict:
    draft = draft_from_data(codebook_to_data(codebook))
    draft.update(changes)
    return draft


# --- the editor: create, edit, buttons --------------------------------------------


def test_create_saves_version_one_and_goes_to_its_page(manager_client):
    response = manager_client.post(
        reverse("codebook-create"), editor_post(two_dimensions())
    )
    codebook = Codebook.objects.get(family="frames")
    assert response.status_code == 303
    assert response["Location"] == reverse("codebook-detail", args=[codebook.pk])
    data = codebook_to_data(codebook)
    assert [d["key"] for d in data["dimensions"]] == ["frame", "tone"]
    economy = data["dimensions"][0]["categories"][0]
    assert economy["examples"] == ["Taxes rise.", "Jobs go."]
    assert [c["value"] for c in data["dimensions"][1]["categories"]] == [-1.0, 1.0]
    page = manager_client.get(response["Location"]).content.decode()
    assert "Version 1 of Frames saved: a new codebook." in page


def test_create_refuses_a_family_that_exists(manager_client):
    make_codebook()
    draft = {**two_dimensions(), "family": "test-codebook"}
    response = manager_client.post(reverse("codebook-create"), editor_post(draft))
    assert response.status_code == 200
    assert (
        "a codebook &#x27;test-codebook&#x27; exists already"
        in response.content.decode()
    )
    assert Codebook.objects.filter(family="test-codebook").count() == 1


def test_buttons_add_move_and_remove_without_saving(manager_client):
    url = reverse("codebook-create")
    draft = two_dimensions()
    page = manager_client.post(
        url, editor_post(draft, op="down-dimension-0")
    ).content.decode()
    assert page.index('name="d0-key" value="tone"') < page.index('value="frame"')
    page = manager_client.post(
        url, editor_post(draft, op="up-category-0-1")
    ).content.decode()
    assert re.search(r'name="d0-c0-key" value="security"', page)
    page = manager_client.post(
        url, editor_post(draft, op="add-category-1")
    ).content.decode()
    assert 'name="d1-categories" value="3"' in page
    page = manager_client.post(
        url, editor_post(draft, op="remove-dimension-0")
    ).content.decode()
    assert 'name="dimensions" value="1"' in page and 'value="frame"' not in page
    page = manager_client.post(
        url, editor_post(draft, op="add-dimension")
    ).content.decode()
    assert 'name="d2-key" value="dimension_3"' in page
    assert not Codebook.objects.exists()


def test_a_button_by_htmx_answers_the_editor_only(manager_client):
    response = manager_client.post(
        reverse("codebook-create"),
        editor_post(two_dimensions(), op="add-dimension"),
        headers=HTMX,
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="codebook-editor"')
    assert "<html" not in page and 'name="d2-key"' in page


def test_editing_an_unused_version_updates_it_in_place(manager_client):
    codebook = make_codebook()
    draft = edited(codebook, name="Renamed")
    draft["dimensions"][0]["categories"].reverse()
    response = manager_client.post(
        reverse("codebook-edit", args=[codebook.pk]), editor_post(draft)
    )
    assert response.status_code == 303
    assert Codebook.objects.filter(family=codebook.family).count() == 1
    codebook.refresh_from_db()
    assert codebook.name == "Renamed"
    keys = [c["key"] for c in codebook_to_data(codebook)["dimensions"][0]["categories"]]
    assert keys == ["other", "trade", "arms"]
    page = manager_client.get(response["Location"]).content.decode()
    assert (
        "Version 1 of Renamed saved, updated in place: no annotation uses it yet."
        in page
    )


def test_editing_a_frozen_version_makes_the_next_and_leaves_it_untouched(
    manager_client,
):
    codebook = make_codebook()
    annotate_once(codebook)
    before = dump_codebook(codebook)
    draft = edited(codebook)
    draft["dimensions"][0]["categories"][0]["label"] = "Weapons"
    response = manager_client.post(
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


def test_a_saved_version_says_what_changed_and_offers_the_move(manager_client, manager):
    # Saving lands on the new version's page: what changed since the version
    # before, and a move link for the manager's projects on the older version.
    codebook = make_codebook()
    annotate_once(codebook)
    project = codebook.projects.get()
    project.memberships.create(user=manager, role="manager")
    draft = edited(codebook)
    draft["dimensions"][0]["categories"][0]["definition"] = "Something else now."
    page = manager_client.post(
        reverse("codebook-edit", args=[codebook.pk]), editor_post(draft), follow=True
    ).content.decode()
    new = Codebook.objects.get(family=codebook.family, version=2)
    assert "What changed" in page and "redefined" in page
    assert reverse("codebook-changes", args=[codebook.family, 1, 2]) in page
    assert reverse("project-codebook", args=[project.pk]) in page
    first = manager_client.get(reverse("codebook-detail", args=[codebook.pk]))
    assert "What changed" not in first.content.decode()  # version 1: none before
    assert new.version == 2


def test_the_edit_page_says_what_saving_a_frozen_version_does(manager_client):
    codebook = make_codebook()
    annotate_once(codebook)
    page = manager_client.get(
        reverse("codebook-edit", args=[codebook.pk])
    ).content.decode()
    assert (
        "makes version 2: version 1 stays as it was because 1 annotation uses it."
        in page
    )


def test_unchanged_content_saves_nothing(manager_client):
    codebook = make_codebook()
    response = manager_client.post(
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


@pytest.mark.parametrize(
    "dimension, category, field, value, message",
    [
        (0, 1, "shortcut", "E",
         "dimension 'frame', category 'security': shortcut 'E' is already used by "
         "dimension 'frame', category 'economy'"),
        # Across dimensions too.
        (1, 0, "shortcut", "x",
         "category 'negative': shortcut 'x' is already used by dimension 'frame', "
         "category 'security'"),
        (0, 0, "shortcut", "?",
         "dimension 'frame', category 'economy': shortcut '?' is the coding screen's "
         "own key (opens the codebook panel)"),
        (1, 0, "value", "",
         "dimension 'tone', category 'negative': ordinal categories need a numeric "
         "value."),
    ],
    ids=["shortcut-clash", "clash-across-dimensions", "screen-key", "ordinal-value"],
)  # fmt: skip
def test_a_bad_category_is_refused_naming_where(
    manager_client, dimension, category, field, value, message
):
    draft = two_dimensions()
    draft["dimensions"][dimension]["categories"][category][field] = value
    errors = save_errors(manager_client, draft)
    assert message in errors
    assert not Codebook.objects.exists()


def test_an_error_is_shown_beside_the_dimension_it_names(manager_client):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][1]["shortcut"] = "1"
    page = manager_client.post(reverse("codebook-create"), editor_post(draft))
    page = page.content.decode().replace("&#x27;", "'")
    tone = page.split('id="dimension-1"')[1].split("</fieldset>")[0]
    assert "category 'positive': shortcut '1' is already used by" in tone
    frame = page.split('id="dimension-0"')[1].split("</fieldset>")[0]
    assert "field-error" not in frame


def test_validation_messages_name_dimension_category_and_field(manager_client):
    draft = two_dimensions()
    draft["dimensions"][1]["categories"][1]["value"] = "high"
    draft["dimensions"][0]["categories"][1]["key"] = "bad key!"
    errors = save_errors(manager_client, draft)
    assert (
        "dimension 'tone', category 'positive': value 'high' is not a number." in errors
    )
    # The typing errors come first; once they are fixed import's own checks speak.
    draft["dimensions"][1]["categories"][1]["value"] = "1"
    draft["dimensions"][1]["key"] = "comment"
    errors = save_errors(manager_client, draft)
    assert "dimension 'frame', category 'bad key!': key must be a slug." in errors
    assert "dimension 'comment': 'comment' is reserved by the coding form" in errors
    assert not Codebook.objects.exists()


# --- the preview ---------------------------------------------------------------------


def test_the_editor_page_shows_the_preview_of_the_stored_version(manager_client):
    codebook = make_codebook()
    page = manager_client.get(
        reverse("codebook-edit", args=[codebook.pk])
    ).content.decode()
    assert 'id="codebook-preview"' in page
    assert '<fieldset class="dimension" data-dimension="stance">' in page
    assert 'data-keys="s"' in page  # the coding screen's own inputs, with their keys
    assert 'id="codebook-panel"' in page


def test_preview_as_a_full_page_without_javascript(manager_client):
    draft = two_dimensions()
    response = manager_client.post(
        reverse("codebook-create"),
        editor_post(draft, op="preview", sample="Jobs and taxes."),
    )
    page = response.content.decode()
    assert "<html" in page and 'id="codebook-form"' in page
    assert "<mark>Jobs and taxes.</mark>" in page
    assert re.search(r"<kbd>e</kbd>Economy", page)
    assert not Codebook.objects.exists()


def test_the_live_preview_by_htmx_answers_the_preview_only(manager_client):
    draft = two_dimensions()
    draft["dimensions"][0]["label"] = "Main frame"
    draft["dimensions"][0]["categories"][0]["shortcut"] = "u"
    response = manager_client.post(
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


def test_the_preview_button_by_htmx_answers_the_whole_editor(manager_client):
    """The form's own Preview button targets the editor: it must get the editor
    back (with the preview in it), not the preview alone in the form's place."""
    response = manager_client.post(
        reverse("codebook-create"),
        editor_post(two_dimensions(), op="preview"),
        headers={**HTMX, "HX-Target": "codebook-editor"},
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="codebook-editor"')
    assert 'id="codebook-form"' in page and 'id="codebook-preview"' in page


def test_preview_says_what_saving_would_refuse(manager_client):
    draft = two_dimensions()
    draft["dimensions"][0]["categories"][1]["shortcut"] = "e"
    response = manager_client.post(
        reverse("codebook-create"),
        editor_post(draft, op="preview"),
        headers=LIVE_PREVIEW,
    )
    page = response.content.decode().replace("&#x27;", "'")
    assert "Saving would be refused" in page
    assert "category 'security': shortcut 'e' is already used by" in page
