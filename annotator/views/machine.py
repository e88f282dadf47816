"""The machine coder page: provenance, validation, Train and Code the rest.

Reviewers, managers and staff read it and use its buttons
(``annotator.access_machine``); coders get 403 (it compares the machine with
the gold and names the coders it is compared with, as the agreement dashboard
does). The figures are the ones training stored
(``services.machine_validation``); this module only shapes them for the
template. The main card polls itself while a training or coding job runs.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator import access
from annotator.access_machine import machine_project, may_run_machine
from annotator.models import Dimension, Job, JobKind, MachineCoder, MachineLabel
from annotator.services import machine_coders
from annotator.services.machine_validation import coder_names
from annotator.suggestion_uptake import uptake
from annotator.views.base import HtmxHttpRequest, heat, partial, see_other

TEMPLATE = "annotator/machine.html"
REFUSAL = "Coders code blind: the machine coder's page is for reviewers and managers."
# Learning-curve chart geometry (SVG user units).
WIDTH, HEIGHT, PAD_X, PAD_TOP, PAD_BOTTOM = 480, 220, 48, 16, 40


def _curve_chart(curve: dict) -> dict[str, Any] | None:
    """Points of alpha against the spans each fold's model learned from."""
    points = [p for p in curve.get("points", []) if p.get("alpha") is not None]
    if not points:
        return None
    low = min(0.0, *(p["alpha"] for p in points))
    low = math.floor(low * 10) / 10
    most = max(p["n_trained"] for p in points) or 1

    def y(v: float) -> float:
        return round(
            PAD_TOP + (1.0 - v) / (1.0 - low) * (HEIGHT - PAD_TOP - PAD_BOTTOM), 1
        )

    def x(n: int) -> float:
        return round(PAD_X + n / most * (WIDTH - 2 * PAD_X), 1)

    drawn = [{**p, "x": x(p["n_trained"]), "y": y(p["alpha"])} for p in points]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad_x": PAD_X,
        "right": WIDTH - PAD_X,
        "points": drawn,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in drawn),
        "top_y": y(1.0),
        "zero_y": y(0.0),
        "bottom_y": y(low),
        "low": low,
        "most": most,
        "label_y": HEIGHT - 20,
        "title_y": HEIGHT - 4,
        "middle_x": WIDTH / 2,
    }


def _confusion(label: str, confusion: dict | None) -> dict | None:
    """What annotator/_confusion_matrix.html draws (rows gold, columns model)."""
    if not confusion:
        return None
    matrix = confusion["matrix"]
    high = max((v for row in matrix for v in row), default=0)
    return {
        "m": {"label": label, "categories": confusion["categories"]},
        "rows": [
            (truth, [(v, heat(v, high), i == j) for j, v in enumerate(row)])
            for i, (truth, row) in enumerate(
                zip(confusion["categories"], matrix, strict=True)
            )
        ],
    }


def _dimension(key: str, label: str, figures: dict, names: dict[str, str]) -> dict:
    comparison = figures.get("vs_coders") or {}
    coders = [
        {"name": names.get(user, f"user {user}"), **row}
        for user, row in (comparison.get("by_coder") or {}).items()
    ]
    curve = figures.get("learning_curve") or {}
    return {
        "key": key,
        "label": label,
        "f": figures,
        "per_category": sorted((figures.get("per_category") or {}).items()),
        "confusion": _confusion(
            f"Confusion of {label}: rows gold, columns the model's out-of-fold code",
            figures.get("confusion"),
        ),
        "comparison": comparison,
        "coders": sorted(coders, key=lambda row: row["name"]),
        "curve": curve,
        "chart": _curve_chart(curve),
    }


def page_context(
    request: HtmxHttpRequest, project, *, card_only: bool = False
) -> dict[str, Any]:
    """The page's context: the current coder (model bytes left unread), its
    dimensions' figures, the machine codes stored, the last jobs; with the whole
    page (not the polled card), how coders took up the suggestions."""
    coder = (
        MachineCoder.objects.select_related("created_by", "codebook")
        .defer("model")
        .current_of(project)
    )
    dimensions = []
    if coder is not None:
        names = coder_names(coder)
        labels = Dimension.objects.filter(codebook_id=coder.codebook_id).order_by(
            "position", "id"
        )
        dimensions = [
            _dimension(key, label, coder.validation[key], names)
            for key, label in labels.values_list("key", "label")
            if key in coder.validation
        ]
    stored = MachineLabel.objects.filter(project=project).aggregate(
        n=Count("pk"), at=Max("created_at")
    )
    training = Job.objects.latest_of(project, JobKind.MACHINE_TRAIN)
    coding = Job.objects.latest_of(project, JobKind.MACHINE_PREDICT)
    return {
        "project": project,
        "coder": coder,
        "stale": coder is not None and coder.codebook_id != project.codebook_id,
        "dimensions": dimensions,
        "stored": stored,
        "training": training,
        "coding": coding,
        "busy": any(job is not None and job.is_active for job in (training, coding)),
        "can": access.abilities(request.user, project),
        "may_run": may_run_machine(request.user, project),
        # Anchoring figures (issue 18): shown once suggestions are on or were shown.
        "suggestions": None if card_only else uptake(project),
    }


@access.login_required
@require_GET
def project_machine(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The machine coder page; with htmx, just its main card (it polls itself
    while a job runs)."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    return render(
        request,
        partial(request, TEMPLATE, "machine-card"),
        page_context(request, project, card_only=bool(request.htmx)),
    )


def _start(request: HtmxHttpRequest, project_id: int, kind: str) -> HttpResponse:
    """Queue ``kind`` unless one is waiting or running already; go to its job
    (managers see jobs) or back to this page (it follows the job)."""
    project = machine_project(request.user, project_id)
    job = Job.objects.of(project, kind).active().order_by("-created_at").first()
    if job is None and kind == JobKind.MACHINE_PREDICT:
        try:
            machine_coders.usable_coder(project)
        except machine_coders.MachineCoderError as error:
            context = {**page_context(request, project), "error": str(error)}
            return render(request, TEMPLATE, context, status=409)
    if job is None:
        request_job = (
            machine_coders.request_training
            if kind == JobKind.MACHINE_TRAIN
            else machine_coders.request_prediction
        )
        job = request_job(project, by=request.user)
    if access.abilities(request.user, project).manage:
        return see_other(request, reverse("job-detail", args=[job.pk]))
    return see_other(request, reverse("project-machine", args=[project.pk]))


@access.login_required
@require_POST
def train(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A reviewer or manager asks for a training (a job); one already asked
    for is reused."""
    return _start(request, project_id, JobKind.MACHINE_TRAIN)


@access.login_required
@require_POST
def code_the_rest(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A reviewer or manager asks the machine to code the spans no human coded (a job);
    409 naming why when there is no coder of the project's codebook version."""
    return _start(request, project_id, JobKind.MACHINE_PREDICT)
