"""Validated like a coder: grouped folds, no leakage, alpha vs gold, curves, coders."""

from __future__ import annotations

from collections import Counter
from functools import partial

import numpy as np
import pytest

from annotator.machine import synthetic
from annotator.machine.classifier import MultiLabel, TfidfLinear
from annotator.machine.validation import (
    coder_comparison,
    folds,
    learning_curve,
    out_of_fold,
    validate,
)

SMALL = {"word_features": 2**14, "char_features": 2**15}
make = partial(TfidfLinear, **SMALL)


@pytest.fixture(scope="module")
def signal():
    data = synthetic.corpus(800, signal=0.2, seed=21)
    return data, out_of_fold(make, data.texts, data.labels, data.groups, k=4, seed=1)


def test_folds_never_split_a_document_and_come_out_near_equal():
    groups = [f"d{i // 7}" for i in range(300)] + [f"big{i // 40}" for i in range(80)]
    fold = folds(len(groups), groups, k=5, seed=3)
    by_group: dict[str, set[int]] = {}
    for g, f in zip(groups, fold, strict=True):
        by_group.setdefault(g, set()).add(int(f))
    assert all(len(f) == 1 for f in by_group.values())
    sizes = np.bincount(fold)
    assert len(sizes) == 5 and sizes.max() - sizes.min() <= 40
    assert np.array_equal(folds(len(groups), groups, k=5, seed=3), fold)


def test_folds_need_two_documents():
    assert sorted(set(folds(4, ["a", "a", "b", "b"], k=5))) == [0, 1]
    with pytest.raises(ValueError, match="at least 2 documents"):
        folds(3, ["a", "a", "a"])
    with pytest.raises(ValueError, match="groups has 2 entries for 3 items"):
        folds(3, ["a", "b"])


class Recorder:
    """A stand-in model that remembers what it was fit on and asked about."""

    made: list[Recorder] = []

    def __init__(self):
        self.classes: list[str] = []
        self.seen: list[str] = []
        self.asked: list[str] = []
        Recorder.made.append(self)

    def fit(self, texts, labels):
        self.seen, self.classes = list(texts), sorted(set(labels))

    def predict_proba(self, texts):
        self.asked.extend(texts)
        return np.full((len(texts), len(self.classes)), 1 / len(self.classes))

    def params(self):
        return {"model": "recorder"}


def test_no_item_is_predicted_by_a_model_that_saw_its_document():
    data = synthetic.corpus(230, seed=4)
    texts = [f"{i} {t}" for i, t in enumerate(data.texts)]  # each text unique
    group_of = dict(zip(texts, data.groups, strict=True))
    Recorder.made = []
    oof = out_of_fold(Recorder, texts, data.labels, data.groups, k=5, seed=2)
    assert np.array_equal(oof.fold, folds(230, data.groups, k=5, seed=2))
    assert len(Recorder.made) == 5
    asked = Counter(t for model in Recorder.made for t in model.asked)
    assert asked == Counter(texts)  # every item predicted exactly once
    for model in Recorder.made:
        trained_on = {group_of[t] for t in model.seen}
        assert not trained_on & {group_of[t] for t in model.asked}
        fold_ids = {int(oof.fold[texts.index(t)]) for t in model.asked}
        assert len(fold_ids) == 1


def test_unseen_items_are_predicted_by_a_model_that_never_saw_their_group():
    data = synthetic.corpus(120, seed=5)
    texts = [f"{i} {t}" for i, t in enumerate(data.texts)]
    group_of = dict(zip(texts, data.groups, strict=True))
    # Unlabelled items of labelled documents, and of a document no item has.
    unseen = [(f"extra {g}", g) for g in sorted(set(data.groups))[:4]]
    unseen += [("extra new-a", "new-document"), ("extra new-b", "new-document")]
    group_of.update({text: g for text, g in unseen})
    Recorder.made = []
    oof = out_of_fold(
        Recorder, texts, data.labels, data.groups, k=4, seed=2, unseen=unseen
    )
    assert len(oof.unseen_predicted) == len(unseen)
    asked = Counter(t for model in Recorder.made for t in model.asked)
    assert all(asked[text] == 1 for text, _ in unseen)  # each predicted once
    for model in Recorder.made:
        trained_on = {group_of[t] for t in model.seen}
        assert not trained_on & {group_of[t] for t in model.asked}


