"""The reference items pages: the list, marking by hand, upload, from gold, one item.

Reviewers, managers and staff only (access.project_for with Can.REVIEW): coders
never see reference codes here, only as practice feedback.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.models import ReferenceItem
from annotator.services.labels import codebook_groups
from annotator.training import reference
from annotator.training.reference_forms import (
    REFERENCE_UPLOAD,
    FromGoldForm,
    ItemFields,
    MarkForm,
    UploadForm,
)
from annotator.training.reference_listing import listing, shown_codes
from annotator.views.base import HtmxHttpRequest, add_service_errors, see_other
from annotator.views.cards import button_rows, chosen_from_post, error_messages

# The item page's buttons besides saving: the service and what it says when done.
ACTIONS = {
    "retire": (reference.retire, "Retired: it is no longer served."),
    "restore": (reference.restore, "Restored: it is served again."),
    "carry": (reference.carry_to_version, "Carried to the current codebook version."),
}
REFUSAL = "Only the project's reviewers and managers see and mark reference items."


def _project(request: HtmxHttpRequest, project_id: int):
    return access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )


def _codes_context(project, chosen, errors) -> dict:
    groups = codebook_groups(project.codebook_id)
    return {"groups": button_rows(groups, chosen, errors)}


def _service_errors(form, error: ValidationError) -> dict[str, list[str]]:
    """Errors keyed by a dimension go beside its choices; the rest on the form."""
    errors = error_messages(error)
    dimension_keys = {d.key for d, _ in codebook_groups(form.project_codebook)}
    rest = {k: v for k, v in errors.items() if k not in dimension_keys}
    if rest:
        add_service_errors(form, ValidationError(rest))
    return {k: v for k, v in errors.items() if k in dimension_keys}


@access.login_required
@require_GET
def reference_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Every reference item by use, with counts and what keeps some from serving."""
    project = _project(request, project_id)
    return render(
        request,
        "annotator/reference_list.html",
        {"project": project, "listing": listing(project)},
    )


@access.login_required
@require_http_methods(["GET", "POST"])
def reference_new(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Mark a span by hand: the span, its codes (the coding screen's choices),
    its use and an explanation."""
    project = _project(request, project_id)
    posted = request.method == "POST"
    form = MarkForm(request.POST if posted else None, project=project)
    form.project_codebook = project.codebook_id
    groups = codebook_groups(project.codebook_id)
    chosen = chosen_from_post(request.POST, groups) if posted else {}
    code_errors: dict[str, list[str]] = {}
    if posted and form.is_valid():
        try:
            item = reference.mark(
                project,
                span_id=form.cleaned_data["span_id"],
                use=form.cleaned_data["use"],
                codes=chosen,
                explanation=form.cleaned_data["explanation"],
                by=request.user,
            )
        except ValidationError as error:
            code_errors = _service_errors(form, error)
        else:
            messages.success(request, f"Span {item.span_id} is now a reference item.")
            return see_other(request, reverse("project-reference", args=[project.pk]))
    return render(
        request,
        "annotator/reference_new.html",
        {
            "project": project,
            "form": form,
            **_codes_context(project, chosen, code_errors),
        },
    )


@access.login_required
@require_http_methods(["GET", "POST"])
def reference_upload(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A CSV/JSONL file of reference items, all or nothing."""
    project = _project(request, project_id)
    posted = request.method == "POST"
    form = UploadForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            items = reference.import_reference(
                project, upload, upload.name, by=request.user
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            messages.success(request, f"{len(items)} reference items imported.")
            return see_other(request, reverse("project-reference", args=[project.pk]))
    return render(
        request,
        "annotator/reference_upload.html",
        {"project": project, "form": form, "upload_limit": REFERENCE_UPLOAD.limit},
    )


@access.login_required
@require_POST
def reference_from_gold(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """One click on a decision: the span's gold codes become a reference item;
    back to the decisions with what happened."""
    project = _project(request, project_id)
    form = FromGoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a use for the span: practice, test or check.")
    else:
        try:
            item = reference.mark_from_gold(
                project,
                span_id=form.cleaned_data["span"],
                use=form.cleaned_data["use"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Span {item.span_id} is now a reference item "
                f"({item.get_use_display()}), with its gold codes.",
            )
    return see_other(request, reverse("project-adjudicate-decided", args=[project.pk]))


@access.login_required
@require_http_methods(["GET", "POST"])
def reference_item(
    request: HtmxHttpRequest, project_id: int, item_id: int
) -> HttpResponse:
    """One item: edit its codes, use and explanation; retire, restore or carry it."""
    project = _project(request, project_id)
    item = get_object_or_404(
        ReferenceItem.objects.select_related("span__document", "created_by"),
        project=project,
        pk=item_id,
    )
    item.project = project
    here = reverse("project-reference-item", args=[project.pk, item.pk])
    action = request.POST.get("action", "save")
    if request.method == "POST" and action in ACTIONS:
        try:
            ACTIONS[action][0](item)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, ACTIONS[action][1])
        return see_other(request, here)
    posted = request.method == "POST"
    initial = {"use": item.use, "explanation": item.explanation}
    form = ItemFields(request.POST if posted else None, initial=initial)
    form.project_codebook = project.codebook_id
    groups = codebook_groups(project.codebook_id)
    chosen = chosen_from_post(request.POST, groups) if posted else item.codes
    code_errors: dict[str, list[str]] = {}
    if posted and form.is_valid():
        try:
            reference.edit(
                item,
                use=form.cleaned_data["use"],
                codes=chosen,
                explanation=form.cleaned_data["explanation"],
            )
        except ValidationError as error:
            code_errors = _service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return see_other(request, here)
    older = item.codebook_id != project.codebook_id
    return render(
        request,
        "annotator/reference_item.html",
        {
            "project": project,
            "item": item,
            "codes": shown_codes(item.codebook_id, item.codes),
            "older": older,
            "carry_problem": reference.carry_problem(item, project.codebook_id)
            if older
            else "",
            "form": form,
            **_codes_context(project, chosen, code_errors),
        },
    )
