"""Who may open what: every URL pattern × every kind of user, with the expected status.

The table is checked against the URL resolver: a pattern added without a row here
fails `test_every_url_pattern_has_a_row`, so no page or endpoint ships without a
decision on who may reach it. Each request is also read for another coder's work:
no answer to a coder may contain the other coder's comment or username (blind
coding), whatever the status.

Roles: anonymous; `coder` (codes this project); `outsider` (codes another project
only); `reviewer` and `manager` of this project (the manager is also in the Managers
group, as managers are); `other_reviewer` and `other_manager`, who hold those roles
in another project only (the other manager is in the Managers group too); `staff`
(is_staff, no membership, no group). Pages are opened with a session, /api/ with a
token. Every rule checked here is decided in annotator/access.py.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotator.agreement_report import pdf
from annotator.demo import managers_group
from annotator.gold import refresh_gold
from annotator.models import Assignment, Membership, TrainingAttempt
from annotator.services import claim_next_span, invitations, submit_annotation
from annotator.services.archive_jobs import request_archive
from annotator.services.jobs import request_gold_refresh
from tests.factories import UserFactory, make_project, make_reference_items

ROLES = (
    "anonymous",
    "coder",
    "outsider",
    "reviewer",
    "manager",
    "other_reviewer",
    "other_manager",
    "staff",
)
OTHER_CODER = "zoltan-other-coder"
OTHER_COMMENT = "PRIVATE-NOTE-OF-THE-OTHER-CODER"

# name: (method, {role: status}). 302 = sent to the login page (anonymous pages),
# 401 = API without credentials. `_` fills every role not listed.
LOGIN = 302
MANAGERS_GROUP = {"manager": 200, "other_manager": 200}
# Members of another project only: this project is not theirs to know of.
NOT_OURS = {"outsider": 404, "other_reviewer": 404, "other_manager": 404}
CORPORA = {"anonymous": LOGIN, **MANAGERS_GROUP, "_": 403}
# Whoever sets up projects: the Managers group (its permissions) and staff.
SETS_UP = {"anonymous": LOGIN, **MANAGERS_GROUP, "staff": 200, "_": 403}


def outside(anonymous: int = LOGIN) -> dict[str, int]:
    """A project's page or endpoint, for those who are not its members."""
    return {"anonymous": anonymous, **NOT_OURS}


def managers(status: int = 200) -> dict[str, int]:
    """A project's page for its managers and staff; other members are refused."""
    return {**outside(), "manager": status, "staff": status, "_": 403}


def coders(status: int = 200, anonymous: int = LOGIN) -> dict[str, int]:
    """A project's coding, for its coders only."""
    return {**outside(anonymous), "coder": status, "_": 403}


def readers(anonymous: int = LOGIN) -> dict[str, int]:
    """Reviewing: every member but the coders (and staff)."""
    return {**outside(anonymous), "coder": 403, "_": 200}


def rows(method: str, statuses: dict[str, int], *names: str) -> dict:
    return {name: (method, statuses) for name in names}


EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    # Open to everyone.
    "login": ("GET", {"_": 200}),
    "logout": ("POST", {"_": 302}),
    "healthz": ("GET", {"_": 200}),
    "favicon": ("GET", {"_": 301}),
    "api-schema": ("GET", {"_": 200}),
    "api-docs": ("GET", {"_": 200}),
    # Any signed-in user: their own things only.
    "home": ("GET", {"anonymous": LOGIN, "_": 200}),
    "api-token": ("GET", {"anonymous": LOGIN, "_": 200}),
    "preferences": ("GET", {"anonymous": LOGIN, "_": 200}),
    # The 401 card's sign-in lands here: the new CSRF token of one's own session.
    "signed-in": ("GET", {"anonymous": LOGIN, "_": 200}),
    "api-project-list": ("GET", {"anonymous": 401, "_": 200}),
    # Corpora: the Managers group (its permissions); a corpus and its documents only
    # when one of their projects uses it (access.visible_corpora).
    **rows("GET", CORPORA, "corpus-list", "corpus-import", "corpus-import-panel"),
    **rows(
        "GET", {**CORPORA, "other_manager": 404}, "corpus-detail", "document-detail"
    ),
    **rows("GET", SETS_UP, "project-create", "project-restore"),
    # The pre-registration helper (issue 17), embedded in the new-project form.
    **rows("GET", SETS_UP, "project-sample-size"),
    # Codebooks: whoever sets up projects sees every codebook and writes them
    # (access.can_manage_codebooks). The editor's empty POST is a preview (200,
    # nothing saved). What changed between two versions: the same people.
    **rows(
        "GET",
        SETS_UP,
        "codebook-list",
        "codebook-create",
        "codebook-upload",
        "codebook-detail",
        "codebook-edit",
        "codebook-yaml",
        "codebook-json",
        "codebook-changes",
    ),
    # A project's pages: members (and staff) see it; non-members get 404.
    "project-detail": ("GET", {**outside(), "_": 200}),
    "api-project-detail": ("GET", {**outside(401), "_": 200}),
    # Its managers (and staff): members, design, close / reopen, the codings
    # upload, moving to a newer codebook version, jobs (long work in the workers)
    # and the archive a job made; a clone is a new project: its managers who may
    # create projects, and staff.
    **rows(
        "GET",
        managers(),
        "project-members",
        "project-design",
        "project-lifecycle",
        "project-codings-import",
        "project-clone",
        "project-codebook",
        "project-jobs",
        "job-detail",
        "job-archive-download",
        "project-invitations",
    ),
    # An empty preview: the form's errors, nothing changed.
    **rows("POST", managers(), "project-design-preview", "project-codebook-preview"),
    # Actions answered with a redirect; invitations and deactivation among them.
    **rows(
        "POST",
        managers(303),
        "project-refresh-gold",
        "project-archive",
        "project-active-learning",
        "project-invitation-resend",
        "project-invitation-revoke",
        "project-member-deactivate",
        "project-member-reactivate",
    ),
    # Coding: the project's coders only.
    **rows("GET", coders(), "project-code", "project-code-recent"),
    "project-code-revise": ("GET", coders()),
    "project-code-skip": ("POST", coders()),
    # Undoing a skip of a span the coder finished: refused as such (the page
    # sends them back to the recent list with the reason).
    "project-code-unskip": ("POST", coders(303)),
    # A plain GET goes to the coding screen (htmx polls get 204 or the notice).
    "project-code-waiting": ("GET", coders(303)),
    # A document read whole: the coder has coded a span of the first document; the
    # project's reviewers, managers and staff read any of its documents.
    "project-document": ("GET", {**outside(), "_": 200}),
    "api-claim": ("POST", coders(anonymous=401)),
    # The coder's live claim: an empty submit or skip is refused as such (400); other
    # members see the project, so they are told it is not theirs to do (403).
    **rows("POST", coders(400, anonymous=401), "api-submit", "api-skip"),
    "api-unskip": ("POST", coders(409, anonymous=401)),
    "api-my-annotations": ("GET", {**outside(401), "_": 200}),
    # Reviewing: reviewers and managers.
    **rows(
        "GET",
        readers(),
        "project-agreement",
        # The background intervals' panel (no job is named but to managers).
        "project-agreement-intervals",
        "project-adjudicate",
        "project-adjudicate-decided",
        "project-adjudicate-span",
        # The downloads page (its files are the API's, below).
        "project-downloads",
        # The agreement report as CSV (the JSON is the API's).
        "project-agreement-csv",
        # How fresh the gold is: whoever reads gold (no job is named but to managers).
        "project-gold-status",
        # Each coder's training, checks and confusions (issue 16).
        "project-coders",
        "project-coder",
        # The reliability report (issue 17): the dashboard's figures written up.
        "project-reliability",
        # The reliability report's files (issue 17): print HTML, Markdown, LaTeX.
        "project-reliability-html",
        "project-reliability-md",
        "project-reliability-tex",
        # The report's replication zip (issue 17).
        "project-reliability-bundle",
    ),
    # Its PDF: 503 with the apt line where Pango is missing (CI installs it).
    "project-reliability-pdf": (
        "GET",
        {**readers(), "_": 200 if pdf.pango_available() else 503},
    ),
    **rows(
        "GET",
        readers(anonymous=401),
        "api-project-agreement",
        "api-gold",
        "api-gold-csv",
        "api-gold-jsonl",
        "api-annotations",
        "api-annotations-csv",
        "api-annotations-jsonl",
        "api-project-coders",
        # The machine coder (issue 18): its status, provenance and validation.
        "api-project-machine",
    ),
    # "Code the rest": reviewers, managers and staff (annotator.access_machine);
    # with no trained coder yet, 409 saying so.
    "api-project-machine-predict": ("POST", {**outside(401), "coder": 403, "_": 409}),
    # The machine coder's page (issue 18): reviewers, managers and staff.
    "project-machine": ("GET", readers()),
    # Its buttons, for the same readers: Train goes to the job's page (managers)
    # or back to this page (reviewers); Code the rest, with no trained coder yet,
    # is the page again saying so (409).
    "project-machine-train": ("POST", {**outside(), "coder": 403, "_": 303}),
    "project-machine-predict": ("POST", {**outside(), "coder": 403, "_": 409}),
    # Coder training's settings: the gate, the test's bar, hidden checks.
    "project-training-settings": ("GET", managers()),
    # The machine coder's options (suggestions on the coding screen; issue 18).
    "project-machine-options": ("GET", managers()),
    # Reference items: reviewers, managers and staff; never coders (they see
    # reference codes only as practice feedback). The one click from gold answers
    # with a redirect back to the decisions (an empty post: its reason there).
    **rows(
        "GET",
        readers(),
        "project-reference",
        "project-reference-new",
        "project-reference-upload",
        "project-reference-item",
    ),
    "project-reference-from-gold": ("POST", {**readers(), "_": 303}),
    # Coder training: practice and the test for the project's coders; an attempt
    # for its own coder (another coder: 404) and the project's readers; certifying
    # by hand for managers (an empty form: 400, nothing recorded).
    **rows("GET", coders(), "project-training", "project-practice", "project-test"),
    "project-attempt": ("GET", {**outside(), "_": 200}),
    "project-coder-certify": ("POST", managers(400)),
    # Django's admin: staff only.
    "admin": ("GET", {"staff": 200, "_": 302}),
    # People: the first-run form only while there is no account (never here);
    # an invitation's link for whoever holds it (the page says who may accept);
    # password reset for anyone, password change for the signed in.
    "first-run": ("GET", {"_": 404}),
    "invitation": ("GET", {"_": 200}),
    "password-reset": ("GET", {"_": 200}),
    "password-reset-done": ("GET", {"_": 200}),
    "password-reset-confirm": ("GET", {"_": 200}),  # a bad link: says so
    "password-reset-complete": ("GET", {"_": 200}),
    "password-change": ("GET", {"anonymous": LOGIN, "_": 200}),
    "password-change-done": ("GET", {"anonymous": LOGIN, "_": 200}),
}


