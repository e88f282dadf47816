"""The coder's keyboard-first coding screen: show, submit, skip (and undo), revise.

Every rule (claims, leases, validation, idempotency, revision history) lives in
annotator.services, who may code in annotator.access, the reads in annotator.progress
and annotator.spans; these views parse the posted form, call one service and render
the span card: the whole page, or for htmx just the `span-card` partial.

Blind coding: nothing here reads another coder's annotations. The only number that
involves other people is the count of coders, used to size the coder's own share.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from annotator import access
from annotator.models import Annotation, Assignment, Project
from annotator.progress import coder_progress
from annotator.services import (
    claim_next_span,
    codebook_groups,
    skip_span,
    submit_annotation,
    unskip_span,
)
from annotator.services.gate import NotCertified
from annotator.spans import span_in_context
from annotator.suggestions import Suggestion, offered, verified
from annotator.views import cards
from annotator.views.base import HtmxHttpRequest, see_other

TEMPLATE = "annotator/code.html"
# Screen actions and their letter (in cards.py: the editor's preview shows them too).
ACTIONS, CHORD_ONLY = cards.CODING_ACTIONS, cards.CODING_CHORD_ONLY
TRUE_VALUES = {"1", "on", "true", "yes"}
NOT_HELD = (
    "This span is not assigned to you (it may have been reassigned, or the page is "
    "out of date); nothing was saved. Here is your current span."
)
DATABASE_DOWN = (
    "The database could not save this annotation; nothing was saved and your "
    "choices are kept. Try again in a moment (press Enter)."
)
UNSKIPPED = "Skip undone: the span is yours to code again."
RECODE = (
    "The codebook changed since you coded this span, and so did the meaning of a "
    "code you gave it: code it again."
)

Status = Assignment.Status


@dataclass
class Draft:
    """What the coder has chosen so far; kept and shown again when a submit fails."""

    labels: dict[str, list[str]] = field(default_factory=dict)
    uncertain: bool = False
    comment: str = ""
    skip_reason: str = ""


def draft_from_post(post, groups: cards.Groups) -> Draft:
    """One field per dimension key (repeated for multi-choice), flags and comment."""
    return Draft(
        labels=cards.chosen_from_post(post, groups),
        uncertain=post.get("uncertain", "").lower() in TRUE_VALUES,
        comment=post.get("comment", ""),
        skip_reason=post.get("reason", ""),
    )


@dataclass
class Card:
    """Everything the span card shows; rendered as a page or as the htmx partial."""

    project: Project
    assignment: Assignment | None
    groups: cards.Groups
    draft: Draft = field(default_factory=Draft)
    errors: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "code"  # or "revise"
    notice: str = ""
    saved_url: str = ""
    unskip_url: str = ""  # after a skip: undo it
    suggestion: Suggestion | None = None  # the machine's, shown with its marker


def suggestion_markers(card: Card) -> dict[str, str]:
    """{dimension key: marker} of the card's suggestion (none in a revision)."""
    if card.suggestion is None or card.mode != "code":
        return {}
    names = {
        dimension.key: {category.key: category.label for category in categories}
        for dimension, categories in card.groups
    }
    return card.suggestion.markers(names)


def render_card(
    request: HtmxHttpRequest, card: Card, *, headers: dict | None = None
) -> HttpResponse:
    project, assignment = card.project, card.assignment
    shown = [dimension.key for dimension, _ in card.groups] + ["reason"]
    markers = suggestion_markers(card)
    context = {
        "project": project,
        "progress": coder_progress(project, request.user, project.n_coders),
        "assignment": assignment,
        "reading": span_in_context(assignment.span_id) if assignment else None,
        "groups": cards.button_rows(
            card.groups, card.draft.labels, card.errors, suggested=markers
        ),
        "draft": card.draft,
        "general_errors": cards.general_errors(card.errors, shown),
        "skip_errors": card.errors.get("reason", []),
        # A claim that is no longer live cannot be submitted again: offer the next.
        "stale": bool(card.errors)
        and assignment is not None
        and card.mode == "code"
        and assignment.status in (Status.SKIPPED, Status.EXPIRED),
        "actions": cards.action_keys(
            ACTIONS, cards.category_shortcuts(card.groups), chord_only=CHORD_ONLY
        ),
        "mode": card.mode,
        "notice": card.notice,
        "saved_url": card.saved_url,
        "unskip_url": card.unskip_url,
        "token": secrets.token_urlsafe(16),
        "suggestion_token": (
            card.suggestion.sign(assignment.pk) if markers and assignment else ""
        ),
        "form_action": (
            reverse("project-code-revise", args=[project.pk, assignment.pk])
            if card.mode == "revise"
            else reverse("project-code", args=[project.pk])
        ),
    }
    return cards.render_span_card(request, TEMPLATE, context, headers=headers)


