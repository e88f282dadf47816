"""The classifiers: hashed features as sklearn's, storage, the registry, multi-label."""

from __future__ import annotations

import pickle
import zlib

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from annotator.machine import classifier, synthetic
from annotator.machine.classifier import (
    MultiLabel,
    TextClassifier,
    TfidfLinear,
    dumps,
    library_versions,
    loads,
    make_classifier,
)

SMALL = {"word_features": 2**14, "char_features": 2**15}


def split(data: synthetic.Corpus, n: int):
    """The first ``n`` spans to train on, the rest (other documents) held out;
    both from one corpus, so they share its vocabularies."""
    train = synthetic.Corpus(
        data.texts[:n], data.labels[:n], data.groups[:n], data.topics
    )
    rest = synthetic.Corpus(
        data.texts[n:], data.labels[n:], data.groups[n:], data.topics
    )
    assert not set(train.groups) & set(rest.groups)
    return train, rest


@pytest.fixture(scope="module")
def trained():
    data, held_out = split(synthetic.corpus(800, seed=11), 600)
    model = TfidfLinear(seed=0, **SMALL)
    model.fit(data.texts, data.labels)
    return model, held_out


def test_word_by_word_char_counts_equal_sklearns_char_wb():
    texts = ["Ab  cd\tef", "ÉTÉ été  x", "", "one", "a\nb c  d"]
    model = TfidfLinear(**SMALL)
    ours = model._char_counts(texts)
    theirs = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        n_features=SMALL["char_features"],
        alternate_sign=False,
        norm=None,
    ).transform(texts)
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() == 0


def test_probabilities_are_per_class_and_sum_to_one(trained):
    model, held_out = trained
    proba = model.predict_proba(held_out.texts)
    assert model.classes == sorted(set(held_out.labels))
    assert proba.shape == (200, len(model.classes))
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-4)
    predicted = [model.classes[i] for i in proba.argmax(axis=1)]
    accuracy = np.mean(
        [p == g for p, g in zip(predicted, held_out.labels, strict=True)]
    )
    assert accuracy > 0.7


def test_stored_model_predicts_the_same(trained):
    model, held_out = trained
    back = loads(dumps(model))
    assert back.classes == model.classes
    assert back.params() == model.params()
    assert np.array_equal(
        back.predict_proba(held_out.texts), model.predict_proba(held_out.texts)
    )


def test_loads_refuses_what_is_not_a_classifier():
    with pytest.raises(ValueError, match="not a model this app wrote"):
        loads(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a text classifier"):
        loads(classifier.MAGIC + zlib.compress(pickle.dumps({"a": 1})))


def test_registry_makes_fresh_models_and_names_the_unknown():
    model = make_classifier("tfidf_linear", seed=3, C=0.2)
    assert isinstance(model, TextClassifier)
    assert model.params()["C"] == 0.2 and model.params()["seed"] == 3
    assert make_classifier() is not make_classifier()
    with pytest.raises(ValueError, match="unknown model 'bert'"):
        make_classifier("bert")
    with pytest.raises(ValueError, match="unknown parameter"):
        TfidfLinear(max_df=0.5)


def test_one_class_only_is_always_that_class():
    model = TfidfLinear(**SMALL)
    model.fit(["a b", "c d"], ["x", "x"])
    assert model.classes == ["x"]
    assert model.predict_proba(["anything"]).tolist() == [[1.0]]


def test_a_rare_class_still_gets_probabilities():
    data = synthetic.corpus(120, seed=5)
    labels = [*data.labels[:-1], "rare"]  # one example: too few to calibrate over folds
    model = TfidfLinear(**SMALL)
    model.fit(data.texts, labels)
    assert "rare" in model.classes
    assert np.allclose(model.predict_proba(data.texts[:5]).sum(axis=1), 1, atol=1e-4)


def test_unfitted_and_mismatched_input_say_what_is_wrong():
    with pytest.raises(ValueError, match="not been fitted"):
        TfidfLinear().predict_proba(["a"])
    with pytest.raises(ValueError, match="differ in length"):
        TfidfLinear().fit(["a", "b"], ["x"])


def test_multi_label_gives_per_category_probabilities_and_sets():
    data, held_out = split(synthetic.multi_label_corpus(650, seed=7), 500)
    model = make_classifier("multi_label", **SMALL)
    model.fit(data.texts, data.labels)
    assert model.classes == data.topics
    proba = model.predict_proba(held_out.texts)
    assert proba.shape == (150, len(data.topics))
    assert ((proba >= 0) & (proba <= 1)).all()
    sets = model.predict_sets(held_out.texts)
    assert all(isinstance(s, frozenset) for s in sets)
    exact = np.mean([s == g for s, g in zip(sets, held_out.labels, strict=True)])
    assert exact > 0.5
    assert model.predict_sets(held_out.texts, threshold=1.01) == [frozenset()] * 150
    back = loads(dumps(model))
    assert np.array_equal(back.predict_proba(held_out.texts), proba)


def test_library_versions_name_what_trained_the_model():
    versions = library_versions()
    assert set(versions) == {"sklearn", "numpy", "scipy", "python"}
    assert versions["sklearn"] == classifier.sklearn.__version__
    assert MultiLabel().params()["per_category"]["model"] == "tfidf_linear"
