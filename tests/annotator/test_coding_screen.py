"""The coding screen's aids: the shortcut preference, paragraphs, no-JS notices."""

import re

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.urls import reverse

from annotator.models import CoderPreferences
from annotator.services import claim_next_span
from annotator.templatetags.reading import paragraphs
from corpus.models import Span
from tests.factories import make_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
PREFERENCES = reverse("preferences")


@pytest.fixture
def project():
    return make_project(documents=1, spans_per_document=3, coders=["c1"])


@pytest.fixture
def c1(client, project):
    client.force_login(User.objects.get(username="c1"))
    return client


def code_url(project):
    return reverse("project-code", args=[project.pk])


def letter_keys(html: str) -> str:
    return re.search(r'data-letter-keys="(\w+)"', html).group(1)


def test_preferences_page_shows_the_defaults_without_writing_a_row(c1):
    response = c1.get(PREFERENCES)
    assert response.status_code == 200
    assert "<h1>Preferences</h1>" in response.text
    assert letter_keys(response.text) == "on"
    assert 'name="letter_shortcuts" value="1" aria-describedby' in response.text
    assert not CoderPreferences.objects.exists()


def test_a_plain_post_saves_and_goes_back_to_the_coding_screen(c1, project):
    response = c1.post(PREFERENCES, {"next": code_url(project)})  # unticked: off
    assert response.status_code == 303 and response["Location"] == code_url(project)
    user = User.objects.get(username="c1")
    assert CoderPreferences.objects.of(user).letter_shortcuts is False
    page = c1.get(code_url(project)).text
    assert letter_keys(page) == "off"  # the switch beside the card; coding.js reads it
    assert "Your preferences were saved." in page


def test_a_post_with_a_foreign_next_comes_back_to_the_preferences_page(c1):
    response = c1.post(
        PREFERENCES, {"letter_shortcuts": "1", "next": "https://evil.example/"}
    )
    assert response.status_code == 303 and response["Location"] == PREFERENCES


def test_htmx_gets_the_form_back_saying_what_was_saved(c1):
    off = c1.post(PREFERENCES, {"next": "/"}, headers=HX)
    assert off.status_code == 200 and "<html" not in off.text
    assert off.text.lstrip().startswith('<form id="shortcut-prefs"')
    assert letter_keys(off.text) == "off"
    assert "Saved: single-key shortcuts are off." in off.text
    on = c1.post(PREFERENCES, {"letter_shortcuts": "1"}, headers=HX)
    assert letter_keys(on.text) == "on" and " checked" in on.text
    assert CoderPreferences.objects.count() == 1  # one row per user, updated


def test_the_switch_and_the_live_region_sit_outside_the_swapped_card(c1, project):
    """Outside the htmx partial: a swap of the card (the coder's hot path) reads no
    preferences (the pinned query counts hold), and the live region stays put."""
    full = c1.get(code_url(project)).text
    partial = c1.get(code_url(project), headers=HX).text
    assert 'id="shortcut-prefs"' in full and 'id="shortcut-prefs"' not in partial
    assert 'id="coding-announce"' in full and 'id="coding-announce"' not in partial


def test_the_card_names_its_span_for_the_live_region(c1, project):
    html = c1.get(code_url(project), headers=HX).text
    assert 'data-announce="Span 1 of 3: Doc 0 para 0."' in html
    assert 'id="target-span" tabindex="-1"' in html


def test_a_span_with_a_blank_line_has_no_empty_highlighted_line(c1, project):
    claim = claim_next_span(project=project, coder=User.objects.get(username="c1"))
    text = "First part.\n\nSecond part."  # the rendering alone: offsets follow
    Span.objects.filter(pk=claim.span_id).update(text=text, end=F("start") + len(text))
    html = c1.get(code_url(project)).text
    assert "<p><mark>First part.</mark></p><p><mark>Second part.</mark></p>" in html
    assert "<br><br>" not in html and "<mark><br>" not in html


def test_paragraphs_cut_at_blank_lines_only():
    assert paragraphs("a\nb\n\n \n c\n") == ["a\nb", "c"]
    assert paragraphs("\n\n") == []


def test_without_javascript_saved_keeps_its_reopen_link(c1, project):
    html = c1.get(code_url(project)).text
    held = re.search(r'name="assignment" value="(\d+)"', html).group(1)
    form = {"assignment": held, "topic": "arms", "stance": "neutral"}
    form["token"] = re.search(r'name="token" value="([^"]+)"', html).group(1)
    response = c1.post(code_url(project), form, follow=True)
    revise = reverse("project-code-revise", args=[project.pk, int(held)])
    assert f'Saved. <a href="{revise}">Reopen it</a>' in response.text
    # In the card's status line, not above the card where it would push it down.
    assert '<ul class="messages">' not in response.text