def next_card(
    request: HtmxHttpRequest,
    project: Project,
    *,
    notice: str = "",
    saved: Assignment | None = None,
    groups: cards.Groups | None = None,
    errors: dict | None = None,
    draft: Draft | None = None,
) -> Card:
    """The coder's current span (claimed if need be, its clock started)."""
    try:
        # shown=True: the clock starts with the claim, in its transaction.
        assignment = claim_next_span(project=project, coder=request.user, shown=True)
    except NotCertified:  # the gate card says why (_gate_notice.html)
        assignment = None
    except ValidationError as error:  # membership removed since the page loaded
        raise PermissionDenied(" ".join(error.messages)) from error
    suggestion = None
    recode = getattr(assignment, "recode", False)
    if recode and draft is None:
        # Handed back after a codebook change: the codes that kept their meaning
        # are filled in, the rest wait for the coder.
        draft = _draft_of(assignment)
        notice = f"{notice} {RECODE}".strip()
    elif assignment is not None and not recode:
        # The machine's codes, pre-selected unless the coder's own draft is kept.
        suggestion = offered(project, assignment)
        if suggestion is not None and draft is None:
            draft = Draft(labels=dict(suggestion.labels))
    return Card(
        project=project,
        assignment=assignment,
        groups=groups or codebook_groups(project.codebook_id),
        draft=draft or Draft(),
        errors=errors or {},
        notice=notice,
        saved_url=(
            reverse("project-code-revise", args=[project.pk, saved.pk]) if saved else ""
        ),
        suggestion=suggestion,
    )


def _draft_of(assignment: Assignment) -> Draft:
    annotation = Annotation.objects.with_labels().get(assignment=assignment)
    return Draft(
        labels=annotation.label_keys(),
        uncertain=annotation.uncertain,
        comment=annotation.comment,
    )


