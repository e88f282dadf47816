"""A reviewer trains the machine coder, reads its validation and has it code the
rest, in Chromium; a coder is refused the page (issue 18)."""

import re

import pytest
from django.urls import reverse

from annotator.models import MachineCoder, MachineLabel, Membership
from annotator.services import set_membership
from tests.annotator.machine_world import SMALL_MODELS, make_machine_project
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS  # training takes seconds


def test_a_reviewer_trains_reads_the_validation_and_codes_the_rest(page):
    project, _ = make_machine_project()
    reviewer = UserFactory(username="rita")
    set_membership(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    machine_page = reverse("project-machine", args=[project.pk])
    log_in(page, "rita", PASSWORD)
    page.goto(project.get_absolute_url())
    page.get_by_role("link", name="Machine coder").click()
    page.wait_for_url(f"**{machine_page}")
    page.get_by_text("This project has no machine coder yet.").wait_for()
    assert page.get_by_role("button", name="Code the rest").is_disabled()

    # The job runs within the request here (the tests' task backend); a reviewer,
    # who does not see jobs, comes back to this page.
    page.get_by_role("button", name="Train").click()
    page.get_by_role("heading", name=re.compile(r"^Machine coder \d+$")).wait_for()
    assert page.url.endswith(machine_page)
    coder = MachineCoder.objects.current_of(project)
    assert coder.created_by == reviewer
    # Per dimension, α vs gold with its 95% interval, as training stored them.
    for key, figures in coder.validation.items():
        alpha, (low, high) = figures["alpha_vs_gold"], figures["interval"]
        page.locator(f"#machine-{key}").get_by_text(
            f"α vs gold {alpha:.3f} 95% [{low:.3f}, {high:.3f}]"
        ).wait_for()
    topic = coder.validation["topic"]
    card = page.locator("#machine-topic")
    # Beside the coders: a row per coder and the verdict.
    card.get_by_role("heading", name=re.compile("^Beside the coders")).wait_for()
    for name in ("c1", "c2", "All coders"):
        assert card.get_by_role("rowheader", name=name).is_visible()
    verdict = topic["vs_coders"]["verdict_text"]
    assert card.get_by_text(verdict).is_visible()
    # The learning curve: its reading, its chart and its table.
    card.get_by_role("heading", name=re.compile("^Learning curve")).wait_for()
    assert card.get_by_text(topic["learning_curve"]["reading"]).is_visible()
    assert card.get_by_role("img", name=re.compile("^Learning curve of")).is_visible()
    assert page.get_by_text("none yet").is_visible()  # no machine codes yet

    page.get_by_role("button", name="Code the rest").click()
    shown = page.get_by_text("stored (spans × dimensions)")
    shown.wait_for()  # the job has finished: its codes can be counted
    stored = MachineLabel.objects.filter(project=project, machine_coder=coder).count()
    assert stored > 0 and shown.inner_text().startswith(f"{stored} stored")
    assert page.url.endswith(machine_page)


def test_a_coder_is_refused_the_machine_coder_page(page):
    project, _ = make_machine_project(coded=1)
    log_in(page, "c1", PASSWORD)
    page.goto(project.get_absolute_url())
    assert page.get_by_role("link", name="Machine coder").count() == 0
    answer = page.goto(reverse("project-machine", args=[project.pk]))
    assert answer.status == 403
    assert page.get_by_text("Coders code blind").is_visible()
