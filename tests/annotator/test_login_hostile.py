"""Hostile logins: the client's address behind a proxy (the lockouts count it) and
usernames longer than any column that records them."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.1"  # every request arrives from the proxy
WRONG = "Your username and password didn't match"


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def behind_proxy(forwarded_for: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.fixture
def strict(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    for name in ("alice", "bob", "carol"):
        UserFactory(username=name)
    return settings


def spray(client) -> None:
    for name in ("alice", "alice", "bob", "bob"):  # under 3 for each username
        assert log_in(client, name, "wrong").status_code == 200


# --- C: the address a proxy forwards ------------------------------------------------


def test_behind_one_proxy_each_client_is_locked_out_alone(strict):
    strict.PROXY_COUNT = 1
    spray(behind_proxy("203.0.113.9"))
    assert log_in(behind_proxy("203.0.113.9"), "carol", PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.9"
    }
    # Another client behind the same proxy still signs in.
    assert log_in(behind_proxy("198.51.100.2"), "carol", PASSWORD).status_code == 302


def test_behind_one_proxy_only_the_address_it_appended_counts(strict):
    """A client's own X-Forwarded-For entries come first; the proxy appends the
    address it saw last, and that one is the client."""
    strict.PROXY_COUNT = 1
    for fake in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        log_in(behind_proxy(f"{fake}, 203.0.113.9"), "alice", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.9"
    }
    assert log_in(behind_proxy("203.0.113.9"), "carol", PASSWORD).status_code == 429


def test_without_a_proxy_the_header_is_ignored(strict):
    strict.PROXY_COUNT = 0
    for fake in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        log_in(behind_proxy(fake), "alice" if fake < "192.0.2.3" else "bob", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}
    assert log_in(Client(REMOTE_ADDR=PROXY), "carol", PASSWORD).status_code == 429


@pytest.mark.parametrize("header", ["", "not-an-address", "203.0.113.9:443, x"])
def test_a_forwarded_for_that_is_no_address_falls_back_to_the_peer(strict, header):
    strict.PROXY_COUNT = 1
    assert log_in(behind_proxy(header), "alice", "wrong").status_code == 200
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PROXY]


# --- D: usernames longer than the attempt log's column -----------------------------


@pytest.mark.parametrize("length", [151, 256, 10_000])
def test_an_overlong_username_is_a_wrong_login_not_a_server_error(client, length):
    """axes records the username in varchar(255), which PostgreSQL enforces."""
    response = log_in(client, "x" * length, "wrong")
    assert response.status_code == 200
    assert WRONG in response.text
    assert all(len(name) <= 255 for name in AccessAttempt.objects.values_list(
        "username", flat=True
    ))  # fmt: skip


def test_an_overlong_username_on_the_admin_login_too(client):
    response = client.post(
        reverse("admin:login"), {"username": "x" * 300, "password": "wrong"}
    )
    assert response.status_code == 200
