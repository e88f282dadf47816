"""The reviewers' adjudication screen: one disputed span at a time, settled by key.

The queue, the rules and every write live in ``annotator.gold``
(``adjudication_queue``, ``refresh_gold``, ``adjudicate``); these views parse the
form, call them and render the card: the whole page, or for htmx the
``span-card`` partial. The card reuses the coding screen's reading, buttons and
keyboard script (``coding.js``: ``data-keys`` bindings, Enter submits
``#code-form``), so a category has the same key on both screens.

Reviewers and managers only (and staff): coders code blind and get 403, people
outside the project 404, as on the agreement dashboard.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Window
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator.gold import adjudicate, adjudication_queue, refresh_gold
from annotator.models import (
    Annotation,
    Category,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldMethod,
    Label,
    Project,
    WorkItem,
)
from annotator.views.base import HtmxHttpRequest, partial
from annotator.views.coding import (
    codebook_groups,
    error_messages,
    span_in_context,
)
from annotator.views.projects import project_for, sees_everyones_progress

TEMPLATE = "annotator/adjudicate.html"
DECIDED_TEMPLATE = "annotator/adjudicate_decided.html"
CARD = "span-card"
DECIDED_PER_PAGE = 25
SKIP_LIMIT = 200  # spans put off with "Later" that the query string carries
# Screen actions and their preferred letter; a category shortcut wins the letter
# (as on the coding screen) and the action keeps Shift+letter.
ACTIONS = {"note": "n", "later": "l"}


def reviewer_project(request: HtmxHttpRequest, project_id: int) -> Project:
    """The project if the user reviews or manages it: 404 outside it, 403 coders."""
    project = project_for(request, project_id)
    if not sees_everyones_progress(request.user, project):
        raise PermissionDenied(
            "Only the project's reviewers and managers settle disagreements."
        )
    return project


# --- options from the query string ---------------------------------------------------


@dataclass(frozen=True)
class QueueOptions:
    below: float | None = None  # also queue automatic labels under this posterior
    skip: tuple[int, ...] = ()  # spans put off for now

    def query(self, *, skip: tuple[int, ...] | None = None) -> str:
        params = QueryDict(mutable=True)
        if self.below is not None:
            params["below"] = f"{self.below:g}"
        ids = self.skip if skip is None else skip
        if ids:
            params["skip"] = ",".join(map(str, ids[-SKIP_LIMIT:]))
        return params.urlencode()


def parse_queue_options(params: QueryDict) -> QueueOptions:
    """``below`` (a posterior in [0, 1]) and ``skip`` (span ids); ValueError names
    the bad one."""
    below = None
    raw = (params.get("below") or "").strip()
    if raw:
        try:
            below = float(raw)
        except ValueError:
            raise ValueError(f"below must be a number, not {raw!r}") from None
        if not 0 <= below <= 1:
            raise ValueError(f"below must be between 0 and 1, not {raw}")
    skip = []
    for part in (params.get("skip") or "").split(","):
        if part.strip():
            try:
                skip.append(int(part))
            except ValueError:
                raise ValueError(f"skip must list span ids, not {part!r}") from None
    return QueueOptions(below, tuple(skip[-SKIP_LIMIT:]))


# --- what the card shows -------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    category: Category
    checked: bool
    votes: int  # coders who chose it


@dataclass
class Group:
    dimension: Dimension
    choices: list[Choice]
    errors: list[str]
    gold: GoldLabel | None
    n_ratings: int

    @property
    def disputed(self) -> bool:
        return self.gold is None and self.n_ratings > 0

    @property
    def shortcuts(self) -> str:
        return " ".join(
            c.category.shortcut for c in self.choices if c.category.shortcut
        )


@dataclass(frozen=True)
class CoderRow:
    name: str
    codes: list[list[str]]  # category labels per dimension, in codebook order
    uncertain: bool
    comment: str
    seconds: float | None


@dataclass(frozen=True)
class ActionKey:
    keys: str
    label: str


def action_keys(shortcuts: set[str]) -> dict[str, ActionKey]:
    bound = {}
    for action, letter in ACTIONS.items():
        free = [key for key in (letter, letter.upper()) if key not in shortcuts]
        label = (
            letter.upper()
            if letter in free
            else (f"Shift+{letter.upper()}" if free else "")
        )
        bound[action] = ActionKey(" ".join(free), label)
    return bound


def gold_keys(label: GoldLabel | None) -> list[str]:
    if label is None:
        return []
    if label.dimension.multiple:
        return sorted(c.category.key for c in label.categories.all())
    return [label.category.key] if label.category_id else []


def span_golds(project: Project, span_id: int) -> dict[int, GoldLabel]:
    """{dimension id: gold label} of the span, categories and reviewer loaded."""
    rows = (
        GoldLabel.objects.filter(project=project, span_id=span_id)
        .select_related("dimension", "category", "decided_by")
        .prefetch_related(
            Prefetch(
                "categories",
                queryset=GoldLabelCategory.objects.select_related("category"),
            )
        )
    )
    return {row.dimension_id: row for row in rows}


def coder_rows(
    project: Project, span_id: int, groups: list
) -> tuple[list[CoderRow], dict[str, Counter]]:
    """Each coder's annotation of the span, and the votes per dimension key.

    Labels made under another codebook version count for the dimension and
    category with the same key.
    """
    annotations = (
        Annotation.objects.filter(project=project, assignment__span_id=span_id)
        .select_related("assignment__coder")
        .prefetch_related(
            Prefetch(
                "labels",
                queryset=Label.objects.select_related("dimension", "category").order_by(
                    "category__position", "category_id"
                ),
            )
        )
        .order_by("assignment__coder__username")
    )
    keys = [dimension.key for dimension, _ in groups]
    votes: dict[str, Counter] = {key: Counter() for key in keys}
    rows = []
    for annotation in annotations:
        codes: dict[str, list[str]] = {key: [] for key in keys}
        for label in annotation.labels.all():
            key = label.dimension.key
            if key in codes:
                codes[key].append(label.category.label)
                votes[key][label.category.key] += 1
        coder = annotation.assignment.coder
        rows.append(
            CoderRow(
                name=coder.get_full_name() or coder.username,
                codes=[codes[key] for key in keys],
                uncertain=annotation.uncertain,
                comment=annotation.comment,
                seconds=annotation.seconds,
            )
        )
    return rows, votes


def history(project: Project, span_id: int) -> list[GoldLabelRevision]:
    return list(
        GoldLabelRevision.objects.filter(
            gold_label__project=project, gold_label__span_id=span_id
        )
        .select_related("changed_by", "gold_label__dimension")
        .order_by("-changed_at", "-id")
    )


@dataclass
class Card:
    project: Project
    options: QueueOptions
    span_id: int | None = None
    waiting: int = 0
    chosen: dict[str, list[str]] | None = None  # a failed post's choices
    note: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    reopened: bool = False
    notice: str = ""
    decided_url: str = ""


def render_card(
    request: HtmxHttpRequest, card: Card, *, headers: dict | None = None
) -> HttpResponse:
    project = card.project
    groups = codebook_groups(project.codebook_id)
    context = {
        "project": project,
        "options": card.options,
        "waiting": card.waiting,
        "notice": card.notice,
        "decided_url": card.decided_url,
        "reopened": card.reopened,
        "span_id": card.span_id,
        "groups": [],
        "actions": action_keys(
            {c.shortcut for _, categories in groups for c in categories if c.shortcut}
        ),
    }
    if card.span_id is not None:
        golds = span_golds(project, card.span_id)
        rows, votes = coder_rows(project, card.span_id, groups)
        chosen = card.chosen or {}
        shown = []
        for dimension, categories in groups:
            gold = golds.get(dimension.pk)
            picked = set(
                chosen[dimension.key] if card.chosen is not None else gold_keys(gold)
            )
            shown.append(
                Group(
                    dimension=dimension,
                    choices=[
                        Choice(c, c.key in picked, votes[dimension.key][c.key])
                        for c in categories
                    ],
                    errors=card.errors.get(dimension.key, []),
                    gold=gold,
                    n_ratings=sum(votes[dimension.key].values()),
                )
            )
        note = card.note
        if note is None:
            note = next(
                (g.note for g in golds.values() if g.method == GoldMethod.ADJUDICATED),
                "",
            )
        known = {dimension.key for dimension, _ in groups}
        context.update(
            groups=shown,
            coders=rows,
            reading=span_in_context(card.span_id),
            history=history(project, card.span_id),
            note=note,
            general_errors=[
                m for k, ms in card.errors.items() if k not in known for m in ms
            ],
            later_url=(
                reverse("project-adjudicate", args=[project.pk])
                + "?"
                + card.options.query(skip=(*card.options.skip, card.span_id))
            ),
        )
    response = render(request, partial(request, TEMPLATE, CARD), context)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def queue_card(
    project: Project, options: QueueOptions, *, notice: str = "", decided_url=""
) -> Card:
    """The most urgent span still waiting (after those put off)."""
    queue = adjudication_queue(project, below=options.below)
    if options.skip:
        head = (
            queue.exclude(span_id__in=options.skip)
            .values_list("span_id", flat=True)
            .first()
        )
        waiting = queue.count()
    else:
        # One pass for the head and the count: on a big project each pass
        # evaluates every candidate span.
        row = queue.annotate(total=Window(Count("pk"))).values_list("span_id", "total")[
            :1
        ]
        head, waiting = next(iter(row), (None, 0))
    return Card(
        project,
        options,
        span_id=head,
        waiting=waiting,
        notice=notice,
        decided_url=decided_url,
    )


def refresh(request: HtmxHttpRequest, project: Project) -> None:
    """Gold up to date before the queue is read; a bad gold setting is said on
    the page (the queue then rests on the gold as it was)."""
    try:
        refresh_gold(project, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)


def _bad_options(request: HtmxHttpRequest, project: Project, error: ValueError):
    return render(
        request,
        TEMPLATE,
        {"project": project, "options": QueueOptions(), "bad_options": str(error)},
        status=400,
    )


# --- views ---------------------------------------------------------------------------


def decide(
    request: HtmxHttpRequest, project: Project, span_id: int, groups: list
) -> tuple[int, dict[str, list[str]], str]:
    """Adjudicate every dimension the reviewer settled or changed, all or nothing.

    A dimension is written when it has no gold label yet (disputed) or the
    choice differs from its gold label, or when the note changed on a label a
    reviewer already decided. Returns (labels written, the choices, the note);
    a ValidationError names the dimension at fault.
    """
    chosen = {
        dimension.key: [v for v in request.POST.getlist(dimension.key) if v]
        for dimension, _ in groups
    }
    note = request.POST.get("note", "").strip()
    golds = span_golds(project, span_id)
    _, votes = coder_rows(project, span_id, groups)
    written = 0
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        for dimension, _ in groups:
            gold = golds.get(dimension.pk)
            picked = sorted(chosen[dimension.key])
            rated = sum(votes[dimension.key].values()) > 0
            if gold is None and not rated and not picked:
                continue  # nobody coded it and the reviewer adds nothing
            adjudicated = gold is not None and gold.method == GoldMethod.ADJUDICATED
            if (
                gold is not None
                and picked == gold_keys(gold)
                and not (adjudicated and gold.note != note)
            ):
                continue
            try:
                adjudicate(
                    project,
                    span_id,
                    dimension,
                    picked,
                    reviewer=request.user,
                    note=note,
                )
            except ValidationError as error:
                for key, messages_ in error_messages(error).items():
                    errors.setdefault(
                        dimension.key if key == NON_FIELD_ERRORS else key, []
                    ).extend(messages_)
            written += 1
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return written, chosen, note


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the most urgent disputed span. POST: settle a span, show the next."""
    project = reviewer_project(request, project_id)
    source = request.POST if request.method == "POST" else request.GET
    try:
        options = parse_queue_options(source)
    except ValueError as error:
        return _bad_options(request, project, error)
    refresh(request, project)
    if request.method == "GET":
        return render_card(request, queue_card(project, options))

    try:
        span_id = int(request.POST.get("span", ""))
    except ValueError:
        span_id = None
    if (
        span_id is None
        or not WorkItem.objects.filter(project=project, span_id=span_id).exists()
    ):
        card = queue_card(project, options)
        card.errors = {NON_FIELD_ERRORS: ["No such span in this project; here is the "
                                          "next one waiting."]}  # fmt: skip
        return render_card(request, card)
    groups = codebook_groups(project.codebook_id)
    try:
        written, _, _ = decide(request, project, span_id, groups)
    except ValidationError as error:
        card = Card(
            project,
            options,
            span_id=span_id,
            waiting=adjudication_queue(project, below=options.below).count(),
            chosen={
                d.key: [v for v in request.POST.getlist(d.key) if v] for d, _ in groups
            },
            note=request.POST.get("note", ""),
            errors=error.message_dict,
            reopened=request.POST.get("reopened") == "1",
        )
        return render_card(request, card)
    notice = "Decided." if written else "Nothing to change; kept as it was."
    next_url = reverse("project-adjudicate", args=[project.pk])
    query = options.query()
    if not request.htmx:
        messages.success(request, notice)
        response = HttpResponse(status=303)
        response["Location"] = next_url + (f"?{query}" if query else "")
        return response
    card = queue_card(
        project,
        options,
        notice=notice,
        decided_url=reverse("project-adjudicate-span", args=[project.pk, span_id]),
    )
    headers = {}
    if request.POST.get("reopened") == "1":
        headers["HX-Push-Url"] = next_url + (f"?{query}" if query else "")
    return render_card(request, card, headers=headers)


@login_required
@require_GET
def reopen(request: HtmxHttpRequest, project_id: int, span_id: int) -> HttpResponse:
    """One span of the project, to settle it or revise an earlier decision."""
    project = reviewer_project(request, project_id)
    if not WorkItem.objects.filter(project=project, span_id=span_id).exists():
        raise Http404("No such span in this project.")
    try:
        options = parse_queue_options(request.GET)
    except ValueError as error:
        return _bad_options(request, project, error)
    refresh(request, project)
    card = Card(
        project,
        options,
        span_id=span_id,
        waiting=adjudication_queue(project, below=options.below).count(),
        reopened=True,
    )
    return render_card(request, card)


@login_required
@require_GET
def decided(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The reviewers' decisions, newest first, each reopenable."""
    project = reviewer_project(request, project_id)
    labels = (
        GoldLabel.objects.filter(project=project, method=GoldMethod.ADJUDICATED)
        .select_related("dimension", "category", "decided_by", "span")
        .prefetch_related(
            Prefetch(
                "categories",
                queryset=GoldLabelCategory.objects.select_related("category"),
            )
        )
        .order_by("-decided_at", "-id")
    )
    page = Paginator(labels, DECIDED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, DECIDED_TEMPLATE, {"project": project, "page": page})
