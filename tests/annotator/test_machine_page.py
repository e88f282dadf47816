"""The machine coder page: reviewers and managers read the validation, train and
code the rest through jobs, coders are refused; the main card is an htmx partial;
how coders took up suggestions shows once suggestions are on or were shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Job, JobKind, JobState, MachineCoder
from annotator.services import machine_coders
from tests.annotator.machine_world import (
    SMALL_MODELS,
    with_readers,
)
from tests.annotator.suggestion_world import machine_codes, suggesting
from tests.annotator.test_suggestion_uptake import (
    CHANGED,
    KEPT,
    code_with_suggestions,
)
from tests.factories import make_codebook, make_project

pytestmark = pytest.mark.django_db

NO_CODER = "no machine coder yet"
UPTAKE = "Suggestions on the coding screen"


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


@pytest.fixture
def world(manager):
    return with_readers(manager)


@pytest.fixture
def trained(world):
    project, users = world
    machine_coders.train(project, by=users["manager"])
    return project, users


def page(project) -> str:
    return reverse("project-machine", args=[project.pk])


def as_user(client, user):
    client.force_login(user)
    return client


def test_coders_are_refused(client, world):
    project, users = world
    as_user(client, users["coder"])
    assert client.get(page(project)).status_code == 403
    for name in ("project-machine-train", "project-machine-predict"):
        assert client.post(reverse(name, args=[project.pk])).status_code == 403
    assert not Job.objects.filter(project=project).exists()
    detail = client.get(project.get_absolute_url()).content.decode()
    assert page(project) not in detail


def test_without_a_coder_the_page_says_so(client, world):
    project, users = world
    answer = as_user(client, users["reviewer"]).get(page(project))
    text = answer.content.decode()
    assert answer.status_code == 200 and NO_CODER in text
    assert "Train one on the gold below" in text
    assert reverse("project-machine-train", args=[project.pk]) in text
    assert UPTAKE not in text  # suggestions off, none shown
    # The project page links here for reviewers.
    assert page(project) in client.get(project.get_absolute_url()).content.decode()


def test_a_manager_is_offered_train_and_not_yet_code_the_rest(client, world):
    project, users = world
    text = as_user(client, users["manager"]).get(page(project)).content.decode()
    assert NO_CODER in text and "csrfmiddlewaretoken" in text
    assert reverse("project-machine-train", args=[project.pk]) in text
    assert 'disabled title="Train a machine coder first"' in text
    answer = client.post(reverse("project-machine-predict", args=[project.pk]))
    assert answer.status_code == 409
    assert "no trained machine coder" in answer.content.decode()
    assert not Job.objects.filter(project=project).exists()


def test_the_page_shows_the_validation(client, trained):
    project, users = trained
    coder = MachineCoder.objects.current_of(project)
    answer = as_user(client, users["reviewer"]).get(page(project))
    text = answer.content.decode()
    assert answer.status_code == 200 and NO_CODER not in text
    assert f"Machine coder {coder.pk}" in text
    assert f"{coder.provenance['gold']['n_spans']} spans" in text
    assert "tfidf_linear" in text and "sklearn" in text
    topic = coder.validation["topic"]
    assert f"{topic['alpha_vs_gold']:.3f}" in text
    # Beside the coders: named as the agreement dashboard names them.
    assert "c1" in text and "c2" in text
    assert topic["vs_coders"]["verdict_text"].split(":")[0] in text
    assert topic["learning_curve"]["reading"].split(":")[0] in text
    assert '<svg class="trend"' in text and "Gold spans learned from" in text
    assert "Confusion of" in text  # single-choice dimensions
    assert "no single confusion matrix" in text  # the multi-choice one
    # A reviewer reads and gets the buttons too (annotator.access_machine).
    assert reverse("project-machine-train", args=[project.pk]) in text
    assert reverse("project-machine-predict", args=[project.pk]) in text


def test_the_card_is_a_partial_for_htmx(client, trained):
    project, users = trained
    as_user(client, users["manager"])
    full = client.get(page(project)).content.decode()
    part = client.get(page(project), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and "<html" not in part
    assert part.lstrip().startswith('<div id="machine-card"')
    assert 'id="machine-card"' in full
    assert "Code the rest" in part and "hx-trigger" not in part  # nothing running


def test_query_counts_are_pinned(client, trained, django_assert_num_queries):
    project, users = trained
    as_user(client, users["manager"])
    # The card: session, user, project, coder, coder names, dimensions, machine
    # codes, the two jobs; the page around it adds the menu's two permission reads
    # and the suggestions shown per coder (none: the uptake section reads no more).
    with django_assert_num_queries(12):
        assert client.get(page(project)).status_code == 200
    with django_assert_num_queries(9):
        client.get(page(project), HTTP_HX_REQUEST="true")


def test_train_goes_to_its_job_and_a_running_one_is_reused(client, world):
    project, users = world
    as_user(client, users["manager"])
    answer = client.post(reverse("project-machine-train", args=[project.pk]))
    job = Job.objects.get(project=project, kind=JobKind.MACHINE_TRAIN)
    assert answer.status_code == 303
    assert answer["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.DONE  # the tests' tasks run at once
    waiting = Job.objects.create(
        project=project, kind=JobKind.MACHINE_TRAIN, state=JobState.QUEUED
    )
    answer = client.post(reverse("project-machine-train", args=[project.pk]))
    assert answer["Location"] == reverse("job-detail", args=[waiting.pk])
    assert Job.objects.filter(project=project).count() == 2
    text = client.get(page(project)).content.decode()
    assert "A training is waiting for a worker" in text
    assert 'hx-trigger="every 2s"' in text  # the card polls while it waits
    assert "A training is already waiting or running" in text  # Train disabled


def test_code_the_rest_goes_to_its_job(client, trained):
    project, users = trained
    as_user(client, users["manager"])
    answer = client.post(
        reverse("project-machine-predict", args=[project.pk]), HTTP_HX_REQUEST="true"
    )
    job = Job.objects.get(project=project, kind=JobKind.MACHINE_PREDICT)
    assert answer["HX-Redirect"] == reverse("job-detail", args=[job.pk])
    text = client.get(page(project)).content.decode()
    assert "stored (spans × dimensions)" in text


def test_a_coder_of_an_older_codebook_version_is_said_so(client, trained):
    project, users = trained
    older = make_codebook(name="Older codebook", family="older-codebook")
    assert older.pk != project.codebook_id
    MachineCoder.objects.filter(project=project).update(codebook=older)
    text = as_user(client, users["manager"]).get(page(project)).content.decode()
    assert "trained on an older codebook version" in text
    assert "Train it again on the project's codebook version first" in text
    answer = client.post(reverse("project-machine-predict", args=[project.pk]))
    assert answer.status_code == 409
    assert "another codebook version" in answer.content.decode()


def test_a_reviewer_trains_and_codes_the_rest_and_follows_them_here(client, world):
    project, users = world
    as_user(client, users["reviewer"])
    answer = client.post(reverse("project-machine-train", args=[project.pk]))
    job = Job.objects.get(project=project, kind=JobKind.MACHINE_TRAIN)
    # Jobs' pages are the managers': the reviewer comes back to this page.
    assert answer.status_code == 303 and answer["Location"] == page(project)
    assert job.state == JobState.DONE and job.requested_by == users["reviewer"]
    answer = client.post(
        reverse("project-machine-predict", args=[project.pk]), HTTP_HX_REQUEST="true"
    )
    assert answer["HX-Redirect"] == page(project)
    coding = Job.objects.get(project=project, kind=JobKind.MACHINE_PREDICT)
    assert coding.state == JobState.DONE
    text = client.get(page(project)).content.decode()
    assert "stored (spans × dimensions)" in text and "this page follows them" in text


def test_the_page_shows_suggestion_uptake_once_suggestions_are_on(client, world):
    project, users = world
    suggesting(project)
    text = as_user(client, users["reviewer"]).get(page(project)).content.decode()
    assert UPTAKE in text and "Suggestions are <strong>on</strong>" in text
    assert "No annotation has been shown a suggestion yet." in text
    card = client.get(page(project), HTTP_HX_REQUEST="true").content.decode()
    assert UPTAKE not in card  # the polled card leaves it alone


def test_suggestions_shown_stay_on_the_page_when_switched_off(
    client, manager, django_assert_num_queries
):
    project = make_project(coders=["c1", "c2"], manager=manager, sample_share=0)
    suggesting(project)
    machine_codes(project)
    code_with_suggestions(client, project, [KEPT, CHANGED])
    suggesting(project, on=False)
    as_user(client, manager)
    # The page as pinned above less the coder names (this coder validated
    # nothing): 11; suggestions were shown, so the uptake also scores them on
    # gold: the spans' gold, its categories, the shown annotations: 11 + 3 = 14.
    with django_assert_num_queries(14):
        text = client.get(page(project)).content.decode()
    assert UPTAKE in text and "Suggestions are <strong>off</strong>" in text
    assert "2 annotations were shown a suggestion; 1 kept it (50%)" in text
