"""A coder sees the machine coder's suggestion pre-selected and changes it by key."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from annotator.models import Annotation
from tests.annotator.suggestion_world import MACHINE, machine_codes, suggesting
from tests.browser.conftest import held_id, log_in, press_and_submit
from tests.factories import PASSWORD, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coder_sees_the_suggestion_and_changes_it_with_the_keys(page):
    project = suggesting(
        make_project(documents=1, spans_per_document=3, coders=["c1"], sample_share=0)
    )
    machine = machine_codes(project)
    log_in(page, "c1", PASSWORD)
    page.goto(reverse("project-code", args=[project.pk]))
    marker = page.get_by_text("Suggested by the machine coder: Trade, p = .87")
    marker.wait_for()
    assert page.locator("input[name=topic][value=trade]").is_checked()
    assert page.locator("input[name=tags][value=quote]").is_checked()
    # The marker describes its dimension's group for screen readers.
    topic = page.get_by_role("group", name="Topic")
    described = topic.get_attribute("aria-describedby")
    assert "p = .87" in page.locator(f"#{described}").inner_text()

    changed = int(held_id(page))
    press_and_submit(page, "1")  # arms instead of the suggested trade
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    marker.wait_for()  # the next span has its own suggestion
    kept = int(held_id(page))
    press_and_submit(page, "")  # Enter alone keeps the suggestion
    page.get_by_role("status").filter(has_text="Saved.").wait_for()

    coder = User.objects.get(username="c1")
    first = Annotation.objects.get(assignment_id=changed, assignment__coder=coder)
    assert first.label_keys()["topic"] == ["arms"]
    assert first.suggestion == {"machine_coder": machine.pk, "labels": MACHINE}
    assert first.suggestion_kept is False
    second = Annotation.objects.get(assignment_id=kept, assignment__coder=coder)
    assert second.label_keys() == MACHINE and second.suggestion_kept is True
