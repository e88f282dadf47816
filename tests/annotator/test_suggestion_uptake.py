"""The suggestions switch (a DesignChange each time) and how coders took suggestions
up: shown, kept, and right against independent gold (issue 18)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from annotator.models import (
    Annotation,
    DesignChange,
    GoldLabel,
    GoldLabelCategory,
    MachineCoder,
    Project,
)
from annotator.services import machine_options
from annotator.suggestion_uptake import uptake
from tests.annotator.suggestion_world import (
    HX,
    MACHINE,
    as_c1,
    code_url,
    current,
    machine_codes,
    post,
    signed,
    suggesting,
    user,
)
from tests.annotator.test_api_coding import api_for
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def options_url(project) -> str:
    return reverse("project-machine-options", args=[project.pk])


@pytest.fixture
def project(manager):
    return make_project(coders=["c1", "c2"], manager=manager, sample_share=0)


# --- the switch ---------------------------------------------------------------------


def test_the_switch_is_off_by_default_and_each_switch_is_a_design_change(
    project, manager
):
    assert Project.objects.get(pk=project.pk).machine_suggestions is False
    on = machine_options.change_machine_options(
        project, by=manager, machine_suggestions=True
    )
    off = machine_options.change_machine_options(
        project, by=manager, machine_suggestions=False
    )
    assert (on.before, on.after) == (
        {"machine_suggestions": False},
        {"machine_suggestions": True},
    )
    assert (off.before, off.after) == (
        {"machine_suggestions": True},
        {"machine_suggestions": False},
    )
    assert on.changed_by == manager
    # On without a machine coder: allowed, and the summary says when they come.
    assert "once a machine coder is trained" in on.summary
    assert "turned off" in off.summary
    assert DesignChange.objects.filter(project=project).count() == 2
    assert Project.objects.get(pk=project.pk).machine_suggestions is False


def test_the_switch_refuses_nothing_to_change_and_bad_values_in_words(project):
    with pytest.raises(ValidationError, match="Nothing to change"):
        machine_options.change_machine_options(project, machine_suggestions=False)
    with pytest.raises(ValidationError) as refused:
        machine_options.change_machine_options(project, machine_suggestions="yes")
    assert "on or off (true or false); got 'yes'" in str(refused.value)
    with pytest.raises(ValidationError, match="not a machine coder option"):
        machine_options.change_machine_options(project, colour=True)
    assert not DesignChange.objects.exists()


def test_suggestions_wait_for_a_coder_then_for_its_codes(project):
    assert "train one first" in machine_options.suggestions_waiting(project)
    coder = MachineCoder.objects.create(
        project=project, codebook=project.codebook, model=b""
    )
    assert "has not coded the rest" in machine_options.suggestions_waiting(project)
    coder.delete()
    machine_codes(project)
    assert machine_options.suggestions_waiting(project) == ""


def test_the_options_page_full_and_partial(manager_client, project):
    full = manager_client.get(options_url(project))
    assert full.status_code == 200 and "<html" in full.text
    assert 'name="machine_suggestions"' in full.text
    part = manager_client.get(options_url(project), headers=HX)
    assert "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="machine-options"')


def test_the_design_page_carries_the_switch(manager_client, project):
    page = manager_client.get(reverse("project-design", args=[project.pk])).text
    assert 'id="machine-options"' in page and 'name="machine_suggestions"' in page


def test_switching_on_with_htmx_answers_the_partial_with_the_wait(
    manager_client, project
):
    part = manager_client.post(
        options_url(project), {"machine_suggestions": "on"}, headers=HX
    )
    assert part.status_code == 200 and "<html" not in part.text
    assert "Machine suggestions on the coding screen turned on" in part.text
    assert "Suggestions are on." in part.text and "train one first" in part.text
    assert Project.objects.get(pk=project.pk).machine_suggestions is True
    # The same again: nothing to change, said beside the form.
    again = manager_client.post(
        options_url(project), {"machine_suggestions": "on"}, headers=HX
    )
    assert "Nothing to change" in again.text
    assert DesignChange.objects.count() == 1


def test_the_box_warns_when_checks_would_stand_out(manager_client, project):
    """No reliability sample: only checks would lack a suggestion."""
    suggesting(project)
    assert "mostly checks" not in manager_client.get(options_url(project)).text
    Project.objects.filter(pk=project.pk).update(check_rate=20)
    assert "mostly checks" in manager_client.get(options_url(project)).text
    Project.objects.filter(pk=project.pk).update(sample_share=0.2)
    assert "mostly checks" not in manager_client.get(options_url(project)).text


def test_switching_off_without_javascript_goes_back_to_the_design_page(
    manager_client, project
):
    suggesting(project)
    answer = manager_client.post(options_url(project), {})  # unchecked: off
    assert answer.status_code == 303
    assert answer["Location"] == reverse("project-design", args=[project.pk])
    assert Project.objects.get(pk=project.pk).machine_suggestions is False
    page = manager_client.get(answer["Location"]).text
    assert "Machine suggestions on the coding screen turned off" in page


def test_coders_and_reviewers_cannot_switch(client, project):
    as_c1(client)
    assert (
        client.post(options_url(project), {"machine_suggestions": "on"}).status_code
        == 403
    )
    assert Project.objects.get(pk=project.pk).machine_suggestions is False


# --- uptake ---------------------------------------------------------------------------


def code_with_suggestions(client, project, codes: list[dict]) -> list[Annotation]:
    """c1 codes one span per entry of `codes` on the coding screen, each shown
    the machine's suggestion."""
    c1 = as_c1(client)
    html = c1.get(code_url(project)).text
    annotations = []
    for labels in codes:
        assignment = current(project, user("c1"))
        html = post(c1, project, assignment, labels, signed(html), headers=HX).text
        annotations.append(Annotation.objects.get(assignment=assignment))
    return annotations


