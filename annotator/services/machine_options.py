"""A project's machine coder options (issue 18), switched by a manager and recorded.

Each switch is applied in one transaction and written as a DesignChange whose
before/after hold the options switched ({"machine_suggestions": bool},
{"active_learning": bool}), so the
design page's history, the admin and any report can tell when an option was on.
Turning suggestions on before a machine coder can make them is allowed: the
summary and the page say when they will appear.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.models import DesignChange, MachineLabel, Project
from annotator.services import active_learning
from annotator.services.machine_coders import MachineCoderError, usable_coder

# The options, by Project field name, and how a summary names them.
OPTIONS = {
    "machine_suggestions": "Machine suggestions on the coding screen",
    "active_learning": "Active learning",
}


def values(project: Project) -> dict[str, bool]:
    """The project's machine coder options, by field name."""
    return {name: getattr(project, name) for name in OPTIONS}


def suggestions_waiting(project: Project) -> str:
    """Why suggestions cannot appear yet, in words ("" once they can): no usable
    machine coder, or one that has not coded the spans no human coded."""
    try:
        coder = usable_coder(project)
    except MachineCoderError as error:
        return (
            f"{error} Suggestions will appear once a machine coder is trained and "
            "has coded the rest."
        )
    if not MachineLabel.objects.filter(project=project, machine_coder=coder).exists():
        return (
            "The machine coder has not coded the rest yet: suggestions will appear "
            "once it has (Code the rest)."
        )
    return ""


def _said(project: Project, name: str, on: bool) -> str:
    """What the design history says of one switch, with what it waits for."""
    if name == "active_learning":
        return active_learning.said(project, on)
    said = f"{OPTIONS[name]} turned {'on' if on else 'off'}."
    waiting = suggestions_waiting(project) if on else ""
    return f"{said} {waiting}" if waiting else said


def _problems(changes: dict) -> dict[str, str]:
    problems = {}
    for name, value in changes.items():
        if name not in OPTIONS:
            problems[name] = (
                f"{name!r} is not a machine coder option; the options are "
                f"{', '.join(OPTIONS)}."
            )
        elif not isinstance(value, bool):
            problems[name] = (
                f"{OPTIONS[name]} is on or off (true or false); got {value!r}."
            )
    return problems


@transaction.atomic
def change_machine_options(project: Project, *, by=None, **changes) -> DesignChange:
    """Switch the named options (True: on) and record the switch as a
    DesignChange; "nothing to change" when every option is already so."""
    problems = _problems(changes)
    if problems:
        raise ValidationError(problems)
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = {name: getattr(project, name) for name in changes}
    after = {**before, **changes}
    switched = [name for name in changes if before[name] != after[name]]
    if not switched:
        if len(changes) == 1:
            ((name, on),) = changes.items()
            state = "on" if on else "off"
            raise ValidationError(
                f"Nothing to change: {OPTIONS[name].lower()} is {state} already."
            )
        raise ValidationError("Nothing to change: the options are already so.")
    Project.objects.filter(pk=project.pk).update(**{n: after[n] for n in switched})
    for name in switched:
        setattr(project, name, after[name])
    summary = " ".join(_said(project, name, after[name]) for name in switched)
    return DesignChange.objects.create(
        project=project,
        changed_by=by,
        before={name: before[name] for name in switched},
        after={name: after[name] for name in switched},
        summary=summary,
    )
