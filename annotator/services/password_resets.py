"""The password reset rate limit: requests counted per address and per client IP."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from annotator.models import PasswordResetAttempt


def email_digest(email: str) -> str:
    """The address as the limit counts it: case-folded (Django's reset form matches
    addresses case-insensitively) and keyed with SECRET_KEY, so the table holds no
    address a reader could recover."""
    folded = email.strip().casefold()
    return salted_hmac("password-reset-limit", folded, algorithm="sha256").hexdigest()


def reset_allowed(*, email: str, client_ip: str, now: datetime | None = None) -> bool:
    """Record a reset request and say whether its email may be sent.

    At most PASSWORD_RESET_EMAIL_LIMIT requests per address and
    PASSWORD_RESET_IP_LIMIT per client IP within PASSWORD_RESET_WINDOW_MINUTES.
    A refused request is not kept, so the window passes an hour after the last
    request let through, however often someone keeps asking.

    The row is written before counting and each statement commits on its own (no
    transaction): web processes racing for the last place each count the other's
    row, so a race can refuse both, never let more through than the limit. Rows
    older than the window are deleted first, through the created_at index.
    """
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES)
    PasswordResetAttempt.objects.filter(created_at__lt=since).delete()
    digest = email_digest(email)
    attempt = PasswordResetAttempt.objects.create(
        email_digest=digest, client_ip=client_ip, created_at=now
    )
    by_email = Q(email_digest=digest)
    by_ip = Q(client_ip=client_ip)
    counts = PasswordResetAttempt.objects.filter(
        by_email | by_ip, created_at__gte=since
    ).aggregate(email=Count("pk", filter=by_email), ip=Count("pk", filter=by_ip))
    if (
        counts["email"] <= settings.PASSWORD_RESET_EMAIL_LIMIT
        and counts["ip"] <= settings.PASSWORD_RESET_IP_LIMIT
    ):
        return True
    attempt.delete()
    return False