def not_held(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    """The form named no span of this coder's: say so, keep the choices, show the
    coder's current span."""
    groups = codebook_groups(project.codebook_id)
    card = next_card(
        request,
        project,
        groups=groups,
        errors={NON_FIELD_ERRORS: [NOT_HELD]},
        draft=draft_from_post(request.POST, groups),
    )
    return render_card(request, card)


def after_post(
    request: HtmxHttpRequest, project: Project, message: str, saved=None
) -> HttpResponse:
    """No JS: 303 back to the coding page (post/redirect/get) with a message; after
    a save, with the "Reopen it" link that htmx shows too."""
    if saved is not None:
        url = reverse("project-code-revise", args=[project.pk, saved.pk])
        message = format_html('{} <a href="{}">Reopen it</a>', message, url)
    messages.success(request, message)
    return see_other(request, reverse("project-code", args=[project.pk]))


def submit(
    request: HtmxHttpRequest,
    project: Project,
    assignment: Assignment,
    groups: cards.Groups,
    *,
    mode: str,
) -> tuple[Annotation | None, Card]:
    """Call submit_annotation with the posted draft; on failure, the card to show."""
    draft = draft_from_post(request.POST, groups)
    # What the card showed, as the server signed it (never the client's word).
    shown = verified(request.POST.get("suggestion", ""), assignment.pk)
    shown = shown if mode == "code" else None
    card = Card(project, assignment, groups, draft=draft, mode=mode, suggestion=shown)
    try:
        annotation = submit_annotation(
            coder=request.user,
            assignment=assignment.pk,
            labels=draft.labels,
            uncertain=draft.uncertain,
            comment=draft.comment,
            token=request.POST.get("token", "")[:64],
            suggestion=shown,
        )
    except ValidationError as error:
        card.errors = cards.error_messages(error)
        return None, card
    except DatabaseError:
        card.errors = {NON_FIELD_ERRORS: [DATABASE_DOWN]}
        return None, card
    return annotation, card


# --- views ---------------------------------------------------------------------------


@access.login_required
@require_http_methods(["GET", "POST"])
def code(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the coder's current span. POST: submit it, then show the next one."""
    project, assignment = access.coding_project_and_assignment(
        request.user, project_id, request.POST.get("assignment")
    )
    if request.method == "GET":
        return render_card(request, next_card(request, project))
    if assignment is None:
        return not_held(request, project)
    codebook_id = assignment.codebook_id  # a revision keeps its codebook version
    groups = codebook_groups(codebook_id)
    annotation, card = submit(request, project, assignment, groups, mode="code")
    if annotation is None:
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Saved.", assignment)
    same_codebook = codebook_id == project.codebook_id
    return render_card(
        request,
        next_card(
            request,
            project,
            notice="Saved.",
            saved=assignment,
            groups=groups if same_codebook else None,
        ),
    )


@access.login_required
@require_POST
def skip(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Give the current span back with a reason (required), then show the next one."""
    project, assignment = access.coding_project_and_assignment(
        request.user, project_id, request.POST.get("assignment")
    )
    if assignment is None:
        return not_held(request, project)
    try:
        skip_span(
            coder=request.user,
            assignment=assignment.pk,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        groups = codebook_groups(project.codebook_id)
        card = Card(
            project,
            assignment,
            groups,
            draft=draft_from_post(request.POST, groups),
            errors=cards.error_messages(error),
            suggestion=verified(request.POST.get("suggestion", ""), assignment.pk),
        )
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Skipped.")
    card = next_card(request, project, notice="Skipped.")
    card.unskip_url = reverse("project-code-unskip", args=[project.pk, assignment.pk])
    return render_card(request, card)


@access.login_required
@require_POST
def unskip(
    request: HtmxHttpRequest, project_id: int, assignment_id: int
) -> HttpResponse:
    """Undo one of the coder's skips: the span is their current span again."""
    project, assignment = access.coding_project_and_assignment(
        request.user, project_id, assignment_id
    )
    if assignment is None:
        raise Http404("No skip of yours with that number.")
    try:
        unskip_span(coder=request.user, assignment=assignment.pk)
    except ValidationError as error:
        if not request.htmx:
            for message in error.messages:
                messages.error(request, message)
            return see_other(request, reverse("project-code-recent", args=[project.pk]))
        card = next_card(request, project, errors=cards.error_messages(error))
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, UNSKIPPED)
    return render_card(request, next_card(request, project, notice=UNSKIPPED))


@access.login_required
@require_http_methods(["GET", "POST"])
def revise(
    request: HtmxHttpRequest, project_id: int, assignment_id: int
) -> HttpResponse:
    """Reopen one of the coder's own finished annotations and change it.

    submit_annotation records the change (who, when, old, new) as a revision; the
    annotation keeps the codebook version it was made under.
    """
    project, assignment = access.coding_project_and_assignment(
        request.user, project_id, assignment_id
    )
    if assignment is None or assignment.status != Status.COMPLETED:
        raise Http404("No finished annotation of yours with that number.")
    groups = codebook_groups(assignment.codebook_id)  # the version it was made under
    if request.method == "GET":
        draft = _draft_of(assignment)
        return render_card(
            request, Card(project, assignment, groups, draft=draft, mode="revise")
        )

    saved, card = submit(request, project, assignment, groups, mode="revise")
    if saved is None:
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Your revision was saved.", assignment)
    code_url = reverse("project-code", args=[project.pk])
    return render_card(
        request,
        next_card(
            request, project, notice="Your revision was saved.", saved=assignment
        ),
        headers={"HX-Push-Url": code_url},
    )
