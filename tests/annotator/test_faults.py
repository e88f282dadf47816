"""Faults on PostgreSQL, against a real gunicorn: a database connection killed in the
middle of a submit, a worker killed in the middle of a request, an import killed
halfway. Each time: the app goes on without a restart and no partial rows remain.

To hit "the middle" deterministically, the test holds a row lock the submit needs
(the assignment's, FOR UPDATE), waits until the app's backend is queued on it, and
only then kills the backend or the worker.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from django.db import connection

from annotator.models import Annotation, AnnotationRevision, Assignment, Label
from corpus.models import Corpus, Document, Span
from tests.factories import PASSWORD, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
WAIT = 20  # seconds: the bound of every wait loop here


def database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def admin_connection():
    """A connection of the test's own, outside Django (locks, pg_terminate_backend)."""
    import psycopg

    return psycopg.connect(database_url(), autocommit=True)


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up after {WAIT} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        probe.request("GET", "/healthz")
        return probe.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture
def server():
    """gunicorn (one sync worker) on the test database; the process group is stopped
    however the test ends."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "fault-tests-" + "s" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "REQUEST_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "annotator.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            # One sync worker, whatever gunicorn.conf.py says (threads > 1 would turn
            # it into gthread): a request is then one process with one database
            # connection, the thing these tests kill.
            "--worker-class",
            "sync",
            "--threads",
            "1",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(lambda: process.poll() is not None or healthy(port), "gunicorn")
        assert process.poll() is None, "gunicorn exited"
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class Browser:
    """A coder's browser: session cookie, CSRF cookie, one keep-alive connection."""

    def __init__(self, port: int, user) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        _, page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        status, _ = self.request(
            "POST",
            "/login/",
            {
                "csrfmiddlewaretoken": token,
                "username": user.username,
                "password": PASSWORD,
            },
        )
        assert status == 302, "the coder could not log in"

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = b""
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, text

    def coding_form(self, project) -> dict:
        """Open the coding page (which claims a span) and fill in its form."""
        status, html = self.request("GET", f"/projects/{project.pk}/code/")
        assert status == 200, html[:500]

        def field(name):
            return re.search(rf'name="{name}" value="([^"]+)"', html)[1]

        return {
            "csrfmiddlewaretoken": field("csrfmiddlewaretoken"),
            "assignment": field("assignment"),
            "token": field("token"),
            "topic": "trade",
            "stance": "friendly",
        }


@contextmanager
def assignment_locked(assignment_id: int):
    """Hold the assignment's row lock until the block ends; yields the admin link."""
    with admin_connection() as admin:
        admin.execute("BEGIN")
        admin.execute(
            "SELECT 1 FROM annotator_assignment WHERE id = %s FOR UPDATE",
            [assignment_id],
        )
        try:
            yield admin
        finally:
            admin.execute("ROLLBACK")


def waiting_backend(admin) -> int | None:
    """The pid of a backend of this database queued on a row lock, if any."""
    row = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    ).fetchone()
    return row[0] if row else None


def in_background(call):
    result: dict = {}

    def run():
        try:
            result["value"] = call()
        except Exception as error:  # the test inspects what the client saw
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def no_partial_rows(project) -> None:
    """Every annotation has its labels; no label or revision without an annotation."""
    annotations = Annotation.objects.filter(project=project)
    for annotation in annotations:
        assert Label.objects.filter(annotation=annotation).count() == 2
    assert Label.objects.filter(project=project).count() == 2 * annotations.count()
    assert not AnnotationRevision.objects.exclude(annotation__in=annotations).exists()
    done = Assignment.objects.filter(project=project, status="completed")
    assert set(done.values_list("pk", flat=True)) == set(
        annotations.values_list("assignment_id", flat=True)
    )


@pytest.fixture
def project():
    return make_project(documents=2, spans_per_document=3, coders=["ann"])


