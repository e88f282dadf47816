import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from annotator.demo import DEMO_USERS
from corpus.models import Corpus, Document, Span


@pytest.mark.django_db
def test_load_demo_prints_logins_and_is_idempotent(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/" in out
    for demo in DEMO_USERS:
        assert f"{demo.username}" in out and demo.password in out
        assert authenticate(username=demo.username, password=demo.password)
    counts = (Corpus.objects.count(), Document.objects.count(), Span.objects.count())
    assert counts[1] == 5
    call_command("load_demo")
    assert "5 duplicate(s) skipped" in capsys.readouterr().out
    assert (
        Corpus.objects.count(),
        Document.objects.count(),
        Span.objects.count(),
    ) == counts


PRINT_SETTINGS = (
    "import annotator.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
)


PRINT_SETTINGS = (
    "import annotator.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
)


def settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean.pop("PYTEST_VERSION", None)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret():
    result = settings_in_subprocess({"DEBUG": "0"})
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_placeholder_secret():
    result = settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": "django-insecure-abc"})
    assert result.returncode != 0 and "placeholder" in result.stderr


def test_production_starts_with_a_real_secret_and_postgres_url():
    result = settings_in_subprocess(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.postgresql"]


def test_debug_mode_runs_without_a_secret_on_sqlite():
    result = settings_in_subprocess({"DEBUG": "1", "DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"]
