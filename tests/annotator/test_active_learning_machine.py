"""Coding the rest writes each coded span's uncertainty to its work item (the
least sure decision, as annotator.machine.uncertainty defines it) and clears it
from spans no longer coded; the PostgreSQL bulk write and its twin agree."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from annotator.machine import uncertainty
from annotator.models import MachineLabel, WorkItem
from annotator.services import machine_coders
from corpus.db import portable
from tests.annotator.machine_world import SMALL_MODELS, make_machine_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


@pytest.fixture
def trained():
    project, _ = make_machine_project()
    machine_coders.train(project)
    return project


def uncertainties(project) -> dict[int, float | None]:
    return dict(
        WorkItem.objects.filter(project=project).values_list("span_id", "uncertainty")
    )


def test_uncertainty_is_the_least_sure_decision():
    single = uncertainty.single_choice(np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]]))
    assert single.tolist() == pytest.approx([0.3, 0.6])
    multi = uncertainty.multi_choice(np.array([[0.9, 0.05], [0.9, 0.45], [0.0, 1.0]]))
    assert multi.tolist() == pytest.approx([0.1, 0.45, 0.0])
    assert uncertainty.single_choice(np.array([[np.nan, np.nan]])).tolist() == [1.0]
    assert uncertainty.multi_choice(np.zeros((2, 0))).tolist() == [0.0, 0.0]
    most = uncertainty.of_spans([single, np.array([0.5, 0.1])], 2)
    assert most.tolist() == pytest.approx([0.5, 0.6])


def test_coding_the_rest_writes_every_coded_span_s_uncertainty(trained):
    project = trained
    n = machine_coders.predict_rest(project, batch_size=7)  # several batches
    by_span = uncertainties(project)
    coded = set(
        MachineLabel.objects.filter(project=project).values_list("span_id", flat=True)
    )
    assert len(coded) == n > 7
    assert {s for s, u in by_span.items() if u is not None} == coded
    # Recomputed here from the stored models, span by span, in plain Python.
    coder = machine_coders.usable_coder(project)
    from annotator.machine import classifier

    models = {
        key: classifier.loads(blob)
        for key, blob in pickle.loads(bytes(coder.model)).items()  # noqa: S301
    }
    multiple = dict(project.codebook.dimensions.values_list("key", "multiple"))
    texts = dict(
        WorkItem.objects.filter(project=project, span_id__in=coded).values_list(
            "span_id", "span__text"
        )
    )
    for span, text in texts.items():
        unsure = []
        for key, model in models.items():
            row = [float(p) for p in model.predict_proba([text])[0]]
            if multiple[key]:
                unsure += [min(p, 1 - p) for p in row]
            else:
                unsure.append(1 - max(row))
        assert by_span[span] == pytest.approx(max(unsure), abs=1e-6)


def test_spans_no_longer_coded_lose_their_uncertainty(trained):
    project = trained
    human = set(
        WorkItem.objects.filter(project=project, taken__gt=0).values_list(
            "span_id", flat=True
        )
    )
    assert human
    WorkItem.objects.filter(project=project).update(uncertainty=0.99)  # all stale
    machine_coders.predict_rest(project)
    by_span = uncertainties(project)
    assert all(by_span[span] is None for span in human)
    assert all(
        u is not None and u != 0.99 for s, u in by_span.items() if s not in human
    )


@pytest.mark.postgres
def test_the_bulk_write_and_its_twin_leave_the_same_uncertainty(trained):
    project = trained
    machine_coders.predict_rest(project, batch_size=5)
    fast = uncertainties(project)
    WorkItem.objects.filter(project=project).update(uncertainty=None)
    with portable("uncertainty-values-join"):
        machine_coders.predict_rest(project, batch_size=5)
    assert uncertainties(project) == fast
    assert sum(u is not None for u in fast.values()) > 5
