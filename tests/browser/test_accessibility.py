"""axe-core on every page a person reaches, as the role that uses it, light and dark.

One table (PAGES) says which role opens which page; the test logs each role in
once (one browser context per role and colour scheme) and runs axe-core on each
page. Serious or critical violations fail the test; minor and moderate ones are
printed (run with -s to read them). The demo data (the seed corpus, a coded and a
simulated project) gives every page something to show.

With ANNOTATOR_SCREENSHOTS=1 each page is also saved, as axe saw it, to
docs/screens/<light|dark>/<page>.png (never in CI: it would rewrite files of the
repository).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from annotator.codebooks import import_codebook, read_codebook_file
from annotator.demo import FIXTURES, load_demo_project, load_simulated_project
from annotator.demo_training import DRIFTING_CODER
from annotator.gold import adjudicate, adjudication_queue
from annotator.models import Annotation, Codebook, Invitation, Job, ReferenceItem
from annotator.services import claim_next_span, submit_annotation
from annotator.services.invitations import invite, link_token
from annotator.services.jobs import request_gold_refresh
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}
SCREENSHOTS = os.environ.get("ANNOTATOR_SCREENSHOTS") == "1"
SCREENS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screens"
VIEWPORT = {"width": 1280, "height": 800}
# A phone (in light mode only, to keep the test short): no page is wider than it;
# a wide table scrolls inside its own focusable region (.scroll-x in app.css).
PHONE = {"width": 390, "height": 844}
PAGE_WIDTH = "document.documentElement.scrollWidth"
# What widens the page: elements running past the right edge, not inside a region
# that scrolls, whose parent does not (the first few, as tag.class), for the
# failure message.
TOO_WIDE = """() => {
  const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== "visible") return true; return false; };
  return [...document.querySelectorAll("body *")].filter(e =>
    e.getBoundingClientRect().right > innerWidth + 1 && !clipped(e) &&
    e.parentElement.getBoundingClientRect().right <= innerWidth + 1
  ).slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? "." +
    String(e.className).trim().split(/\\s+/).join(".") : ""));
}"""
BACKGROUND = "getComputedStyle(document.body).backgroundColor"
BACKGROUNDS = {"light": "rgb(250, 251, 252)", "dark": "rgb(20, 24, 29)"}
# Rules axe cannot hold a page to because the markup is a library's, not ours:
# Swagger UI nests its copy-link button inside the operation's summary button.
NOT_OURS = {"API docs": {"nested-interactive": {"enabled": False}}}
PASSWORDS = {
    "manager": "manager-demo-pass",
    "reviewer": "reviewer-demo-pass",
    "coder1": "coder1-demo-pass",
}


@dataclass(frozen=True)
class Study:
    """The objects whose ids the pages' URLs need."""

    demo: int
    simulated: int
    corpus: int
    document: int
    codebook: int
    family: str
    assignment: int
    decided_span: int
    job: int
    invitation_token: str
    password_reset: str
    reference_item: int
    drifting_coder: int


