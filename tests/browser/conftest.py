"""Playwright driving Debian's Chromium (Playwright cannot download a browser here)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise
# refuse the test's own database calls as "async-unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def demo():
    """The demo project (coder1, coder2, reviewer; the default codebook)."""
    from annotator.demo import load_demo_project

    project, _ = load_demo_project()
    return project


def held_id(page, field: str = "assignment") -> str:
    """What the card's form holds: the coder's assignment, or a reviewer's span."""
    return page.locator(f"#code-form input[name={field}]").get_attribute("value")


def wait_for_next_card(page, before: str, field: str = "assignment") -> None:
    """Wait until htmx has swapped in a card holding something else (or none)."""
    page.wait_for_function(
        """([field, before]) => {
            const held = document.querySelector(`#code-form input[name=${field}]`);
            return held === null || held.value !== before;
        }""",
        arg=[field, before],
    )


def press_and_submit(page, keys: str) -> None:
    """Press the keys, then Enter; wait until htmx has swapped in the next span."""
    before = held_id(page)
    for key in keys.split():
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    wait_for_next_card(page, before)


@pytest.fixture
def coded_project():
    """Three coders (c1-c3) have coded every span of a half-sampled project."""
    from tests.factories import make_coded_project

    return make_coded_project(documents=2)
