"""The password reset page's rate limit: per address, per client IP, the window,
and the same answer whether limited or not, whether the address exists or not."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotator.models import PasswordResetAttempt
from annotator.services.password_resets import email_digest, reset_allowed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 3
    settings.PASSWORD_RESET_IP_LIMIT = 5
    settings.PASSWORD_RESET_WINDOW_MINUTES = 60
    return settings


def ask(email: str, ip: str = "203.0.113.7"):
    return Client(REMOTE_ADDR=ip).post(reverse("password-reset"), {"email": email})


def test_the_page_in_full_offers_the_form():
    page = Client().get(reverse("password-reset"))
    assert page.status_code == 200
    assert b'name="email"' in page.content and b"<html" in page.content


def test_three_emails_per_address_then_none(caplog):
    UserFactory(username="ann", email="ann@example.org")
    answers = [ask("ann@example.org", ip=f"203.0.113.{n}") for n in range(3)]
    assert len(mail.outbox) == 3
    with caplog.at_level(logging.WARNING, logger="annotator.views.people"):
        # Another case is the same address: Django matches addresses that way.
        limited = ask("ANN@example.org", ip="203.0.113.99")
    assert len(mail.outbox) == 3
    assert "rate limited" in caplog.text and "203.0.113.99" in caplog.text
    assert "example.org" not in caplog.text.lower()  # a digest, not the address
    # The answer is the one every request gets.
    for answer in answers:
        assert (answer.status_code, answer["Location"]) == (
            limited.status_code,
            limited["Location"],
        )
    assert limited["Location"] == reverse("password-reset-done")
    # Another address is not limited by this one's count.
    UserFactory(username="bob", email="bob@example.org")
    ask("bob@example.org", ip="203.0.113.50")
    assert mail.outbox[-1].to == ["bob@example.org"] and len(mail.outbox) == 4


def test_one_client_ip_is_limited_across_addresses():
    for n in range(6):
        UserFactory(username=f"user{n}", email=f"user{n}@example.org")
    for n in range(6):
        ask(f"user{n}@example.org", ip="198.51.100.1")
    assert len(mail.outbox) == 5  # PASSWORD_RESET_IP_LIMIT
    ask("user5@example.org", ip="198.51.100.2")
    assert len(mail.outbox) == 6 and mail.outbox[-1].to == ["user5@example.org"]


def test_the_window_passing_lets_requests_through_again(monkeypatch):
    UserFactory(username="ann", email="ann@example.org")
    start = timezone.now()
    for _ in range(4):
        ask("ann@example.org")
    assert len(mail.outbox) == 3
    # Refused requests are not kept: only the three sent count, and the oldest
    # leaves the window an hour after it was made.
    assert PasswordResetAttempt.objects.count() == 3
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=59))
    ask("ann@example.org")
    assert len(mail.outbox) == 3
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=61))
    ask("ann@example.org")
    assert len(mail.outbox) == 4
    # The expired rows were pruned on the way: only the new request is left.
    assert PasswordResetAttempt.objects.count() == 1


def test_no_user_enumeration_under_the_limit_or_over_it():
    """An address with an account and one without get byte-identical answers,
    within the limit and beyond it; only the first ever gets an email."""
    UserFactory(username="ann", email="ann@example.org")
    answers: dict[str, list] = {"ann@example.org": [], "nobody@example.org": []}
    for email, seen in answers.items():
        for _ in range(5):
            response = ask(email, ip=f"192.0.2.{len(email)}")
            seen.append((response.status_code, response["Location"], response.content))
    assert answers["ann@example.org"] == answers["nobody@example.org"]
    assert len(mail.outbox) == 3 and {m.to[0] for m in mail.outbox} == {
        "ann@example.org"
    }
    done = Client().get(answers["ann@example.org"][-1][1])
    assert done.status_code == 200


def test_the_table_holds_no_address_and_counts_it_case_insensitively():
    assert reset_allowed(email="Ann@Example.org", client_ip="192.0.2.1")
    (row,) = PasswordResetAttempt.objects.all()
    assert "ann" not in row.email_digest.lower()
    assert row.email_digest == email_digest(" ann@example.ORG ")


def test_a_bad_form_sends_nothing_and_counts_nothing():
    response = ask("not an address")
    assert response.status_code == 200 and b"valid email" in response.content
    assert not PasswordResetAttempt.objects.exists() and not mail.outbox


def test_a_request_costs_three_queries_when_allowed(django_assert_num_queries):
    """Prune, record, count; a refused one deletes its own row (one more)."""
    with django_assert_num_queries(3):
        assert reset_allowed(email="a@example.org", client_ip="192.0.2.1")
    for _ in range(2):
        reset_allowed(email="a@example.org", client_ip="192.0.2.1")
    with django_assert_num_queries(4):
        assert not reset_allowed(email="a@example.org", client_ip="192.0.2.1")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_web_processes_racing_never_let_more_through_than_the_limit():
    """Twelve requests for one address at once, each on its own connection (as
    several web processes would be): never more than the limit get through (a
    race may refuse one that counting one by one would have let through)."""
    barrier = threading.Barrier(12)

    def one_request(n: int) -> bool:
        try:
            barrier.wait()
            return reset_allowed(email="ann@example.org", client_ip=f"192.0.2.{n}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        allowed = list(pool.map(one_request, range(12)))
    assert sum(allowed) <= 3
    assert PasswordResetAttempt.objects.count() == sum(allowed)
