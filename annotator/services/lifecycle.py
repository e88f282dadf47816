"""A project's life after set-up: close it, reopen it, clone it with a new design.

- Closing: the project takes no claims, skips or submits (services.closed says so
  in words), and the live claims are given back, so no coder holds a span of a
  closed project; every annotation stays. Pages, gold, agreement, adjudication,
  exports and archives read it as before.
- Reopening: claims and submits are taken again; coders told "nothing left"
  look again (services.queue.reopen_queues).
- Cloning: a new project on the same corpus and codebook with a design of its
  own and a new, empty queue (services.projects.create_project); the source is
  untouched.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.models import Assignment, Membership, Project
from annotator.services.projects import create_project
from annotator.services.queue import release_held, reopen_queues
from annotator.training import pool


def _locked(project: Project) -> Project:
    """Lock the project's memberships (the lock every claim and submit takes
    first, so none is half-way through), then read the project as it is now."""
    list(
        Membership.objects.filter(project=project)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    return Project.objects.select_for_update().get(pk=project.pk)


@transaction.atomic
def close_project(project: Project, *, now: datetime | None = None) -> int:
    """Close the project; returns how many live claims were given back."""
    now = now or timezone.now()
    project = _locked(project)
    if project.is_closed:
        raise ValidationError("This project is already closed.")
    # As a lapsed lease: a claimed span to code again waits for its coder again.
    # Hidden checks' claims too: they live in the study's pool (training.pool).
    released = release_held(
        Assignment.objects.live().filter(project_id__in=pool.own_projects(project)),
        now,
    )
    Project.objects.filter(pk=project.pk).update(closed_at=now)
    project.closed_at = now
    pool.sync_pool(project)  # its hidden checks close with it
    return released


@transaction.atomic
def reopen_project(project: Project) -> None:
    """Take claims and submits again."""
    project = _locked(project)
    if not project.is_closed:
        raise ValidationError("This project is open.")
    Project.objects.filter(pk=project.pk).update(closed_at=None)
    project.closed_at = None
    pool.sync_pool(project)
    reopen_queues([project.pk])


def clone_design(project: Project) -> dict:
    """The source's design and members as create_project's keyword arguments
    (what the clone form is prefilled with)."""
    members = {
        m.user: m.role
        for m in project.memberships.select_related("user").exclude(
            role=Membership.Role.MANAGER
        )
    }
    return {
        "name": f"{project.name} (copy)",
        "description": project.description,
        "corpus": project.corpus,
        "codebook": project.codebook,
        "coders_per_span": project.coders_per_span,
        "sample_share": project.sample_share,
        "order": project.order,
        "seed": project.seed,
        "lease_minutes": project.lease_minutes,
        "members": members,
        "gold_methods": list(project.gold_methods),
        "gold_min_share": project.gold_min_share,
        "gold_min_posterior": project.gold_min_posterior,
    }


@transaction.atomic
def clone_project(source: Project, *, by=None, **design) -> Project:
    """A new project on the source's corpus and codebook with `design` (the
    keyword arguments of create_project; what is left out is the source's).
    The managers of the source manage the clone too; `by` is one of them."""
    values = clone_design(source)
    values.update(design)
    for name in ("corpus", "codebook"):
        if getattr(values[name], "pk", values[name]) != getattr(source, f"{name}_id"):
            raise ValidationError(
                {
                    name: f"A clone keeps the source's {name}; start a new project "
                    "for another one."
                }
            )
    clone = create_project(created_by=by, **values)
    managers = source.memberships.filter(role=Membership.Role.MANAGER).exclude(
        user__in=clone.memberships.values("user")
    )
    Membership.objects.bulk_create(
        Membership(project=clone, user_id=m.user_id, role=Membership.Role.MANAGER)
        for m in managers
    )
    return clone
