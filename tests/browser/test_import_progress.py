"""A corpus import in Chromium: the job page's progress bar appears, advances by
htmx polling and ends on a link to the corpus; a bad upload fails in words.

The advancing bar needs a real ``db_worker`` process (the one of
tests/annotator/test_worker.py) beside the live server, on PostgreSQL: only there
does a running job write its progress midway. Elsewhere the immediate backend runs
the import inside the upload's request, so the page opens on its finished state.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.template.defaultfilters import filesizeformat
from playwright.sync_api import Page, expect

from annotator.models import Job, JobState
from corpus.models import Corpus, Document
from tests.annotator.test_import_jobs import jsonl
from tests.annotator.test_worker import Workers, workers  # noqa: F401 (a fixture)
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCUMENTS = 40  # one progress step each: enough for several polls at PAUSE apiece
PAUSE = 0.3  # seconds the worker sleeps per step: settings.JOB_TEST_PAUSE_SECONDS
PERCENT = re.compile(r"(\d+) % \(")


def upload(page: Page, path: Path, corpus_name: str) -> None:
    page.goto("/corpora/import/")
    page.fill("input[name=new_corpus_name]", corpus_name)
    page.select_option("select[name=segmentation]", "line")
    page.set_input_files("input[name=files]", str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/"))


def job_state(page: Page) -> str:
    return page.locator("#job-card .job-state").inner_text()


def sample_the_bar(page: Page, timeout: float) -> list[tuple[str, int, int, int]]:
    """(state, value, max, percent shown) each time the polled card changes,
    until the job is no longer waiting or running."""
    seen: list[tuple[str, int, int, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = job_state(page)
        bar = page.get_by_role("progressbar", name="Progress")
        if bar.count() and bar.get_attribute("value") is not None:
            percent = PERCENT.search(page.locator("#job-card").inner_text())
            sample = (
                state,
                int(bar.get_attribute("value")),
                int(bar.get_attribute("max")),
                int(percent.group(1)) if percent else -1,
            )
            if not seen or seen[-1] != sample:
                seen.append(sample)
        if state not in {"queued", "running"}:
            return seen
        page.wait_for_timeout(150)
    pytest.fail(f"the job page still says {job_state(page)!r}; bar seen: {seen}")


@pytest.mark.postgres
def test_the_import_bar_advances_by_polling_then_links_the_corpus(
    page,
    manager,
    tmp_path,
    workers: Workers,  # noqa: F811
):
    source = tmp_path / "news.jsonl"
    source.write_text(jsonl(DOCUMENTS), encoding="utf-8")
    workers.start(pause=PAUSE)
    log_in(page, "manager", PASSWORD)
    upload(page, source, "Polled news")
    page.evaluate("window.notReloaded = true")  # gone if the page were reloaded

    seen = sample_the_bar(page, timeout=60 + DOCUMENTS * PAUSE)

    running = [s for s in seen if s[0] == "running"]
    assert len({value for _, value, _, _ in running}) >= 2, (seen, workers.logs())
    # Running may already show 100 %: the last step is written before the commit.
    assert all(0 <= value <= size for _, value, size, _ in running), seen
    assert any(0 < percent < 100 for _, _, _, percent in running), seen
    values = [value for _, value, _, _ in seen]
    percents = [percent for _, _, _, percent in seen]
    assert values == sorted(values) and percents == sorted(percents), seen
    assert seen[-1][0] == "done" and seen[-1][1] == seen[-1][2] == source.stat().st_size
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the card in place
    card = page.locator("#job-card")
    size = filesizeformat(source.stat().st_size)
    expect(card).to_contain_text(f"100 % ({size} of {size})")
    expect(card).to_contain_text(f"imported: {DOCUMENTS} documents")
    page.get_by_role("link", name="Polled news").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Polled news")
    assert Document.objects.filter(corpus__name="Polled news").count() == DOCUMENTS


def test_a_finished_import_shows_a_full_labelled_bar_and_the_corpus(
    page, manager, tmp_path
):
    source = tmp_path / "news.jsonl"
    source.write_text(jsonl(3), encoding="utf-8")
    log_in(page, "manager", PASSWORD)
    upload(page, source, "Quick news")  # the immediate backend: done in the request
    bar = page.get_by_role("progressbar", name="Progress")
    expect(bar).to_have_attribute("value", str(source.stat().st_size))
    expect(bar).to_have_attribute("max", str(source.stat().st_size))
    assert job_state(page) == "done"
    expect(page.locator("#job-card")).to_contain_text("100 %")
    page.get_by_role("link", name="Quick news").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quick news")


def test_a_bad_line_fails_the_import_in_words_and_imports_nothing(
    page, manager, tmp_path
):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl(5) + '{"title": "No text"}\n', encoding="utf-8")
    log_in(page, "manager", PASSWORD)
    upload(page, bad, "Never made")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "bad.jsonl, line 6, field 'text': missing or empty; every document needs "
        "its text. Nothing was imported."
    )
    assert job_state(page) == "failed"
    assert page.get_by_role("progressbar").count() == 0  # no bar for a failed job
    assert page.get_by_role("link", name="Never made").count() == 0
    assert not Corpus.objects.filter(name="Never made").exists()
    assert Job.objects.get().state == JobState.FAILED
