"""The stored validation beside the humans: the model is compared with each coder
on the reliability sample using out-of-fold codes only, the coders' own alpha is
the agreement engine's, and the learning curve grows by gold spans."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from annotator.agreement_report import project_report
from annotator.gold import refresh_gold
from annotator.machine import classifier
from annotator.models import GoldLabel, Job, JobKind, Membership, WorkItem
from annotator.services import (
    claim_next_span,
    create_project,
    machine_coders,
    set_membership,
    submit_annotation,
)
from annotator.services.machine_gold import training_sets
from tests.annotator.machine_world import SMALL_MODELS, TOPIC_WORDS, codes_of, text_of
from tests.factories import CorpusFactory, DocumentFactory, UserFactory, make_codebook

pytestmark = pytest.mark.django_db

TOPICS = list(TOPIC_WORDS)


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


def _other_topic(codes: dict) -> dict:
    return {**codes, "topic": TOPICS[(TOPICS.index(codes["topic"]) + 1) % 3]}


def make_compared_project(
    *, documents: int = 12, spans: int = 4, sample_share: float = 0.5
):
    """Half the spans in the reliability sample, coded by c1 and c2 (c2 gives
    another topic on every third, which then has no topic gold); the rest coded
    by c1 alone. Texts carry their codes."""
    corpus = CorpusFactory()
    codes_by_text = {}
    for d in range(documents):
        paragraphs = []
        for i in range(spans):
            codes = codes_of(d, i)
            text = text_of(codes, d, i)
            codes_by_text[text] = codes
            paragraphs.append(text)
        DocumentFactory(corpus=corpus, text="\n\n".join(paragraphs))
    project = create_project(
        name="Compared",
        corpus=corpus,
        codebook=make_codebook(),
        sample_share=sample_share,
    )
    coders = {}
    for name in ("c1", "c2"):
        coders[name] = UserFactory(username=name)
        set_membership(project=project, user=coders[name], role=Membership.Role.CODER)
    for name in ("c1", "c2"):
        for n in range(documents * spans):
            assignment = claim_next_span(project=project, coder=coders[name])
            if assignment is None:
                break
            codes = codes_by_text[assignment.span.text]
            if name == "c2" and n % 3 == 0:
                codes = _other_topic(codes)
            submit_annotation(coder=coders[name], assignment=assignment, labels=codes)
    refresh_gold(project)
    return project


@pytest.fixture
def compared():
    return make_compared_project()


def sample_spans(project) -> set[int]:
    return set(
        WorkItem.objects.filter(project=project, in_sample=True).values_list(
            "span_id", flat=True
        )
    )


def test_coders_alpha_is_the_agreement_engines(compared):
    project = compared
    coder = machine_coders.train(project)
    report = project_report(project, n_resamples=10)
    for d in report.dimensions:
        mine = coder.validation[d.key]["vs_coders"]
        engine = d.coefficients["krippendorff_alpha"].value
        # Outside the sample each span has one coder: the engine's pairable
        # spans are the sample's, the ones the comparison uses.
        assert mine["n_units"] == len(sample_spans(project)) > 0
        assert mine["human_human"]["alpha"] == pytest.approx(engine)
    topic = coder.validation["topic"]["vs_coders"]
    assert topic["human_human"]["alpha"] < 1  # c2 disagrees: a real comparison
    users = project.memberships.filter(role="coder").values_list("user", flat=True)
    assert set(topic["by_coder"]) == {str(pk) for pk in users}
    for row in topic["by_coder"].values():
        # Two coders: each one's spans are all the shared ones.
        assert row["n_units"] == topic["n_units"]
        assert row["human_human"]["alpha"] == pytest.approx(engine_topic(project))
    assert topic["verdict"] in {"as_well", "less_well", "better", "undetermined"}
    assert topic["verdict_text"]


def engine_topic(project) -> float:
    report = project_report(project, n_resamples=10)
    (topic,) = [d for d in report.dimensions if d.key == "topic"]
    return topic.coefficients["krippendorff_alpha"].value


class Memoriser:
    """Knows the labels of the texts it was fit on, nothing else: every other
    text gets its first class. Credited in a comparison only through leakage."""

    name = "memoriser"

    def __init__(self, **params):
        self.classes: list[str] = []
        self.seen: dict[str, str] = {}

    def fit(self, texts, labels):
        self.seen = dict(zip(texts, labels, strict=True))
        self.classes = sorted(set(labels))

    def predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes)))
        for row, text in enumerate(texts):
            known = self.seen.get(text)
            proba[row, self.classes.index(known) if known else 0] = 1.0
        return proba

    def params(self):
        return {}


def test_the_comparison_uses_out_of_fold_codes_only(compared, monkeypatch):
    project = compared
    monkeypatch.setitem(classifier.REGISTRY, Memoriser.name, Memoriser)
    coder = machine_coders.train(project, name=Memoriser.name)
    topic = training_sets(project)["topic"]
    final = classifier.loads(pickle.loads(bytes(coder.model))["topic"])  # noqa: S301
    proba = final.predict_proba(topic.texts)
    # The memoriser knows every gold span it was fit on: a comparison that used
    # a model fit on a compared span would find it agreeing with the coders.
    assert [final.classes[i] for i in proba.argmax(axis=1)] == topic.labels
    compared_ = coder.validation["topic"]["vs_coders"]
    assert compared_["model_vs_humans"]["alpha"] < 0.2
    assert coder.validation["topic"]["alpha_vs_gold"] < 0.2
    # Spans of the sample without topic gold (c2 disagreed) are compared too,
    # coded by a fold model that never saw their document.
    no_gold = sample_spans(project) - set(
        GoldLabel.objects.filter(project=project, dimension__key="topic").values_list(
            "span_id", flat=True
        )
    )
    assert compared_["n_out_of_gold"] == len(no_gold) > 0


def test_the_learning_curve_grows_by_gold_spans(compared):
    coder = machine_coders.train(compared)
    for key, figures in coder.validation.items():
        curve = figures["learning_curve"]
        points = curve["points"]
        # Thirds of the gold and all of it (a third may be dropped when it has
        # a single category or document); the last point is the validation's.
        assert 2 <= len(points) <= 3, key
        n = [p["n_gold"] for p in points]
        assert n == sorted(set(n)) and n[-1] == figures["n_train"]
        assert points[-1]["alpha"] == figures["alpha_vs_gold"]
        assert [p["n_trained"] for p in points] == sorted(
            p["n_trained"] for p in points
        )
        assert curve["trend"] in {"rising", "flat", "falling", "undetermined"}
        assert curve["reading"]


def test_training_progress_counts_its_steps(compared):
    seen = []
    machine_coders.train(compared, progress=lambda d, t, w: seen.append((d, t, w)))
    total = machine_coders.STEPS * 3
    assert [d for d, _, _ in seen] == list(range(total + 1))
    assert {t for _, t, _ in seen} == {total}
    assert any("learning curve" in w for _, _, w in seen)


def test_a_training_job_counts_steps(compared, manager):
    project = compared
    machine_coders.request_training(project, by=manager)
    job = Job.objects.get(project=project, kind=JobKind.MACHINE_TRAIN)
    assert job.state == "done"
    assert job.done_units == job.total_units == machine_coders.STEPS * 3


def test_without_a_reliability_sample_there_is_nothing_to_compare():
    project = make_compared_project(sample_share=0.0)
    coder = machine_coders.train(project)
    for figures in coder.validation.values():
        compared = figures["vs_coders"]
        assert compared["n_units"] == 0 and compared["by_coder"] == {}
        assert compared["verdict"] == "undetermined"
