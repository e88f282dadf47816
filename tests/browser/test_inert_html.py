"""Span text, titles and comments that hold HTML and script are shown as text.

A corpus is what we are given: its documents may carry `<script>`, event-handler
attributes and `javascript:` links. Every page that shows span text (the coding
screen, also after an htmx swap, the recent list, the corpus and document pages,
the agreement dashboard and adjudication) must show them literally and run none
of them: no dialog opens, no injected element exists, the page's flag stays unset.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.demo import managers_group
from annotator.models import Membership, WorkItem
from annotator.services import claim_next_span, create_project, submit_annotation
from corpus.models import Span
from tests.browser.conftest import held_id, log_in, wait_for_next_card
from tests.factories import (
    PASSWORD,
    CorpusFactory,
    DocumentFactory,
    UserFactory,
    make_codebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    "Alpha <script>window.pwned = 1; alert('script')</script> ends here.",
    'Bravo <img src="x" onerror="window.pwned = 2; alert(\'img\')"> ends here.',
    "Charlie <a href=\"javascript:alert('link')\">click</a> ends here.",
    'Delta <svg onload="alert(\'svg\')"></svg> & "quotes" ends here.',
]
TITLE = "Title <script>alert('title')</script>"
COMMENT = "<b onmouseover=\"alert('comment')\">bold?</b>"
# What an injected element would look like in the DOM.
INJECTED = (
    "script:not([src]):not([type='application/json']), img[src='x'], "
    "a[href^='javascript:'], svg[onload], [onerror], [onmouseover]"
)


@pytest.fixture
def project():
    corpus = CorpusFactory(name="Hostile corpus")
    DocumentFactory(corpus=corpus, title=TITLE, text="\n\n".join(PAYLOADS))
    users = {name: UserFactory(username=name) for name in ("c1", "c2", "rev", "mgr")}
    users["mgr"].groups.add(managers_group())
    return create_project(
        name="Hostile <i>project</i>",
        corpus=corpus,
        codebook=make_codebook(),
        members={
            users["c1"]: Membership.Role.CODER,
            users["c2"]: Membership.Role.CODER,
            users["rev"]: Membership.Role.REVIEWER,
            users["mgr"]: Membership.Role.MANAGER,
        },
        coders_per_span=2,
    )


def span_texts(project) -> list[str]:
    ids = WorkItem.objects.filter(project=project).order_by("position")
    return list(
        Span.objects.filter(pk__in=ids.values("span_id"))
        .order_by("document_id", "index")
        .values_list("text", flat=True)
    )


@pytest.fixture
def dialogs(page):
    """Every dialog a page opens (alert, confirm…), dismissed so nothing blocks."""
    opened: list[str] = []

    def record(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def assert_inert(page, dialogs, texts) -> None:
    for text in texts:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    assert page.locator(INJECTED).count() == 0, page.url
    assert page.evaluate("window.pwned") is None, page.url
    assert dialogs == [], (page.url, dialogs)


def shown(texts: list[str], limit: int | None = None) -> list[str]:
    """The part of each text a page shows in full (truncating pages cut the end)."""
    return [t if limit is None else t[: limit - 1] for t in texts]


def test_hostile_text_is_shown_literally_and_runs_nowhere(page, dialogs, project):
    texts = span_texts(project)
    assert len(texts) == len(PAYLOADS)
    assert all(re.search(r"<(script|img|a|svg)\b", t) for t in texts)

    # Coding screen: the first span from the full page, the rest swapped in by htmx.
    log_in(page, "c1", PASSWORD)
    page.goto(reverse("project-code", args=[project.pk]))
    seen = []
    for _ in texts:
        target = page.locator("#target-span")
        expect(target).to_be_visible()
        seen.append(target.inner_text())
        assert_inert(page, dialogs, [seen[-1], TITLE])
        held = held_id(page)
        page.keyboard.press("c")  # opens the comment box; Esc leaves it
        page.fill("#code-form textarea[name=comment]", COMMENT)
        page.keyboard.press("Escape")
        for key in ("1", "s"):
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        wait_for_next_card(page, held)
    assert sorted(seen) == sorted(texts)

    page.goto(reverse("project-code-recent", args=[project.pk]))
    assert_inert(page, dialogs, shown(texts, 240))

    # The second coder disagrees on every span, so all of them wait for adjudication.
    c2 = UserFactory(username="c2")
    while assignment := claim_next_span(project=project, coder=c2):
        submit_annotation(
            coder=c2,
            assignment=assignment,
            labels={"topic": "trade", "stance": "hostile"},
            comment=COMMENT,
        )

    page.context.clear_cookies()
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-adjudicate", args=[project.pk]))
    target = page.locator("#target-span")
    expect(target).to_be_visible()
    assert target.inner_text() in texts
    assert_inert(page, dialogs, [target.inner_text(), TITLE, COMMENT])
    page.goto(reverse("project-agreement", args=[project.pk]))
    expect(page.locator("section.card").first).to_be_visible()
    assert_inert(page, dialogs, [])
    page.goto(reverse("project-detail", args=[project.pk]))
    assert_inert(page, dialogs, ["Hostile <i>project</i>"])

    page.context.clear_cookies()
    log_in(page, "mgr", PASSWORD)
    page.goto(reverse("corpus-detail", args=[project.corpus_id]))
    assert_inert(page, dialogs, [TITLE])
    document = project.corpus.documents.get()
    page.goto(reverse("document-detail", args=[document.pk]))
    assert_inert(page, dialogs, [*texts, TITLE])
