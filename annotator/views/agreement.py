"""The agreement dashboard for reviewers and managers: one card per dimension.

Figures come from ``annotator.agreement_report.project_report`` (the API and the
``agreement`` command use the same function); this module only turns them into
things a template can draw: colours for the heatmaps, points for the trend line.
Plots are server-rendered HTML tables and inline SVG; no JavaScript is needed.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement.interval_policy import NAME
from annotator.agreement_report import (
    MIN_PAIRABLE_UNITS,
    OVER,
    RELIABLE,
    TENTATIVE,
    DimensionReport,
    Options,
    ReportRequestError,
    band,
    report_request,
)
from annotator.agreement_report.intervals import MISSING, STALE, WITH_INTERVALS
from annotator.agreement_report.names import COEFFICIENT_NAMES
from annotator.models import Codebook
from annotator.services import agreement_jobs
from annotator.views.base import HtmxHttpRequest, intervals_panel, partial

TEMPLATE = "annotator/agreement.html"
PANEL = "annotator/agreement_status.html"
REFUSAL = "Coders code blind: agreement is for reviewers and managers."
DOCUMENTS_SHOWN = 10
# Trend chart geometry (SVG user units).
WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 270, 48, 16
# Room below the plot for every period's label, slanted, and the axis title.
PAD_BOTTOM = 86


def heat(value: float, low: float = 0.0, high: float = 1.0) -> str:
    """Class of a heatmap cell: heat-0 (``low``: white, near black in dark mode) to
    heat-20 (``high``: mid blue). Classes, not style attributes: the CSP refuses
    inline styles (the scale lives in static/annotator/scales.css)."""
    if not math.isfinite(value):
        return "heat-none"
    t = min(max((value - low) / (high - low), 0.0), 1.0) if high > low else 0.0
    return f"heat-{round(t * 20)}"


def alpha_heat(value: float) -> str:
    """Class of a coefficient's cell against the .667/.800 thresholds."""
    return f"band-{band(value)}"


def _trend(d: DimensionReport) -> dict[str, Any]:
    """Points of the alpha-over-time line, threshold lines and axis labels (SVG).

    Alpha can be negative (systematic disagreement). The axis then reaches a
    tenth below the lowest value, so no point sits on the bottom line and none
    is mistaken for zero, and a zero line is drawn at 0 for points to fall below.
    """
    rows = d.over_time
    values = [r.result.value for r in rows]
    finite = [v for v in values if math.isfinite(v)]
    low = min([0.0, *finite])
    if low < 0:
        low = math.floor(round((low - 0.05) * 10, 9)) / 10
    span = 1.0 - low

    def y(v: float) -> float:
        return round(PAD_Y + (1.0 - v) / span * (HEIGHT - PAD_Y - PAD_BOTTOM), 1)

    n = len(rows)

    def x(i: int) -> float:
        if n == 1:
            return WIDTH / 2
        return round(PAD_X + i * (WIDTH - 2 * PAD_X) / (n - 1), 1)

    points = [
        {
            "x": x(i),
            "y": y(v),
            "value": v,
            "label": rows[i].label,
            "n_units": rows[i].result.n_units,
            "band": band(v),
        }
        for i, v in enumerate(values)
        if math.isfinite(v)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad_x": PAD_X,
        "right": WIDTH - PAD_X,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "reliable_y": y(RELIABLE),
        "tentative_y": y(TENTATIVE),
        "top_y": y(1.0),
        "bottom_y": y(low),
        "zero_y": y(0.0),
        "low": low,
        "first": rows[0].label if rows else "",
        "last": rows[-1].label if rows else "",
        "undefined": n - len(points),
        # Every period on the x axis, drawn or not (undefined ones are gaps).
        "ticks": [{"x": x(i), "label": row.label} for i, row in enumerate(rows)],
        "tick_y": y(low) + 14,
        "title_y": HEIGHT - 6,
        "middle_x": WIDTH / 2,
        "middle_y": round((y(1.0) + y(low)) / 2, 1),
    }


BASIS_NAMES = {
    "pairable": "pairable units",
    "coded": "all coded units",
}


def interval_note(d: DimensionReport, refreshing: bool) -> str:
    """What is said beside a background job's interval that is not of the data
    shown: when it was computed, or that none was yet ("" when current)."""
    if d.intervals_from == STALE and d.intervals_as_of is not None:
        at = timezone.localtime(d.intervals_as_of)
        when = at.strftime("%H:%M")
        if at.date() != timezone.localdate():
            when = f"{at.day} {at:%b %Y}, {when}"
        return f"as of {when}, " + ("refreshing…" if refreshing else "from older data")
    if d.intervals_from == MISSING:
        return "not computed yet" + (" (computing…)" if refreshing else "")
    return ""


def interval_method(d: DimensionReport, key: str) -> dict[str, str]:
    """The method's short name beside an interval ("BCa"), and why an interval
    is withheld (shown instead of numbers; "" when it holds or has none)."""
    method = d.interval_methods.get(key, "")
    low, _ = d.intervals.get(key, (math.nan, math.nan))
    withheld = d.interval_notes.get(key, "") if method and math.isnan(low) else ""
    return {"method": NAME.get(method, method), "withheld": withheld}


