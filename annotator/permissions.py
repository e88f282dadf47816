"""DRF permission classes for project roles, composable with & and |.

They check objects, not requests: views first fetch the project (or assignment)
through `Project.objects.visible_to(user)`, so a non-member gets 404 before any of
these run, and a member with the wrong role gets 403. `IsCoder | IsManager` reads
as it says.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from annotator.models import Assignment, Membership, Project

_UNSET = object()


def role_in_project(obj: Project | Assignment, user) -> str | None:
    """The user's role in the object's project.

    Reads the `user_role` annotation (ProjectQuerySet.with_user_role) when the view
    fetched it, so a permission check costs no query; falls back to one lookup.
    """
    role = getattr(obj, "user_role", _UNSET)
    if role is not _UNSET:
        return role
    project = obj if isinstance(obj, Project) else obj.project
    return project.role_of(user)


class _HasRole(BasePermission):
    role: str = ""

    def has_permission(self, request, view) -> bool:
        return True  # object-level: the project decides

    def has_object_permission(self, request, view, obj) -> bool:
        return role_in_project(obj, request.user) == self.role


class IsCoder(_HasRole):
    message = "Only the project's coders can do this."
    role = Membership.Role.CODER


class IsReviewer(_HasRole):
    message = "Only the project's reviewers can do this."
    role = Membership.Role.REVIEWER


class IsManager(_HasRole):
    message = "Only the project's managers can do this."
    role = Membership.Role.MANAGER