def url_patterns(patterns=None, prefix: str = "") -> dict[str, str]:
    """{name: route} for every pattern the resolver knows; the admin is one entry."""
    found: dict[str, str] = {}
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if getattr(p, "app_name", None) == "admin":
                found["admin"] = prefix + str(p.pattern)
            else:
                found.update(url_patterns(p.url_patterns, prefix + str(p.pattern)))
        elif isinstance(p, URLPattern):
            found[p.name or f"(unnamed) {prefix}{p.pattern}"] = prefix + str(p.pattern)
    return found


def expected(name: str, role: str) -> int:
    statuses = EXPECTED[name][1]
    return statuses.get(role, statuses.get("_"))


def test_every_url_pattern_has_a_row():
    patterns = url_patterns()
    missing = sorted(set(patterns) - set(EXPECTED))
    assert not missing, (
        "URL patterns without an access decision in "
        "tests/annotator/test_access_matrix.py EXPECTED: "
        + ", ".join(f"{name} ({patterns[name]})" for name in missing)
        + ". Add a row with the status each role must get."
    )
    stale = sorted(set(EXPECTED) - set(patterns))
    assert not stale, f"EXPECTED rows for URL names that no longer exist: {stale}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, inside a transaction rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def build_world() -> dict:
    project = make_project(
        documents=2, spans_per_document=3, coders=("coder", OTHER_CODER)
    )
    other_project = make_project(
        documents=1, spans_per_document=2, coders=("outsider",)
    )
    users = {
        "coder": UserFactory(username="coder"),
        "outsider": UserFactory(username="outsider"),
        "reviewer": UserFactory(username="reviewer"),
        "manager": UserFactory(username="manager"),
        "other_reviewer": UserFactory(username="other_reviewer"),
        "other_manager": UserFactory(username="other_manager"),
        "staff": UserFactory(username="staff", is_staff=True),
    }
    for role in ("manager", "other_manager"):
        users[role].groups.add(managers_group())
    for role in ("reviewer", "manager"):
        Membership.objects.create(
            project=other_project, user=users[f"other_{role}"], role=role
        )
    for role in ("reviewer", "manager"):
        Membership.objects.create(project=project, user=users[role], role=role)
    other = UserFactory(username=OTHER_CODER)
    # Both coders code the same first span, differently; the other coder comments.
    for user, topic, comment in (
        (other, "trade", OTHER_COMMENT),
        (users["coder"], "arms", "mine"),
    ):
        assignment = claim_next_span(project=project, coder=user)
        submit_annotation(
            coder=user,
            assignment=assignment,
            labels={"topic": topic, "stance": "neutral"},
            comment=comment,
        )
    refresh_gold(project)
    job = request_gold_refresh(project, force=True)
    archive = request_archive(project)
    invitation = invitations.invite(
        project=project, email="invitee@example.org", role="coder",
        by=users["manager"],
    )  # fmt: skip
    mine = Assignment.objects.get(project=project, coder=users["coder"])
    live = claim_next_span(project=project, coder=users["coder"])
    claim_next_span(project=other_project, coder=users["outsider"])
    (reference_item,) = make_reference_items(project, 1, "practice")
    attempt = TrainingAttempt.objects.create(
        project=project, coder=users["coder"], kind="practice",
        codebook_id=project.codebook_id, finished_at=timezone.now(),
    )  # fmt: skip
    return {
        "project": project,
        "users": users,
        "kwargs": {
            "project_id": project.pk,
            "pk": project.pk,
            "corpus_id": project.corpus_id,
            "codebook_id": project.codebook_id,
            "document_id": mine.span.document_id,  # a document the coder coded in
            "assignment_id": mine.pk,
            "live_assignment_id": live.pk,
            "span_id": mine.span_id,
            "job_id": job.pk,
            "archive_job_id": archive.pk,
            "family": project.codebook.family,
            "old": project.codebook.version,
            "new": project.codebook.version,
            "invitation_id": invitation.pk,
            "token": invitations.link_token(invitation),
            "uidb64": "not-a-user",
            "member_id": users["coder"].pk,
            "item_id": reference_item.pk,
            "attempt_id": attempt.pk,
            "user_id": users["coder"].pk,
        },
        "tokens": {
            role: Token.objects.create(user=user).key for role, user in users.items()
        },
    }


