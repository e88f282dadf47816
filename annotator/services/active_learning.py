"""Active learning's switch and its words; each switch is a DesignChange.

With it on, claims serve the single-coded remainder most uncertain first
(services.queue_order, by the uncertainty services.machine_uncertainty writes
when the machine codes the rest); the reliability sample keeps its random
draw. The reliability report says when it was on (DesignChange rows:
DesignChangeQuerySet.periods_on).
"""

from __future__ import annotations

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


def said(project: Project, on: bool) -> str:
    """What the design history says of a switch (services.machine_options
    writes it): on, with a warning while no span has an uncertainty; off."""
    if not on:
        return OFF
    if WorkItem.objects.filter(project=project, uncertainty__isnull=False).exists():
        return ON
    return f"{ON} {NOT_PREDICTED}"


def switch_active_learning(project: Project, on: bool, *, by=None) -> DesignChange:
    """Turn active learning on or off and record the switch (one write path
    with the other machine coder options). ValidationError when it is so
    already (nothing is written then)."""
    from annotator.services.machine_options import change_machine_options

    return change_machine_options(project, by=by, active_learning=on)
