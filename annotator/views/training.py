"""Coder training's pages: hub, practice, the certification test, attempts, certify.

Practice and the test draw the coding screen's card (``cards``: the span in its
document, the rows of choice buttons with their shortcuts, the codebook panel);
practice answers each submit with the reference, the test with nothing until its
last item. The rules live in ``annotator.training.rounds``; these views parse the
form, call it and render: the whole page, or for htmx the ``span-card`` partial.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.access import Can
from annotator.access_training import attempt_for
from annotator.models import Membership, Project, TrainingAnswer, TrainingAttempt
from annotator.services import codebook_dimensions, codebook_groups
from annotator.spans import span_in_context
from annotator.training import rounds, rounds_reading
from annotator.training.training_forms import CertifyForm
from annotator.views import cards
from annotator.views.base import HtmxHttpRequest, see_other

Kind = TrainingAttempt.Kind
HUB = "annotator/training.html"
CARD_TEMPLATE = "annotator/training_item.html"
ATTEMPT = "annotator/training_attempt.html"
CERTIFY = "annotator/training_certify.html"
URLS = {Kind.PRACTICE: "project-practice", Kind.TEST: "project-test"}
TEST_SAVED = "Answer saved. The test shows no feedback until its last item."


def _card_context(
    request: HtmxHttpRequest,
    project: Project,
    kind: str,
    *,
    attempt: TrainingAttempt | None = None,
    answers: list[TrainingAnswer] | None = None,
    shown: TrainingAnswer | None = None,
    errors: dict | None = None,
    draft: dict | None = None,
    notice: str = "",
    intro: str = "",
) -> dict:
    """One card: the item to answer (``shown`` unanswered), its feedback
    (``shown`` answered, practice only), or an intro with a start button."""
    codebook_id = attempt.codebook_id if attempt else project.codebook_id
    groups = codebook_groups(codebook_id)
    errors = errors or {}
    answers = answers or []
    context = {
        "project": project,
        "kind": kind,
        "practice": kind == Kind.PRACTICE,
        "attempt": attempt,
        "item": shown,
        "position": (shown.order + 1) if shown else 0,
        "total": len(answers),
        "answered": sum(1 for a in answers if a.answered_at),
        "reading": span_in_context(shown.item.span_id) if shown else None,
        "groups": cards.button_rows(groups, draft or {}, errors),
        "actions": cards.action_keys({}, cards.category_shortcuts(groups)),
        "mode": kind,
        "general_errors": cards.general_errors(errors, [d.key for d, _ in groups]),
        "notice": notice,
        "intro": intro,
        "form_action": reverse(URLS[kind], args=[project.pk]),
        "available": rounds.items_available(project) if shown is None else None,
    }
    if shown is not None and shown.answered_at is not None:
        context["feedback"] = rounds_reading.feedback(shown, codebook_id)
    return context


def _current(request, project: Project, kind: str, **extra) -> HttpResponse:
    """The coder's open round's next item, or the intro when none is open."""
    attempt = rounds.open_attempt(project, request.user, kind)
    answers = rounds.served(attempt) if attempt else []
    shown = rounds.next_item(answers)
    context = _card_context(
        request,
        project,
        kind,
        attempt=attempt if shown else None,
        answers=answers,
        shown=shown,
        **extra,
    )
    return cards.render_span_card(request, CARD_TEMPLATE, context)


def _start(request: HtmxHttpRequest, project: Project, kind: str) -> HttpResponse:
    try:
        if kind == Kind.PRACTICE:
            rounds.restart_practice(project=project, coder=request.user)
        else:
            rounds.start(project=project, coder=request.user, kind=kind)
    except ValidationError as error:
        return _current(request, project, kind, intro=" ".join(error.messages))
    return see_other(request, reverse(URLS[kind], args=[project.pk]))


def _answer(request: HtmxHttpRequest, project: Project, kind: str) -> HttpResponse:
    """Record the posted answer; practice shows its feedback, the test the next
    item (or, after the last, the attempt's results)."""
    groups = codebook_groups(project.codebook_id)
    draft = cards.chosen_from_post(request.POST, groups)
    try:
        saved = rounds.answer(
            coder=request.user,
            answer_id=request.POST.get("answer", ""),
            kind=kind,
            labels=draft,
        )
    except ValidationError as error:
        errors = cards.error_messages(error)
        if NON_FIELD_ERRORS in errors:  # not an open item: show the current one
            return _current(request, project, kind, errors=errors)
        attempt = rounds.open_attempt(project, request.user, kind)
        answers = rounds.served(attempt) if attempt else []
        shown = next(
            (a for a in answers if str(a.pk) == request.POST.get("answer")), None
        )
        context = _card_context(
            request, project, kind, attempt=attempt, answers=answers, shown=shown,
            errors=errors, draft=draft,
        )  # fmt: skip
        return cards.render_span_card(request, CARD_TEMPLATE, context)
    attempt = saved.attempt
    if kind == Kind.TEST:
        if attempt.finished_at is not None:
            return see_other(
                request, reverse("project-attempt", args=[project.pk, attempt.pk])
            )
        return _current(request, project, kind, notice=TEST_SAVED)
    context = _card_context(
        request, project, kind, attempt=attempt, answers=rounds.served(attempt),
        shown=saved,
    )  # fmt: skip
    return cards.render_span_card(request, CARD_TEMPLATE, context)


def _round(request: HtmxHttpRequest, project_id: int, kind: str) -> HttpResponse:
    project = access.project_for(request.user, project_id, Can.CODE)
    if request.method == "GET" or request.POST.get("action") == "next":
        return _current(request, project, kind)
    if request.POST.get("action") == "start":
        return _start(request, project, kind)
    return _answer(request, project, kind)


# --- views ---------------------------------------------------------------------------


@access.login_required
@require_GET
def training(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The coder's training: practice and the test, their attempts, the status."""
    project = access.project_for(request.user, project_id, Can.CODE)
    context = {
        "project": project,
        "panel": rounds.coder_panel(request.user, project),
        "available": rounds.items_available(project),
        "attempts": rounds_reading.coder_attempts(project, request.user),
        "open_practice": rounds.open_attempt(project, request.user, Kind.PRACTICE),
        "open_test": rounds.open_attempt(project, request.user, Kind.TEST),
    }
    return render(request, HUB, context)


@access.login_required
@require_http_methods(["GET", "POST"])
def practice(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the next practice item. POST: answer it (feedback), ``action=next``,
    or ``action=start`` a new round."""
    return _round(request, project_id, Kind.PRACTICE)


@access.login_required
@require_http_methods(["GET", "POST"])
def certification_test(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """GET: the next test item, blind. POST: answer it, or ``action=start``; after
    the last answer, the attempt's results."""
    return _round(request, project_id, Kind.TEST)


@access.login_required
@require_GET
def attempt(request: HtmxHttpRequest, project_id: int, attempt_id: int):
    """An attempt's figures per dimension, pass or fail, and its confusions; a
    practice round also lists its items with the reference."""
    project, shown = attempt_for(request.user, project_id, attempt_id)
    answers = rounds.served(shown) if shown.kind != Kind.MANUAL else []
    dims = codebook_dimensions(shown.codebook_id)
    context = {
        "project": project,
        "attempt": shown,
        "own": shown.coder_id == request.user.pk,
        "report": rounds_reading.report(shown, answers),
        "answers": answers,
        "items": (
            [(a, rounds_reading.feedback(a, shown.codebook_id, dims)) for a in answers]
            if shown.kind == Kind.PRACTICE
            else []
        ),
    }
    return render(request, ATTEMPT, context)


def _coder_page(project: Project, user_id: int) -> str:
    try:
        return reverse("project-coder", args=[project.pk, user_id])
    except NoReverseMatch:  # the coders pages are another part of issue 16
        return project.get_absolute_url()


@access.login_required
@require_POST
def certify(request: HtmxHttpRequest, project_id: int, user_id: int):
    """A manager certifies a coder by hand or withdraws it, with a note."""
    project = access.project_for(request.user, project_id, Can.MANAGE)
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        project=project,
        user_id=user_id,
        role=Membership.Role.CODER,
    )
    form = CertifyForm(request.POST)
    if form.is_valid():
        certified = form.cleaned_data["decision"] == CertifyForm.CERTIFY
        try:
            rounds.certify(
                project=project,
                coder=membership.user,
                by=request.user,
                certified=certified,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for field, problems in cards.error_messages(error).items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            done = "Certified" if certified else "Certification withdrawn for"
            messages.success(request, f"{done} {membership.user.get_username()}.")
            return see_other(request, _coder_page(project, user_id))
    context = {"project": project, "coder": membership.user, "form": form}
    return render(request, CERTIFY, context, status=400)
