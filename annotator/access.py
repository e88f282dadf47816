"""Who may see or do what: the only place the app decides access.

A project's members hold one role each (coder, reviewer, manager); staff see every
project without being members. What each may do:

    SEE     the project's pages and API resource     members; staff
    CODE    the coding screen and the coder API       coders only (not staff)
    REVIEW  agreement, adjudication, exports,         reviewers, managers; staff
            everyone's progress and codes
    MANAGE  members and the project's design          managers; staff

Outside a project: anyone signed in has their own home page and API token; the
Managers group (its Django permissions) sees and imports corpora, creates
projects and sees, writes and edits codebooks, as staff do.
Accounts (invitations, deactivation, the first-run page): annotator/access_people.py,
which builds on this table.

Blind coding follows from the table: a coder may SEE the project but not REVIEW
it, so no page or endpoint shows a coder another coder's codes, comments, counts
or names. A request for a project the user may not SEE is answered 404 (the
project is not revealed); a project they see but may not act on, 403.

Pages, the API, exports, agreement and adjudication all call this module; services
(also called from commands) re-check what their writes rely on (a claim needs a
coder's membership row, a submit the coder's own claim); templates show links by
the flags computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotator.access_corpora import can_import_corpora as can_import_corpora
from annotator.access_corpora import can_see_corpora as can_see_corpora
from annotator.access_corpora import visible_corpora as visible_corpora
from annotator.db import fetch_row, from_row, row_id
from annotator.models import (
    Assignment,
    Job,
    JobFile,
    JobKind,
    Membership,
    Project,
    ProjectQuerySet,
)
from corpus.models import Document

User = AbstractBaseUser | AnonymousUser

CODER = Membership.Role.CODER.value
REVIEWER = Membership.Role.REVIEWER.value
MANAGER = Membership.Role.MANAGER.value
MANAGERS_GROUP = "Managers"
# The corpus permissions the Managers group holds (see and import corpora, exclude
# page chrome). Migration 0002 creates the group with a frozen copy of this list.
MANAGERS_PERMISSIONS = (
    *("view_corpus", "add_corpus", "change_corpus"),
    *("view_document", "add_document", "change_document"),
    *("view_span", "change_span"),
)


class Can(StrEnum):
    SEE = "see"
    CODE = "code"
    REVIEW = "review"
    MANAGE = "manage"


ROLES_THAT = {
    Can.SEE: frozenset({CODER, REVIEWER, MANAGER}),
    Can.CODE: frozenset({CODER}),
    Can.REVIEW: frozenset({REVIEWER, MANAGER}),
    Can.MANAGE: frozenset({MANAGER}),
}
# Staff see and review every project and manage it, but code in none: a coder's
# work is their own, and staff are not in the design's count of coders.
STAFF_CAN = frozenset({Can.SEE, Can.REVIEW, Can.MANAGE})
REFUSALS = {
    Can.CODE: "Only the project's coders code spans; your role here is {role}.",
    Can.REVIEW: "Only the project's reviewers and managers can do this: coders "
    "code blind.",
    Can.MANAGE: "Only the project's managers can do this.",
}


def allows(user: User, role: str | None, action: Can) -> bool:
    """Whether a user holding `role` in a project (None: not a member) may act."""
    if not user.is_authenticated:
        return False
    return role in ROLES_THAT[action] or (user.is_staff and action in STAFF_CAN)


def check(user: User, role: str | None, action: Can, refusal: str = "") -> None:
    """Raise Http404 unless the user may see the project, PermissionDenied unless
    they may do `action` in it. `refusal` replaces the standard 403 message."""
    if not allows(user, role, Can.SEE):
        raise Http404("No such project.")
    if not allows(user, role, action):
        message = refusal or REFUSALS[action]
        raise PermissionDenied(message.format(role=role or "none"))


# --- projects through the ORM --------------------------------------------------------


def visible_projects(user: User) -> ProjectQuerySet:
    """The projects the user may see, each annotated with `user_role` (None for
    staff who are not members): the only way pages and the API list projects."""
    if not user.is_authenticated:
        return Project.objects.none()
    projects = Project.objects.with_user_role(user)
    if user.is_staff:
        return projects
    return projects.filter(memberships__user=user)


def project_for(
    user: User, project_id: int, action: Can = Can.SEE, *, refusal: str = ""
) -> Project:
    """The project if the user may do `action` in it (404 / 403 otherwise), with
    `user_role`, its corpus and codebook loaded."""
    project = (
        visible_projects(user)
        .select_related("corpus", "codebook")
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    check(user, project.user_role, action, refusal)
    return project


def manages(user: User, project_id: int) -> bool:
    """Whether the user may manage the project (project_for's rule), as a yes or
    no: for a check made before a view runs (annotator.upload_limits)."""
    try:
        project_for(user, project_id, Can.MANAGE)
    except (Http404, PermissionDenied):
        return False
    return True


CLONE_REFUSAL = "Only a project's managers who may create projects clone it."


def project_to_clone(user: User, project_id: int) -> Project:
    """A project the user manages and may copy into a new one: cloning creates a
    project, so it also needs can_create_projects (404 / 403)."""
    project = project_for(user, project_id, Can.MANAGE, refusal=CLONE_REFUSAL)
    require(can_create_projects(user), CLONE_REFUSAL)
    return project


# Jobs (long work a request asked for) are the managers': coders and reviewers see
# how fresh the gold is, never the jobs behind it.
JOBS_REFUSAL = "Only the project's managers see its jobs."


def project_jobs(user: User, project_id: int) -> Project:
    """The project whose jobs the user may see and ask for (404 / 403)."""
    return project_for(user, project_id, Can.MANAGE, refusal=JOBS_REFUSAL)


def job_for(user: User, job_id: int) -> Job:
    """A job of a project the user manages: 404 if they may not see the project
    (or there is no such job), 403 if they see it but do not manage it. A job
    without a project (a corpus import, a restore) is its requester's and
    staff's: 404 for anyone else."""
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job.")
    if job.project_id is None:
        if not (user.is_staff or job.requested_by_id == user.pk):
            raise Http404("No such job.")
        return job
    job.project = project_jobs(user, job.project_id)
    return job


def archive_of(user: User, job_id: int) -> JobFile:
    """The archive a finished job made, for its project's managers (and staff):
    404 / 403 as for the job; 404 if the job made no archive (yet)."""
    job = job_for(user, job_id)
    archive = JobFile.objects.filter(
        job=job, job__kind=JobKind.ARCHIVE, role=JobFile.Role.OUTPUT
    ).first()
    if archive is None:
        raise Http404("This job made no archive.")
    archive.job = job
    return archive


# --- projects in one SQL round trip (the coders' hot path) ---------------------------

# The project row, the user's role, its number of coders (the coding screen sizes
# each share by it), its gate and whether the user passed it, its check rate and
# pool (own work: study or pool), in one query; with an assignment id, also that
# assignment if it is the user's own here or in the pool, and its annotation's
# codebook (joins there only when asked for: they cost PostgreSQL's planner more
# than the rest). It decides what visible_projects decides (test_access.py).
PROJECT_COLUMNS = """
SELECT p.id, p.name, p.codebook_id, p.lease_minutes, p.total_codings, m.role,
       (SELECT COUNT(*) FROM annotator_membership AS c
        WHERE c.project_id = p.id AND c.role = %(coder_role)s),
       p.certification_gate, m.certified_at IS NOT NULL, p.check_rate, o.id,
       p.machine_suggestions
"""
STUDY = " AND p.pool_of_id IS NULL"  # as Project.objects: a pool is no one's project
PROJECT_FROM = """
FROM annotator_project AS p
LEFT JOIN annotator_membership AS m ON m.project_id = p.id AND m.user_id = %(user)s
LEFT JOIN annotator_project AS o ON o.pool_of_id = p.id
"""
PROJECT_FOR_CODER = f"{PROJECT_COLUMNS}{PROJECT_FROM} WHERE p.id = %(project)s{STUDY}"
PROJECT_AND_ASSIGNMENT_FOR_CODER = f"""
{PROJECT_COLUMNS},
       a.id, a.work_item_id, a.span_id, a.status, a.claimed_at, a.shown_at,
       a.expires_at, a.finished_at, a.skip_reason, n.codebook_id
{PROJECT_FROM}
LEFT JOIN annotator_assignment AS a ON a.id = %(assignment)s AND a.coder_id = %(user)s
    AND a.project_id IN (p.id, o.id)
LEFT JOIN annotator_annotation AS n ON n.assignment_id = a.id
WHERE p.id = %(project)s{STUDY}
"""
NO_ASSIGNMENT = (None,) * 10  # the assignment's columns, when none was asked for
ASSIGNMENT_FOR_CODER = """
SELECT a.id, a.project_id, a.coder_id, m.role
FROM annotator_assignment AS a JOIN annotator_project AS ap ON ap.id = a.project_id
LEFT JOIN annotator_membership AS m
    ON m.project_id = COALESCE(ap.pool_of_id, a.project_id) AND m.user_id = %s
WHERE a.id = %s
"""


def coding_project(user: User, project_id: int) -> Project:
    """The project if the user codes in it (404 / 403 otherwise), in one query.

    Loaded: name, codebook_id, lease_minutes, total_codings, the gate, check_rate,
    machine_suggestions, `user_role` and `n_coders`; other fields are deferred.
    """
    return coding_project_and_assignment(user, project_id, None)[0]


def coding_project_and_assignment(
    user: User, project_id: int, assignment_id: object
) -> tuple[Project, Assignment | None]:
    """coding_project(), and the user's own assignment in it named by
    `assignment_id` (a form's text: None unless it names one), in one query.

    The assignment has its fields loaded and `codebook_id`: the codebook version
    of its annotation, or the project's when it has none yet.
    """
    if not user.is_authenticated or row_id(project_id) is None:
        raise Http404("No such project.")
    wanted = row_id(assignment_id)
    params = {"coder_role": CODER, "user": user.pk, "project": project_id}
    if wanted is None:
        row = fetch_row(PROJECT_FOR_CODER, params)
        row = row and row + NO_ASSIGNMENT
    else:
        row = fetch_row(
            PROJECT_AND_ASSIGNMENT_FOR_CODER, {**params, "assignment": wanted}
        )
    if row is None:
        raise Http404("No such project.")
    (pk, name, codebook_id, lease_minutes, total_codings, role, n_coders, gate,
     certified, check_rate, pool, suggesting, a_id, item_id, span_id, status,
     claimed_at, shown_at, expires_at, finished_at, skip_reason,
     annotation_codebook_id) = row  # fmt: skip
    check(user, role, Can.CODE)
    project = from_row(
        Project, id=pk, name=name, codebook_id=codebook_id, lease_minutes=lease_minutes,
        total_codings=total_codings, certification_gate=gate, check_rate=check_rate,
        machine_suggestions=suggesting,
    )  # fmt: skip
    project.user_role, project.n_coders = role, n_coders
    project.certified, project.own_pool = certified, pool or pk  # gate; progress
    if a_id is None:
        return project, None
    assignment = from_row(
        Assignment, id=a_id, project_id=pk, work_item_id=item_id, span_id=span_id,
        coder_id=user.pk, status=status, claimed_at=claimed_at, shown_at=shown_at,
        expires_at=expires_at, finished_at=finished_at, skip_reason=skip_reason,
    )  # fmt: skip
    assignment.codebook_id = annotation_codebook_id or codebook_id
    return project, assignment


def own_assignment(user: User, assignment_id: int) -> Assignment:
    """The user's own assignment, in one query: 404 for anyone else's (blind
    coding; someone outside its project cannot even tell it exists), 403 for
    members who do not code."""
    row = None
    if row_id(assignment_id) is not None:
        row = fetch_row(ASSIGNMENT_FOR_CODER, [user.pk, assignment_id])
    if row is None or not allows(user, row[-1], Can.SEE):
        raise Http404("No such assignment.")
    pk, project_id, coder_id, role = row
    check(user, role, Can.CODE)
    if coder_id != user.pk:
        raise Http404("No such assignment of yours.")
    return from_row(Assignment, id=pk, project_id=project_id, coder_id=coder_id)


def document_reader(user: User, project_id: int, document_id: int) -> Project:
    """Read whole (text only) by reviewers up, coders claiming or having coded it."""
    project = project_for(user, project_id)
    if allows(user, project.user_role, Can.REVIEW):
        ok = Document.objects.filter(pk=document_id, corpus_id=project.corpus_id)
    else:  # coders: SEE alone reads nothing of a document
        mine = Assignment.objects.held_or_done().own_work(project, user.pk)
        ok = mine.filter(span__document=document_id)
    if not ok.exists():
        raise Http404("No such document of yours in this project.")
    return project


@dataclass(frozen=True)
class Abilities:
    """What the user may do in a project, for pages and templates to ask by name
    (`can.code`, `can.review`, `can.manage`) instead of comparing roles."""

    code: bool
    review: bool  # reviewers, managers and staff see everyone's progress and codes
    manage: bool


def abilities(user: User, project: Project) -> Abilities:
    """The user's abilities in a project loaded with `user_role` (for this user)."""
    role = project.user_role
    return Abilities(
        code=allows(user, role, Can.CODE),
        review=allows(user, role, Can.REVIEW),
        manage=allows(user, role, Can.MANAGE),
    )


def may_review(user: User, project: Project) -> bool:
    """May this user review the project? (One query for their role: a service's
    check, whoever loaded the project.)"""
    return user.is_authenticated and allows(user, project.role_of(user), Can.REVIEW)


# --- outside projects ----------------------------------------------------------------


def can_create_projects(user: User) -> bool:
    """The Managers group and staff set up projects."""
    return user.is_authenticated and (
        user.is_staff or user.groups.filter(name=MANAGERS_GROUP).exists()
    )


def can_manage_codebooks(user: User) -> bool:
    """Codebooks are shared by projects: whoever sets up projects (the Managers
    group, staff) sees every codebook, writes new ones and edits them."""
    return can_create_projects(user)


class SignedOut(Exception):
    """An htmx request from someone no longer signed in: answered 401 with a
    sign-in card (annotator.middleware.ErrorAnswerMiddleware), never with the
    redirect htmx would follow and swap the login page into a card with."""


def login_required(view):
    """Django's login_required, except for htmx: a page goes to the login page and
    back; an htmx request raises SignedOut, so the page it came from, and the
    choices in its form, stay where they are."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request") == "true":
            raise SignedOut
        return redirect_to_login(request.get_full_path())

    return checked


def require(allowed: bool, message: str) -> None:
    """PermissionDenied with `message` unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)


def requires(may: Callable[[User], bool], message: str):
    """A view decorator: 403 with `message` unless `may(request.user)`."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            require(may(request.user), message)
            return view(request, *args, **kwargs)

        return checked

    return decorate
