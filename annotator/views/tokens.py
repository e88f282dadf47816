"""The API token page: see, create, regenerate or revoke your own DRF token.

Tokens are DRF's (rest_framework.authtoken), one per user, also listed in the
Django admin. Regenerating replaces the key at once: scripts using the old one get
401 from then on.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from annotator import access
from annotator.views.base import HtmxHttpRequest, partial, see_other

ACTIONS = ("create", "regenerate", "revoke")


@transaction.atomic
def change_token(user, action: str) -> Token | None:
    """Apply one of ACTIONS to the user's token; the token now in force, if any."""
    if action != "create":
        Token.objects.filter(user=user).delete()
    if action == "revoke":
        return None
    return Token.objects.get_or_create(user=user)[0]


# never_cache: the page shows a secret; no browser or proxy cache may keep it.
@never_cache
@access.login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            return HttpResponseBadRequest(
                f"action must be one of {', '.join(ACTIONS)}, not {action!r}",
                content_type="text/plain",
            )
        token = change_token(request.user, action)
        if not request.htmx:
            return see_other(request, reverse("api-token"))
    else:
        token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        partial(request, "annotator/api_token.html", "token-card"),
        {"token": token},
    )
