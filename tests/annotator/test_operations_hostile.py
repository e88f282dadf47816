"""Hostile operations: body limits by URL and user, what /healthz tells strangers,
the token page's caching, and the per-address login limit."""

from __future__ import annotations

import io

import pytest
from django.db import OperationalError
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse

from corpus.models import Document
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture
def parsed(monkeypatch):
    """Counts multipart bodies Django starts to parse."""
    calls: list[int] = []
    real = MultiPartParser.parse

    def counted(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(MultiPartParser, "parse", counted)
    return calls


def upload(size: int, name: str = "big.csv") -> io.BytesIO:
    data = io.BytesIO(b"text\n" + b"x" * size + b"\n")
    data.name = name
    return data


# --- body limits ---------------------------------------------------------------------


def test_an_anonymous_20_mb_multipart_login_is_refused_unread(client, parsed):
    response = client.post(
        reverse("login"), {"username": "a", "password": "b", "f": upload(20 * MB)}
    )
    assert response.status_code == 413
    assert "at most 10,485,760 bytes" in response.text
    assert parsed == []


def test_multipart_to_any_other_url_gets_the_form_limit(client, manager, parsed):
    # Even a manager: only the import page takes large uploads.
    client.force_login(manager)
    response = client.post(reverse("project-create"), {"f": upload(11 * MB)})
    assert response.status_code == 413 and parsed == []


def test_only_importers_may_send_a_large_upload_to_the_import_page(
    client, settings, parsed
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    coder = UserFactory(username="coder-uploader")
    client.force_login(coder)
    response = client.post(
        reverse("corpus-import"), {"files": upload(5000), "new_corpus": "Nope"}
    )
    assert response.status_code == 413
    assert "at most 1,000 bytes" in response.text and parsed == []
    client.logout()
    anonymous = client.post(reverse("corpus-import"), {"files": upload(5000)})
    assert anonymous.status_code == 413 and parsed == []


def test_a_manager_imports_a_file_over_the_form_limit(client, manager, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(manager)
    text = b"text\n" + b"\n".join(
        f'"Document {n}: {"words " * 20}"'.encode() for n in range(60)
    )
    assert len(text) > 5000
    data = io.BytesIO(text + b"\n")
    data.name = "docs.csv"
    response = client.post(
        reverse("corpus-import"),
        {"files": data, "new_corpus_name": "Large", "segmentation": "none"},
    )
    assert response.status_code == 303, response.content[:500]
    assert Document.objects.filter(corpus__name="Large").count() == 60


def test_a_chunked_body_without_length_is_refused(client):
    response = client.post(
        reverse("login"),
        {"username": "a", "password": "b"},
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.text


# --- /healthz, the token page --------------------------------------------------------


def test_healthz_tells_an_anonymous_caller_nothing_about_the_database(
    client, monkeypatch, caplog
):
    from annotator.views import corpora

    secret = 'connection to server at "db.internal" (10.0.0.7), port 5433 failed'

    def broken_cursor():
        raise OperationalError(secret)

    monkeypatch.setattr(corpora.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "db.internal" not in response.text and "5433" not in response.text
    assert secret in caplog.text  # the operator still finds it in the log


@pytest.mark.parametrize("htmx", [False, True])
def test_the_token_page_is_never_cached(client, htmx):
    client.force_login(UserFactory(username="scripter"))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for response in (
        client.get(reverse("api-token"), **headers),
        client.post(reverse("api-token"), {"action": "create"}, **headers),
    ):
        assert "no-store" in response["Cache-Control"], response.status_code
    page = client.get(reverse("api-token"), **headers)
    assert page.status_code == 200
    assert ("<html" in page.text.lower()) is not htmx


# --- login throttling ----------------------------------------------------------------


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_failures_across_usernames_lock_the_address(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    for name in ("alice", "bob", "carol"):
        UserFactory(username=name)
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    for name in ("alice", "alice", "bob", "bob"):  # under 3 for each username
        assert log_in(sprayer, name, "wrong").status_code == 200
    locked = log_in(sprayer, "carol", PASSWORD)
    assert locked.status_code == 429
    assert "from this address, for any username" in locked.text
    assert "_auth_user_id" not in sprayer.session
    # Another address is not affected.
    assert (
        log_in(Client(REMOTE_ADDR="198.51.100.2"), "carol", PASSWORD).status_code == 302
    )
