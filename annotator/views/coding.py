"""The coder's keyboard-first coding screen: show a span, submit, skip, revise.

Every rule (claims, leases, validation, idempotency, revision history) lives in
annotator.services; these views only parse the posted form, call one service and
render the span card: the whole page, or for htmx just the `span-card` partial.

Blind coding: nothing here reads another coder's annotations. The only number that
involves other people is the count of coders, used to size the coder's own share.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from itertools import groupby
from math import ceil
from operator import attrgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.models import (
    Annotation,
    Assignment,
    Category,
    Dimension,
    Label,
    Membership,
    Project,
    WorkItem,
)
from annotator.services import (
    claim_next_span,
    skip_span,
    submit_annotation,
)
from annotator.views.base import HtmxHttpRequest, partial
from corpus.models import Span

TEMPLATE = "annotator/code.html"
RECENT_TEMPLATE = "annotator/code_recent.html"
CARD = "span-card"
# Context is the nearest codable span on each side within this many indices:
# excluded spans (page chrome, bylines) are noise next to the text being coded.
CONTEXT_WINDOW = 3
RECENT_PER_PAGE = 25
# The progress bar counts at most this many open spans per page view (see
# coder_progress): the cost of a page must not grow with the project.
OPEN_COUNT_LIMIT = 1000
# Screen actions and their preferred letter. A codebook may use the same letter as a
# category shortcut (the default codebook's stance "s"): the category wins and the
# action keeps only the Shift+letter binding. See action_keys().
ACTIONS = {"skip": "s", "uncertain": "u", "comment": "c"}
TRUE_VALUES = {"1", "on", "true", "yes"}

Status = Assignment.Status


# --- read helpers --------------------------------------------------------------------


def coder_project(request: HtmxHttpRequest, project_id: int) -> Project:
    """The project, if the user may code in it: 404 for non-members, 403 for others.

    One query: the membership role and the number of coders (for the share) come
    along as subqueries of the access-controlled project query.
    """
    coders = (
        Membership.objects.filter(project=OuterRef("pk"), role=Membership.Role.CODER)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    role = Membership.objects.filter(project=OuterRef("pk"), user=request.user)
    project = (
        Project.objects.visible_to(request.user)
        .annotate(
            my_role=Subquery(role.values("role")[:1]),
            n_coders=Subquery(coders),
        )
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    if project.my_role != Membership.Role.CODER:
        raise PermissionDenied(
            "Only the project's coders code spans; "
            f"your role here is {project.my_role or 'none'}."
        )
    return project


@dataclass(frozen=True)
class Progress:
    """The coder's done / share, and what is left of it."""

    done: int
    share: int
    beyond_share: bool = False

    @property
    def left(self) -> int:
        return max(self.share - self.done, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.share) if self.share else 100


def coder_progress(project: Project, coder, n_coders: int) -> Progress:
    """How far the coder is through their share of the project.

    share = min(ceil(total_codings / number of coders), done + held + open), where
    total_codings is the project's designed number of codings, held is the coder's
    live claim and open counts spans this coder could still be given (room left,
    never skipped or coded by them). The even split is the fair target when every
    coder keeps going; the cap makes "left" honest near the end, when others have
    taken the rest. A coder who goes past the even split keeps being served, so
    their share grows to what they have done and hold, and `beyond_share` says so.

    Cost: two queries, neither growing with the project. The open count walks only
    open queue rows (through the queue's partial indexes) and stops at what the share
    could still use, and at OPEN_COUNT_LIMIT: while more spans than that are open to
    the coder the even split is shown as is, so the cap is exact over the last
    OPEN_COUNT_LIMIT spans, which is where it matters.
    """
    counts = Assignment.objects.filter(project=project, coder=coder).aggregate(
        done=Count("pk", filter=Q(status=Status.COMPLETED)),
        held=Count("pk", filter=Q(status=Status.CLAIMED)),
    )
    done, held = counts["done"], counts["held"]
    even = ceil(project.total_codings / max(n_coders, 1))
    room = max(even - done - held, 0)
    mine = Assignment.objects.filter(
        project=project, coder=coder, span_id=OuterRef("span_id")
    ).exclude(status=Status.EXPIRED)
    # Spelled as the two partial indexes' conditions, so only open rows are read.
    still_open = Q(taken=0) | Q(taken__gt=0, taken__lt=F("target"))
    open_items = (
        WorkItem.objects.filter(still_open, project=project)
        .exclude(Exists(mine))
        .values("pk")[: min(room, OPEN_COUNT_LIMIT) + 1]
        .count()
    )
    share = min(even, done + held + open_items)
    if open_items > OPEN_COUNT_LIMIT:
        share = even
    beyond = done + held > even
    return Progress(done=done, share=max(share, done + held), beyond_share=beyond)


