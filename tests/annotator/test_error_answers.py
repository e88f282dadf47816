"""Error answers: pages in the site's layout, fragments for htmx, JSON under /api/.

A signed-out htmx request gets a 401 sign-in card, never the login page nested in
the span card; 403/404/500 to htmx are fragments with the reason; the database
down is a 503 in each form, and a line at ERROR in the request log.
"""

import logging
import re
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator.models import Annotation, Assignment
from annotator.services import claim_next_span
from annotator.views import coding
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
NOT_SAVED = "Could not save — your choices are kept. Try again (press Enter)."


@pytest.fixture
def project():
    return make_project(documents=2, spans_per_document=2, coders=["c1", "c2"])


@pytest.fixture
def c1(client, project):
    client.force_login(User.objects.get(username="c1"))
    return client


def code_url(project):
    return reverse("project-code", args=[project.pk])


def held(project, name="c1"):
    return Assignment.objects.live().get(project=project, coder__username=name)


def is_fragment(response):
    """An htmx answer: a small piece of HTML, never a whole document."""
    text = response.text
    return "<html" not in text and "<body" not in text and "topbar" not in text


def has_layout(response):
    """A page in the site's layout: the top bar, and a link home."""
    return 'class="topbar"' in response.text and 'href="/"' in response.text


@contextmanager
def database_down():
    """Every new cursor fails as a refused connection does (psycopg's error, as
    Django wraps it)."""

    def refuse(self):
        raise OperationalError("connection refused: is the server running?")

    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", refuse):
        yield


@contextmanager
def request_log(caplog):
    logger = logging.getLogger("annotator.requests")
    logger.addHandler(caplog.handler)  # it does not propagate to the root
    caplog.clear()
    try:
        with caplog.at_level(logging.INFO, logger="annotator.requests"):
            yield
    finally:
        logger.removeHandler(caplog.handler)


def log_lines(caplog):
    return [r for r in caplog.records if r.name == "annotator.requests"]


# --- signed out -----------------------------------------------------------------------


def test_a_signed_out_htmx_submit_gets_a_sign_in_card_not_the_login_page(c1, project):
    c1.get(code_url(project))
    assignment = held(project)
    c1.logout()  # in another tab, or the session expired overnight
    response = c1.post(
        code_url(project),
        {"assignment": assignment.pk, "topic": "arms", "stance": "friendly"},
        headers=HX,
    )
    assert response.status_code == 401
    assert is_fragment(response)
    assert "You were signed out." in response.text
    assert "Your choices are kept" in response.text
    form = re.search(r"<form[^>]*data-inline-login[^>]*>", response.text).group(0)
    assert f'action="{reverse("login")}"' in form
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert f'value="{reverse("signed-in")}"' in response.text
    assert not Annotation.objects.exists()


def test_a_signed_out_page_still_goes_to_the_login_page(client, project):
    response = client.get(code_url(project))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["project-code-recent", "project-agreement"])
def test_every_login_required_view_answers_htmx_with_the_card(client, project, name):
    response = client.get(reverse(name, args=[project.pk]), headers=HX)
    assert response.status_code == 401 and is_fragment(response)


