"""Project pages: home (my projects), progress, the new-project form, members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator.demo import MANAGERS_GROUP
from annotator.forms import MemberForm, ProjectForm
from annotator.models import Annotation, Assignment, Membership, Project, WorkItem
from annotator.services import create_project, remove_member, set_membership
from annotator.views.base import HtmxHttpRequest, partial, see_other
from corpus.models import Corpus

Role = Membership.Role


def can_create_projects(user) -> bool:
    return user.is_staff or user.groups.filter(name=MANAGERS_GROUP).exists()


def project_for(request: HtmxHttpRequest, project_id: int) -> Project:
    """The project if the user may see it (404 otherwise), annotated with user_role."""
    return get_object_or_404(
        Project.objects.visible_to(request.user)
        .with_user_role(request.user)
        .select_related("corpus", "codebook"),
        pk=project_id,
    )


def sees_everyones_progress(user, project: Project) -> bool:
    return user.is_staff or project.user_role in (Role.REVIEWER, Role.MANAGER)


def manages(user, project: Project) -> bool:
    return user.is_staff or project.user_role == Role.MANAGER


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The user's projects with their role and what they can do there.

    Managers also see the corpora, as before projects existed.
    """
    projects = (
        Project.objects.visible_to(request.user)
        .with_user_role(request.user)
        .select_related("corpus", "codebook")
        .order_by("name")
    )
    corpora = (
        Corpus.objects.annotate(n_documents=Count("documents"))
        if request.user.has_perm("corpus.view_corpus")
        else Corpus.objects.none()
    )
    return render(
        request,
        "annotator/home.html",
        {
            "projects": projects,
            "corpora": corpora,
            "can_create": can_create_projects(request.user),
        },
    )


@dataclass
class CoderRow:
    """One coder's line in the progress chart."""

    user_id: int
    username: str
    member: bool
    done: int = 0
    skipped: int = 0
    live: int = 0
    median_seconds: float | None = None
    last_active: datetime | None = None
    done_pct: float = 0.0
    skipped_pct: float = 0.0


def coder_rows(project: Project, only_user=None) -> list[CoderRow]:
    """Per-coder progress in three queries whatever the number of coders.

    Current coders without work yet are listed too; former members keep their line
    while they have work in the project.
    """
    coders = Membership.objects.filter(project=project, role=Role.CODER)
    assignments = Assignment.objects.filter(project=project)
    annotations = Annotation.objects.for_project(project)
    if only_user is not None:
        coders = coders.filter(user=only_user)
        assignments = assignments.filter(coder=only_user)
        annotations = annotations.by(only_user)
    rows = {
        user_id: CoderRow(user_id, username, member=True)
        for user_id, username in coders.values_list("user_id", "user__username")
    }
    stats = list(assignments.coder_stats())
    missing = {row["coder_id"] for row in stats} - set(rows)
    for user_id, username in User.objects.filter(pk__in=missing).values_list(
        "pk", "username"
    ):
        rows[user_id] = CoderRow(user_id, username, member=False)
    medians = annotations.median_seconds_by_coder()
    for row in stats:
        line = rows[row["coder_id"]]
        line.done, line.skipped, line.live = row["done"], row["skipped"], row["live"]
        times = [t for t in (row["last_claimed"], row["last_finished"]) if t]
        line.last_active = max(times) if times else None
    for line in rows.values():
        line.median_seconds = medians.get(line.user_id)
    # Bars share one scale: the busiest coder's work fills the track.
    widest = max((line.done + line.skipped for line in rows.values()), default=0)
    for line in rows.values():
        if widest:
            line.done_pct = round(100 * line.done / widest, 1)
            line.skipped_pct = round(100 * line.skipped / widest, 1)
    return sorted(rows.values(), key=lambda line: (-line.done, line.username))


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Progress: spans done / in the sample / left and a bar per coder.

    Reviewers and managers see every coder; a coder sees only their own line, so
    nobody learns how colleagues code (or how fast) from this page.
    """
    project = project_for(request, project_id)
    everyone = sees_everyones_progress(request.user, project)
    context = {
        "project": project,
        "role": project.user_role,
        "everyone": everyone,
        "manages": manages(request.user, project),
        "coders": coder_rows(project, only_user=None if everyone else request.user),
        "sample_pct": project.sample_share * 100,
    }
    if everyone:
        progress = WorkItem.objects.filter(project=project).progress()
        spans = progress["spans"]
        progress.update(
            done_pct=percent(progress["done"], spans),
            started_pct=percent(progress["started"], spans),
            untouched_pct=percent(progress["untouched"], spans),
            codings_done=sum(line.done for line in context["coders"]),
        )
        progress["codings_pct"] = percent(
            progress["codings_done"], project.total_codings
        )
        context["progress"] = progress
    return render(
        request, partial(request, "annotator/project_detail.html", "progress"), context
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HtmxHttpRequest) -> HttpResponse:
    """Managers (the Managers group, or staff) set up a project and its queue."""
    if not can_create_projects(request.user):
        raise PermissionDenied("Only managers can create projects.")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = create_project(created_by=request.user, **form.design())
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages_)
        else:
            messages.success(
                request,
                f"Created '{project.name}': {project.work_items.count()} spans, "
                f"{project.total_codings} codings to do.",
            )
            return see_other(request, project.get_absolute_url())
    return render(
        request,
        partial(request, "annotator/project_form.html", "project-form"),
        {"form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Add, re-role or remove members. htmx swaps the table; without JS, 303."""
    project = project_for(request, project_id)
    if not manages(request.user, project):
        raise PermissionDenied("Only the project's managers can change its members.")
    form = MemberForm(request.POST or None, project=project, actor=request.user)
    if request.method == "POST" and form.is_valid():
        user, op = form.cleaned_data["user"], form.cleaned_data["op"]
        if op == "remove":
            remove_member(project=project, user=user)
            done = f"Removed {user.get_username()}."
        else:
            role = form.cleaned_data["role"]
            set_membership(project=project, user=user, role=role)
            done = f"{user.get_username()} is now a {role}."
        if not request.htmx:
            messages.success(request, done)
            return see_other(request, reverse("project-members", args=[project.pk]))
        form, notice = MemberForm(project=project, actor=request.user), done
    else:
        notice = ""
    memberships = project.memberships.select_related("user").order_by(
        "role", "user__username"
    )
    return render(
        request,
        partial(request, "annotator/project_members.html", "member-table"),
        {
            "project": project,
            "memberships": memberships,
            "form": form,
            "roles": Role.choices,
            "notice": notice,
        },
    )
