"""What the coding and adjudication screens share: keys, choices, errors, rendering.

Both screens draw one span card with one row of buttons per codebook dimension;
a category has the same key on both, and each screen's own actions (skip, note,
later …) take their letter only where no category uses it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from annotator.models import Category, CoderPreferences, Dimension, GoldLabel
from annotator.views.base import HtmxHttpRequest, partial

CARD = "span-card"  # the partial both screens swap, and its root element's id
# The coding screen's actions and their letter. A category shortcut wins a letter in
# both cases (the default codebook's stance "s"); the action then answers to
# Alt+letter. Skip always needs Alt+S: with Caps Lock on, a category's "s" arrives
# as "S", which must never open the skip box. See action_keys().
CODING_ACTIONS = {"skip": "s", "uncertain": "u", "comment": "c"}
CODING_CHORD_ONLY = frozenset({"skip"})
Groups = list[tuple[Dimension, list[Category]]]


@dataclass(frozen=True)
class ActionKey:
    keys: str  # space-separated values of KeyboardEvent.key, for data-keys
    chord: str  # "Alt+" + a KeyboardEvent.code, for data-chord; or ""
    label: str  # what the screen shows


def category_shortcuts(groups: Groups) -> set[str]:
    return {
        category.shortcut
        for _, categories in groups
        for category in categories
        if category.shortcut
    }


def action_keys(
    actions: Mapping[str, str],
    shortcuts: Collection[str],
    *,
    chord_only: Collection[str] = (),
) -> dict[str, ActionKey]:
    """Bind each screen action to its letter unless a category shortcut uses it.

    Category shortcuts come first (they are the codebook's, and people press them
    most) and answer in either case, since Caps Lock turns "s" into "S"
    (coding.js compares them case-insensitively). An action whose letter a category
    uses, or one in `chord_only` (one that must not be pressed by accident, such
    as skip), answers to Alt+letter instead: a chord Caps Lock alone cannot make.
    """
    taken = {shortcut.lower() for shortcut in shortcuts}
    bound: dict[str, ActionKey] = {}
    for action, letter in actions.items():
        if action in chord_only or letter.lower() in taken:
            bound[action] = ActionKey(
                keys="",
                chord=f"Alt+Key{letter.upper()}",
                label=f"Alt+{letter.upper()}",
            )
        else:
            bound[action] = ActionKey(
                keys=f"{letter.lower()} {letter.upper()}",
                chord="",
                label=letter.upper(),
            )
    return bound


@dataclass(frozen=True)
class Choice:
    category: Category
    checked: bool
    votes: int = 0  # coders who chose it (the adjudication screen shows them)


@dataclass
class ButtonRow:
    """One dimension's row of buttons on a span card."""

    dimension: Dimension
    choices: list[Choice]
    errors: list[str]
    gold: GoldLabel | None = None  # the adjudication screen's current gold label
    n_ratings: int = 0  # coders' ratings of this dimension (adjudication)
    suggested: str = ""  # the machine suggestion's marker (the coding screen)

    @property
    def disputed(self) -> bool:
        return self.gold is None and self.n_ratings > 0

    @property
    def shortcuts(self) -> str:
        """The keys of this row, for the screen's key legend."""
        return " ".join(
            c.category.shortcut for c in self.choices if c.category.shortcut
        )


def button_rows(
    groups: Groups,
    chosen: Mapping[str, Collection[str]],
    errors: Mapping[str, list[str]],
    votes: Mapping[str, Counter] | None = None,
    suggested: Mapping[str, str] | None = None,
) -> list[ButtonRow]:
    """The card's rows of buttons, with what is chosen, errors, coders' votes and
    the machine suggestion's marker of each dimension."""
    return [
        ButtonRow(
            dimension=dimension,
            choices=[
                Choice(
                    category,
                    category.key in chosen.get(dimension.key, ()),
                    votes[dimension.key][category.key] if votes else 0,
                )
                for category in categories
            ],
            errors=list(errors.get(dimension.key, [])),
            n_ratings=sum(votes[dimension.key].values()) if votes else 0,
            suggested=(suggested or {}).get(dimension.key, ""),
        )
        for dimension, categories in groups
    ]


def chosen_from_post(post, groups: Groups) -> dict[str, list[str]]:
    """{dimension key: the category keys posted for it} (one field per dimension
    key, repeated for multi-choice; blanks dropped)."""
    return {
        dimension.key: [value for value in post.getlist(dimension.key) if value]
        for dimension, _ in groups
    }


def error_messages(error: ValidationError) -> dict[str, list[str]]:
    """A ValidationError as {field: messages}; unkeyed ones under NON_FIELD_ERRORS."""
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {NON_FIELD_ERRORS: error.messages}


def general_errors(errors: Mapping[str, list[str]], shown: Iterable[str]) -> list[str]:
    """The messages not shown beside a field of `shown` (they go above the card)."""
    known = set(shown)
    return [m for key, messages in errors.items() if key not in known for m in messages]


def render_span_card(
    request: HtmxHttpRequest,
    template: str,
    context: dict,
    *,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The whole page, or for htmx just the span card, with extra headers.

    The page also has the coder's shortcut switch beside the card (not swapped, so
    the hot path of htmx submits reads no preferences)."""
    if not request.htmx:
        preferences = CoderPreferences.objects.of(request.user)
        context = {**context, "letter_shortcuts": preferences.letter_shortcuts}
    response = render(request, partial(request, template, CARD), context)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