def codebook_groups(codebook_id: int) -> list[tuple[Dimension, list[Category]]]:
    """The codebook's dimensions with their categories, in order, in one query."""
    categories = (
        Category.objects.filter(dimension__codebook_id=codebook_id)
        .select_related("dimension")
        .order_by("dimension__position", "dimension_id", "position", "pk")
    )
    return [
        (items[0].dimension, items)
        for items in (
            list(group)
            for _, group in groupby(categories, key=attrgetter("dimension_id"))
        )
    ]


@dataclass(frozen=True)
class SpanInContext:
    span: Span
    before: Span | None
    after: Span | None


def span_in_context(span_id: int) -> SpanInContext:
    """The span, its document and its nearest codable neighbours, in one query.

    The document's text and metadata are deferred: the page needs only its title,
    outlet and date, and a long document would otherwise be read on every submit.
    """
    target = Span.objects.filter(pk=span_id)
    index = Subquery(target.values("index"))
    rows = list(
        Span.objects.filter(
            document_id=Subquery(target.values("document_id")),
            index__gte=index - CONTEXT_WINDOW,
            index__lte=index + CONTEXT_WINDOW,
        )
        .filter(Q(excluded=False) | Q(pk=span_id))
        .select_related("document")
        .defer("document__text", "document__metadata")
        .order_by("index")
    )
    position = next(i for i, row in enumerate(rows) if row.pk == span_id)
    return SpanInContext(
        span=rows[position],
        before=rows[position - 1] if position > 0 else None,
        after=rows[position + 1] if position + 1 < len(rows) else None,
    )


@dataclass(frozen=True)
class ActionKey:
    keys: str  # space-separated values of KeyboardEvent.key, for data-keys
    label: str  # what the screen shows


def action_keys(shortcuts: set[str]) -> dict[str, ActionKey]:
    """Bind skip/uncertain/comment to their letter unless a category uses it.

    Category shortcuts come first (they are the codebook's, and coders press them
    most); an action keeps whichever case of its letter is free, and shows
    "Shift+S" when only the capital is left.
    """
    bound: dict[str, ActionKey] = {}
    for action, letter in ACTIONS.items():
        free = [key for key in (letter, letter.upper()) if key not in shortcuts]
        if letter in free:
            label = letter.upper()
        elif free:
            label = f"Shift+{letter.upper()}"
        else:
            label = ""
        bound[action] = ActionKey(keys=" ".join(free), label=label)
    return bound


# --- the form ------------------------------------------------------------------------


@dataclass
class Draft:
    """What the coder has chosen so far; kept and shown again when a submit fails."""

    labels: dict[str, list[str]] = field(default_factory=dict)
    uncertain: bool = False
    comment: str = ""
    skip_reason: str = ""


def draft_from_post(post, groups: list[tuple[Dimension, list[Category]]]) -> Draft:
    """One field per dimension key (repeated for multi-choice), flags and comment."""
    return Draft(
        labels={
            dimension.key: [value for value in post.getlist(dimension.key) if value]
            for dimension, _ in groups
        },
        uncertain=post.get("uncertain", "").lower() in TRUE_VALUES,
        comment=post.get("comment", ""),
        skip_reason=post.get("reason", ""),
    )


def error_messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {NON_FIELD_ERRORS: error.messages}


@dataclass(frozen=True)
class Choice:
    category: Category
    checked: bool


@dataclass(frozen=True)
class Group:
    dimension: Dimension
    choices: list[Choice]
    errors: list[str]

    @property
    def shortcuts(self) -> str:
        return " ".join(
            c.category.shortcut for c in self.choices if c.category.shortcut
        )


