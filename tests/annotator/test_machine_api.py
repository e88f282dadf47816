"""The machine coder API: reviewers and managers read it, train and code the rest
(as jobs), coders are refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import (
    Job,
    JobKind,
    JobState,
    MachineCoder,
    MachineLabel,
    Membership,
)
from annotator.services import set_membership
from tests.annotator.machine_world import (
    SMALL_MODELS,
    make_machine_project,
    with_readers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


@pytest.fixture
def world(manager):
    return with_readers(manager)


def as_user(client, user):
    client.force_login(user)
    return client


def test_coders_are_refused_everything(client, world):
    project, users = world
    as_user(client, users["coder"])
    url = reverse("api-project-machine", args=[project.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    predict = reverse("api-project-machine-predict", args=[project.pk])
    assert client.post(predict).status_code == 403
    assert not Job.objects.filter(project=project).exclude(kind="gold_refresh")


def test_reviewers_read_train_and_code_the_rest(client, world):
    project, users = world
    as_user(client, users["reviewer"])
    url = reverse("api-project-machine", args=[project.pk])
    body = client.get(url).json()
    assert body["coder"] is None and body["training"] is None
    answer = client.post(url)
    assert answer.status_code == 202
    assert answer.json()["job"]["id"] is None  # job ids are the managers'
    coder = MachineCoder.objects.get()
    assert coder.created_by == users["reviewer"]
    predict = client.post(reverse("api-project-machine-predict", args=[project.pk]))
    assert predict.status_code == 202 and predict.json()["job"]["state"] == "done"
    assert MachineLabel.objects.filter(machine_coder=coder).exists()


def test_managers_train_and_code_the_rest_through_jobs(client, world):
    project, users = world
    as_user(client, users["manager"])
    url = reverse("api-project-machine", args=[project.pk])
    answer = client.post(url)
    assert answer.status_code == 202
    job = Job.objects.get(pk=answer.json()["job"]["id"])
    assert job.kind == JobKind.MACHINE_TRAIN and job.state == JobState.DONE
    coder = MachineCoder.objects.get()
    assert job.result == {"machine_coder": coder.pk}
    predict = client.post(reverse("api-project-machine-predict", args=[project.pk]))
    assert predict.status_code == 202
    assert MachineLabel.objects.filter(machine_coder=coder).exists()
    as_user(client, users["reviewer"])
    body = client.get(url).json()
    assert body["coder"]["id"] == coder.pk
    assert set(body["coder"]["summary"]) == {"topic", "stance", "tags"}
    assert body["coder"]["provenance"]["gold"]["n_spans"] == coder.n_train
    assert body["n_machine_labels"] == MachineLabel.objects.count()
    assert body["training"]["state"] == "done"
    assert body["training"]["id"] is None  # job ids are the managers'
    # The model beside the coders and its learning curve, per dimension; the
    # compared coders' ids resolve to the names the agreement dashboard shows.
    for figures in body["coder"]["validation"].values():
        assert {"vs_coders", "learning_curve"} <= set(figures)
        assert figures["vs_coders"]["verdict_text"]
        assert figures["learning_curve"]["points"][-1]["n_gold"] == figures["n_train"]
    compared = body["coder"]["validation"]["topic"]["vs_coders"]["by_coder"]
    assert {body["coder"]["coder_names"][user] for user in compared} == {"c1", "c2"}


def test_predict_before_training_says_so(client, world):
    project, users = world
    as_user(client, users["manager"])
    answer = client.post(reverse("api-project-machine-predict", args=[project.pk]))
    assert answer.status_code == 409
    assert "train one first" in answer.json()["detail"]


def test_a_failed_training_says_why_in_the_job(client, manager):
    project, _ = make_machine_project(coded=0)
    set_membership(project=project, user=manager, role=Membership.Role.MANAGER)
    as_user(client, manager)
    answer = client.post(reverse("api-project-machine", args=[project.pk]))
    assert answer.status_code == 202
    job = Job.objects.get(kind=JobKind.MACHINE_TRAIN)
    assert job.state == JobState.FAILED
    assert "no gold labels" in job.error and "Nothing was stored" in job.error