Url = Callable[[Study], str]
# (what the page is, who opens it, its URL, what to do before axe runs: click an
# element, or wait for one).
PAGES: list[tuple[str, str, Url, str]] = [
    ("login", "", lambda s: reverse("login"), ""),
    ("password reset", "", lambda s: reverse("password-reset"), ""),
    ("password reset sent", "", lambda s: reverse("password-reset-done"), ""),
    ("new password", "", lambda s: s.password_reset, ""),
    ("password reset done", "", lambda s: reverse("password-reset-complete"), ""),
    (
        "invitation",
        "",
        lambda s: reverse("invitation", args=[s.invitation_token]),
        "",
    ),
    ("home", "manager", lambda s: reverse("home"), ""),
    ("corpora", "manager", lambda s: reverse("corpus-list"), ""),
    ("import", "manager", lambda s: reverse("corpus-import"), ""),
    ("corpus", "manager", lambda s: reverse("corpus-detail", args=[s.corpus]), ""),
    (
        "document",
        "manager",
        lambda s: reverse("document-detail", args=[s.document]),
        "",
    ),
    ("new project", "manager", lambda s: reverse("project-create"), ""),
    ("sample size", "manager", lambda s: reverse("project-sample-size"), ""),
    ("restore", "manager", lambda s: reverse("project-restore"), ""),
    ("project", "manager", lambda s: reverse("project-detail", args=[s.demo]), ""),
    (
        "members",
        "manager",
        lambda s: reverse("project-members", args=[s.demo]),
        "",
    ),
    (
        "invitations",
        "manager",
        lambda s: reverse("project-invitations", args=[s.demo]),
        "",
    ),
    (
        "downloads",
        "manager",
        lambda s: reverse("project-downloads", args=[s.simulated]),
        "",
    ),
    ("design", "manager", lambda s: reverse("project-design", args=[s.demo]), ""),
    (
        "training settings",
        "manager",
        lambda s: reverse("project-training-settings", args=[s.simulated]),
        "",
    ),
    (
        "lifecycle",
        "manager",
        lambda s: reverse("project-lifecycle", args=[s.demo]),
        "",
    ),
    ("clone", "manager", lambda s: reverse("project-clone", args=[s.demo]), ""),
    (
        "codings import",
        "manager",
        lambda s: reverse("project-codings-import", args=[s.demo]),
        "",
    ),
    (
        "project codebook",
        "manager",
        lambda s: reverse("project-codebook", args=[s.demo]),
        "",
    ),
    ("jobs", "manager", lambda s: reverse("project-jobs", args=[s.simulated]), ""),
    ("job", "manager", lambda s: reverse("job-detail", args=[s.job]), ""),
    ("codebooks", "manager", lambda s: reverse("codebook-list"), ""),
    (
        "codebook changes",
        "manager",
        lambda s: reverse("codebook-changes", args=[s.family, 1, 2]),
        "",
    ),
    ("new codebook", "manager", lambda s: reverse("codebook-create"), ""),
    ("codebook upload", "manager", lambda s: reverse("codebook-upload"), ""),
    (
        "codebook",
        "manager",
        lambda s: reverse("codebook-detail", args=[s.codebook]),
        "",
    ),
    (
        "codebook editor",
        "manager",
        lambda s: reverse("codebook-edit", args=[s.codebook]),
        "",
    ),
    ("API token", "manager", lambda s: reverse("api-token"), ""),
    ("API docs", "manager", lambda s: reverse("api-docs"), "wait .opblock"),
    ("change password", "manager", lambda s: reverse("password-change"), ""),
    (
        "password changed",
        "manager",
        lambda s: reverse("password-change-done"),
        "",
    ),
    ("not found", "manager", lambda s: "/projects/0/", ""),
    ("coding", "coder1", lambda s: reverse("project-code", args=[s.demo]), ""),
    (
        "coding, codebook open",
        "coder1",
        lambda s: reverse("project-code", args=[s.demo]),
        "#codebook-panel summary",
    ),
    (
        "recent",
        "coder1",
        lambda s: reverse("project-code-recent", args=[s.demo]),
        "",
    ),
    (
        "revise",
        "coder1",
        lambda s: reverse("project-code-revise", args=[s.demo, s.assignment]),
        "",
    ),
    ("preferences", "coder1", lambda s: reverse("preferences"), ""),
    (
        "reading",
        "coder1",
        lambda s: reverse("project-document", args=[s.demo, s.document]),
        "",
    ),
    (
        "agreement",
        "reviewer",
        lambda s: reverse("project-agreement", args=[s.simulated]),
        "",
    ),
    (
        "agreement intervals",
        "reviewer",
        lambda s: reverse("project-agreement-intervals", args=[s.simulated]),
        "",
    ),
    (
        "gold status",
        "reviewer",
        lambda s: reverse("project-gold-status", args=[s.simulated]),
        "",
    ),
    (
        "adjudication",
        "reviewer",
        lambda s: reverse("project-adjudicate", args=[s.simulated]),
        "",
    ),
    (
        "adjudication, codebook open",
        "reviewer",
        lambda s: reverse("project-adjudicate", args=[s.simulated]),
        "#codebook-panel summary",
    ),
    (
        "decided",
        "reviewer",
        lambda s: reverse("project-adjudicate-decided", args=[s.simulated]),
        "",
    ),
    (
        "decided span",
        "reviewer",
        lambda s: reverse(
            "project-adjudicate-span", args=[s.simulated, s.decided_span]
        ),
        "",
    ),
    # Coder training (issue 16): the simulated project has reference items, checks
    # and the drifting sim-dana (annotator/demo_training.py).
    (
        "reference items",
        "reviewer",
        lambda s: reverse("project-reference", args=[s.simulated]),
        "",
    ),
    (
        "reference item",
        "reviewer",
        lambda s: reverse(
            "project-reference-item", args=[s.simulated, s.reference_item]
        ),
        "",
    ),
    ("coders", "reviewer", lambda s: reverse("project-coders", args=[s.simulated]), ""),
    (
        "coder",
        "reviewer",
        lambda s: reverse("project-coder", args=[s.simulated, s.drifting_coder]),
        "",
    ),
    ("training", "coder1", lambda s: reverse("project-training", args=[s.demo]), ""),
    ("practice", "coder1", lambda s: reverse("project-practice", args=[s.demo]), ""),
    ("test", "coder1", lambda s: reverse("project-test", args=[s.demo]), ""),
]