def gold(project, annotation, codes: dict, method="adjudicated") -> None:
    """Gold for the annotation's span: {dimension key: [category keys]}."""
    dimensions = {d.key: d for d in project.codebook.dimensions.all()}
    for key, keys in codes.items():
        dimension = dimensions[key]
        categories = {c.key: c for c in dimension.categories.all()}
        label = GoldLabel.objects.create(
            project=project, span_id=annotation.assignment.span_id,
            dimension=dimension,
            category=None if dimension.multiple else categories[keys[0]],
            method=method, decided_at=timezone.now(), updated_at=timezone.now(),
            decided_by=user("manager") if method == "adjudicated" else None,
            codebook=project.codebook,
        )  # fmt: skip
        if dimension.multiple:
            for k in keys:
                GoldLabelCategory.objects.create(
                    gold_label=label, category=categories[k]
                )


KEPT = {"topic": "trade", "stance": "neutral", "tags": "quote"}
CHANGED = {"topic": "arms", "stance": "neutral", "tags": "quote"}


def test_uptake_counts_shown_and_kept_per_coder_and_scores_them_on_gold(
    client, project
):
    suggesting(project)
    machine_codes(project)
    kept1, kept2, changed1, changed2 = code_with_suggestions(
        client, project, [KEPT, KEPT, CHANGED, CHANGED]
    )
    # Gold decided apart from the coder: the first kept one and the first
    # changed one are right, the others wrong; "single" gold is the coder's own
    # code and is left out.
    gold(project, kept1, MACHINE)
    gold(project, kept2, {"topic": ["other"], "tags": ["quote"]})
    gold(project, changed1, {"topic": ["arms"], "stance": ["neutral"]})
    gold(project, changed2, {"topic": ["trade"]}, method="unanimous")
    unscored = code_with_suggestions(client, project, [KEPT])[0]
    gold(project, unscored, {"topic": ["trade"]}, method="single")
    figures = uptake(project)
    assert figures["on"] is True
    assert (figures["shown"], figures["kept"], figures["kept_share"]) == (5, 3, 0.6)
    assert figures["by_coder"] == [
        {"coder": "c1", "shown": 5, "kept": 3, "kept_share": 0.6}
    ]
    assert figures["gold"]["kept"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert figures["gold"]["changed"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert "single" not in figures["gold_methods"]


def test_uptake_of_a_project_without_suggestions(project):
    figures = uptake(project)
    assert (figures["on"], figures["shown"], figures["kept_share"]) == (False, 0, None)
    assert figures["by_coder"] == [] and figures["gold"] is None


def test_the_api_reports_uptake_to_reviewers(client, project, manager):
    suggesting(project)
    machine_codes(project)
    code_with_suggestions(client, project, [KEPT, CHANGED])
    answer = api_for(manager).get(reverse("api-project-machine", args=[project.pk]))
    assert answer.status_code == 200, answer.content
    suggestions = answer.json()["suggestions"]
    assert (suggestions["shown"], suggestions["kept"]) == (2, 1)
    assert suggestions["by_coder"][0]["coder"] == "c1"


def test_the_uptake_partial_renders_the_dict(client, project):
    suggesting(project)
    machine_codes(project)
    kept, changed = code_with_suggestions(client, project, [KEPT, CHANGED])
    gold(project, kept, MACHINE)
    html = render_to_string(
        "annotator/_suggestion_uptake.html", {"suggestions": uptake(project)}
    )
    assert "Suggestions are <strong>on</strong>" in html
    assert "2 annotations were shown a suggestion; 1 kept it (50%)" in html
    assert '<th scope="row">c1</th>' in html
    assert "kept suggestions right in 100% of 1" in html
    assert "changed ones —none with gold" in html
    empty = render_to_string(
        "annotator/_suggestion_uptake.html", {"suggestions": uptake(make_project())}
    )
    assert "No annotation has been shown a suggestion yet." in empty
