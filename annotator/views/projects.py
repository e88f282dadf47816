"""Project pages: home (my projects), progress, the new-project form, members."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access, access_people
from annotator.forms import MemberForm, ProjectForm
from annotator.forms_people import InvitationForm
from annotator.models import Membership, WorkItem
from annotator.progress import coder_rows
from annotator.services import (
    create_project,
    design_problem,
    remove_member,
    set_membership,
)
from annotator.services.design import n_coders
from annotator.training.checks import alerts as check_alerts
from annotator.training.rounds import coder_panel
from annotator.views.base import (
    HtmxHttpRequest,
    add_service_errors,
    downloads_context,
    partial,
    see_other,
)


@access.login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The user's projects with their role and what they can do there.

    Managers also see the corpora, as before projects existed.
    """
    projects = list(
        access.visible_projects(request.user)
        .select_related("corpus", "codebook")
        .order_by("name")
    )
    for project in projects:
        project.can = access.abilities(request.user, project)
    corpora = access.visible_corpora(request.user).annotate(
        n_documents=Count("documents")
    )
    return render(
        request,
        "annotator/home.html",
        {
            "projects": projects,
            "corpora": corpora,
            "can_create": access.can_create_projects(request.user),
        },
    )


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@access.login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Progress: spans done / in the sample / left and a bar per coder.

    Reviewers and managers see every coder; a coder sees only their own line, so
    nobody learns how colleagues code (or how fast) from this page.
    """
    project = access.project_for(request.user, project_id)
    can = access.abilities(request.user, project)
    context = {
        "project": project,
        "role": project.user_role,
        "can": can,
        "coders": coder_rows(project, only_user=None if can.review else request.user),
        "sample_pct": project.sample_share * 100,
        "training_panel": None if request.htmx else coder_panel(request.user, project),
    }
    if can.review:
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
        # Every current coder has a line (coder_rows): no query of its own.
        coders = sum(1 for line in context["coders"] if line.member)
        context["design_problem"] = design_problem(project.coders_per_span, coders)
        context["coders_needed"] = project.coders_per_span - coders
        if not request.htmx:  # the polled partial is the progress alone
            context.update(downloads_context(request, project))
            context["check_alerts"] = check_alerts(project)  # training.checks
    return render(
        request, partial(request, "annotator/project_detail.html", "progress"), context
    )


@access.login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HtmxHttpRequest) -> HttpResponse:
    """Managers (the Managers group, or staff) set up a project and its queue."""
    access.require(
        access.can_create_projects(request.user), "Only managers can create projects."
    )
    form = ProjectForm(
        request.POST or None,
        corpora=access.visible_corpora(request.user),
        users=access_people.addable_users(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = create_project(created_by=request.user, **form.design())
        except ValidationError as error:
            add_service_errors(form, error)
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


def change_membership(request: HtmxHttpRequest, project, data: dict) -> str:
    """Apply the member form's operation through the services; what was done."""
    user, op = data["user"], data["op"]
    if op == "remove":
        remove_member(project=project, user=user, by=request.user)
        return f"Removed {user.get_username()}."
    set_membership(project=project, user=user, role=data["role"], by=request.user)
    done = f"{user.get_username()} is now a {data['role']}."
    problem = design_problem(project.coders_per_span, n_coders(project))
    return f"{done} Still too few coders: {problem}" if problem else done


@access.login_required
@require_http_methods(["GET", "POST"])
def project_members(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Add, re-role or remove members. htmx swaps the table; without JS, 303."""
    project = access.project_for(
        request.user,
        project_id,
        access.Can.MANAGE,
        refusal="Only the project's managers can change its members.",
    )
    users = access_people.addable_users(request.user)
    form = MemberForm(request.POST or None, project=project, users=users)
    notice = ""
    if request.method == "POST" and form.is_valid():
        try:
            notice = change_membership(request, project, form.cleaned_data)
        except ValidationError as error:
            form.add_error("username", error.messages)
        else:
            if not request.htmx:
                messages.success(request, notice)
                url = reverse("project-members", args=[project.pk])
                return see_other(request, url)
            form = MemberForm(project=project, users=users)
    memberships = project.memberships.select_related("user").order_by(
        "role", "user__username"
    )
    members = get_user_model().objects.filter(memberships__project=project)
    switchable = set(
        access_people.deactivatable(request.user, members).values_list("pk", flat=True)
    )
    return render(
        request,
        partial(request, "annotator/project_members.html", "member-table"),
        {
            "project": project,
            "memberships": memberships,
            "form": form,
            "roles": Membership.Role.choices,
            "notice": notice,
            "switchable": switchable,
            "invitations": project.invitations.pending().select_related("invited_by"),
            "invite_form": InvitationForm(),
            "invitation_days": settings.INVITATION_VALID_DAYS,
        },
    )
