"""The reliability report page: per dimension a card, the methods paragraph, downloads.

Everything it shows comes from one ``ReliabilityReport`` (agreement_report/
reliability.py), which wraps the dashboard's own ``ProjectReport``; this module
only parses the options and turns the report into what the templates draw.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement.interval_policy import NAME
from annotator.agreement_report import (
    MIN_PAIRABLE_UNITS,
    RELIABLE,
    TENTATIVE,
    ReportRequestError,
)
from annotator.agreement_report.facts import interval_of
from annotator.agreement_report.names import COEFFICIENT_NAMES
from annotator.agreement_report.records import DimensionReport
from annotator.agreement_report.reliability import (
    DEFAULT_PRIMARY,
    ReliabilityReport,
    reliability_report,
    reliability_request,
)
from annotator.views.base import HtmxHttpRequest, intervals_panel

TEMPLATE = "annotator/reliability.html"
CARD = "annotator/_reliability_card.html"
REFUSAL = "Coders code blind: the reliability report is for reviewers and managers."


def method_name(method: str) -> str:
    """A method's short name for a table cell (interval_policy's, when it has one)."""
    return NAME.get(method, method)


def _interval(d: DimensionReport, name: str) -> dict[str, Any]:
    low, high, method, note = interval_of(d, name)
    holds = math.isfinite(low) and math.isfinite(high)
    return {
        "holds": holds,
        "low": low,
        "high": high,
        "method": method_name(method) if holds else "",
        "reason": "" if holds else note,
    }


def card(
    report: ReliabilityReport, d: DimensionReport, asked: str = DEFAULT_PRIMARY
) -> dict[str, Any]:
    """One dimension's card: the primary coefficient first, the others below;
    ``fallback`` names the coefficient asked for when the dimension lacks it."""
    primary = report.primary.get(d.key, DEFAULT_PRIMARY)
    facts = next(f for f in report.facts.dimensions if f.key == d.key)
    rows = [
        {
            "key": key,
            "name": COEFFICIENT_NAMES.get(key, key),
            "result": r,
            "interval": _interval(d, key),
            "units": d.units(key)["n"],
        }
        for key, r in d.coefficients.items()
    ]
    return {
        "d": d,
        "facts": facts,
        "primary": next(row for row in rows if row.get("key") == primary),
        "secondary": [row for row in rows if row["key"] != primary],
        "per_category": d.per_category,
        "fallback": COEFFICIENT_NAMES.get(asked, asked) if asked != primary else "",
    }


def _options_query(request: HtmxHttpRequest) -> str:
    """The report's options as a query string (carried into every link)."""
    params = request.GET.copy()
    params.pop("dimension", None)
    return params.urlencode()


@access.login_required
@require_GET
def project_reliability(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The reliability report; with htmx and ``?dimension=key``, just that card.

    Reviewers, managers and staff (coders code blind: 403). ``?primary=``,
    ``?primary.<key>=``, ``?unit=`` and ``?version=`` choose the headline
    coefficient, the unit's name and the codebook version; a bad one is a 400
    naming the parameter, a version the codebook never had a 404 saying so
    (the page with its form; to an htmx card request, the words alone).
    """
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    try:
        codebook, primary, unit_noun = reliability_request(project, request.GET)
    except ReportRequestError as error:
        if error.status != 400 and request.htmx:  # a card's swap: the words only
            return HttpResponse(
                error.message,
                status=error.status,
                content_type="text/plain; charset=utf-8",
            )
        # The page with its form and the message: a bad option (400) or a
        # codebook version never had (404) is read, then asked again.
        context = {"project": project, "error": error.message}
        return render(request, TEMPLATE, context, status=error.status)
    key = request.GET.get("dimension")
    if request.htmx and key and key not in primary:
        return HttpResponse(f"No dimension {key!r} in this codebook.", status=404)
    report = reliability_report(
        project,
        codebook=codebook,
        primary=primary,
        unit_noun=unit_noun,
        by=request.user,
    )
    cards = [
        card(report, d, primary.get(d.key, DEFAULT_PRIMARY)) for d in report.dimensions
    ]
    context = {
        **intervals_panel(request, project, report.intervals_status),
        "project": project,
        "reliability": report,
        "cards": cards,
        "sample_lines": [
            (d.label, report.sample_size[d.key])
            for d in report.dimensions
            if d.key in report.sample_size
        ],
        "query": _options_query(request),
        "coefficients": sorted(COEFFICIENT_NAMES.items(), key=lambda kv: kv[1]),
        "default_primary": request.GET.get("primary") or DEFAULT_PRIMARY,
        "reliable": RELIABLE,
        "tentative": TENTATIVE,
        "min_pairable_units": MIN_PAIRABLE_UNITS,
    }
    if request.htmx and key:
        chosen = next(c for c in cards if c["d"].key == key)
        return render(request, CARD, {**context, "c": chosen})
    return render(request, TEMPLATE, context)
