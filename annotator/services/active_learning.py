"""Managers switch active learning on and off; each switch is a DesignChange.

With it on, claims serve the single-coded remainder most uncertain first
(services.queue_order, by the uncertainty services.machine_uncertainty writes
when the machine codes the rest); the reliability sample keeps its random
draw. The reliability report says when it was on (DesignChange rows:
DesignChangeQuerySet.periods_on).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.models import DesignChange, Project, WorkItem

OPTION = "active_learning"
ON = (
    "Active learning on: the single-coded remainder is served most uncertain first "
    "(by the machine coder's last predictions); the reliability sample keeps its "
    "random draw and comes first."
)
OFF = "Active learning off: the single-coded remainder is served in reading order."
NOT_PREDICTED = (
    "Warning: no span has an uncertainty yet, so the remainder stays in reading "
    "order until the machine coder codes the rest."
)


def periods(project: Project) -> list[tuple]:
    """When active learning was on: (from, to) pairs, to None while on."""
    return project.design_changes.periods_on(OPTION)


@transaction.atomic
def switch_active_learning(project: Project, on: bool, *, by=None) -> DesignChange:
    """Turn active learning on or off and record the switch. ValidationError
    when it is so already (nothing is written then)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.active_learning == on:
        state = "on" if on else "off"
        raise ValidationError(f"Nothing to change: active learning is {state} already.")
    Project.objects.filter(pk=project.pk).update(active_learning=on)
    said = [ON if on else OFF]
    if (
        on
        and not WorkItem.objects.filter(
            project=project, uncertainty__isnull=False
        ).exists()
    ):
        said.append(NOT_PREDICTED)
    return DesignChange.objects.create(
        project=project,
        changed_by=by if by is not None and by.is_authenticated else None,
        before={OPTION: not on},
        after={OPTION: on},
        summary=" ".join(said),
    )
