"""The demo's machine coder: `load_demo --machine-coder` (what `dev.py demo` runs)
queues its training once, and on the simulated project's gold the validation
figures come out as the model page and the API show them."""

from __future__ import annotations

import math

import pytest
from django.core.management import call_command

from annotator.demo import SIMULATED_PROJECT
from annotator.models import Job, JobKind, JobState, MachineCoder, Project
from tests.annotator.machine_world import SMALL_MODELS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


def test_load_demo_trains_the_simulated_projects_machine_coder_once(capsys):
    call_command("load_demo", machine_coder=True)  # the test backend runs jobs inline
    out = capsys.readouterr().out
    project = Project.objects.get(name=SIMULATED_PROJECT)
    assert f"/projects/{project.pk}/machine/" in out and "training as job" in out
    job = Job.objects.get(project=project, kind=JobKind.MACHINE_TRAIN)
    assert job.state == JobState.DONE
    coder = MachineCoder.objects.current_of(project)
    assert coder is not None and coder.codebook_id == project.codebook_id
    assert set(coder.validation) == {"topic", "stance"}
    for key, figures in coder.validation.items():
        alpha = figures["alpha_vs_gold"]
        assert math.isfinite(alpha) and -1 <= alpha <= 1, key
        low, high = figures["interval"]
        assert low <= alpha <= high, key
        assert 0 <= figures["f1_macro"] <= 1, key
        assert 30 < figures["n_train"] <= coder.n_train, key  # gold per dimension
        # Beside the simulated coders on the reliability sample, and the curve.
        compared = figures["vs_coders"]
        assert compared["n_units"] > 0 and len(compared["by_coder"]) >= 2, key
        assert compared["verdict"] != "undetermined", key
        assert figures["learning_curve"]["points"][-1]["alpha"] == alpha, key
    # Loaded again: trained already, nothing queued.
    call_command("load_demo", machine_coder=True)
    assert "already trained" in capsys.readouterr().out
    assert Job.objects.filter(kind=JobKind.MACHINE_TRAIN).count() == 1


def test_load_demo_without_the_option_trains_nothing():
    call_command("load_demo")
    assert not Job.objects.filter(kind=JobKind.MACHINE_TRAIN).exists()
    assert not MachineCoder.objects.exists()
