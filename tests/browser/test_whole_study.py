"""A whole study in Chromium, from an empty site to gold.csv, through the browser only.

The first manager is made on the first-run page; they write a codebook in the editor,
import a corpus, create a project and invite two coders and a reviewer by email; the
coders code with the keyboard; the manager redefines a category and moves the project
to the new version (a job: its page shows the move done); the coders code again what
comes back; the reviewer settles the one disagreement; the manager downloads gold.csv.
Every action is a browser action; the test reads the email outbox (for the links) and
the database only to check.

With ANNOTATOR_SCREENSHOTS=1 the key screens are saved to docs/screenshots/, the
README's walk-through (never in CI: it would rewrite files of the repository).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import Page, expect

from annotator.demo import managers_group
from annotator.models import Annotation, Project
from tests.browser.conftest import press_and_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("ANNOTATOR_SCREENSHOTS") == "1"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CODING_SCREEN = re.compile(r"/projects/\d+/code/$")
VIEWPORT = {"width": 1280, "height": 800}
PASSWORDS = {
    "mara": "quiet-harbour-lantern-61",
    "ana": "plum-orchard-ledger-42",
    "ben": "copper-meadow-sketch-17",
    "rita": "amber-tunnel-violin-88",
}
DOCUMENTS = [
    {
        "title": "Budget debate",
        "source": "Daily Ledger",
        "published": "2026-03-02",
        "text": "Tariffs on steel will rise next year.\n"
        "The army needs new bases in the north.",
    },
    {
        "title": "Winter report",
        "source": "Evening Post",
        "published": "2026-03-05",
        "text": "Hospitals lack nurses this winter.\n"
        "The border patrol gets more drones.",
    },
]
# Keys each coder presses on each span (found by its text): topic 1 economy,
# 2 security, 3 health; stance a against, s neutral, d favour. The coders
# disagree on one topic only: the army span.
CODES = {
    "Tariffs on steel": {"ana": "1 a", "ben": "1 a"},
    "The army needs": {"ana": "2 s", "ben": "1 s"},
    "Hospitals lack": {"ana": "3 d", "ben": "3 d"},
    "The border patrol": {"ana": "2 s", "ben": "2 s"},
}
# What gold.csv must hold once the reviewer has decided the army span's topic:
# (span text starts with, dimension) → (category, method, decided_by).
GOLD = {
    ("Tariffs on steel", "topic"): ("economy", "unanimous", ""),
    ("Tariffs on steel", "stance"): ("against", "unanimous", ""),
    ("The army needs", "topic"): ("security", "adjudicated", "rita"),
    ("The army needs", "stance"): ("neutral", "unanimous", ""),
    ("Hospitals lack", "topic"): ("health", "unanimous", ""),
    ("Hospitals lack", "stance"): ("favour", "unanimous", ""),
    ("The border patrol", "topic"): ("security", "unanimous", ""),
    ("The border patrol", "stance"): ("neutral", "unanimous", ""),
}


def shot(page: Page, name: str) -> None:
    """Save the screen for the README's walk-through, when asked to."""
    if SCREENSHOTS:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