def test_signing_in_from_the_card_answers_the_new_csrf_token(client, project):
    card = client.post(code_url(project), {}, headers=HX)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card.text)[1]
    client = same_session(client, enforce_csrf_checks=True)
    response = client.post(
        reverse("login"),
        {
            "username": "c1",
            "password": PASSWORD,
            "next": reverse("signed-in"),
            "csrfmiddlewaretoken": token,
        },
        follow=True,
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["username"] == "c1" and answer["csrf_token"]
    # The new token is the one the next submit needs: the sign-in rotated it.
    client.get(code_url(project))
    submit = client.post(
        code_url(project),
        {"assignment": held(project).pk, "topic": "arms", "stance": "friendly"},
        headers={**HX, "X-CSRFToken": answer["csrf_token"]},
    )
    assert submit.status_code == 200 and "Saved." in submit.text


# --- 403, 404, 500 --------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_403_to_htmx_is_a_fragment_with_the_reason(c1, project, settings, debug):
    settings.DEBUG = debug
    response = c1.get(reverse("project-agreement", args=[project.pk]), headers=HX)
    assert response.status_code == 403 and is_fragment(response)
    assert "Coders code blind: agreement is for reviewers" in response.text


def test_403_page_has_the_layout_a_link_home_and_the_reason(c1, project):
    response = c1.get(reverse("project-agreement", args=[project.pk]))
    assert response.status_code == 403 and has_layout(response)
    assert "Coders code blind: agreement is for reviewers" in response.text


@pytest.mark.parametrize("debug", [False, True])
def test_404_to_htmx_is_a_fragment_with_the_reason(c1, project, settings, debug):
    settings.DEBUG = debug
    response = c1.get(reverse("project-code", args=[project.pk + 99]), headers=HX)
    assert response.status_code == 404 and is_fragment(response)
    assert "No such project." in response.text


def test_404_pages_have_the_layout_and_say_what_is_missing(c1, project):
    response = c1.get(reverse("project-code", args=[project.pk + 99]))
    assert response.status_code == 404 and has_layout(response)
    assert "No such project." in response.text
    response = c1.get("/no/such/page/")
    assert response.status_code == 404 and has_layout(response)
    assert "There is nothing at this address." in response.text
    assert "tried" not in response.text  # not the resolver's list of patterns


def test_unknown_api_addresses_answer_json(c1):
    response = c1.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing at this address."}


def same_session(client, **options):
    """Another test client (CSRF enforced, or exceptions answered rather than
    raised) in the same session."""
    other = Client(**options)
    other.cookies = client.cookies
    return other


def broken_server(client, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(coding, "coder_progress", fail)
    return same_session(client, raise_request_exception=False)


def test_500_to_htmx_is_a_fragment(c1, project, monkeypatch, caplog):
    client = broken_server(c1, monkeypatch)
    with request_log(caplog):
        response = client.get(code_url(project), headers=HX)
    assert response.status_code == 500 and is_fragment(response)
    assert "Something went wrong on the server" in response.text
    (line,) = log_lines(caplog)
    assert line.levelno == logging.ERROR
    assert (
        "status=500" in line.getMessage() and "error=RuntimeError" in line.getMessage()
    )


def test_500_page_has_the_layout_and_a_link_home(c1, project, monkeypatch):
    response = broken_server(c1, monkeypatch).get(code_url(project))
    assert response.status_code == 500 and has_layout(response)
    assert "Something went wrong on the server" in response.text


def test_production_pages_render_without_a_request(client):
    """Django's own handlers find these by name; 500 and 503 need no context."""
    from django.template.loader import render_to_string

    for name, words in [
        ("500.html", "Something went wrong"),
        ("503.html", "The database is unavailable"),
    ]:
        html = render_to_string(name)
        assert words in html and 'href="/"' in html and 'class="topbar"' in html


# --- CSRF -----------------------------------------------------------------------------


def test_a_stale_csrf_token_is_explained_and_the_current_one_given(c1, project):
    client = same_session(c1, enforce_csrf_checks=True)
    client.get(code_url(project))  # sets the CSRF cookie
    data = {"assignment": held(project).pk, "topic": "arms"}
    stale = {"X-CSRFToken": "x" * 64}
    response = client.post(code_url(project), data, headers={**HX, **stale})
    assert response.status_code == 403 and is_fragment(response)
    assert "Your session changed" in response.text
    token = re.search(r'data-csrf-token="([^"]+)"', response.text)[1]
    retried = client.post(code_url(project), data, headers={**HX, "X-CSRFToken": token})
    assert retried.status_code == 200
    page = client.post(code_url(project), data, headers=stale)
    assert page.status_code == 403 and has_layout(page)
    assert "reload the page" in page.text.lower()


# --- the database down ----------------------------------------------------------------


def api_addresses(project, assignment):
    p, a = project.pk, assignment.pk
    return [
        reverse("api-project-list"),
        reverse("api-project-detail", args=[p]),
        reverse("api-claim", args=[p]),
        reverse("api-my-annotations", args=[p]),
        reverse("api-submit", args=[a]),
        reverse("api-skip", args=[a]),
        reverse("api-unskip", args=[a]),
        reverse("api-project-agreement", args=[p]),
        reverse("api-gold", args=[p]),
        reverse("api-gold-csv", args=[p]),
        reverse("api-annotations-jsonl", args=[p]),
    ]


@pytest.mark.parametrize("debug", [False, True])
def test_every_api_endpoint_answers_json_503_while_the_database_is_down(
    client, project, settings, debug
):
    settings.DEBUG = debug
    coder = User.objects.get(username="c1")
    key = Token.objects.create(user=coder).key
    urls = api_addresses(project, claim_next_span(project=project, coder=coder))
    by_token = {"Authorization": f"Token {key}"}
    client.force_login(coder)  # session authentication fails the same way
    with database_down():
        for url in urls:
            for method in ("get", "post"):
                for headers in (by_token, {}):
                    response = getattr(client, method)(url, headers=headers)
                    assert response.status_code == 503, (url, method, headers)
                    assert response["Content-Type"] == "application/json"
                    assert response.json() == {
                        "detail": "The database is unavailable; nothing was saved. "
                        "Try again shortly."
                    }
                    assert response["Retry-After"] == "30"


def test_a_coding_submit_while_the_database_is_down_keeps_the_choices(
    c1, project, caplog
):
    c1.get(code_url(project))
    assignment = held(project)
    data = {"assignment": assignment.pk, "topic": "arms", "stance": "friendly"}
    with database_down(), request_log(caplog):
        response = c1.post(code_url(project), data, headers=HX)
    assert response.status_code == 503 and is_fragment(response)
    assert NOT_SAVED in response.text
    (line,) = log_lines(caplog)
    assert line.levelno == logging.ERROR
    message = line.getMessage()
    assert f"path={code_url(project)} status=503" in message
    assert message.endswith("user=- error=OperationalError")
    assert not Annotation.objects.exists()


def test_an_htmx_read_while_the_database_is_down_says_it_could_not_load(c1, project):
    with database_down():
        response = c1.get(reverse("project-code-recent", args=[project.pk]), headers=HX)
    assert response.status_code == 503 and is_fragment(response)
    assert "Could not load this: the database is unavailable." in response.text


def test_a_page_while_the_database_is_down_is_a_503_page_in_the_layout(c1, project):
    with database_down():
        response = c1.get(code_url(project))
    assert response.status_code == 503 and has_layout(response)
    assert "The database is unavailable; nothing was saved." in response.text


def test_the_database_down_in_a_middleware_is_a_503_too(client, project):
    """The body-size limit asks who the user is for an upload: the session is read
    in a middleware, before any view (urls.py's handler500 answers it)."""
    manager = UserFactory(username="importer", is_staff=True)
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    with database_down():
        response = client.post(reverse("corpus-import"), {"name": "x"})
    assert response.status_code == 503 and has_layout(response)


def test_pages_load_htmx_without_the_debug_script_that_replaces_the_page(c1, settings):
    settings.DEBUG = True
    response = c1.get(reverse("home"))
    assert "django_htmx/htmx-2.min.js" in response.text
    assert "htmx-errors.js" in response.text
    assert "django-htmx.js" not in response.text


def test_the_error_script_is_served_and_coding_js_defers_to_it(client):
    from django.contrib.staticfiles import finders

    with open(finders.find("annotator/htmx-errors.js"), encoding="utf-8") as file:
        script = file.read()
    assert "htmx:responseError" in script and "htmx:sendError" in script
    assert NOT_SAVED in script  # a 503 with no fragment (a proxy's) says the same
    with open(finders.find("annotator/coding.js"), encoding="utf-8") as file:
        coding_js = file.read()
    assert "htmx:responseError" not in coding_js  # one mechanism, not two
