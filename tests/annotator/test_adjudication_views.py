"""The adjudication screen: who may use it, the card, deciding with and without htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.gold import adjudication_queue, refresh_gold
from annotator.models import GoldLabel, GoldLabelRevision, Membership, WorkItem
from tests.annotator.test_gold import rate, spans
from tests.factories import UserFactory, logged_in, make_project, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    """Three spans in dispute (topic), one unanimous, one coded once."""
    project = make_project(documents=1, spans_per_document=6, coders_per_span=3)
    a, b, c = (UserFactory(username=f"coder{i}") for i in range(1, 4))
    s = spans(project)
    rate(project, a, s[0], topic="arms", tags=["quote"])
    rate(project, b, s[0], topic="trade", tags=["quote"])
    for user, topic in zip((a, b, c), ("arms", "trade", "other"), strict=True):
        rate(project, user, s[1], topic=topic)
    rate(project, a, s[2], topic="arms")
    rate(project, b, s[2], topic="arms")
    rate(project, a, s[3], topic="trade", stance="hostile")
    rate(project, b, s[3], topic="arms", stance="friendly")
    rate(project, a, s[4], topic="trade")
    from annotator.models import Annotation

    Annotation.objects.filter(project=project, assignment__coder=b).update(
        uncertain=True, comment="not sure about this one"
    )
    return project


def url(project, *args, name="project-adjudicate"):
    return reverse(name, args=[project.pk, *args])


@pytest.mark.parametrize("role", [Membership.Role.REVIEWER, Membership.Role.MANAGER])
def test_reviewer_sees_the_most_urgent_span_with_every_coders_codes(
    client, project, role, django_assert_max_num_queries
):
    user = member(project, "boss", role)
    s = spans(project)
    logged_in(client, user)
    client.get(url(project))  # the first call computes gold
    with django_assert_max_num_queries(20):  # whatever the project's size
        response = client.get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<!doctype html>" in html and 'id="span-card"' in html
    assert f'name="span" value="{s[1]}"' in html  # three ratings: first
    assert '<strong class="waiting-count">3</strong>' in html
    for name in ("coder1", "coder2", "coder3"):
        assert f'<th scope="row" class="coder-name">{name}</th>' in html
    assert "not sure about this one" in html and "uncertain" in html
    assert 'data-keys="1"' in html and "<kbd>Enter</kbd>" in html
    assert "coding.js" in html


def test_htmx_get_is_the_card_partial(client, project):
    logged_in(client, member(project, "boss", Membership.Role.REVIEWER))
    response = client.get(url(project), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="span-card"')
    assert "<!doctype html>" not in html


def test_permissions(client, project):
    from django.contrib.auth.models import User

    coder = User.objects.get(username="coder1")
    for target in (url(project), url(project, name="project-adjudicate-decided")):
        assert logged_in(client, coder).get(target).status_code == 403
        client.logout()
        response = client.get(target)
        assert response.status_code == 302 and "/login/" in response["Location"]
    # A reviewer of another project does not find this one.
    other = make_project(documents=1, spans_per_document=2)
    outsider = member(other, "outsider", Membership.Role.REVIEWER)
    assert logged_in(client, outsider).get(url(project)).status_code == 404
    response = client.post(url(project), {"span": spans(project)[0], "topic": "arms"})
    assert response.status_code == 404
    assert not GoldLabel.objects.filter(method="adjudicated").exists()
    client.logout()
    assert logged_in(client, coder).post(url(project), {}).status_code == 403


def test_deciding_without_javascript_redirects_to_the_queue(client, project):
    user = member(project, "boss", Membership.Role.REVIEWER)
    s = spans(project)
    logged_in(client, user)
    response = client.post(
        url(project), {"span": s[1], "topic": "other", "stance": "neutral", "note": "x"}
    )
    assert response.status_code == 303 and response["Location"] == url(project)
    label = GoldLabel.objects.get(project=project, span_id=s[1], dimension__key="topic")
    assert (label.method, label.category.key, label.note, label.decided_by) == (
        "adjudicated",
        "other",
        "x",
        user,
    )
    # Stance was unanimous and unchanged: still the rule's label.
    stance = GoldLabel.objects.get(
        project=project, span_id=s[1], dimension__key="stance"
    )
    assert stance.method == "unanimous"
    assert "Decided." in client.get(url(project)).content.decode()


def test_deciding_with_htmx_swaps_in_the_next_span(
    client, project, django_assert_max_num_queries
):
    user = member(project, "boss", Membership.Role.MANAGER)
    s = spans(project)
    logged_in(client, user)
    client.get(url(project))  # gold computed
    with django_assert_max_num_queries(40):  # one dimension decided, next card
        response = client.post(
            url(project),
            {"span": s[1], "topic": "arms", "stance": "neutral"},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<section")
    assert "Decided." in html
    assert f'name="span" value="{s[0]}"' in html  # next: 2 ratings, reading order
    assert url(project, s[1], name="project-adjudicate-span") in html


def test_invalid_choice_comes_back_in_place(client, project):
    logged_in(client, member(project, "boss", Membership.Role.REVIEWER))
    s = spans(project)
    response = client.post(
        url(project), {"span": s[1], "stance": "neutral"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    # The coders' validator and its words (annotator.services.labels).
    assert "Topic: choose a category (required)." in html
    assert f'name="span" value="{s[1]}"' in html
    response = client.post(
        url(project),
        {"span": s[1], "topic": ["arms", "trade"], "stance": "neutral"},
        HTTP_HX_REQUEST="true",
    )
    assert "choose one category, not 2" in response.content.decode()
    assert not GoldLabel.objects.filter(method="adjudicated").exists()


def test_reopen_shows_history_and_revises(
    client, project, django_assert_max_num_queries
):
    user = member(project, "boss", Membership.Role.REVIEWER)
    s = spans(project)
    logged_in(client, user)
    decision = {"span": s[0], "stance": "neutral", "tags": ["quote"]}
    assert client.post(url(project), {**decision, "topic": "arms"}).status_code == 303
    revision = {**decision, "topic": "trade", "note": "on reflection"}
    assert client.post(url(project), revision).status_code == 303
    response = client.get(url(project, s[0], name="project-adjudicate-span"))
    html = response.content.decode()
    assert response.status_code == 200 and "reopened" in html
    assert "on reflection" in html and "History" in html
    # The history names categories by their labels, not their keys.
    history = html[html.index('class="history"') :]
    assert "Arms (adjudicated)" in history and "→ Trade" in history
    assert GoldLabelRevision.objects.filter(gold_label__span_id=s[0]).count() == 2
    label = GoldLabel.objects.get(project=project, span_id=s[0], dimension__key="topic")
    assert label.category.key == "trade"
    with django_assert_max_num_queries(9):  # one page, whatever its rows
        listing = client.get(url(project, name="project-adjudicate-decided"))
    assert listing.status_code == 200
    reopen_url = url(project, s[0], name="project-adjudicate-span")
    assert reopen_url in listing.content.decode()


def test_later_puts_a_span_off(client, project):
    logged_in(client, member(project, "boss", Membership.Role.REVIEWER))
    s = spans(project)
    html = client.get(url(project) + f"?skip={s[1]}").content.decode()
    assert f'name="span" value="{s[0]}"' in html
    assert f"?skip={s[1]}%2C{s[0]}" in html  # the next "Later" puts off both
    html = client.get(url(project) + f"?skip={s[1]},{s[0]}").content.decode()
    assert f'name="span" value="{s[3]}"' in html
    assert client.get(url(project) + "?skip=x").status_code == 400
    assert client.get(url(project) + "?below=2").status_code == 400


def test_everything_settled_says_so(client, project):
    user = member(project, "boss", Membership.Role.REVIEWER)
    logged_in(client, user)
    refresh_gold(project)
    for item in list(adjudication_queue(project)):
        for key in ("topic", "stance", "tags"):
            from annotator.gold import adjudicate

            choice = [] if key == "tags" else ("arms" if key == "topic" else "neutral")
            adjudicate(project, item.span_id, key, choice, reviewer=user)
    html = client.get(url(project)).content.decode()
    assert "Nothing to settle" in html
    assert WorkItem.objects.filter(project=project).exists()


def test_a_bad_gold_setting_is_said_on_the_page(client, project):
    project.gold_methods = ["model", "model"]
    project.save()
    logged_in(client, member(project, "boss", Membership.Role.MANAGER))
    response = client.get(url(project))
    assert response.status_code == 200
    page = response.content.decode()
    assert "gold_methods entry 2, &#x27;model&#x27;, is listed twice" in page
