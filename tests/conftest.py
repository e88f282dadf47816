"""Shared fixtures, and the rule that nothing silently goes untested in CI.

Tests marked `postgres` need PostgreSQL; tests marked `browser` need Chromium and
Playwright. Where those are absent they skip with the reason, except in CI (CI=true),
where both are installed and such a skip would hide a failure, so it is an error.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connection

from tests.factories import UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def missing_requirement(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return (
            "needs PostgreSQL (set DATABASE_URL=postgres://…); the database is "
            f"{connection.vendor}"
        )
    if item.get_closest_marker("browser"):
        if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
            return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "needs the playwright package (pip install -r requirements-dev.txt)"
    return None


# pytest-django's fixtures that open the test database; a fixture that needs
# one (factories, signed-in clients) has it in its closure.
DATABASE_FIXTURES = {"django_db_setup", "db", "transactional_db", "live_server"}


def opens_database(item: pytest.Item) -> bool:
    return bool(
        item.get_closest_marker("django_db")
    ) or not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """CI's second pass (CI_SQLITE_RUN=1) is there for what differs between the
    databases: a test that never opens one ran, the same code on the same data,
    in the PostgreSQL pass, so it is deselected here (not skipped)."""
    if os.environ.get("CI_SQLITE_RUN") != "1":
        return
    same_on_both = [item for item in items if not opens_database(item)]
    if same_on_both:
        config.hook.pytest_deselected(items=same_on_both)
        items[:] = [item for item in items if opens_database(item)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = missing_requirement(item)
    if reason is None:
        return
    if IN_CI and not (
        item.get_closest_marker("postgres") and os.environ.get("CI_SQLITE_RUN") == "1"
    ):
        pytest.fail(f"CI must not skip this test: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def manager(db):
    from annotator.demo import managers_group

    user = UserFactory(username="manager")
    user.groups.add(managers_group())
    return user


@pytest.fixture
def manager_client(client, manager):
    """The test client, signed in as the manager."""
    client.force_login(manager)
    return client


@pytest.fixture
def coder(db):
    return UserFactory(username="coder")


@pytest.fixture
def seed_corpus(db):
    from annotator.demo import load_seed_corpus

    return load_seed_corpus().corpus
