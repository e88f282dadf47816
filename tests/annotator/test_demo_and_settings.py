import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from annotator.demo import DEMO_USERS, SIMULATED_PROJECT
from annotator.models import Annotation, Assignment, Project, WorkItem
from annotator.training import pool
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


@pytest.mark.django_db
def test_demo_has_a_simulated_project_coded_to_its_design_and_loads_once(capsys):
    call_command("load_demo")
    simulated = Project.objects.get(name=SIMULATED_PROJECT)
    items = WorkItem.objects.filter(project=simulated)
    # Coded to the end: every place taken by a finished coding, none over its design.
    assert all(item.taken == item.target for item in items)
    annotations = Annotation.objects.for_project(simulated)
    assert annotations.count() == simulated.total_codings
    assert set(annotations.values_list("assignment__coder__username", flat=True)) == {
        "sim-ana",
        "sim-boris",
        "sim-chen",
    }
    assert not Assignment.objects.filter(project=simulated, status="claimed").exists()
    # The real demo project's queue is untouched, so people can try the coding screen.
    # (sim-dana's hidden checks are claims in the simulated project's reference pool.)
    assert not Annotation.objects.exclude(
        assignment__project__in=pool.own_ids(simulated)
    ).exists()
    before = annotations.count()
    call_command("load_demo")
    assert Annotation.objects.for_project(simulated).count() == before
    assert "simulated coders" in capsys.readouterr().out


PRINT_SETTINGS = (
    "import annotator.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
)


PRINT_SETTINGS = (
    "import annotator.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
)


def settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean.pop("PYTEST_VERSION", None)
    # A developer's .env.local (written by `dev.py demo`) must not change the answer.
    clean["ANNOTATOR_ENV_FILE"] = ""
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