def make_study() -> Study:
    demo, report = load_demo_project()
    simulated = load_simulated_project()
    manager = User.objects.get(username="manager")
    coder = User.objects.get(username="coder1")
    assignment = claim_next_span(project=demo, coder=coder)
    submit_annotation(
        coder=coder,
        assignment=assignment,
        labels={"topic": "arms_control", "stance": "neutral"},
    )
    waiting = adjudication_queue(simulated).first()
    adjudicate(
        simulated,
        waiting.span_id,
        "topic",
        "arms_control",
        reviewer=User.objects.get(username="reviewer"),
        note="the treaty",
    )
    invitation = invite(
        project=demo, email="newcomer@example.org", role="coder", by=manager
    )
    request_gold_refresh(simulated, by=manager)
    # A second version of the (frozen, in use) default codebook: a redefined category.
    data = read_codebook_file(FIXTURES / "codebook.yaml")
    data["dimensions"][0]["categories"][0]["definition"] += " Also space weapons."
    newer, _ = import_codebook(data)
    return Study(
        demo=demo.pk,
        simulated=simulated.pk,
        corpus=report.corpus.pk,
        document=assignment.span.document_id,
        codebook=Codebook.objects.get(pk=demo.codebook_id).pk,
        family=newer.family,
        assignment=assignment.pk,
        decided_span=waiting.span_id,
        job=Job.objects.filter(project=simulated).latest("pk").pk,
        invitation_token=link_token(Invitation.objects.get(pk=invitation.pk)),
        password_reset=reset_link(coder),
        reference_item=ReferenceItem.objects.filter(project=simulated).first().pk,
        drifting_coder=User.objects.get(username=DRIFTING_CODER).pk,
    )


def reset_link(user: User) -> str:
    """The link a password-reset email would hold (the page asks for a new one)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password-reset-confirm", args=[uid, token])


def axe_report(page, rules: dict | None = None) -> list[dict]:
    """The page's violations, each with the CSS selectors of its nodes."""
    options = {"resultTypes": ["violations"], "rules": rules or {}}
    return Axe().run(page, options=options).response["violations"]


def describe(violation: dict) -> str:
    targets = ", ".join(str(n["target"]) for n in violation["nodes"][:4])
    return f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_has_a_serious_accessibility_violation(chromium, live_server, scheme):
    study = make_study()
    assert Annotation.objects.exists()
    blocking: list[str] = []
    for role in ("", "manager", "coder1", "reviewer"):
        context = chromium.new_context(
            base_url=live_server.url,
            color_scheme=scheme,
            bypass_csp=True,
            viewport=VIEWPORT,
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        if role:
            log_in(page, role, PASSWORDS[role])
        for name, who, url, then in PAGES:
            if who != role:
                continue
            page.goto(url(study))
            page.wait_for_load_state("load")
            if then.startswith("wait "):
                page.locator(then.removeprefix("wait ")).first.wait_for()
            elif then:
                page.locator(then).click()
            if name != "API docs":  # Swagger's page keeps its own colours
                # The scheme is the system's; the page follows it (app.css).
                assert page.evaluate(BACKGROUND) == BACKGROUNDS[scheme], name
            if SCREENSHOTS:
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                (SCREENS_DIR / scheme).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENS_DIR / scheme / f"{slug}.png"))
            headings = page.locator("h1").count()
            if headings != 1:
                blocking.append(f"{scheme} · {name}: {headings} <h1> elements")
            for violation in axe_report(page, NOT_OURS.get(name)):
                who = role or "anonymous"
                line = f"{scheme} · {name} ({who}): {describe(violation)}"
                print(line)
                if violation["impact"] in BLOCKING:
                    blocking.append(line)
            if scheme == "light":
                page.set_viewport_size(PHONE)
                width = page.evaluate(PAGE_WIDTH)
                if width > PHONE["width"]:
                    culprits = ", ".join(page.evaluate(TOO_WIDE))
                    blocking.append(f"phone · {name}: {width} px wide ({culprits})")
                page.set_viewport_size(VIEWPORT)
        context.close()
    assert not blocking, "\n".join(blocking)


def test_first_run_page_is_accessible(page):
    """The welcome page exists only while the site has no account."""
    page.goto(reverse("first-run"))
    violations = axe_report(page)
    for violation in violations:
        print(f"first run: {describe(violation)}")
    assert not [v for v in violations if v["impact"] in BLOCKING]
