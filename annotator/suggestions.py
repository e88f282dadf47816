"""Machine suggestions on the coding screen: which a claim gets, signed, and kept.

A suggestion is the project's machine coder's codes of a claimed span, shown
pre-selected with a marker. Who gets one (issue 18): only with the project's
``machine_suggestions`` option on, only for a span outside the reliability
sample (``MachineLabelQuerySet.suggestion_for``), only on a new claim of the
coding screen (never a revision, a recode, the practice or certification
screens, which never call this module), and never a hidden check (its claim is
in the reference pool, which has no machine codes). The API's claims carry none.

What was shown is decided by the server: the card carries the suggestion signed
(Django's signing, bound to the assignment), and the submit records only what
verifies, so a client can neither invent a suggestion nor move one to another
span. Reading the machine codes again at submit would not do: "code the rest"
may have replaced them since the card was shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core import signing

from annotator.models import Assignment, MachineLabel, Project

SALT = "annotator.suggestions"


@dataclass(frozen=True)
class Suggestion:
    """The machine coder's codes shown for one span, with their probabilities."""

    machine_coder: int
    labels: dict[str, list[str]]  # {dimension key: [category keys]}
    probabilities: dict[str, float]  # {dimension key: p of the shown code}

    def record(self) -> dict:
        """What an annotation stores as its ``suggestion``."""
        return {"machine_coder": self.machine_coder, "labels": self.labels}

    def markers(self, names: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
        """{dimension key: the marker the card shows}, naming the suggested
        categories by their labels (`names`: {dimension key: {key: label}})."""
        markers = {}
        for dimension, keys in self.labels.items():
            labels = names.get(dimension, {})
            chosen = ", ".join(labels.get(key, key) for key in keys) or "none"
            p = f"{self.probabilities.get(dimension, 0.0):.2f}".removeprefix("0")
            markers[dimension] = f"Suggested by the machine coder: {chosen}, p = {p}"
        return markers

    def sign(self, assignment_id: int) -> str:
        """The suggestion as the card's hidden field carries it."""
        payload = {
            "a": assignment_id,
            "m": self.machine_coder,
            "l": self.labels,
            "p": self.probabilities,
        }
        return signing.dumps(payload, salt=SALT, compress=True)


def offered(project: Project, assignment: Assignment | None) -> Suggestion | None:
    """The suggestion for a new claim on the coding screen, or None.

    No query with the option off; one with it on, run for every claim alike
    (a hidden check's too, which simply finds no rows), so a check costs what a
    real span costs."""
    if assignment is None or not project.machine_suggestions:
        return None
    rows = list(
        MachineLabel.objects.suggestion_for(
            project_id=assignment.project_id,
            span_id=assignment.span_id,
            work_item_id=assignment.work_item_id,
            codebook_id=project.codebook_id,
        )
    )
    if not rows:
        return None
    newest = max(row[4] for row in rows)  # one coder's codes, should two be kept
    labels, probabilities = {}, {}
    for dimension, category, categories, probability, coder in rows:
        if coder != newest:
            continue
        keys = [category] if category is not None else list(categories or [])
        labels[dimension] = sorted(keys)
        probabilities[dimension] = round(float(probability), 4)
    return Suggestion(newest, labels, probabilities)


def verified(token: str, assignment_id: int) -> Suggestion | None:
    """The suggestion a posted card carried, if the server signed it for this
    assignment; None for no token, a forged one or another span's."""
    if not token:
        return None
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != assignment_id:
        return None
    return Suggestion(payload["m"], payload["l"], payload.get("p", {}))


def kept(shown: Mapping[str, list[str]], submitted: Mapping[str, list[str]]) -> bool:
    """Whether the submitted codes equal the suggestion on every dimension it
    suggested (a multi-choice dimension: the same set)."""
    return all(
        sorted(submitted.get(dimension, [])) == sorted(keys)
        for dimension, keys in shown.items()
    )