def my_assignment(project: Project, coder, raw_id: str | None) -> Assignment | None:
    """The coder's own assignment in this project named by the form, else None."""
    try:
        pk = int(raw_id or "")
    except ValueError:
        return None
    return (
        Assignment.objects.select_related("annotation")
        .filter(pk=pk, project=project, coder=coder)
        .first()
    )


def codebook_of(project: Project, assignment: Assignment) -> int:
    """A finished annotation keeps the codebook version it was made under."""
    annotation = getattr(assignment, "annotation", None)
    return annotation.codebook_id if annotation else project.codebook_id


# --- rendering -----------------------------------------------------------------------


@dataclass
class Card:
    """Everything the span card shows; rendered as a page or as the htmx partial."""

    project: Project
    assignment: Assignment | None
    groups: list[tuple[Dimension, list[Category]]]
    draft: Draft = field(default_factory=Draft)
    errors: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "code"  # or "revise"
    notice: str = ""
    saved_url: str = ""


def render_card(
    request: HtmxHttpRequest, card: Card, *, headers: dict | None = None
) -> HttpResponse:
    project, assignment = card.project, card.assignment
    chosen = {key: set(values) for key, values in card.draft.labels.items()}
    groups = [
        Group(
            dimension=dimension,
            choices=[
                Choice(category, category.key in chosen.get(dimension.key, ()))
                for category in categories
            ],
            errors=card.errors.get(dimension.key, []),
        )
        for dimension, categories in card.groups
    ]
    known = {dimension.key for dimension, _ in card.groups} | {"reason"}
    general = [
        message
        for key, values in card.errors.items()
        if key not in known
        for message in values
    ]
    shortcuts = {
        category.shortcut
        for _, categories in card.groups
        for category in categories
        if category.shortcut
    }
    context = {
        "project": project,
        "progress": coder_progress(project, request.user, project.n_coders),
        "assignment": assignment,
        "reading": span_in_context(assignment.span_id) if assignment else None,
        "groups": groups,
        "draft": card.draft,
        "general_errors": general,
        "skip_errors": card.errors.get("reason", []),
        # A claim that is no longer live cannot be submitted again: offer the next.
        "stale": bool(card.errors)
        and assignment is not None
        and card.mode == "code"
        and assignment.status in (Status.SKIPPED, Status.EXPIRED),
        "actions": action_keys(shortcuts),
        "mode": card.mode,
        "notice": card.notice,
        "saved_url": card.saved_url,
        "token": secrets.token_urlsafe(16),
        "form_action": (
            reverse("project-code-revise", args=[project.pk, assignment.pk])
            if card.mode == "revise"
            else reverse("project-code", args=[project.pk])
        ),
    }
    response = render(request, partial(request, TEMPLATE, CARD), context)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def next_card(
    request: HtmxHttpRequest,
    project: Project,
    *,
    notice: str = "",
    saved: Assignment | None = None,
    groups: list | None = None,
    errors: dict | None = None,
    draft: Draft | None = None,
) -> Card:
    """The coder's current span (claimed if need be, its clock started)."""
    try:
        # shown=True: the clock starts with the claim, in its transaction.
        assignment = claim_next_span(project=project, coder=request.user, shown=True)
    except ValidationError as error:  # membership removed since the page loaded
        raise PermissionDenied(" ".join(error.messages)) from error
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
    )


def after_post(
    request: HtmxHttpRequest, project: Project, message: str
) -> HttpResponse:
    """No JS: 303 back to the coding page (post/redirect/get) with a message."""
    messages.success(request, message)
    response = HttpResponse(status=303)
    response["Location"] = reverse("project-code", args=[project.pk])
    return response


NOT_HELD = (
    "This span is not assigned to you (it may have been reassigned, or the page is "
    "out of date); nothing was saved. Here is your current span."
)
DATABASE_DOWN = (
    "The database could not save this annotation; nothing was saved and your "
    "choices are kept. Try again in a moment (press Enter)."
)


def submit(
    request: HtmxHttpRequest,
    project: Project,
    assignment: Assignment,
    groups: list,
    *,
    mode: str,
) -> tuple[Annotation | None, Card]:
    """Call submit_annotation with the posted draft; on failure, the card to show."""
    draft = draft_from_post(request.POST, groups)
    card = Card(project, assignment, groups, draft=draft, mode=mode)
    try:
        annotation = submit_annotation(
            coder=request.user,
            assignment=assignment.pk,
            labels=draft.labels,
            uncertain=draft.uncertain,
            comment=draft.comment,
            token=request.POST.get("token", "")[:64],
        )
    except ValidationError as error:
        card.errors = error_messages(error)
        return None, card
    except DatabaseError:
        card.errors = {NON_FIELD_ERRORS: [DATABASE_DOWN]}
        return None, card
    return annotation, card


