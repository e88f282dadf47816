"""The reviewers' adjudication screen: one disputed span at a time, settled by key.

The queue, the rules, the reads of a span and every write live in
``annotator.gold`` (``adjudication_queue``, ``settle_span``, ``gold.disputes``);
these views parse the form, call them and render the card:
the whole page, or for htmx the ``span-card`` partial. The card shares the coding
screen's reading, buttons and keyboard script (``annotator.views.cards`` and
``coding.js``: ``data-keys`` bindings, Enter submits ``#code-form``), so a category
has the same key on both screens.

Reviewers and managers only (and staff): coders code blind and get 403, people
outside the project 404 (``annotator.access``).

Gold is never computed here: stale gold is handed to a worker
(``services.jobs.refresh_gold_if_stale``) and the queue rests on the last
finished gold, the page saying how fresh it is (the polled freshness panel).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Window
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access
from annotator.finding import (
    COUNT_CAP,
    NO_FILTERS,
    ListFilters,
    capped_count,
    category_choices,
    list_filters,
    narrow_decided,
    narrow_waiting,
)
from annotator.finding_forms import FILTER_FIELDS, ListFilterForm, filter_form
from annotator.gold import adjudication_queue, settle_span
from annotator.gold.disputes import (
    coder_codes,
    decision_history,
    gold_keys,
    span_golds,
)
from annotator.models import (
    GoldLabel,
    GoldLabelCategory,
    GoldMethod,
    Project,
    WorkItem,
)
from annotator.services import codebook_groups, jobs
from annotator.spans import span_in_context
from annotator.views import cards
from annotator.views.base import (
    HtmxHttpRequest,
    gold_panel,
    partial,
    query_without_page,
)

TEMPLATE = "annotator/adjudicate.html"
DECIDED_TEMPLATE = "annotator/adjudicate_decided.html"
DECIDED_PER_PAGE = 25
SKIP_LIMIT = 200  # spans put off with "Later" that the query string carries
# Screen actions and their letter; a category shortcut wins the letter in both cases
# (as on the coding screen) and the action answers to Alt+letter.
ACTIONS = {"note": "n", "later": "l"}
REFUSAL = "Only the project's reviewers and managers settle disagreements."


def reviewer_project(request: HtmxHttpRequest, project_id: int) -> Project:
    return access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )


# --- options from the query string ---------------------------------------------------


@dataclass(frozen=True)
class QueueOptions:
    below: float | None = None  # also queue automatic labels under this posterior
    skip: tuple[int, ...] = ()  # spans put off for now
    filter_params: tuple[tuple[str, str], ...] = ()  # the filter form's, as sent
    filters: ListFilters = NO_FILTERS

    def query(self, *, skip: tuple[int, ...] | None = None) -> str:
        params = QueryDict(mutable=True)
        for name, value in self.filter_params:
            params[name] = value
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


def with_filters(
    project: Project, options: QueueOptions, form: ListFilterForm
) -> QueueOptions:
    """The options with the form's filters; ValueError names a bad one."""
    if not form.is_bound:
        return options
    if not form.is_valid():
        raise ValueError(
            "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
            )
        )
    params = tuple(
        (name, form.data[name]) for name in FILTER_FIELDS if form.data.get(name)
    )
    filters = list_filters(project, form.cleaned_data)
    return replace(options, filter_params=params, filters=filters)


# --- the card ------------------------------------------------------------------------


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
    filter_form: ListFilterForm | None = None


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
        "actions": cards.action_keys(ACTIONS, cards.category_shortcuts(groups)),
        "count_cap": COUNT_CAP if card.options.filters.any else None,
    }
    if not request.htmx:  # the panel sits outside the card; it polls itself
        context.update(gold_panel(request, project))
        context["filter_form"] = card.filter_form
    if card.span_id is not None:
        golds = span_golds(project, card.span_id)
        coders, votes = coder_codes(project, card.span_id, groups)
        chosen = card.chosen
        if chosen is None:  # as decided so far
            chosen = {d.key: gold_keys(golds.get(d.pk)) for d, _ in groups}
        rows = cards.button_rows(groups, chosen, card.errors, votes)
        for row in rows:
            row.gold = golds.get(row.dimension.pk)
        note = card.note
        if note is None:
            note = next(
                (g.note for g in golds.values() if g.method == GoldMethod.ADJUDICATED),
                "",
            )
        context.update(
            groups=rows,
            coders=coders,
            reading=span_in_context(card.span_id),
            history=decision_history(project, card.span_id),
            note=note,
            general_errors=cards.general_errors(
                card.errors, (d.key for d, _ in groups)
            ),
            later_url=(
                reverse("project-adjudicate", args=[project.pk])
                + "?"
                + card.options.query(skip=(*card.options.skip, card.span_id))
            ),
        )
    return cards.render_span_card(request, TEMPLATE, context, headers=headers)


