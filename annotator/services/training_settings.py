"""A project's coder-training settings: the gate, the test's thresholds, hidden checks.

Each change is checked in words, applied in one transaction and recorded as a
DesignChange (before/after: the seven settings; summary: what changed, with any
warning), so the design page's history and the training settings page show it.
A closed project may change them as it may change its design: nothing is coded
there until it reopens.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from annotator.models import DesignChange, Project, ReferenceItem

FIELDS = (
    "certification_gate",
    "certification_min_alpha",
    "certification_min_percent",
    "certification_items",
    "check_rate",
    "check_window",
    "check_min_accuracy",
)
# What a new project starts with (models.projects.Project); the page shows them.
DEFAULTS = {
    "certification_gate": Project.Gate.OFF.value,
    "certification_min_alpha": 0.8,
    "certification_min_percent": None,
    "certification_items": 0,
    "check_rate": 0,
    "check_window": 20,
    "check_min_accuracy": 0.8,
}
SUGGESTED_CHECK_RATE = 20
# training.checks.alerts raises an alert only with at least this many answers in
# the window, so a shorter window could never alert.
MIN_CHECK_WINDOW = 5
MOST = 32767  # PositiveSmallIntegerField
GATES = tuple(Project.Gate.values)


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # leave a setting as it is (None means "not required" for percent)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: object, least: int, most: int = MOST) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and least <= value <= most
    )


def input_problems(changes: dict) -> dict[str, str]:
    """What is wrong with each new value, by field name, in words."""
    problems = {}
    got = {
        name: changes[name] for name in FIELDS if changes.get(name, KEEP) is not KEEP
    }
    if "certification_gate" in got and got["certification_gate"] not in GATES:
        problems["certification_gate"] = (
            f"The gate must be one of {', '.join(GATES)}; "
            f"got {got['certification_gate']!r}."
        )
    alpha = got.get("certification_min_alpha", 0.0)
    if not _number(alpha) or not -1 <= alpha <= 1:
        problems["certification_min_alpha"] = (
            "The test's minimum α must be a number from −1 to 1 (0.80 is the usual "
            f"floor); got {alpha!r}."
        )
    percent = got.get("certification_min_percent")
    if percent is not None and (not _number(percent) or not 0 <= percent <= 1):
        problems["certification_min_percent"] = (
            "The test's minimum percent agreement must be a share from 0 to 1 "
            f"(0.9 = 90%), or empty for not required; got {percent!r}."
        )
    if "certification_items" in got and not _whole(got["certification_items"], 0):
        problems["certification_items"] = (
            "Items in one test must be a whole number from 0 (every test item) to "
            f"{MOST}; got {got['certification_items']!r}."
        )
    rate = got.get("check_rate", 0)
    if not _whole(rate, 0) or rate == 1:
        problems["check_rate"] = (
            "The check rate must be 0 (no hidden checks) or a whole number from 2 "
            f"(about 1 claim in 2) to {MOST}; got {rate!r}."
        )
    if "check_window" in got and not _whole(got["check_window"], MIN_CHECK_WINDOW):
        problems["check_window"] = (
            f"The rolling window must be a whole number of checks from "
            f"{MIN_CHECK_WINDOW} (an alert needs {MIN_CHECK_WINDOW} checks in the "
            f"window) to {MOST}; got {got['check_window']!r}."
        )
    accuracy = got.get("check_min_accuracy", 0.0)
    if not _number(accuracy) or not 0 <= accuracy <= 1:
        problems["check_min_accuracy"] = (
            "The alert threshold must be a share from 0 to 1 (0.8 = 80% of checks "
            f"right); got {accuracy!r}."
        )
    return problems


def values(project: Project) -> dict:
    """The project's seven training settings, by field name."""
    return {name: getattr(project, name) for name in FIELDS}


def _shown(name: str, value: object) -> str:
    if name == "certification_gate":
        return str(value)
    if name == "certification_min_percent":
        return "not required" if value is None else f"{value:.0%}"
    if name == "certification_items":
        return "every test item" if value == 0 else str(value)
    if name == "check_rate":
        return "off" if value == 0 else f"about 1 in {value}"
    if name == "check_window":
        return f"{value} checks"
    if name == "check_min_accuracy":
        return f"{value:.0%}"
    return f"{value:.2f}"


LABELS = {
    "certification_gate": "gate",
    "certification_min_alpha": "test α at least",
    "certification_min_percent": "test percent agreement at least",
    "certification_items": "items per test",
    "check_rate": "hidden checks",
    "check_window": "rolling window",
    "check_min_accuracy": "alert below",
}


def reference_counts(project: Project) -> dict[str, int]:
    """Live reference items on the project's codebook version, by use (one query)."""
    live = ReferenceItem.objects.current().filter(
        project=project, codebook_id=project.codebook_id
    )
    counts = dict(
        live.order_by().values("use").annotate(n=Count("pk")).values_list("use", "n")
    )
    return {use: counts.get(use, 0) for use in ReferenceItem.Use.values}


def warnings(project: Project, after: dict, counts: dict | None = None) -> list[str]:
    """What the settings cannot do yet (allowed, but said)."""
    counts = reference_counts(project) if counts is None else counts
    said = []
    if after["check_rate"] and not counts[ReferenceItem.Use.CHECK]:
        said.append(
            "Warning: there are no hidden-check items yet, so no check is served "
            "until some are marked on the reference page."
        )
    if after["certification_gate"] != Project.Gate.OFF:
        tests = counts[ReferenceItem.Use.TEST]
        if not tests:
            said.append(
                "Warning: there are no certification test items yet, so no coder "
                "can pass the test until some are marked on the reference page."
            )
        elif after["certification_items"] > tests:
            said.append(
                f"Warning: a test asks for {after['certification_items']} items but "
                f"there are only {tests}; each test uses all {tests}."
            )
    return said


def summary(before: dict, after: dict, said: list[str]) -> str:
    """The change in words: "Training settings: gate off → require; …"."""
    what = [
        f"{LABELS[name]} {_shown(name, before[name])} → {_shown(name, after[name])}"
        for name in FIELDS
        if before[name] != after[name]
    ]
    return " ".join([f"Training settings: {'; '.join(what)}.", *said])


def _after(project: Project, changes: dict) -> dict:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationError(f"Not a training setting: {', '.join(unknown)}.")
    problems = input_problems(changes)
    if problems:
        raise ValidationError(problems)
    after = values(project)
    after.update({k: v for k, v in changes.items() if v is not KEEP})
    for name in ("certification_min_alpha", "check_min_accuracy"):
        after[name] = float(after[name])
    if after["certification_min_percent"] is not None:
        after["certification_min_percent"] = float(after["certification_min_percent"])
    return after


@transaction.atomic
def change_training_settings(project: Project, *, by=None, **changes) -> DesignChange:
    """Apply new training settings (KEEP or absent: unchanged) and record them.

    Raises ValidationError with a message per field for a bad value, or when
    nothing would change; nothing is written then.
    """
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = values(project)
    after = _after(project, changes)
    if after == before:
        raise ValidationError(
            "Nothing to change: the training settings are already so."
        )
    Project.objects.filter(pk=project.pk).update(**after)
    return DesignChange.objects.create(
        project=project,
        changed_by=by,
        before=before,
        after=after,
        summary=summary(before, after, warnings(project, after)),
    )


def history(project: Project):
    """The project's training-setting changes, newest first."""
    return project.design_changes.filter(after__has_key="check_rate").select_related(
        "changed_by"
    )
