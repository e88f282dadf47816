"""Codebook pages for managers: the list, a version, the editor, upload, download.

Every save goes through services/codebook_saves.py, that is through
annotator/codebooks.py import_codebook(), the path of `manage.py import_codebook`.
"""

from __future__ import annotations

from itertools import groupby
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access
from annotator.codebook_editor import (
    SAMPLE_TEXT,
    Draft,
    apply_operation,
    blank_draft,
    codebook_data,
    draft_from_data,
    draft_from_post,
)
from annotator.codebooks import check_codebook, codebook_to_data, dump_codebook
from annotator.forms import CodebookUploadForm
from annotator.models import Annotation, Category, Codebook, Dimension, Project
from annotator.services.codebook_saves import save_codebook
from annotator.views import cards
from annotator.views.base import HtmxHttpRequest, partial, see_other

MANAGERS_ONLY = "Only managers see and edit codebooks."
EDITOR = "annotator/codebook_editor.html"
CONTENT_TYPES = {"yaml": "application/yaml", "json": "application/json"}


def managers_only(view):
    return access.login_required(
        access.requires(access.can_manage_codebooks, MANAGERS_ONLY)(view)
    )


@managers_only
@require_GET
def codebook_list(request: HtmxHttpRequest) -> HttpResponse:
    """Families with their versions: which projects use each, frozen or not."""
    families = [
        (family, list(versions))
        for family, versions in groupby(
            Codebook.objects.listing(), key=lambda codebook: codebook.family
        )
    ]
    return render(request, "annotator/codebook_list.html", {"families": families})


@managers_only
@require_GET
def codebook_detail(request: HtmxHttpRequest, codebook_id: int) -> HttpResponse:
    """One version, read-only: its dimensions and categories, who uses it."""
    codebook = get_object_or_404(
        Codebook.objects.prefetch_related(
            Prefetch(
                "dimensions",
                queryset=Dimension.objects.prefetch_related("categories"),
            ),
            Prefetch("projects", queryset=Project.objects.order_by("name")),
        ),
        pk=codebook_id,
    )
    versions = Codebook.objects.filter(family=codebook.family).order_by("-version")
    codebook.n_annotations = Annotation.objects.filter(codebook=codebook).count()
    return render(
        request,
        "annotator/codebook_detail.html",
        {
            "codebook": codebook,
            "versions": versions.only("id", "version", "name"),
            "latest": versions.values_list("version", flat=True).first(),
        },
    )


def _download(codebook_id: int, fmt: str) -> HttpResponse:
    codebook = get_object_or_404(Codebook, pk=codebook_id)
    response = HttpResponse(
        dump_codebook(codebook, fmt),
        content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8",
    )
    name = f"{codebook.family}-v{codebook.version}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@managers_only
@require_GET
def codebook_yaml(request: HtmxHttpRequest, codebook_id: int) -> HttpResponse:
    """The version as `manage.py export_codebook` writes it, in YAML."""
    return _download(codebook_id, "yaml")


@managers_only
@require_GET
def codebook_json(request: HtmxHttpRequest, codebook_id: int) -> HttpResponse:
    return _download(codebook_id, "json")


@managers_only
@require_http_methods(["GET", "POST"])
def codebook_upload(request: HtmxHttpRequest) -> HttpResponse:
    """A YAML or JSON file in, as `manage.py import_codebook` takes it."""
    form = CodebookUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_codebook(form.cleaned_data["data"])
        except ValidationError as error:
            name = form.cleaned_data["file"].name
            form.add_error(
                "file",
                [f"{name}: invalid codebook, nothing imported:"] + error.messages,
            )
        else:
            messages.success(request, saved.message)
            return see_other(
                request, reverse("codebook-detail", args=[saved.codebook.pk])
            )
    return render(
        request,
        partial(request, "annotator/codebook_upload.html", "upload-form"),
        {"form": form},
    )


@managers_only
@require_http_methods(["GET", "POST"])
def codebook_create(request: HtmxHttpRequest) -> HttpResponse:
    return _editor(request, None)


