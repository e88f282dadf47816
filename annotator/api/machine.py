"""The machine coder API: its status and validation; training and coding queued as jobs.

    GET  /api/v1/projects/<id>/machine/          reviewers and managers (with
         "suggestions": how coders took up the machine's suggestions)
    POST /api/v1/projects/<id>/machine/          managers: queue a training
    POST /api/v1/projects/<id>/machine/predict/  managers: queue "code the rest"

Coders get 403 (the validation compares the machine with the gold; coders code
blind), non-members 404, anonymous callers 401 (``annotator.access``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.models import Job, JobKind, MachineCoder, MachineLabel
from annotator.services import machine_coders
from annotator.services.machine_validation import coder_names
from annotator.suggestion_uptake import uptake

ERRORS = {
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Coders cannot see or train the machine coder."),
    404: OpenApiResponse(description="No such project of yours."),
}

VALIDATION_DOC = """``coder.validation`` holds, per dimension key, the out-of-fold
validation: ``alpha_vs_gold``, ``interval`` ([lo, hi] or null), ``f1_macro``,
``per_category`` ({category: precision, recall, f1, support}), ``confusion``
({categories, matrix}: rows gold, columns the model; null for multi-choice),
``n_train``, ``n_documents``;

``vs_coders``: the model beside the human coders on the reliability sample's
spans coded by two or more coders, scored with out-of-fold codes only:
``n_units``, ``human_human`` and ``model_vs_humans`` ({alpha, interval,
interval_note}), ``by_coder`` ({user id: {n_units, model_vs_coder,
human_human}}; names in ``coder.coder_names``), ``verdict`` (``as_well`` when
the model-vs-coders interval overlaps the coders' own, ``less_well`` /
``better`` when it lies wholly below / above, ``undetermined`` without both),
``verdict_text``, ``n_out_of_gold`` (shared spans without gold, coded by a fold
model that never saw their document);

``learning_curve``: ``points`` ([{n_gold, folds, n_trained, alpha}], the last
the full validation's), ``trend`` (``rising`` when the last step gains at least
0.02 alpha, ``flat``, ``falling``, ``undetermined``), ``reading`` (a sentence),
``curve_k`` (folds of the smaller subsets)."""


def job_status(job: Job | None, *, manager: bool) -> dict | None:
    """A job as the API says it: its state and progress (its id to managers)."""
    if job is None:
        return None
    return {
        "id": job.pk if manager else None,
        "state": job.state,
        "percent": job.percent,
        "note": job.note,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def coder_status(coder: MachineCoder | None) -> dict | None:
    if coder is None:
        return None
    return {
        "id": coder.pk,
        "state": coder.state,
        "created_at": coder.created_at.isoformat(),
        "created_by": coder.created_by.username if coder.created_by else None,
        "codebook_version": coder.provenance.get("codebook", {}).get("version"),
        "n_train": coder.n_train,
        "model_size": coder.model_size,
        "summary": machine_coders.summary(coder)["dimensions"],
        "provenance": coder.provenance,
        "validation": coder.validation,
        # The validation's vs_coders.by_coder is keyed by user id: their names,
        # as the agreement dashboard shows them to the same readers.
        "coder_names": coder_names(coder),
    }


class MachineView(APIView):
    """The project's current machine coder; a manager's POST trains a new one."""

    @extend_schema(
        summary="The machine coder: status, provenance and validation",
        description=VALIDATION_DOC,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request, project_id: int) -> Response:
        project = access.project_for(request.user, project_id, access.Can.REVIEW)
        manager = access.abilities(request.user, project).manage
        coder = (
            MachineCoder.objects.filter(project=project, state=MachineCoder.State.READY)
            .select_related("created_by")
            .defer("model")  # megabytes the answer never shows
            .first()
        )
        return Response(
            {
                "coder": coder_status(coder),
                "n_machine_labels": MachineLabel.objects.filter(
                    project=project
                ).count(),
                "training": job_status(
                    Job.objects.latest_of(project, JobKind.MACHINE_TRAIN),
                    manager=manager,
                ),
                "prediction": job_status(
                    Job.objects.latest_of(project, JobKind.MACHINE_PREDICT),
                    manager=manager,
                ),
                # Anchoring: suggestions shown and kept (annotator.suggestion_uptake)
                "suggestions": uptake(project),
            }
        )

    @extend_schema(
        summary="Train the machine coder on the gold (a background job)",
        request=None,
        responses={202: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request, project_id: int) -> Response:
        project = access.project_for(request.user, project_id, access.Can.MANAGE)
        job = machine_coders.request_training(project, by=request.user)
        return Response({"job": job_status(job, manager=True)}, status=202)


class MachinePredictView(APIView):
    """A manager's POST codes the spans no human coded (a background job)."""

    @extend_schema(
        summary="Machine-code the spans no human coded (a background job)",
        request=None,
        responses={
            202: OpenApiTypes.OBJECT,
            409: OpenApiResponse(
                description="No machine coder of the project's codebook version: "
                "the detail says what to do."
            ),
            **ERRORS,
        },
    )
    def post(self, request, project_id: int) -> Response:
        project = access.project_for(request.user, project_id, access.Can.MANAGE)
        try:
            machine_coders.usable_coder(project)
        except machine_coders.MachineCoderError as error:
            return Response({"detail": str(error)}, status=409)
        job = machine_coders.request_prediction(project, by=request.user)
        return Response({"job": job_status(job, manager=True)}, status=202)
