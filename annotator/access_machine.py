"""Who may ask the machine coder for work, and who may mix its codes into the gold."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from annotator.access import Can, User, allows, project_for
from annotator.models import Project

# Reviewers read the machine's validation beside the gold; training it again on
# newer gold and coding the rest are part of that review (issue 18), so they may
# ask for both, as managers and staff may. Coders code blind: 403.
RUN_MACHINE = Can.REVIEW
RUN_REFUSAL = (
    "Only the project's reviewers and managers train the machine coder and use it."
)


def may_run_machine(user: User, project: Project) -> bool:
    """The rule as a flag, for the page's buttons (project loaded with user_role)."""
    return allows(user, project.user_role, RUN_MACHINE)


def machine_project(user: User, project_id: int) -> Project:
    """The project whose machine coder the user may train and use: the one rule
    of the page's Train / Code the rest and the API's POSTs (404 / 403)."""
    return project_for(user, project_id, RUN_MACHINE, refusal=RUN_REFUSAL)


# Machine codes never enter the human gold's downloads unless a manager asks
# (issue 18): reviewers read the gold, managers decide what leaves with it.
INCLUDE_MACHINE = Can.MANAGE
INCLUDE_REFUSAL = (
    "include_machine: only the project's managers add machine codes to the gold "
    "downloads; without it the gold is the human gold."
)


def check_include_machine(user: User, project: Project) -> None:
    """PermissionDenied (403, in words) unless the user may ask for the gold
    downloads with the machine codes (project loaded with user_role)."""
    if not allows(user, project.user_role, INCLUDE_MACHINE):
        raise PermissionDenied(INCLUDE_REFUSAL)