def url_for(name: str, world: dict) -> str:
    if name == "admin":
        return "/admin/"
    route = url_patterns()[name]
    kwargs = {
        key: world["kwargs"][key] for key in re.findall(r"<(?:\w+:)?(\w+)>", route)
    }
    if name in ("api-submit", "api-skip"):
        kwargs["assignment_id"] = world["kwargs"]["live_assignment_id"]
    if name == "job-archive-download":
        kwargs["job_id"] = world["kwargs"]["archive_job_id"]
    return reverse(name, kwargs=kwargs)


def request(name: str, role: str, world: dict):
    method, _ = EXPECTED[name]
    url = url_for(name, world)
    client = Client()
    headers = {}
    if role != "anonymous":
        if url.startswith("/api/v1/"):
            headers["HTTP_AUTHORIZATION"] = f"Token {world['tokens'][role]}"
        else:
            client.force_login(world["users"][role])
    if method == "POST":
        return client.post(url, {}, **headers)
    return client.get(url, **headers)


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_access(name, world, db):
    wrong = []
    for role in ROLES:
        with transaction.atomic():  # each request undone, so roles do not interact
            response = request(name, role, world)
            text = body(response)
            transaction.set_rollback(True)
        want = expected(name, role)
        if response.status_code != want:
            wrong.append(f"{role}: {response.status_code} (expected {want})")
        if (
            want == LOGIN
            and role == "anonymous"
            and name != "admin"
            and name != "logout"
        ):
            assert response["Location"].startswith(reverse("login")), (name, role)
        if role in ("coder", "outsider", "other_reviewer", "other_manager"):
            assert OTHER_COMMENT not in text, f"{name} shows {role} a coder's comment"
        # (The Managers group's forms list usernames to add as members, so the
        # other project's manager is left out of the name check.)
        if role in ("coder", "outsider", "other_reviewer"):
            assert not re.search(rf"\b{re.escape(OTHER_CODER)}\b", text), (
                f"{name} shows {role} another coder's name"
            )
    assert not wrong, f"{name} ({url_for(name, world)}): " + "; ".join(wrong)


def test_the_markers_are_real(world, db):
    """The other coder's comment and name do reach reviewers: their absence from
    every coder's answer above means something."""
    text = body(request("project-adjudicate-span", "reviewer", world))
    assert OTHER_COMMENT in text
    assert re.search(rf"\b{re.escape(OTHER_CODER)}\b", text)
