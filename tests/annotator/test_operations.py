"""Production serving: health check, request log, security headers, the deploy check,
login throttling, CSRF on every state-changing page, and the size limits."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator.services import set_membership
from corpus.importing import ImportFailed, import_documents, read_upload
from corpus.models import Corpus, Document
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project():
    project = make_project(documents=2, spans_per_document=2, coders=["ann", "bob"])
    return project


@pytest.fixture
def staff_manager(project):
    from annotator.demo import managers_group

    user = UserFactory(username="boss", is_staff=True)
    user.groups.add(managers_group())
    set_membership(project=project, user=user, role="manager")
    return user


def coder_of(project, name="ann"):
    return project.memberships.get(user__username=name).user


# --- health and logs -----------------------------------------------------------------


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from annotator.views import corpora

    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(corpora.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_every_request_logs_one_line_with_status_and_duration(client, caplog):
    logger = logging.getLogger("annotator.requests")
    logger.addHandler(caplog.handler)  # the logger does not propagate to the root
    try:
        with caplog.at_level(logging.INFO, logger="annotator.requests"):
            client.get("/healthz")
            client.get("/no/such/page/")
    finally:
        logger.removeHandler(caplog.handler)
    lines = [r.getMessage() for r in caplog.records if r.name == "annotator.requests"]
    assert len(lines) == 2
    assert re.fullmatch(
        r"method=GET path=/healthz status=200 duration_ms=\d+\.\d user=-", lines[0]
    )
    assert "path=/no/such/page/ status=404" in lines[1]


def test_the_request_log_goes_to_stdout():
    from django.conf import settings

    handler = settings.LOGGING["handlers"]["requests"]
    assert handler["stream"] == "ext://sys.stdout"


# --- security headers and the deploy check -------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)


def test_pages_send_a_strict_content_security_policy(client, project, staff_manager):
    client.force_login(staff_manager)
    response = client.get(reverse("project-detail", args=[project.pk]))
    policy = response.headers["Content-Security-Policy"]
    parts = [part.split() for part in policy.split(";") if part.strip()]
    directives = {part[0]: part[1:] for part in parts}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_page_needs_inline_script_or_style(client, project, staff_manager):
    """What the CSP would block: inline <script>, style attributes, on…= handlers."""
    ann = coder_of(project)
    pages = {
        None: ["login"],
        staff_manager: [
            "home",
            ("project-detail", project.pk),
            ("project-agreement", project.pk),
            ("project-members", project.pk),
            "project-create",
            "corpus-list",
            "corpus-import",
        ],
        ann: [("project-code", project.pk), ("project-code-recent", project.pk)],
    }
    checked = 0
    for user, names in pages.items():
        browser = Client()
        if user:
            browser.force_login(user)
        for name in names:
            name, *args = name if isinstance(name, tuple) else (name,)
            response = browser.get(reverse(name, args=args))
            assert response.status_code == 200, name
            html = response.text
            assert not INLINE_SCRIPT.search(html), name
            assert not STYLE_ATTRIBUTE.search(html), name
            assert not INLINE_HANDLER.search(html), name
            checked += 1
    assert checked == 10


def test_the_api_docs_page_loads_its_script_from_a_url(client, coder):
    client.force_login(coder)
    html = client.get(reverse("api-docs")).text
    assert not INLINE_SCRIPT.search(html)
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "PYTEST_VERSION",
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="a-production-secret-" + "k" * 40,
        ALLOWED_HOSTS="annotator.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


# --- login throttling ----------------------------------------------------------------


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_failed_logins_are_throttled(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="mallory-target")
    UserFactory(username="bystander")
    for _ in range(2):
        response = log_in(client, "mallory-target", "wrong")
        assert response.status_code == 200
        assert "didn't match" in response.text
    locked = log_in(client, "mallory-target", "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text
    assert "mallory-target" in locked.text
    # Locked out: even the right password is refused, and no session is made.
    again = log_in(client, "mallory-target", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not affected.
    other = log_in(client, "bystander", PASSWORD)
    assert other.status_code == 302


def test_a_successful_login_resets_the_failure_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="forgetful")
    for _ in range(2):
        log_in(client, "forgetful", "wrong")
    assert log_in(client, "forgetful", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert log_in(client, "forgetful", "wrong").status_code == 200
    assert log_in(client, "forgetful", PASSWORD).status_code == 302


# --- CSRF ----------------------------------------------------------------------------


def test_every_state_changing_page_refuses_a_post_without_csrf_token(
    project, staff_manager
):
    from annotator.services import claim_next_span, submit_annotation

    ann = coder_of(project)
    assignment = claim_next_span(project=project, coder=ann)
    submit_annotation(
        coder=ann,
        assignment=assignment.pk,
        labels={"topic": "arms", "stance": "neutral"},
    )
    posts = {
        None: [reverse("login")],
        staff_manager: [
            reverse("logout"),
            reverse("corpus-import"),
            reverse("project-create"),
            reverse("project-members", args=[project.pk]),
        ],
        ann: [
            reverse("project-code", args=[project.pk]),
            reverse("project-code-skip", args=[project.pk]),
            reverse("project-code-revise", args=[project.pk, assignment.pk]),
            reverse("api-claim", args=[project.pk]),  # session auth: CSRF applies
        ],
    }
    for user, urls in posts.items():
        browser = Client(enforce_csrf_checks=True)
        if user:
            browser.force_login(user)
        for url in urls:
            response = browser.post(url, {"anything": "1"})
            assert response.status_code == 403, url
            if not url.startswith("/api/"):
                assert "CSRF" in response.text, url


def test_the_api_with_a_token_needs_no_csrf_token(project):
    ann = coder_of(project)
    token, _ = Token.objects.get_or_create(user=ann)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        reverse("api-claim", args=[project.pk]),
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200


# --- size limits ---------------------------------------------------------------------


def test_an_oversized_api_body_is_refused_with_413_before_it_is_read(
    client, project, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    ann = coder_of(project)
    token, _ = Token.objects.get_or_create(user=ann)
    response = client.post(
        reverse("api-claim", args=[project.pk]),
        data=b"{" + b" " * 2000 + b"}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is 2,002 bytes; at most 1,000 bytes are accepted."
    }


def test_an_oversized_upload_is_refused_with_a_clear_message(client, manager, settings):
    settings.CORPUS_UPLOAD_MAX_BYTES = 100
    client.force_login(manager)
    big = io.BytesIO(b"text\n" + b"x" * (1024 * 1024 + 500) + b"\n")
    big.name = "big.csv"
    response = client.post(reverse("corpus-import"), {"files": big, "corpus": "Big"})
    assert response.status_code == 413
    assert "The upload is" in response.text
    assert "at most 100 bytes" in response.text
    assert "manage.py import_corpus" in response.text
    assert not Corpus.objects.filter(name="Big").exists()


def test_an_upload_over_the_per_file_limit_is_named_by_the_form(
    client, manager, settings
):
    settings.CORPUS_UPLOAD_MAX_BYTES = 100
    client.force_login(manager)
    upload = io.BytesIO(b"text\n" + b"x" * 200 + b"\n")
    upload.name = "medium.csv"
    response = client.post(
        reverse("corpus-import"), {"files": upload, "new_corpus": "Medium"}
    )
    assert response.status_code == 200
    assert "medium.csv: 206 bytes is over the 100-byte limit" in response.text


def jsonl(lines: list[str], name: str = "docs.jsonl"):
    return read_upload(io.BytesIO("\n".join(lines).encode() + b"\n"), name)


def test_an_import_over_the_record_limit_names_the_line_and_stores_nothing(settings):
    settings.CORPUS_IMPORT_MAX_RECORDS = 2
    corpus = Corpus.objects.create(name="Limited")
    records = jsonl([f'{{"text": "Document number {n}."}}' for n in range(3)])
    with pytest.raises(ImportFailed) as failure:
        import_documents(corpus=corpus, records=records)
    assert str(failure.value) == (
        "docs.jsonl, line 3: more than 2 records in one import; split the corpus "
        "and import the parts one after another."
    )
    assert not Document.objects.filter(corpus=corpus).exists()


def test_a_line_over_the_byte_limit_is_refused_without_reading_it_whole(settings):
    settings.CORPUS_IMPORT_MAX_LINE_BYTES = 100
    corpus = Corpus.objects.create(name="Long lines")
    records = jsonl(['{"text": "short"}', '{"text": "' + "y" * 500 + '"}'])
    with pytest.raises(ImportFailed) as failure:
        import_documents(corpus=corpus, records=records)
    assert str(failure.value) == (
        "docs.jsonl, line 2: the line is longer than 100 bytes; is this a corpus file?"
    )
    assert not Document.objects.filter(corpus=corpus).exists()


def test_a_document_over_the_size_limit_names_its_field(settings):
    settings.CORPUS_IMPORT_MAX_FIELD_CHARS = 50
    corpus = Corpus.objects.create(name="Big documents")
    records = jsonl(['{"text": "' + "z" * 60 + '"}'])
    with pytest.raises(ImportFailed) as failure:
        import_documents(corpus=corpus, records=records)
    assert str(failure.value) == (
        "docs.jsonl, line 1, field 'text': 60 characters; at most 50 are allowed in "
        "one document."
    )
    too_big_txt = read_upload(io.BytesIO(b"w" * 300), "huge.txt")
    with pytest.raises(ImportFailed, match="huge.txt, field 'text': the file is over"):
        import_documents(corpus=corpus, records=too_big_txt)
