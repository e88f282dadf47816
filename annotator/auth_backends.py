"""Authentication backends: the login throttle in front of Django's ModelBackend."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come over HTTP.

    axes locks one username from one address; on top of that, an address whose
    failed logins across all usernames reach LOGIN_ADDRESS_FAILURE_LIMIT within
    the cool-off is locked out for every username (password spraying). The
    limit is higher than the per-username one: a classroom behind one NAT
    address shares it.

    Without a request (manage.py, scripts, the test client's login()) there is no
    address to count failures against and axes would raise; such calls go straight
    to the next backend instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            request.axes_locked_out = True
            request.address_locked_out = True
            raise AxesBackendPermissionDenied("Too many failed logins from an address.")
        return None


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's address, every username, in the cool-off."""
    cool_off = get_cool_off(request) or timedelta(0)
    failures = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,
        attempt_time__gte=timezone.now() - cool_off,
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return failures or 0


def client_address(request: HttpRequest) -> str:
    """The client's address: what the PROXY_COUNT-th proxy from us saw, else the peer.

    axes (AXES_CLIENT_IP_CALLABLE) and so the per-address limit read it. Each of
    our proxies appends the address it received from to X-Forwarded-For, so the
    client is the PROXY_COUNT-th entry from the right; entries left of it are the
    client's own claims. Without proxies the header is the client's word alone and
    is ignored. A missing or malformed entry (a misconfigured proxy) falls back to
    REMOTE_ADDR rather than to anything the client wrote.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    if proxies <= 0:
        return peer
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    if len(forwarded) < proxies:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return peer


def attempted_username(request: HttpRequest, credentials: Any) -> str | None:
    """The username axes records (AXES_USERNAME_CALLABLE), cut to its column.

    AccessAttempt.username is varchar(255) and the login form does not enforce
    the User model's 150: a longer name failed the login as a server error on
    PostgreSQL. No account has a name that long, so the cut name matches none.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(field) if source else None
    if not isinstance(username, str):
        return username
    return username[: AccessAttempt._meta.get_field("username").max_length]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The 429 page: which lock (this username here, or the whole address) and why."""
    by_address = getattr(request, "address_locked_out", False)
    context = {
        "by_address": by_address,
        "failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT
        if by_address
        else get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_timedelta": get_cool_off(request),
    }
    return render(
        request, settings.AXES_LOCKOUT_TEMPLATE, context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )  # fmt: skip