def test_a_model_of_signal_texts_agrees_with_the_gold(signal):
    data, oof = signal
    assert oof.proba.shape == (800, len(data.topics)) and oof.classes == data.topics
    report = validate(
        data.labels, oof.predicted, data.topics, "nominal", n_resamples=200
    )
    assert report["alpha_vs_gold"] > 0.6
    low, high = report["interval"]
    assert low < report["alpha_vs_gold"] < high
    assert report["interval_method"]
    assert set(report["per_category"]) == set(data.topics)
    assert {"precision", "recall", "f1", "support"} <= set(
        report["per_category"]["topic_0"]
    )
    assert 0.6 < report["f1_macro"] <= 1
    matrix = np.array(report["confusion"]["matrix"])
    assert report["confusion"]["categories"] == data.topics
    assert matrix.sum() == 800 and np.trace(matrix) > 0.6 * 800
    gold = Counter(data.labels)
    assert [int(r) for r in matrix.sum(axis=1)] == [gold[t] for t in data.topics]


def test_a_model_of_noise_texts_is_never_credited():
    """Texts that say nothing of their label: alpha at or below 0, never above.

    Not exactly 0: with nothing to learn, the argmax drifts to the commonest
    training class, and alpha counts the model's lopsided marginals as
    disagreement (Krippendorff's alpha pools both coders' marginals), so it
    lands somewhat below 0; what matters is that no interval reaches a
    reliability anyone would accept."""
    data = synthetic.corpus(800, signal=0.0, document_topic=0.0, seed=22)
    oof = out_of_fold(make, data.texts, data.labels, data.groups, k=4, seed=1)
    report = validate(
        data.labels, oof.predicted, data.topics, "nominal", n_resamples=200
    )
    low, high = report["interval"]
    assert -0.3 < report["alpha_vs_gold"] < 0.05
    assert low < report["alpha_vs_gold"] < high < 0.05


def test_multi_choice_is_validated_at_the_set_level():
    data = synthetic.multi_label_corpus(500, seed=23)
    oof = out_of_fold(
        partial(MultiLabel, **SMALL), data.texts, data.labels, data.groups, k=3
    )
    assert all(isinstance(p, frozenset) for p in oof.predicted)
    report = validate(data.labels, oof.predicted, data.topics, "set", n_resamples=100)
    assert report["alpha_vs_gold"] > 0.5
    assert report["confusion"] is None
    assert set(report["per_category"]) == set(data.topics)


def test_validation_names_bad_input():
    with pytest.raises(ValueError, match="3 gold keys but 2 predictions"):
        validate(["a", "b", "a"], ["a", "b"], ["a", "b"], "nominal")


def test_more_gold_does_not_make_the_model_worse():
    data = synthetic.corpus(900, signal=0.12, seed=24)
    curve = learning_curve(
        make, data.texts, data.labels, data.groups, sizes=[150, 400, 900]
    )
    assert [n for n, _ in curve] == [150, 400, 900]
    alphas = [a for _, a in curve]
    assert all(b >= a - 0.05 for a, b in zip(alphas, alphas[1:], strict=False))
    assert alphas[-1] > alphas[0]


def _coders(gold, keys, accuracy, rng):
    """A coder who gives the gold key with probability ``accuracy``, else any key."""
    return [
        g if rng.random() < accuracy else keys[rng.integers(len(keys))] for g in gold
    ]


def test_the_model_is_compared_with_each_coder_and_the_coders_with_each_other():
    rng = np.random.default_rng(5)
    keys = ["a", "b", "c"]
    gold = [keys[i] for i in rng.integers(3, size=300)]
    human = []
    for coder in ("ann", "bob", "cy"):
        coded = _coders(gold, keys, 0.85, rng)
        human += [
            (u, coder, k)
            for u, k in enumerate(coded)
            if u % 3 != ("ann", "bob", "cy").index(coder)
        ]
    good = dict(enumerate(_coders(gold, keys, 0.85, rng)))
    poor = dict(enumerate(_coders(gold, keys, 0.3, rng)))
    as_good = coder_comparison(good, human, "nominal", keys, n_resamples=200)
    assert as_good["n_units"] == 300
    assert set(as_good["by_coder"]) == {"ann", "bob", "cy"}
    assert as_good["by_coder"]["ann"]["n_units"] == 200
    assert as_good["verdict"] == "as_well"
    assert as_good["verdict_text"].startswith("The model agrees with coders as well as")
    worse = coder_comparison(poor, human, "nominal", keys, n_resamples=200)
    assert worse["verdict"] == "less_well"
    assert "less well" in worse["verdict_text"]
    assert worse["human_human"] == as_good["human_human"]
    assert worse["model_vs_humans"]["alpha"] < worse["human_human"]["interval"][0]


def test_without_shared_units_there_is_no_verdict():
    found = coder_comparison(
        {1: "a"}, [(2, "ann", "a"), (2, "bob", "a")], "nominal", ["a"]
    )
    assert found["n_units"] == 0 and found["verdict"] == "undetermined"
    with pytest.raises(ValueError, match="rated unit 1 twice"):
        coder_comparison(
            {1: "a"}, [(1, "ann", "a"), (1, "ann", "b")], "nominal", ["a", "b"]
        )
