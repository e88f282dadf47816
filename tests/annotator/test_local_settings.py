"""The demo's local settings file: manage.py works after `dev.py demo`, production
still needs a real SECRET_KEY from its environment."""

import importlib.util
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from annotator.access import MANAGERS_GROUP, MANAGERS_PERMISSIONS

ROOT = settings.BASE_DIR


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def manage_check(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """`manage.py check` as a shell would run it: no pytest, no SECRET_KEY, no DEBUG
    unless given, and the local file only where the test puts it."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "PYTEST_VERSION", "ANNOTATOR_ENV_FILE"}
    }
    clean["ANNOTATOR_ENV_FILE"] = str(tmp_path / "absent.env")
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_works_after_the_demo_wrote_its_local_file(tmp_path):
    local = tmp_path / ".env.local"
    load_dev().write_local_env(local)
    result = manage_check({"ANNOTATOR_ENV_FILE": str(local)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_the_local_file_and_debug_manage_py_asks_for_a_secret(tmp_path):
    result = manage_check({}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_local_file_holds_a_generated_key_and_is_never_overwritten(tmp_path):
    dev = load_dev()
    local = tmp_path / ".env.local"
    dev.write_local_env(local)
    first = local.read_text()
    values = dict(
        line.split("=", 1)
        for line in first.splitlines()
        if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert not values["SECRET_KEY"].startswith("django-insecure")
    dev.write_local_env(local)
    assert local.read_text() == first
    other = tmp_path / "other.env"
    dev.write_local_env(other)
    assert (
        dict(
            line.split("=", 1)
            for line in other.read_text().splitlines()
            if line and not line.startswith("#")
        )["SECRET_KEY"]
        != values["SECRET_KEY"]
    )


def test_the_environment_wins_over_the_local_file(tmp_path):
    local = tmp_path / ".env.local"
    local.write_text(
        "DEBUG=1\nSECRET_KEY=" + "f" * 50 + "\nALLOWED_HOSTS=file.example\n"
    )
    result = manage_check(
        {"ANNOTATOR_ENV_FILE": str(local), "ALLOWED_HOSTS": "env.example"}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import annotator.settings as s; print(s.ALLOWED_HOSTS, s.DEBUG)",
        ],
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"SECRET_KEY", "DEBUG", "PYTEST_VERSION"}
            },
            "ANNOTATOR_ENV_FILE": str(local),
            "ALLOWED_HOSTS": "env.example",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert shown.stdout.split() == ["['env.example']", "True"], shown.stderr


def test_production_ignores_the_local_file_and_refuses_without_a_secret(tmp_path):
    local = tmp_path / ".env.local"
    load_dev().write_local_env(local)
    result = manage_check({"ANNOTATOR_ENV_FILE": str(local), "DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_dev_py_serve_runs_with_production_settings(tmp_path, monkeypatch):
    """`dev.py serve` says DEBUG=0, so the demo's file cannot make it start."""
    dev = load_dev()
    calls = []
    monkeypatch.setattr(dev, "ensure_environment", lambda requirements: None)
    monkeypatch.setattr(dev, "run", lambda *args, env=None: calls.append(env))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    dev.serve([])
    assert calls and all(env["DEBUG"] == "0" for env in calls)
    local = tmp_path / ".env.local"
    dev.write_local_env(local)
    result = manage_check(
        {"ANNOTATOR_ENV_FILE": str(local), "DEBUG": calls[0]["DEBUG"]}, tmp_path
    )
    assert "SECRET_KEY is not set" in result.stderr


def test_the_suite_ignores_the_local_file(tmp_path):
    """`dev.py test` after `dev.py demo` still tests production settings."""
    local = tmp_path / ".env.local"
    load_dev().write_local_env(local)
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    shown = subprocess.run(
        [sys.executable, "-c", "import annotator.settings as s; print(s.DEBUG)"],
        env={**env, "PYTEST_VERSION": "8", "ANNOTATOR_ENV_FILE": str(local)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert shown.stdout.split() == ["False"], shown.stderr


def test_a_malformed_local_file_is_refused_naming_file_and_line(tmp_path):
    local = tmp_path / ".env.local"
    local.write_text("# comment\nDEBUG=1\nthis line has no equals sign\n")
    result = manage_check({"ANNOTATOR_ENV_FILE": str(local)}, tmp_path)
    assert result.returncode != 0
    assert f"{local}, line 3" in result.stderr


def test_the_local_file_is_git_ignored():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env.local"], cwd=ROOT, capture_output=True
    )
    assert ignored.returncode == 0


@pytest.mark.django_db
def test_migrate_creates_the_managers_group_with_its_permissions():
    """The test database is built by migrate alone: no demo has run."""
    group = Group.objects.get(name=MANAGERS_GROUP)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == {("corpus", codename) for codename in MANAGERS_PERMISSIONS}
    assert "view_corpus" in MANAGERS_PERMISSIONS