def test_a_killed_database_connection_mid_submit_keeps_choices_and_retry_works(
    server, project
):
    _, port = server
    ann = project.memberships.get().user
    browser = Browser(port, ann)
    form = browser.coding_form(project)
    path = f"/projects/{project.pk}/code/"

    with assignment_locked(int(form["assignment"])) as admin:
        thread, seen = in_background(lambda: browser.request("POST", path, form))
        victim = wait_for(lambda: waiting_backend(admin), "the submit to queue")
        admin.execute("SELECT pg_terminate_backend(%s)", [victim])
    thread.join(WAIT)

    status, html = seen["value"]
    assert status == 200
    assert "could not save this annotation; nothing was saved" in html
    assert re.search(r'value="trade"[^>]*\bchecked', html)  # the choices are kept
    assert re.search(r'value="friendly"[^>]*\bchecked', html)
    assert not Annotation.objects.filter(project=project).exists()
    no_partial_rows(project)

    # The same worker, without a restart, saves the retried submit exactly once.
    status, _ = browser.request("POST", path, form)
    assert status == 303
    assert healthy(port)
    annotation = Annotation.objects.get(project=project)
    assert annotation.assignment_id == int(form["assignment"])
    assert set(annotation.labels.values_list("category__key", flat=True)) == {
        "trade",
        "friendly",
    }
    no_partial_rows(project)


def test_a_worker_killed_mid_request_leaves_no_partial_rows(server, project):
    process, port = server
    ann = project.memberships.get().user
    browser = Browser(port, ann)
    form = browser.coding_form(project)
    path = f"/projects/{project.pk}/code/"
    (worker,) = psutil.Process(process.pid).children()

    with assignment_locked(int(form["assignment"])) as admin:
        thread, seen = in_background(lambda: browser.request("POST", path, form))
        victim = wait_for(lambda: waiting_backend(admin), "the submit to queue")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(WAIT)
    thread.join(WAIT)
    assert "error" in seen  # the connection dropped: no answer, not a false 2xx

    def backend_gone():
        with admin_connection() as admin:
            return not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [victim]
            ).fetchone()

    wait_for(backend_gone, "PostgreSQL to end the dead worker's session")
    assert not Annotation.objects.filter(project=project).exists()
    no_partial_rows(project)

    # gunicorn's master starts a new worker; the retried submit is saved once.
    wait_for(lambda: healthy(port), "the new worker")
    status, _ = browser.request("POST", path, form)
    assert status == 303
    assert Annotation.objects.filter(project=project).count() == 1
    no_partial_rows(project)


def test_an_import_killed_halfway_leaves_nothing(tmp_path):
    source = tmp_path / "many.jsonl"
    with source.open("w") as out:
        for number in range(40_000):
            text = f"Document {number} opens.\n\n" + "Another paragraph here. " * 20
            out.write(json.dumps({"title": f"Doc {number}", "text": text}) + "\n")
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "1"}
    importer = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_corpus",
            str(source),
            "--corpus",
            "Interrupted",
            "--no-progress",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with admin_connection() as admin:

            def copying():
                return admin.execute(
                    "SELECT 1 FROM pg_stat_progress_copy p JOIN pg_database d "
                    "ON d.oid = p.datid WHERE d.datname = current_database() "
                    "AND p.tuples_processed > 0"
                ).fetchone()

            wait_for(lambda: importer.poll() is not None or copying(), "a COPY")
            assert importer.poll() is None, "the import ended before it was killed"
            os.killpg(importer.pid, signal.SIGKILL)
            importer.wait(WAIT)
    finally:
        if importer.poll() is None:
            os.killpg(importer.pid, signal.SIGKILL)
            importer.wait(WAIT)

    def settled():
        with admin_connection() as admin:
            return not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
                " AND application_name <> 'pytest'"
                " AND query NOT LIKE '%%pg_stat_activity%%'"
            ).fetchone()

    wait_for(settled, "PostgreSQL to roll the import back")
    assert not Corpus.objects.filter(name="Interrupted").exists()
    assert not Document.objects.exists()
    assert not Span.objects.exists()
