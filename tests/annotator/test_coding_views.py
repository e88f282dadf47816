"""The coding screen: pages and partials, submits, skips, revisions, access."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotator import progress as progress_reads
from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Label,
    Membership,
)
from annotator.progress import coder_progress
from annotator.services import claim_next_span, set_membership, submit_annotation
from annotator.views import cards, coding
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def project():
    """3 documents × 3 spans, 2 coders per span, coders c1 and c2."""
    return make_project(documents=3, spans_per_document=3, coders=["c1", "c2"])


def user(name):
    return User.objects.get(username=name)


@pytest.fixture
def c1(client, project):
    """A client logged in as coder c1 of `project`."""
    return log_in(client, "c1")


def log_in(client, name):
    client.force_login(user(name))
    return client


def code_url(project):
    return reverse("project-code", args=[project.pk])


def current(project, name="c1"):
    return Assignment.objects.live().get(project=project, coder=user(name))


def checked(html, name, value):
    """Is the input with this name and value rendered checked?"""
    pattern = rf'<input[^>]*name="{name}" value="{value}"[^>]*>'
    tags = re.findall(pattern, html)
    assert tags, f"no input {name}={value} on the page"
    return " checked" in tags[0]


def post_code(client, project, *, headers=None, **fields):
    assignment = current(project)
    data = {"assignment": assignment.pk, "token": "tok-1", **fields}
    return client.post(code_url(project), data, headers=headers or {})


def labels_of(assignment):
    annotation = Annotation.objects.get(assignment=assignment)
    return sorted(
        annotation.labels.values_list("dimension__key", "category__key")
    ), annotation


# --- showing a span ------------------------------------------------------------------


def test_code_page_full_and_partial(c1, project):
    full = c1.get(code_url(project))
    assert full.status_code == 200
    assignment = current(project)
    span = assignment.span
    assert "<html" in full.text and 'id="span-card"' in full.text
    assert span.text in full.text and span.document.title in full.text
    assert "Test outlet" in full.text and "2017-07-30" in full.text
    assert 'id="codebook-panel"' in full.text and "coding.js" in full.text
    part = c1.get(code_url(project), headers=HX)
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="span-card"')
    assert 'id="codebook-panel"' not in part.text
    # The same claim, not a second one.
    assert Assignment.objects.filter(project=project, coder=user("c1")).count() == 1


def test_showing_a_span_claims_it_and_starts_its_clock(c1, project):
    c1.get(code_url(project))
    assignment = current(project)
    assert assignment.shown_at is not None
    assert (
        f'name="assignment" value="{assignment.pk}"' in c1.get(code_url(project)).text
    )


def test_span_is_shown_between_its_greyed_neighbours(client):
    project = make_project(documents=1, spans_per_document=3, coders=["c1"])
    c1 = log_in(client, "c1")
    html = c1.get(code_url(project)).text
    assert '<p class="context context-after">Doc 0 para 1.</p>' in html
    assert "context-before" not in html  # the first span has nothing before it
    assert "<mark>Doc 0 para 0.</mark>" in html


def test_excluded_neighbours_are_skipped_in_the_context(client):
    project = make_project(documents=1, spans_per_document=4, coders=["c1"])
    c1 = log_in(client, "c1")
    document = project.corpus.documents.get()
    document.spans.filter(index=1).update(excluded=True)
    html = c1.get(code_url(project)).text
    assert "<mark>Doc 0 para 0.</mark>" in html
    assert '<p class="context context-after">Doc 0 para 2.</p>' in html


def test_buttons_come_from_the_codebook_with_their_shortcuts(c1, project):
    html = c1.get(code_url(project)).text
    for dimension in project.codebook.dimensions.prefetch_related("categories"):
        for category in dimension.categories.all():
            kind = "checkbox" if dimension.multiple else "radio"
            assert (
                f'<input type="{kind}" name="{dimension.key}" '
                f'value="{category.key}" data-keys="{category.shortcut}"'
            ) in html
            assert f"<kbd>{category.shortcut}</kbd>{category.label}" in html
    # Skip is only ever the chord Alt+S: Caps Lock turns the stance's "s" into "S",
    # which must pick the category, never open the skip box. u and c are free.
    assert 'data-keys="S"' not in html and "Shift+S" not in html
    assert 'data-chord="Alt+KeyS"' in html and "<kbd>Alt+S</kbd> skip" in html
    assert 'name="uncertain" value="1" data-keys="u U"' in html
    assert "<kbd>Enter</kbd> submit" in html and "<kbd>?</kbd> codebook" in html
    assert "Skip this span — reason" in html


def test_action_keys_give_way_to_category_shortcuts_in_either_case():
    keys = cards.action_keys(
        coding.ACTIONS, {"s", "U", "c"}, chord_only=coding.CHORD_ONLY
    )
    assert (keys["skip"].keys, keys["skip"].chord) == ("", "Alt+KeyS")
    assert keys["skip"].label == "Alt+S"
    # A category's "U" takes "u" too (Caps Lock): the action moves to Alt+U.
    assert (keys["uncertain"].keys, keys["uncertain"].label) == ("", "Alt+U")
    assert (keys["comment"].keys, keys["comment"].label) == ("", "Alt+C")
    free = cards.action_keys(coding.ACTIONS, {"1"}, chord_only=coding.CHORD_ONLY)
    assert (free["uncertain"].keys, free["uncertain"].chord) == ("u U", "")
    assert free["skip"].keys == "" and free["skip"].label == "Alt+S"


def test_progress_is_the_coders_even_share(c1, project):
    UserFactory(username="c3")
    set_membership(project=project, user=user("c3"), role=Membership.Role.CODER)
    # 9 spans × 2 coders = 18 codings over 3 coders: a share of 6.
    html = c1.get(code_url(project)).text
    assert "<strong>0</strong> of 6 done" in html
    assert '<strong class="left-count">6</strong> left' in html


def test_share_is_capped_by_what_is_left_for_the_coder(client):
    project = make_project(
        documents=1, spans_per_document=2, coders=["c1", "c2"], coders_per_span=1
    )
    c1 = log_in(client, "c1")
    # Even share: ceil(2 / 2) = 1. c2 takes both spans first: nothing left for c1.
    for _ in range(2):
        assignment = claim_next_span(project=project, coder=user("c2"))
        submit_annotation(
            coder=user("c2"),
            assignment=assignment,
            labels={"topic": "arms", "stance": "neutral"},
        )
    html = c1.get(code_url(project)).text
    assert "All done" in html and "<strong>0</strong> of 0 done" in html


def test_past_an_even_share_says_so_without_a_share_to_reach(client):
    """'6 of 6 done · 0 left · past your share' said done and over in one line."""
    project = make_project(
        documents=1, spans_per_document=4, coders=["c1", "c2"], coders_per_span=1
    )
    c1 = log_in(client, "c1")
    for _ in range(3):
        c1.get(code_url(project))
        post_code(c1, project, topic="arms", stance="neutral", headers=HX)
    html = c1.get(code_url(project)).text
    assert "<strong>3</strong> done, more than an even share" in html
    assert " of 4 done" not in html and "past your share" not in html


def test_share_counts_open_spans_only_up_to_a_limit(monkeypatch):
    """Past OPEN_COUNT_LIMIT open spans the even split shows; below it, the cap."""
    monkeypatch.setattr(progress_reads, "OPEN_COUNT_LIMIT", 2)
    project = make_project(
        documents=1, spans_per_document=10, coders=["c1", "c2"], coders_per_span=1
    )
    progress = coder_progress(project, user("c1"), n_coders=2)
    assert (progress.done, progress.share, progress.left) == (0, 5, 5)
    for _ in range(8):
        assignment = claim_next_span(project=project, coder=user("c2"))
        submit_annotation(
            coder=user("c2"),
            assignment=assignment,
            labels={"topic": "arms", "stance": "neutral"},
        )
    progress = coder_progress(project, user("c1"), n_coders=2)
    assert (progress.share, progress.left) == (2, 2)
    assert coder_progress(project, user("c2"), n_coders=2).beyond_share


def test_all_done_state(client):
    project = make_project(documents=1, spans_per_document=1, coders=["c1"])
    c1 = log_in(client, "c1")
    c1.get(code_url(project))
    response = post_code(c1, project, topic="arms", stance="neutral", headers=HX)
    assert response.status_code == 200
    assert "All done" in response.text and "Saved." in response.text
    assert "<strong>1</strong> of 1 done" in response.text
    assert 'id="code-form"' not in response.text


def test_all_done_asks_for_new_work_without_claiming_any(
    client, django_assert_num_queries
):
    """A coder left on "All done" learns when a span comes back (here c2's
    lease runs out), and the poll itself never claims: an open tab holds no
    leases."""
    project = make_project(
        documents=1, spans_per_document=2, coders=["c1", "c2"], coders_per_span=1
    )
    held_by_c2 = claim_next_span(project=project, coder=user("c2"))
    c1 = log_in(client, "c1")
    c1.get(code_url(project))
    done = post_code(c1, project, topic="arms", stance="neutral", headers=HX)
    assert "All done" in done.text
    poll = reverse("project-code-waiting", args=[project.pk])
    assert f'hx-get="{poll}" hx-trigger="every 30s"' in done.text
    with django_assert_num_queries(4):  # session, user, project + role, the check
        assert c1.get(poll, headers=HX).status_code == 204
    Assignment.objects.filter(pk=held_by_c2.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    news = c1.get(poll, headers=HX)
    assert news.status_code == 200
    assert news.text.startswith('<p id="new-work"') and "Continue coding" in news.text
    assert not Assignment.objects.live().filter(coder=user("c1")).exists()
    # A plain GET (no script) goes to the coding screen, which claims the span.
    page = c1.get(poll)
    assert page.status_code == 303 and page["Location"] == code_url(project)
    assert "All done" not in c1.get(code_url(project)).text
    assert current(project).span_id == held_by_c2.span_id


def test_only_the_projects_coders_poll_for_new_work(client):
    project = make_project(documents=1, spans_per_document=1, coders=["c1"])
    poll = reverse("project-code-waiting", args=[project.pk])
    reviewer = UserFactory(username="rev")
    set_membership(project=project, user=reviewer, role="reviewer")
    client.force_login(reviewer)
    assert client.get(poll, headers=HX).status_code == 403
    client.force_login(UserFactory(username="stranger"))
    assert client.get(poll, headers=HX).status_code == 404


# --- submitting ----------------------------------------------------------------------


def test_htmx_submit_saves_and_swaps_in_the_next_span(c1, project):
    c1.get(code_url(project))
    first = current(project)
    Assignment.objects.filter(pk=first.pk).update(
        shown_at=timezone.now() - timedelta(seconds=42)
    )
    response = post_code(
        c1,
        project,
        topic="trade",
        stance="hostile",
        tags=["quote", "number"],
        uncertain="1",
        comment="  a note  ",
        headers=HX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="span-card"')
    labels, annotation = labels_of(first)
    assert labels == [
        ("stance", "hostile"),
        ("tags", "number"),
        ("tags", "quote"),
        ("topic", "trade"),
    ]
    assert annotation.uncertain and annotation.comment == "a note"
    assert 42 <= annotation.seconds < 60
    first.refresh_from_db()
    assert first.status == Assignment.Status.COMPLETED
    nxt = current(project)
    assert nxt.pk != first.pk and nxt.shown_at is not None
    assert nxt.span.text in response.text and "Saved." in response.text
    revise_url = reverse("project-code-revise", args=[project.pk, first.pk])
    assert revise_url in response.text
    # Nothing of the saved choices leaks into the fresh card.
    assert not checked(response.text, "topic", "trade")


def test_submit_without_javascript_redirects_with_303(c1, project):
    c1.get(code_url(project))
    first = current(project)
    response = post_code(c1, project, topic="arms", stance="neutral")
    assert response.status_code == 303 and response["Location"] == code_url(project)
    assert labels_of(first)[0] == [("stance", "neutral"), ("topic", "arms")]
    page = c1.get(response["Location"])
    assert "Saved." in page.text and current(project).pk != first.pk


@pytest.mark.parametrize("htmx", [True, False])
def test_missing_required_dimension_keeps_choices_and_saves_nothing(c1, project, htmx):
    c1.get(code_url(project))
    response = post_code(
        c1,
        project,
        stance="friendly",
        tags="quote",
        uncertain="1",
        comment="keep me",
        headers=HX if htmx else None,
    )
    assert response.status_code == 200
    assert ("<html" in response.text) is not htmx
    assert "Topic: choose a category (required)." in response.text
    assert checked(response.text, "stance", "friendly")
    assert checked(response.text, "tags", "quote")
    assert not checked(response.text, "tags", "number")
    assert checked(response.text, "uncertain", "1")
    assert "keep me</textarea>" in response.text
    assert not Annotation.objects.exists() and not Label.objects.exists()
    assert current(project).status == Assignment.Status.CLAIMED


def test_category_of_another_dimension_is_refused(c1, project):
    c1.get(code_url(project))
    response = post_code(c1, project, topic="hostile", stance="neutral", headers=HX)
    assert response.status_code == 200
    assert "Topic: &#x27;hostile&#x27; is not a category of this dimension." in (
        response.text
    )
    assert checked(response.text, "stance", "neutral")
    assert not Annotation.objects.exists()


def test_two_categories_in_a_single_choice_dimension_are_refused(c1, project):
    c1.get(code_url(project))
    response = post_code(c1, project, topic=["arms", "trade"], stance="neutral")
    assert "Topic: choose one category, not 2." in response.text
    assert not Annotation.objects.exists()


def test_an_assignment_not_held_is_refused_and_choices_kept(c1, project):
    c1.get(code_url(project))
    theirs = claim_next_span(project=project, coder=user("c2"))
    response = c1.post(
        code_url(project),
        {"assignment": theirs.pk, "token": "t", "topic": "arms", "stance": "neutral"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "This span is not assigned to you" in response.text
    assert checked(response.text, "topic", "arms")
    assert not Annotation.objects.exists()
    # A form naming no assignment at all gets the same answer.
    response = c1.post(code_url(project), {"topic": "arms"}, headers=HX)
    assert "This span is not assigned to you" in response.text
    assert not Annotation.objects.exists()


def test_double_submit_with_the_same_token_saves_one_annotation(c1, project):
    c1.get(code_url(project))
    first = current(project)
    data = {
        "assignment": first.pk,
        "token": "same",
        "topic": "arms",
        "stance": "neutral",
    }
    one = c1.post(code_url(project), data, headers=HX)
    two = c1.post(code_url(project), data, headers=HX)
    assert one.status_code == two.status_code == 200
    assert Annotation.objects.count() == 1
    assert not AnnotationRevision.objects.exists()
    # Both answers show the same next span, claimed once.
    nxt = current(project)
    assert nxt.span.text in one.text and nxt.span.text in two.text
    assert Assignment.objects.live().filter(coder=user("c1")).count() == 1


def test_every_rendering_carries_a_fresh_token(c1, project):
    tokens = {
        re.search(r'name="token" value="([^"]+)"', c1.get(code_url(project)).text)[1]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_a_lapsed_claim_taken_by_others_says_so_and_keeps_choices(client):
    project = make_project(
        documents=1,
        spans_per_document=1,
        coders=["c1", "c2", "c3"],
        lease_minutes=5,
    )
    client.force_login(user("c1"))
    client.get(code_url(project))
    lapsed = current(project)
    Assignment.objects.filter(pk=lapsed.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10),
        expires_at=timezone.now() - timedelta(minutes=5),
    )
    for name in ("c2", "c3"):
        assignment = claim_next_span(project=project, coder=user(name))
        submit_annotation(
            coder=user(name),
            assignment=assignment,
            labels={"topic": "arms", "stance": "neutral"},
        )
    response = client.post(
        code_url(project),
        {"assignment": lapsed.pk, "token": "t", "topic": "trade", "stance": "hostile"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Your claim on this span lapsed after 5 minutes" in response.text
    assert checked(response.text, "topic", "trade")
    assert "Go on to the next span" in response.text
    assert not Annotation.objects.filter(assignment=lapsed).exists()


def test_a_database_error_keeps_choices(c1, project, monkeypatch):
    c1.get(code_url(project))

    def broken(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(coding, "submit_annotation", broken)
    response = post_code(c1, project, topic="arms", stance="friendly", headers=HX)
    assert response.status_code == 200
    assert "The database could not save this annotation" in response.text
    assert checked(response.text, "topic", "arms")
    assert checked(response.text, "stance", "friendly")
    assert not Annotation.objects.exists()


# --- skipping ------------------------------------------------------------------------


def test_skip_requires_a_reason(c1, project):
    c1.get(code_url(project))
    held = current(project)
    url = reverse("project-code-skip", args=[project.pk])
    response = c1.post(
        url, {"assignment": held.pk, "reason": "  ", "topic": "arms"}, headers=HX
    )
    assert response.status_code == 200
    assert "Say why you skip this span." in response.text
    assert checked(response.text, "topic", "arms")
    held.refresh_from_db()
    assert held.status == Assignment.Status.CLAIMED


def test_skip_gives_the_span_back_and_shows_the_next(c1, project):
    c1.get(code_url(project))
    held = current(project)
    url = reverse("project-code-skip", args=[project.pk])
    response = c1.post(
        url, {"assignment": held.pk, "reason": "Not in English"}, headers=HX
    )
    assert response.status_code == 200 and "Skipped." in response.text
    held.refresh_from_db()
    assert held.status == Assignment.Status.SKIPPED
    assert held.skip_reason == "Not in English"
    assert current(project).span_id != held.span_id
    # Without JavaScript: 303 back to the coding page.
    nxt = current(project)
    response = c1.post(url, {"assignment": nxt.pk, "reason": "Garbled"})
    assert response.status_code == 303 and response["Location"] == code_url(project)


def test_skip_only_accepts_get_free_posts(c1, project):
    assert c1.get(reverse("project-code-skip", args=[project.pk])).status_code == 405


def skip_current(client, project, reason="Not in English", headers=None):
    client.get(code_url(project))
    held = current(project)
    url = reverse("project-code-skip", args=[project.pk])
    response = client.post(
        url, {"assignment": held.pk, "reason": reason}, headers=headers or {}
    )
    return held, response


def unskip_url(project, assignment):
    return reverse("project-code-unskip", args=[project.pk, assignment.pk])


def test_undo_skip_right_after_skipping_with_htmx(c1, project):
    skipped, response = skip_current(c1, project, headers=HX)
    assert "Skipped." in response.text and unskip_url(project, skipped) in response.text
    assert "Undo skip" in response.text
    response = c1.post(unskip_url(project, skipped), headers=HX)
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="span-card"')
    assert "Skip undone" in response.text and skipped.span.text in response.text
    assert f'name="assignment" value="{skipped.pk}"' in response.text
    # Served first: the coder's newest claim (the one shown before stays theirs).
    assert claim_next_span(project=project, coder=user("c1")).pk == skipped.pk


def test_undo_skip_without_javascript_goes_back_to_the_span(c1, project):
    skipped, _ = skip_current(c1, project)
    response = c1.post(unskip_url(project, skipped))
    assert response.status_code == 303 and response["Location"] == code_url(project)
    page = c1.get(code_url(project))
    assert "Skip undone" in page.text and skipped.span.text in page.text
    # Served first: the coder's newest claim (the one shown before stays theirs).
    assert claim_next_span(project=project, coder=user("c1")).pk == skipped.pk


def test_recent_page_lists_skips_with_undo_full_page_only(c1, project):
    skipped, _ = skip_current(c1, project, reason="Garbled text")
    url = reverse("project-code-recent", args=[project.pk])
    full = c1.get(url)
    assert "Spans you skipped" in full.text and "Garbled text" in full.text
    assert unskip_url(project, skipped) in full.text
    part = c1.get(url, headers=HX)
    assert part.status_code == 200 and "Spans you skipped" not in part.text


def test_a_skip_others_have_filled_cannot_be_undone(client, project):
    log_in(client, "c1")
    skipped, _ = skip_current(client, project)
    claim_next_span(project=project, coder=user("c2"))
    third = UserFactory(username="c3")
    set_membership(project=project, user=third, role=Membership.Role.CODER)
    claim_next_span(project=project, coder=third)  # both places of the span taken
    recent = client.get(reverse("project-code-recent", args=[project.pk]))
    assert unskip_url(project, skipped) not in recent.text
    assert "taken by others" in recent.text
    # Posted anyway: refused with the reason, as a page and as a partial.
    response = client.post(unskip_url(project, skipped))
    assert response.status_code == 303
    assert response["Location"] == reverse("project-code-recent", args=[project.pk])
    assert "Other coders have taken this span" in client.get(response["Location"]).text
    response = client.post(unskip_url(project, skipped), headers=HX)
    assert response.status_code == 200
    assert "Other coders have taken this span" in response.text
    assert Assignment.objects.get(pk=skipped.pk).status == Assignment.Status.SKIPPED


def test_undo_skip_is_a_post_of_the_coders_own_skip(client, project):
    log_in(client, "c1")
    skipped, _ = skip_current(client, project)
    assert client.get(unskip_url(project, skipped)).status_code == 405
    log_in(client, "c2")
    assert client.post(unskip_url(project, skipped)).status_code == 404
    assert Assignment.objects.get(pk=skipped.pk).status == Assignment.Status.SKIPPED


# --- revising ------------------------------------------------------------------------


def finish_one(client, project, **labels):
    client.get(code_url(project))
    assignment = current(project)
    post_code(client, project, **labels)
    return assignment


def test_revise_page_full_and_partial_shows_my_labels(c1, project):
    done = finish_one(c1, project, topic="trade", stance="hostile", comment="first")
    url = reverse("project-code-revise", args=[project.pk, done.pk])
    full = c1.get(url)
    assert full.status_code == 200 and "<html" in full.text
    assert "revising an earlier annotation" in full.text
    assert done.span.text in full.text
    assert checked(full.text, "topic", "trade")
    assert checked(full.text, "stance", "hostile")
    assert "first</textarea>" in full.text
    assert f'action="{url}"' in full.text
    assert "project-code-skip" not in full.text and "Skip this span" not in full.text
    part = c1.get(url, headers=HX)
    assert part.text.lstrip().startswith('<section id="span-card" class="span-card')
    assert checked(part.text, "topic", "trade")


@pytest.mark.parametrize("htmx", [True, False])
def test_revise_records_a_revision(c1, project, htmx):
    done = finish_one(c1, project, topic="trade", stance="hostile")
    url = reverse("project-code-revise", args=[project.pk, done.pk])
    response = c1.post(
        url,
        {"assignment": done.pk, "token": "rev", "topic": "arms", "stance": "hostile"},
        headers=HX if htmx else {},
    )
    if htmx:
        assert response.status_code == 200
        assert response["HX-Push-Url"] == code_url(project)
        assert "Your revision was saved." in response.text
        assert current(project).span.text in response.text
    else:
        assert response.status_code == 303
    labels, annotation = labels_of(done)
    assert labels == [("stance", "hostile"), ("topic", "arms")]
    revision = AnnotationRevision.objects.get(annotation=annotation)
    assert revision.changed_by == user("c1")
    assert revision.old["labels"] == {"stance": ["hostile"], "topic": ["trade"]}
    assert revision.new["labels"] == {"stance": ["hostile"], "topic": ["arms"]}
    assert Annotation.objects.count() == 1


def test_invalid_revision_keeps_the_old_annotation(c1, project):
    done = finish_one(c1, project, topic="trade", stance="hostile")
    url = reverse("project-code-revise", args=[project.pk, done.pk])
    response = c1.post(
        url, {"assignment": done.pk, "token": "x", "stance": "neutral"}, headers=HX
    )
    assert response.status_code == 200
    assert "Topic: choose a category (required)." in response.text
    assert checked(response.text, "stance", "neutral")
    assert labels_of(done)[0] == [("stance", "hostile"), ("topic", "trade")]
    assert not AnnotationRevision.objects.exists()


def test_a_coder_cannot_open_another_coders_assignment(client, project):
    theirs = claim_next_span(project=project, coder=user("c2"))
    submit_annotation(
        coder=user("c2"),
        assignment=theirs,
        labels={"topic": "arms", "stance": "neutral"},
    )
    client.force_login(user("c1"))
    url = reverse("project-code-revise", args=[project.pk, theirs.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"topic": "trade", "stance": "hostile"})
    assert response.status_code == 404
    assert labels_of(theirs)[0] == [("stance", "neutral"), ("topic", "arms")]


def test_a_live_claim_is_not_opened_as_a_revision(c1, project):
    c1.get(code_url(project))
    url = reverse("project-code-revise", args=[project.pk, current(project).pk])
    assert c1.get(url).status_code == 404


# --- the recent list -----------------------------------------------------------------


def test_recent_list_full_and_partial(c1, project):
    done = finish_one(c1, project, topic="trade", stance="hostile", comment="mine")
    url = reverse("project-code-recent", args=[project.pk])
    full = c1.get(url)
    assert full.status_code == 200 and "<html" in full.text
    revise_url = reverse("project-code-revise", args=[project.pk, done.pk])
    assert revise_url in full.text and done.span.text in full.text
    assert "Trade" in full.text and "Hostile" in full.text and "mine" in full.text
    part = c1.get(url, headers=HX)
    assert part.text.lstrip().startswith('<section id="recent-list"')
    assert revise_url in part.text and "<html" not in part.text


def test_recent_list_query_count_does_not_grow(c1, project):
    url = reverse("project-code-recent", args=[project.pk])
    counts = []
    for _ in range(2):
        finish_one(c1, project, topic="trade", stance="hostile", tags=["quote"])
        finish_one(c1, project, topic="arms", stance="neutral")
        with CaptureQueriesContext(connection) as queries:
            response = c1.get(url, headers=HX)
        counts.append(len(queries))
    assert response.text.count("Reopen</a>") == 4
    # session, user, project, page count, annotations, their labels.
    assert counts == [6, 6]


# --- blind coding --------------------------------------------------------------------


def test_nothing_of_another_coder_is_shown(client, project):
    theirs = claim_next_span(project=project, coder=user("c2"))
    submit_annotation(
        coder=user("c2"),
        assignment=theirs,
        labels={"topic": "trade", "stance": "hostile", "tags": ["quote"]},
        uncertain=True,
        comment="SECRET-NOTE",
    )
    client.force_login(user("c1"))
    html = client.get(code_url(project)).text
    # c1 is given the span c2 started (agreement data comes early) ...
    assert current(project).span_id == theirs.span_id
    # ... and sees nothing of c2's work: no labels chosen, no comment, no name.
    # (The name as a word: random CSRF tokens on the page may contain "c2".)
    assert "SECRET-NOTE" not in html and not re.search(r"\bc2\b", html)
    assert not checked(html, "topic", "trade")
    assert not checked(html, "uncertain", "1")
    recent = client.get(reverse("project-code-recent", args=[project.pk])).text
    assert "SECRET-NOTE" not in recent and theirs.span.text not in recent


# --- access --------------------------------------------------------------------------


def all_urls(project, assignment_id=1):
    return [
        ("get", code_url(project)),
        ("post", code_url(project)),
        ("post", reverse("project-code-skip", args=[project.pk])),
        ("get", reverse("project-code-recent", args=[project.pk])),
        ("get", reverse("project-code-revise", args=[project.pk, assignment_id])),
    ]


def test_non_members_get_404(client, project):
    client.force_login(UserFactory(username="stranger"))
    for method, url in all_urls(project):
        assert getattr(client, method)(url).status_code == 404, url
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("role", [Membership.Role.REVIEWER, Membership.Role.MANAGER])
def test_reviewers_and_managers_get_403(client, project, role):
    other = UserFactory(username="other")
    set_membership(project=project, user=other, role=role)
    client.force_login(other)
    for method, url in all_urls(project):
        assert getattr(client, method)(url).status_code == 403, url
    assert not Assignment.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client, project):
    response = client.get(code_url(project))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- cost ----------------------------------------------------------------------------


def test_coding_view_query_count_is_small_and_constant(
    client, django_assert_num_queries
):
    small = make_project(documents=1, spans_per_document=3, coders=["c1"])
    big = make_project(documents=8, spans_per_document=12, coders=["c1"])
    coder = user("c1")
    client.force_login(coder)
    for project in (small, big):
        client.get(code_url(project))  # claim and show once
        # What the claim service itself costs (its savepoints, the coder's lock,
        # the live claim, releasing lapsed claims) is the service's business.
        with CaptureQueriesContext(connection) as claim:
            claim_next_span(project=project, coder=coder)
        # The view adds 6: session, user, project (+ role, + number of coders),
        # the codebook (not yet in use, so not cached), progress, the span with its
        # neighbours and document.
        with django_assert_num_queries(6 + len(claim)):
            response = client.get(code_url(project), headers=HX)
        assert response.status_code == 200
        # Probe for lapsed claims, begin, coder lock, live claim + place, the live
        # claim, commit (was up to 8: the release had a transaction of its own).
        assert len(claim) <= 6


# On PostgreSQL the submit and the claim are each one statement; on SQLite the
# submit is three and the claim tries its kinds of candidate one at a time. (The
# test's transaction turns the services' BEGIN/COMMIT into savepoints: counted.)
# SQLite: 22 since the submit numbers its change apart (inside the one statement
# on PostgreSQL).
SUBMIT_AND_NEXT_QUERIES = {"postgresql": 15, "sqlite": 22}


def test_htmx_submit_and_next_query_count_is_pinned(client):
    """The coders' hot path as the browser drives it: a submit that answers the
    next card. Session, user, project + role + the posted assignment (one query),
    the submit (its savepoint, the coder's and the assignment's locks, the store),
    the claim (savepoint, lock + lapsed probe, live claim and place, the take),
    progress, the span in context; the codebook in use comes from the cache. The
    same count on a small and on a bigger project."""
    small = make_project(documents=1, spans_per_document=6, coders=["c1"])
    big = make_project(documents=8, spans_per_document=12, coders=["c1"])
    client.force_login(user("c1"))
    counts = []
    for project in (small, big):
        html = client.get(code_url(project)).text
        for _ in range(3):  # the first submits put the codebook in use
            with CaptureQueriesContext(connection) as queries:
                html = client.post(code_url(project), form_of(html), headers=HX).text
        assert "Saved." in html and 'name="assignment"' in html
        counts.append(len(queries))
    assert counts == [SUBMIT_AND_NEXT_QUERIES[connection.vendor]] * 2, "\n".join(
        " ".join(q["sql"].split())[:90] for q in queries.captured_queries
    )


def form_of(html: str) -> dict:
    """What the card's form posts, with a topic and a stance chosen."""
    return {
        "assignment": re.search(r'name="assignment" value="(\d+)"', html).group(1),
        "token": re.search(r'name="token" value="([^"]+)"', html).group(1),
        "topic": "arms",
        "stance": "neutral",
    }