# --- views ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def code(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the coder's current span. POST: submit it, then show the next one."""
    project = coder_project(request, project_id)
    if request.method == "GET":
        return render_card(request, next_card(request, project))

    assignment = my_assignment(project, request.user, request.POST.get("assignment"))
    if assignment is None:
        groups = codebook_groups(project.codebook_id)
        card = next_card(
            request,
            project,
            groups=groups,
            errors={NON_FIELD_ERRORS: [NOT_HELD]},
            draft=draft_from_post(request.POST, groups),
        )
        return render_card(request, card)
    codebook_id = codebook_of(project, assignment)
    groups = codebook_groups(codebook_id)
    annotation, card = submit(request, project, assignment, groups, mode="code")
    if annotation is None:
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Saved.")
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


@login_required
@require_POST
def skip(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Give the current span back with a reason (required), then show the next one."""
    project = coder_project(request, project_id)
    assignment = my_assignment(project, request.user, request.POST.get("assignment"))
    groups = codebook_groups(project.codebook_id)
    draft = draft_from_post(request.POST, groups)
    if assignment is None:
        card = next_card(
            request,
            project,
            groups=groups,
            errors={NON_FIELD_ERRORS: [NOT_HELD]},
            draft=draft,
        )
        return render_card(request, card)
    try:
        skip_span(
            coder=request.user,
            assignment=assignment.pk,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        card = Card(
            project, assignment, groups, draft=draft, errors=error_messages(error)
        )
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Skipped.")
    return render_card(request, next_card(request, project, notice="Skipped."))


@login_required
@require_http_methods(["GET", "POST"])
def revise(
    request: HtmxHttpRequest, project_id: int, assignment_id: int
) -> HttpResponse:
    """Reopen one of the coder's own finished annotations and change it.

    submit_annotation records the change (who, when, old, new) as a revision; the
    annotation keeps the codebook version it was made under.
    """
    project = coder_project(request, project_id)
    assignment = (
        Assignment.objects.select_related("annotation")
        .filter(
            pk=assignment_id,
            project=project,
            coder=request.user,
            status=Status.COMPLETED,
        )
        .first()
    )
    if assignment is None:
        raise Http404("No finished annotation of yours with that number.")
    annotation = assignment.annotation
    groups = codebook_groups(annotation.codebook_id)
    if request.method == "GET":
        labels: dict[str, list[str]] = {}
        for dimension_key, category_key in Label.objects.filter(
            annotation=annotation
        ).values_list("dimension__key", "category__key"):
            labels.setdefault(dimension_key, []).append(category_key)
        draft = Draft(
            labels=labels, uncertain=annotation.uncertain, comment=annotation.comment
        )
        return render_card(
            request, Card(project, assignment, groups, draft=draft, mode="revise")
        )

    saved, card = submit(request, project, assignment, groups, mode="revise")
    if saved is None:
        return render_card(request, card)
    if not request.htmx:
        return after_post(request, project, "Your revision was saved.")
    code_url = reverse("project-code", args=[project.pk])
    return render_card(
        request,
        next_card(
            request, project, notice="Your revision was saved.", saved=assignment
        ),
        headers={"HX-Push-Url": code_url},
    )


@login_required
@require_GET
def recent(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The coder's own annotations, newest first, each reopenable for revision."""
    project = coder_project(request, project_id)
    labels = Label.objects.select_related("dimension", "category").order_by(
        "dimension__position", "dimension_id", "category__position"
    )
    annotations = (
        Annotation.objects.for_project(project)
        .by(request.user)
        .select_related("assignment__span__document")
        .defer(
            "assignment__span__document__text",
            "assignment__span__document__metadata",
        )
        .annotate(n_revisions=Count("revisions"))
        .prefetch_related(Prefetch("labels", queryset=labels))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(annotations, RECENT_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        partial(request, RECENT_TEMPLATE, "recent-list"),
        {"project": project, "page": page},
    )
