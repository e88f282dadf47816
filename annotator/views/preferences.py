"""A user's own screen preferences: single-key shortcuts on or off (WCAG 2.1.4).

The page has the whole form; the coding screen shows the same form, small, beside
the card (preferences.html#shortcut-prefs), and coding.js reads its
data-letter-keys to know whether a letter may act.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from annotator import access
from annotator.forms_people import PreferencesForm
from annotator.models import CoderPreferences
from annotator.services.people import set_preferences
from annotator.views.base import HtmxHttpRequest, partial, see_other

TEMPLATE = "annotator/preferences.html"
SAVED = "Your preferences were saved."


def back_to(request: HtmxHttpRequest) -> str:
    """Where a plain form goes after saving: the page it came from if it is ours
    (the coding screen's small form), else this page."""
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("preferences")


@access.login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the form. POST: save it; htmx gets the form back, saying so."""
    saved = request.method == "POST"
    if saved:
        form = PreferencesForm(request.POST)
        form.is_valid()  # one optional checkbox: nothing can be invalid
        letter_shortcuts = form.cleaned_data["letter_shortcuts"]
        set_preferences(user=request.user, letter_shortcuts=letter_shortcuts)
        if not request.htmx:
            messages.success(request, SAVED)
            return see_other(request, back_to(request))
    else:
        letter_shortcuts = CoderPreferences.objects.of(request.user).letter_shortcuts
    context = {"letter_shortcuts": letter_shortcuts, "saved": saved}
    return render(request, partial(request, TEMPLATE, "shortcut-prefs"), context)
