"""Who may invite, deactivate and reactivate people: access.py's rules for accounts.

Split from annotator/access.py only for its length; it uses that module's table
(a project's managers and staff MANAGE it) and adds the rules about accounts:

- Invitations are a project's: whoever may MANAGE the project invites to any role a
  member may be given (coder, reviewer, manager), and sees, resends and revokes its
  invitations. Opening an invitation's link needs no account: the signed link is
  the proof (services/invitations.py); an existing account must log in first.
- DEACTIVATION_RULE below: whose account a manager may switch off and on.
- The first-run page exists only while the database has no account at all.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from annotator.access import MANAGER, MANAGERS_GROUP, Can, User, project_for, require
from annotator.models import Invitation, Membership

INVITABLE_ROLES = tuple(Membership.Role.choices)
DEACTIVATION_RULE = (
    "A manager may deactivate (and reactivate) an account only if every project "
    "it belongs to is one they manage and it manages nothing itself (no manager "
    "role, not in the Managers group, not staff); never their own. Staff may switch "
    "any account that is not staff. Otherwise, ask an administrator."
)


def invitation_for(user: User, project_id: int, invitation_id: int) -> Invitation:
    """An invitation of a project the user manages (404 / 403 as for the project;
    404 for an invitation of another project)."""
    project = project_for(
        user, project_id, Can.MANAGE, refusal="Only the project's managers invite."
    )
    invitation = project.invitations.filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    invitation.project = project
    return invitation


def deactivatable(user: User, candidates: QuerySet) -> QuerySet:
    """The accounts among `candidates` whose `is_active` the user may switch.

    Never oneself, never staff or superusers (the admin is for those). Staff: any
    other. A manager: accounts in at least one project they manage and in none they
    do not, holding no manager role anywhere and not in the Managers group, so no
    manager locks a colleague, or another team's coder, out.
    """
    if not user.is_authenticated:
        return candidates.none()
    others = candidates.exclude(pk=user.pk).filter(is_staff=False, is_superuser=False)
    if user.is_staff:
        return others
    managed = Membership.objects.filter(user=user, role=MANAGER).values("project_id")
    elsewhere = Membership.objects.filter(user=OuterRef("pk")).filter(
        Q(role=MANAGER) | ~Q(project_id__in=managed)
    )
    return (
        others.filter(memberships__project_id__in=managed)
        .exclude(Exists(elsewhere))
        .exclude(groups__name=MANAGERS_GROUP)
        .distinct()
    )


def member_to_switch(user: User, project_id: int, member_id: int):
    """A member of a project the user manages whose account they may deactivate or
    reactivate: 404 / 403 for the project, 404 for someone not a member, 403 (saying
    the rule) for a member outside `deactivatable`."""
    project = project_for(
        user,
        project_id,
        Can.MANAGE,
        refusal="Only the project's managers can deactivate accounts.",
    )
    members = get_user_model().objects.filter(memberships__project=project)
    member = members.filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member.")
    require(
        deactivatable(user, members).filter(pk=member_id).exists(), DEACTIVATION_RULE
    )
    member.project = project
    return member


def first_run_or_404() -> None:
    """The first-run page exists only while the database has no account at all."""
    if get_user_model().objects.exists():
        raise Http404("This site already has accounts; log in instead.")


def addable_users(user: User) -> QuerySet:
    """Active users a manager may name in a project: those who share a project with
    them, and accounts in no project yet that are not staff (new coders to
    recruit). Staff may name anyone active. Forms answer alike for a username
    outside this and one that does not exist, so no one probes for accounts."""
    active = get_user_model().objects.filter(is_active=True).order_by("username")
    if not user.is_authenticated:
        return active.none()
    if user.is_staff:
        return active
    return active.filter(
        Q(memberships__project__memberships__user=user)
        | Q(memberships__isnull=True, is_staff=False, is_superuser=False)
    ).distinct()