@managers_only
@require_http_methods(["GET", "POST"])
def codebook_edit(request: HtmxHttpRequest, codebook_id: int) -> HttpResponse:
    """Edit a version: saving updates it in place while no annotation uses it,
    else makes the family's next version (this one stays as it is)."""
    return _editor(request, get_object_or_404(Codebook, pk=codebook_id))


def _editor(request: HtmxHttpRequest, codebook: Codebook | None) -> HttpResponse:
    """The editor. POST: a button (add, remove, move) changes the draft; "save"
    saves it; "preview" (the live preview's htmx request) redraws the preview."""
    part, save_errors = "editor", []
    if request.method == "GET":
        draft = (
            draft_from_data(codebook_to_data(codebook)) if codebook else blank_draft()
        )
        sample = SAMPLE_TEXT
    else:
        draft = draft_from_post(request.POST)
        sample = request.POST.get("sample", "").strip() or SAMPLE_TEXT
        operation = request.POST.get("op", "preview")
        if apply_operation(draft, operation):
            pass
        elif operation == "save":
            data, save_errors = codebook_data(draft)
            if not save_errors:
                try:
                    saved = save_codebook(
                        data,
                        family=codebook.family if codebook else None,
                        new_family=codebook is None,
                    )
                except ValidationError as error:
                    save_errors = error.messages
                else:
                    messages.success(request, saved.message)
                    url = reverse("codebook-detail", args=[saved.codebook.pk])
                    return see_other(request, url)
        elif request.htmx.target == "codebook-preview":
            part = "preview"  # the live preview redraws itself; else the editor
    if codebook is not None:
        draft["family"] = codebook.family
    context = {
        "codebook": codebook,
        "draft": draft,
        "save_errors": save_errors,
        "editor_url": reverse("codebook-edit", args=[codebook.pk])
        if codebook
        else reverse("codebook-create"),
        **_preview(draft, sample),
    }
    if codebook is not None:
        context.update(_what_saving_does(codebook))
    context["dimensions"] = _with_their_errors(draft, save_errors)
    return render(request, partial(request, EDITOR, part), context)


def _with_their_errors(draft: Draft, errors: list[str]) -> list[dict]:
    """The draft's dimensions, each with the save errors that name it (they are
    also listed above the form), to show beside its fields."""
    return [
        {
            **dimension,
            "errors": [
                message
                for message in errors
                if message.startswith(
                    (f"dimension '{dimension['key'] or n}'", f"dimension {n}:")
                )
            ],
        }
        for n, dimension in enumerate(draft["dimensions"], start=1)
    ]


def _what_saving_does(codebook: Codebook) -> dict:
    """The version a save would write: this one, or the family's next."""
    latest = (
        Codebook.objects.filter(family=codebook.family).order_by("-version").first()
    )
    return {
        "latest": latest,
        "n_annotations": Annotation.objects.filter(codebook=latest).count(),
    }


def _preview(draft: Draft, sample: str) -> dict:
    """The coding screen's card for the draft as it stands, and what saving it
    would refuse (nothing is written)."""
    data, problems = codebook_data(draft)
    try:
        check_codebook(data)
    except ValidationError as error:
        problems += error.messages
    groups = [
        (
            Dimension(
                key=dimension["key"] or f"dimension-{d}",
                label=dimension["label"] or dimension["key"],
                multiple=dimension["multiple"],
                required=dimension["required"],
                instructions=dimension["instructions"],
            ),
            [
                Category(
                    key=category["key"],
                    label=category["label"] or category["key"],
                    definition=category["definition"],
                    examples=category["examples"],
                    shortcut=category["shortcut"][:1],
                )
                for category in dimension["categories"]
            ],
        )
        for d, dimension in enumerate(data["dimensions"], start=1)
    ]
    rows = cards.button_rows(groups, {}, {})
    document = SimpleNamespace(title="A sample document", source="", published="")
    return {
        "groups": rows,
        "actions": cards.action_keys(
            cards.CODING_ACTIONS,
            cards.category_shortcuts(groups),
            chord_only=cards.CODING_CHORD_ONLY,
        ),
        "mode": "code",
        "reading": SimpleNamespace(
            span=SimpleNamespace(text=sample, document=document), before=[], after=[]
        ),
        "sample": sample,
        "problems": problems,
    }
