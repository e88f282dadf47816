"""The adjudication queue, the decisions and a coder's recent list narrowed by text,
category and date (annotator/finding.py): full pages, htmx partials, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from annotator.gold import adjudicate, refresh_gold
from annotator.models import Annotation, GoldLabel, Membership
from corpus.models import Span
from tests.annotator.test_adjudication_views import project
from tests.annotator.test_gold import spans
from tests.factories import logged_in, member

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
TODAY = timezone.now().date()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
__all__ = ["project"]  # the fixture: three spans in dispute, one unanimous


def text_of(span_id: int) -> str:
    return Span.objects.get(pk=span_id).text


@pytest.fixture
def reviewer(client, project):
    user = member(project, "boss", Membership.Role.REVIEWER)
    logged_in(client, user)
    refresh_gold(project)
    return user


def queue(client, project, headers=None, **query):
    return client.get(
        reverse("project-adjudicate", args=[project.pk]), query, headers=headers
    )


def head(response) -> int:
    html = response.text
    at = html.index('name="span" value="') + len('name="span" value="')
    return int(html[at : html.index('"', at)])


def test_queue_filters_by_text_category_and_date(client, project, reviewer):
    s = spans(project)
    assert head(queue(client, project)) == s[1]  # three ratings: most urgent
    by_text = queue(client, project, text=text_of(s[3]))
    assert head(by_text) == s[3] and '<strong class="waiting-count">1</strong>' in (
        by_text.text
    )
    assert "that match the filters" in by_text.text
    # Hidden in the decision form, so the next card keeps the filters.
    assert f'name="text" value="{text_of(s[3])}"' in by_text.text
    by_category = queue(client, project, category="topic:other")
    assert head(by_category) == s[1]
    assert '<strong class="waiting-count">1</strong>' in by_category.text
    both = queue(client, project, category="topic:trade", since=TODAY.isoformat())
    assert '<strong class="waiting-count">3</strong>' in both.text
    none = queue(client, project, since=TOMORROW)
    assert 'name="span" value=' not in none.text
    assert "No span is waiting" in none.text


def test_queue_filters_as_an_htmx_partial_in_a_fixed_number_of_queries(
    client, project, reviewer, django_assert_max_num_queries
):
    s = spans(project)
    queue(client, project)  # settles the codebook cache and gold freshness
    with django_assert_max_num_queries(21):  # the unfiltered card's 20, +1 category
        part = queue(client, project, HX, text=text_of(s[0]), category="topic:arms")
    assert part.text.lstrip().startswith('<section id="span-card"')
    assert head(part) == s[0] and "<html" not in part.text
    full = queue(client, project, text=text_of(s[0]))
    assert 'role="search"' in full.text and "<html" in full.text.lower()


def test_a_filtered_decision_redirects_back_to_the_filtered_queue(
    client, project, reviewer
):
    s = spans(project)
    decision = {"span": s[0], "topic": "arms", "stance": "neutral", "tags": ["quote"]}
    response = client.post(
        reverse("project-adjudicate", args=[project.pk]),
        {**decision, "category": "topic:trade"},
    )
    assert (
        response.status_code == 303
        and "category=topic%3Atrade" in (response["Location"])
    )


def test_bad_filters_are_named(client, project, reviewer):
    response = queue(client, project, since="someday")
    assert response.status_code == 400 and "since" in response.text
    response = queue(client, project, category="topic:nope")
    assert response.status_code == 400 and "category" in response.text
    assert 'class="field invalid"' in response.text  # the form, to put it right


def decide_two(project, reviewer):
    s = spans(project)
    adjudicate(project, s[0], "topic", "arms", reviewer=reviewer)
    adjudicate(project, s[3], "topic", "trade", reviewer=reviewer)
    return s


def decided(client, project, headers=None, **query):
    return client.get(
        reverse("project-adjudicate-decided", args=[project.pk]),
        query,
        headers=headers,
    )


def test_decisions_filter_by_text_category_and_date(
    client, project, reviewer, django_assert_max_num_queries
):
    s = decide_two(project, reviewer)
    reopen = [reverse("project-adjudicate-span", args=[project.pk, i]) for i in s]
    everything = decided(client, project).text
    assert reopen[0] in everything and reopen[3] in everything
    with django_assert_max_num_queries(10):  # the unfiltered page's 9, +1 category
        page = decided(client, project, category="topic:trade")
    assert reopen[3] in page.text and reopen[0] not in page.text
    assert 'role="search"' in page.text
    by_text = decided(client, project, HX, text=text_of(s[0]))
    assert by_text.text.lstrip().startswith('<section id="decided-list"')
    assert reopen[0] in by_text.text and reopen[3] not in by_text.text
    later = decided(client, project, since=TOMORROW)
    assert "No decision matches the filters" in later.text
    GoldLabel.objects.filter(project=project, method="adjudicated").update(
        decided_at=timezone.now() - timedelta(days=3)
    )
    until = (TODAY - timedelta(days=2)).isoformat()
    assert reopen[0] in decided(client, project, until=until).text


def recent(client, project, headers=None, **query):
    return client.get(
        reverse("project-code-recent", args=[project.pk]), query, headers=headers
    )


def test_a_coders_recent_list_filters_by_text_category_and_date(
    client, project, django_assert_num_queries
):
    s = spans(project)
    coder = User.objects.get(username="coder1")
    client.force_login(coder)
    mine = Annotation.objects.filter(project=project, assignment__coder=coder)
    assert mine.count() == 5
    recent(client, project)  # the codebook is cached from here on
    # session, user, project + role, the category's ids, count, the menu's two
    # permission lookups, skips, page, labels: the unfiltered page's, plus the
    # category's ids
    with django_assert_num_queries(10):
        page = recent(client, project, category="topic:trade")
    texts = [text_of(i) for i in s]
    assert texts[3] in page.text and texts[4] in page.text
    assert texts[0] not in page.text and 'role="search"' in page.text
    part = recent(client, project, HX, text=texts[4])
    assert part.text.lstrip().startswith('<section id="recent-list"')
    assert texts[4] in part.text and texts[3] not in part.text
    assert "None of your annotations" in recent(client, project, since=TOMORROW).text
    other = User.objects.get(username="coder2")
    client.force_login(other)  # another coder's codes stay out of one's list
    theirs = recent(client, project, category="topic:other").text
    assert "None of your annotations" in theirs