def card(d: DimensionReport, refreshing: bool = False) -> dict[str, Any]:
    """Everything one dimension's card draws.

    Below the minimum sample (``d.caution``) nothing is coloured against the
    thresholds: a colour is a verdict the sample cannot carry. ``refreshing``:
    a background job is computing the intervals anew.
    """
    note = interval_note(d, refreshing)
    coefficients = [
        {
            "key": key,
            "name": COEFFICIENT_NAMES.get(key, key),
            "result": r,
            # Percent agreement is not chance-corrected: the thresholds do not apply.
            "style": ""
            if key == "percent_agreement" or d.caution
            else alpha_heat(r.value),
            "interval": d.intervals.get(key),
            "interval_holds": d.interval_holds(key),
            "interval_note": note if key in WITH_INTERVALS else "",
            **interval_method(d, key),
            "units": {**d.units(key), "name": BASIS_NAMES[d.units(key)["basis"]]},
        }
        for key, r in d.coefficients.items()
    ]
    pairwise = d.pairwise
    pair_rows = [
        {
            "coder": name,
            "cells": [
                {
                    "value": pairwise.matrix[i, j],
                    "shared": int(pairwise.counts[i, j])
                    if pairwise.counts is not None
                    else 0,
                    "style": heat(pairwise.matrix[i, j]) if i != j else "",
                    "diagonal": i == j,
                }
                for j in range(len(pairwise.col_labels))
            ],
        }
        for i, name in enumerate(pairwise.row_labels)
    ]
    confusion = d.confusion.matrix
    top = float(confusion.max()) if confusion.size else 0.0
    confusion_rows = [
        {
            "label": label,
            "cells": [
                {
                    "count": int(confusion[i, j]),
                    "style": heat(float(confusion[i, j]), 0.0, top),
                    "diagonal": i == j,
                }
                for j in range(confusion.shape[1])
            ],
        }
        for i, label in enumerate(d.confusion.row_labels)
    ]
    return {
        "d": d,
        "band": d.band,
        "alpha_interval_holds": d.interval_holds("krippendorff_alpha"),
        "alpha_interval": interval_method(d, "krippendorff_alpha"),
        "interval_note": note,
        "interval_state": d.intervals_from,
        "estimate": d.estimate,
        "coefficients": coefficients,
        "per_category": [
            {
                "label": label,
                "result": r,
                "style": alpha_heat(r.value),
                "width": max(0.0, min(r.value, 1.0)) * 100
                if math.isfinite(r.value)
                else 0.0,
            }
            for _, label, r in d.per_category
        ],
        "pair_rows": pair_rows,
        "confusion_labels": d.confusion.col_labels,
        "confusion_rows": confusion_rows,
        "coders": [
            {"row": row, "style": alpha_heat(row.stats.alpha_without)}
            for row in d.coders
        ],
        "coincidence_rows": list(
            zip(d.coincidence.row_labels, d.coincidence.matrix.tolist(), strict=True)
        ),
        "documents": d.documents[:DOCUMENTS_SHOWN],
        "trend": _trend(d),
        "p_tentative": d.alpha.p_below.get(TENTATIVE, math.nan),
        "p_reliable": d.alpha.p_below.get(RELIABLE, math.nan),
    }


@access.login_required
@require_GET
def project_agreement(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Agreement dashboard; with htmx and ``?dimension=key``, just that card.

    Reviewers, managers and staff only: coders code blind and must not see how
    their codes compare (403); non-members get 404 (``annotator.access``).
    """
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    try:
        options, codebook = report_request(project, request.GET)
    except ReportRequestError as error:
        if error.status != 400:
            return HttpResponse(error.message, status=error.status)
        return render(
            request,
            TEMPLATE,
            {"project": project, "error": error.message, "options": Options()},
            status=400,
        )
    dimensions = list(codebook.dimensions.all())
    key = request.GET.get("dimension")
    if request.htmx and key:
        dimensions = [d for d in dimensions if d.key == key]
        if not dimensions:
            return HttpResponse(f"No dimension {key!r} in this codebook.", status=404)
    report, status = agreement_jobs.report_with_intervals(
        project,
        by=request.user,
        codebook=codebook,
        dimensions=dimensions,
        over=options.over,
        batch_size=options.batch_size,
        documents_limit=DOCUMENTS_SHOWN,
    )
    refreshing = status is not None and status.refreshing
    cards = [card(d, refreshing) for d in report.dimensions]
    context = {
        **intervals_panel(request, project, status),
        "project": project,
        "report": report,
        "cards": cards,
        "options": options,
        "over_choices": OVER,
        "reliable": RELIABLE,
        "tentative": TENTATIVE,
        "min_pairable_units": MIN_PAIRABLE_UNITS,
        "codebook": codebook,
    }
    if request.htmx and key:
        return render(request, f"{TEMPLATE}#dimension-card", {**context, "c": cards[0]})
    versions = list(Codebook.objects.versions_of(project).filter(used=True))
    context["versions"] = versions if len(versions) > 1 else []
    return render(request, TEMPLATE, context)


@access.login_required
@require_GET
def intervals_status(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The background intervals' panel (htmx polls it), or a page holding it."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    status = agreement_jobs.intervals_status(project)
    return render(
        request,
        partial(request, PANEL, "intervals-status"),
        intervals_panel(request, project, status, polled=True),
    )