def queue_card(
    project: Project, options: QueueOptions, *, notice: str = "", decided_url=""
) -> Card:
    """The most urgent span still waiting (after those put off)."""
    queue = adjudication_queue(project, below=options.below)
    if options.filters.any:
        # Filtered: the head is still found in the queue's order; the count
        # stops at COUNT_CAP (finding.py), whatever the project's size.
        queue = narrow_waiting(queue, project, options.filters)
        head = (
            queue.exclude(span_id__in=options.skip)
            .values_list("span_id", flat=True)
            .first()
        )
        waiting = capped_count(queue)
    elif options.below is None or options.skip:
        # From the queue table (no ``below``): the head is one index probe and
        # the count an index-only scan, cheaper apart than one windowed pass.
        head = (
            queue.exclude(span_id__in=options.skip)
            .values_list("span_id", flat=True)
            .first()
        )
        waiting = queue.count()
    else:
        # Computed live (``below``): one pass for the head and the count, as
        # each pass evaluates every candidate span.
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


def refresh_or_warn(request: HtmxHttpRequest, project: Project) -> None:
    """Stale gold goes to a worker (the queue rests on the last finished gold
    meanwhile); a bad gold setting is said on the page."""
    try:
        jobs.refresh_gold_if_stale(project, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)


def _bad_options(request: HtmxHttpRequest, project: Project, error, form=None):
    """400: what is wrong, and the filters (if sent) to put it right."""
    context = {"project": project, "options": QueueOptions(), "bad_options": str(error)}
    return render(request, TEMPLATE, {**context, "filter_form": form}, status=400)


def _in_project(project: Project, span_id: int | None) -> bool:
    return (
        span_id is not None
        and WorkItem.objects.filter(project=project, span_id=span_id).exists()
    )


# --- views ---------------------------------------------------------------------------


@access.login_required
@require_http_methods(["GET", "POST"])
def queue(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the most urgent disputed span. POST: settle a span, show the next."""
    project = reviewer_project(request, project_id)
    source = request.POST if request.method == "POST" else request.GET
    form = filter_form(source, category_choices(project))
    try:
        options = with_filters(project, parse_queue_options(source), form)
    except ValueError as error:
        return _bad_options(request, project, error, form)
    refresh_or_warn(request, project)
    if request.method == "GET":
        card = queue_card(project, options)
        card.filter_form = form
        return render_card(request, card)

    try:
        span_id = int(request.POST.get("span", ""))
    except ValueError:
        span_id = None
    if not _in_project(project, span_id):
        card = queue_card(project, options)
        card.errors = {NON_FIELD_ERRORS: ["No such span in this project; here is the "
                                          "next one waiting."]}  # fmt: skip
        return render_card(request, card)
    groups = codebook_groups(project.codebook_id)
    chosen = cards.chosen_from_post(request.POST, groups)
    try:
        written = settle_span(
            project,
            span_id,
            chosen,
            reviewer=request.user,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        card = Card(
            project,
            options,
            span_id=span_id,
            waiting=adjudication_queue(project, below=options.below).count(),
            chosen=chosen,
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


@access.login_required
@require_GET
def reopen(request: HtmxHttpRequest, project_id: int, span_id: int) -> HttpResponse:
    """One span of the project, to settle it or revise an earlier decision."""
    project = reviewer_project(request, project_id)
    if not _in_project(project, span_id):
        raise Http404("No such span in this project.")
    try:
        options = parse_queue_options(request.GET)
    except ValueError as error:
        return _bad_options(request, project, error)
    refresh_or_warn(request, project)
    card = Card(
        project,
        options,
        span_id=span_id,
        waiting=adjudication_queue(project, below=options.below).count(),
        reopened=True,
    )
    return render_card(request, card)


@access.login_required
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
    form = filter_form(request.GET, category_choices(project))
    if form.is_bound and form.is_valid():
        labels = narrow_decided(labels, list_filters(project, form.cleaned_data))
    elif form.is_bound:
        labels = labels.none()  # the form says what is wrong
    page = Paginator(labels, DECIDED_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        partial(request, DECIDED_TEMPLATE, "decided-list"),
        {
            "project": project,
            "page": page,
            "filter_form": form,
            "filters": query_without_page(request),
        },
    )
