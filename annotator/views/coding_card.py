"""The coding screen's span card: the coder's draft, what the card shows, rendering.

The views in annotator.views.coding decide which card to show; this module draws
it, with the machine's suggestion when the claim has one (annotator.suggestions).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.urls import reverse

from annotator.models import Assignment, Project
from annotator.progress import coder_progress
from annotator.spans import span_in_context
from annotator.suggestions import Suggestion
from annotator.views import cards
from annotator.views.base import HtmxHttpRequest

TEMPLATE = "annotator/code.html"
# Screen actions and their letter (in cards.py: the editor's preview shows them too).
ACTIONS, CHORD_ONLY = cards.CODING_ACTIONS, cards.CODING_CHORD_ONLY
TRUE_VALUES = {"1", "on", "true", "yes"}
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