@pytest.fixture
def browser_for(chromium, live_server):
    """A fresh browser (its own context: cookies, session) per person."""
    contexts = []

    def open_browser() -> Page:
        context = chromium.new_context(base_url=live_server.url, viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_browser
    for context in contexts:
        context.close()


@pytest.fixture
def empty_site(transactional_db):
    """The site as `manage.py migrate` leaves it: no account, the Managers group.

    An earlier transactional test's flush removes the group migration 0002 made;
    it is put back as migrate would, and nothing else."""
    assert not get_user_model().objects.exists()
    managers_group()


def invitation_link(address: str) -> str:
    sent = [message for message in mail.outbox if address in message.to]
    assert sent, f"no email to {address}"
    return re.search(r"https?://\S+/invitations/\S+/", sent[-1].body)[0]


def keys_for(page: Page, coder: str) -> str:
    text = page.locator("#target-span").inner_text()
    for start, keys in CODES.items():
        if text.startswith(start):
            return keys[coder]
    raise AssertionError(f"{coder} was shown an unexpected span: {text!r}")


def code_everything(page: Page, coder: str, keys=None, screenshot: str = "") -> int:
    """Code each span the coding screen offers until "All done"; how many."""
    page.get_by_role("link", name="Code", exact=True).first.click()
    page.wait_for_url(CODING_SCREEN)  # loaded: the keyboard script is in place
    page.locator("#target-span, .all-done").first.wait_for()
    coded = 0
    while page.locator("#target-span").count():
        assert coded < len(CODES), "more spans offered than the corpus has"
        if screenshot and coded == 0:
            shot(page, screenshot)
        press_and_submit(page, keys or keys_for(page, coder))
        page.get_by_role("status").filter(has_text="Saved.").wait_for()
        coded += 1
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    return coded


def accept_invitation(page: Page, address: str, username: str, project: str) -> None:
    page.goto(invitation_link(address))
    expect(page.get_by_role("heading", name=f"Join {project}")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(username)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[username])
    page.get_by_label("Password again").fill(PASSWORDS[username])
    if username == "ana":
        shot(page, "06-accept-invitation")
    page.get_by_role("button", name="Create my account and join").click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    expect(page.locator("ul.messages")).to_contain_text(f"Welcome to {project}")


def test_a_whole_study_from_an_empty_site_to_gold_csv(
    empty_site, browser_for, tmp_path
):
    User = get_user_model()

    # 1. The first manager, on the first-run page the login page points to.
    mara = browser_for()
    mara.goto("/")
    mara.get_by_role("link", name="Create the first manager").click()
    mara.get_by_label("Username").fill("mara")
    mara.get_by_label("Email address").fill("mara@example.org")
    mara.get_by_label("Password", exact=True).fill(PASSWORDS["mara"])
    mara.get_by_label("Password again").fill(PASSWORDS["mara"])
    shot(mara, "01-first-run")
    mara.get_by_role("button", name="Create the manager and log in").click()
    expect(mara.get_by_role("heading", name="Welcome, mara")).to_be_visible()

    # 2. A two-dimension codebook written in the editor, previewed, saved.
    mara.get_by_role("link", name="Codebooks").first.click()
    mara.get_by_role("link", name="New codebook").click()
    mara.get_by_label("Name", exact=True).fill("Policy talk")  # required: first
    mara.get_by_role("button", name="Add a category to dimension 1").click()
    mara.locator("input[name=d0-c2-key]").wait_for()
    mara.get_by_role("button", name="Add a dimension").click()
    mara.locator("input[name=d1-key]").wait_for()
    mara.get_by_role("button", name="Add a category to dimension 2").click()
    mara.locator("input[name=d1-c2-key]").wait_for()
    dimensions = {
        "topic": ("Topic", [
            ("economy", "Economy", "1", "Trade, prices, jobs, budgets."),
            ("security", "Security", "2", "Armed forces, borders, police."),
            ("health", "Health", "3", "Hospitals, care, disease."),
        ]),
        "stance": ("Stance", [
            ("against", "Against", "a", "The speaker opposes the measure."),
            ("neutral", "Neutral", "s", "Reported without a view."),
            ("favour", "In favour", "d", "The speaker supports the measure."),
        ]),
    }  # fmt: skip
    for d, (key, (label, categories)) in enumerate(dimensions.items()):
        mara.locator(f"input[name=d{d}-key]").fill(key)
        mara.locator(f"input[name=d{d}-label]").fill(label)
        for c, (c_key, c_label, shortcut, definition) in enumerate(categories):
            mara.locator(f"input[name=d{d}-c{c}-key]").fill(c_key)
            mara.locator(f"input[name=d{d}-c{c}-label]").fill(c_label)
            mara.locator(f"input[name=d{d}-c{c}-shortcut]").fill(shortcut)
            mara.locator(f"textarea[name=d{d}-c{c}-definition]").fill(definition)
    mara.locator("textarea[name=d1-c2-definition]").blur()
    preview = mara.locator("#codebook-preview")
    expect(preview.locator("legend", has_text="Stance")).to_be_visible()
    expect(
        preview.locator("label.choice", has_text="In favour").locator("kbd")
    ).to_have_text("d")
    assert preview.get_by_text("Saving would be refused").count() == 0
    mara.evaluate("window.scrollTo(0, 0)")
    shot(mara, "02-codebook-editor")
    mara.get_by_role("button", name="Save", exact=True).click()
    expect(
        mara.get_by_text("Version 1 of Policy talk saved: a new codebook.")
    ).to_be_visible()

    # 3. A corpus uploaded on the import page (the job runs in the request here).
    source = tmp_path / "statements.jsonl"
    source.write_text(
        "".join(json.dumps(document) + "\n" for document in DOCUMENTS),
        encoding="utf-8",
    )
    mara.get_by_role("link", name="Import", exact=True).click()
    mara.get_by_label("New corpus name").fill("Statements")
    mara.get_by_label("Segmentation").select_option("line")
    mara.get_by_label("Files").set_input_files(str(source))
    mara.get_by_role("button", name="Import").click()
    mara.wait_for_url(re.compile(r"/jobs/\d+/"))
    expect(mara.locator("#job-card")).to_contain_text("imported: 2 documents, 4 spans")
    shot(mara, "03-import")

    # 4. The project: that corpus and codebook, two coders per span, all spans.
    mara.get_by_role("link", name="Annotator").click()
    mara.get_by_role("link", name="New project").click()
    mara.get_by_label("Name", exact=True).fill("Policy statements")
    mara.get_by_label("Corpus").select_option(label="Statements")
    mara.get_by_label("Codebook").select_option(label="Policy talk (v1)")
    expect(mara.get_by_label("Coders per span (k)")).to_have_value("2")
    expect(mara.get_by_label("Reliability sample (%)")).to_have_value("100")
    shot(mara, "04-new-project")
    mara.get_by_role("button", name="Create project").click()
    mara.wait_for_url(re.compile(r"/projects/\d+/$"))
    expect(mara.get_by_text("Created 'Policy statements': 4 spans")).to_be_visible()
    expect(mara.get_by_text("Too few coders for this design")).to_be_visible()
    project = Project.objects.get(name="Policy statements")

    # 5. Two coders and a reviewer invited from the members page; each opens
    # the emailed link in a browser of their own and lands in the project.
    mara.get_by_role("link", name="Members").click()
    invitations = mara.locator("#invitations")
    for address, role in (
        ("ana@example.org", "coder"),
        ("ben@example.org", "coder"),
        ("rita@example.org", "reviewer"),
    ):
        invitations.get_by_label("Email address").fill(address)
        invitations.get_by_label("Role").select_option(role)
        invitations.get_by_role("button", name="Invite").click()
        mara.get_by_role("status").filter(
            has_text=f"a link was emailed to {address}"
        ).wait_for()
    expect(mara.locator("#invitations tbody tr")).to_have_count(3)
    shot(mara, "05-invite")
    people = {}
    for username in ("ana", "ben", "rita"):
        people[username] = browser_for()
        accept_invitation(
            people[username], f"{username}@example.org", username, project.name
        )
    ana, ben, rita = people["ana"], people["ben"], people["rita"]
    mara.reload()
    for username, role in (("ana", "coder"), ("ben", "coder"), ("rita", "reviewer")):
        expect(
            mara.get_by_label(f"Role of {username}").locator("option[selected]")
        ).to_have_attribute("value", role)

    # 6. The coders code every span with the keyboard.
    assert code_everything(ana, "ana", screenshot="07-coding") == 4
    assert code_everything(ben, "ben") == 4
    assert Annotation.objects.filter(assignment__project=project).count() == 8

    # 7. The manager redefines "health" (a new version: version 1 is in use),
    # then moves the project to it; the spans coded "health" go back.
    mara.get_by_role("link", name="Codebooks").first.click()
    mara.get_by_role("link", name="Edit").first.click()
    expect(mara.get_by_role("note")).to_contain_text("makes version 2")
    mara.locator("textarea[name=d0-c2-definition]").fill(
        "Hospitals, care, disease; not the budget of health care (economy)."
    )
    mara.get_by_role("button", name="Save", exact=True).click()
    expect(
        mara.get_by_text("Version 2 of Policy talk saved; version 1 stays as it was")
    ).to_be_visible()
    expect(mara.locator("main")).to_contain_text("redefined")
    mara.get_by_role("link", name="move it to a newer version").click()
    mara.get_by_label("Move to version").select_option("2")
    mara.get_by_role("button", name="Preview").click()
    again = mara.locator("#move-preview table")
    expect(again).to_be_visible()
    hospitals = project.corpus.documents.get(title="Winter report").spans.get(
        text="Hospitals lack nurses this winter."
    )
    expect(again.locator("tbody tr")).to_have_count(2)
    for coder in ("ana", "ben"):
        expect(again.locator("tr", has_text=coder).locator("td").first).to_have_text(
            str(hospitals.pk)
        )
        expect(again.locator("tr", has_text=coder)).to_contain_text("topic: health")
    shot(mara, "08-codebook-move")
    # A job, which the immediate backend runs in the request here (a worker
    # elsewhere): the answer is its page, polled until the move is done.
    mara.get_by_role("button", name="Move", exact=True).click()
    mara.wait_for_url(re.compile(r"/jobs/\d+/"))
    moved = mara.locator("#job-card")
    expect(moved.locator(".job-state")).to_have_text("done")
    expect(moved).to_contain_text("moves from version 1 to version 2")
    expect(moved).to_contain_text("to be coded again: ana 1, ben 1.")

    # The coders get the span back with the reason; the stance is filled in.
    for coder, page in (("ana", ana), ("ben", ben)):
        page.goto(f"/projects/{project.pk}/")
        page.get_by_role("link", name="Code", exact=True).first.click()
        page.wait_for_url(CODING_SCREEN)
        expect(page.locator("#span-card .notice")).to_contain_text("code it again")
        expect(page.locator("#target-span")).to_have_text(hospitals.text)
        expect(page.locator("input[name=stance][value=favour]")).to_be_checked()
        if coder == "ana":
            shot(page, "09-recode")
        press_and_submit(page, "3")
        expect(page.get_by_role("heading", name="All done")).to_be_visible()

    # 8. The reviewer settles the one disagreement: the army span's topic.
    rita.goto(f"/projects/{project.pk}/")
    rita.get_by_role("link", name="Adjudicate").click()
    rita.wait_for_url(re.compile(r"/adjudicate/$"))  # loaded, keyboard script too
    expect(rita.locator("#target-span")).to_have_text(
        "The army needs new bases in the north."
    )
    expect(rita.locator(".waiting-count")).to_have_text("1")
    coders = rita.locator("table.coders")
    expect(coders).to_contain_text("ana")
    expect(coders).to_contain_text("ben")
    shot(rita, "10-adjudicate")
    rita.keyboard.press("2")
    rita.keyboard.press("s")
    expect(rita.locator("input[name=topic][value=security]")).to_be_checked()
    rita.keyboard.press("Enter")
    rita.get_by_role("status").filter(has_text="Decided.").wait_for()
    expect(rita.locator(".waiting-count")).to_have_text("0")

    # 9. The manager downloads gold.csv from the project page.
    mara.goto(f"/projects/{project.pk}/")
    downloads = mara.locator("#downloads")
    downloads.get_by_label("Download", exact=True).select_option("gold")
    downloads.get_by_label("Format", exact=True).select_option("csv")
    downloads.scroll_into_view_if_needed()
    shot(mara, "11-downloads")
    with mara.expect_download() as download:
        downloads.get_by_role("button", name="Download", exact=True).click()
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))

    got = {}
    for row in rows:
        start = next(s for s in CODES if row["text"].startswith(s))
        got[start, row["dimension"]] = (
            row["categories"],
            row["method"],
            row["decided_by"],
        )
        assert sorted(json.loads(row["coder_usernames"]).values()) == ["ana", "ben"]
        assert row["codebook_version"] == "2"
    assert got == GOLD
    assert len(rows) == len(GOLD)
    assert set(User.objects.values_list("username", flat=True)) == set(PASSWORDS)
