"""Text classifiers behind one small interface: TF-IDF linear, multi-label, storage.

Any model with ``fit``, ``predict_proba``, ``classes`` and ``params`` (the
``TextClassifier`` protocol) can stand in for the baseline; ``make_classifier``
names the registered ones. ``dumps``/``loads`` store a fitted model as bytes.
Trust note: ``loads`` unpickles, and unpickling runs code, so only ever load
bytes this app wrote itself (its own model store), never an uploaded file.
"""

from __future__ import annotations

import pickle
import platform
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

# Hashing keeps no vocabulary: memory stays flat however many texts are seen,
# and a batch is featurised without the training set's dictionary.
DEFAULTS: dict[str, Any] = {
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 5),
    "word_features": 2**20,
    "char_features": 2**20,
    "C": 0.5,
    "calibration_folds": 3,
    "batch_size": 20_000,
}


MAGIC = b"annotator-machine-coder/1\n"


@runtime_checkable
class TextClassifier(Protocol):
    """What the app needs of a model: fit on labelled texts, class probabilities."""

    classes: list[str]

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def params(self) -> dict: ...


class TfidfLinear:
    """TF-IDF of word 1-2-grams and char_wb 2-5-grams (hashed), then a linear SVM
    calibrated to probabilities (Platt scaling over inner folds)."""

    name = "tfidf_linear"

    def __init__(self, seed: int = 0, **params: Any):
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {sorted(unknown)} for tfidf_linear; "
                f"known: {sorted(DEFAULTS)}"
            )
        self.seed = seed
        self._params = {**DEFAULTS, **params}
        self.classes: list[str] = []
        p = self._params
        self._word = HashingVectorizer(
            ngram_range=tuple(p["word_ngrams"]),
            n_features=p["word_features"],
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        self._char = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(p["char_ngrams"]),
            n_features=p["char_features"],
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        self._model: Any = None

    def params(self) -> dict:
        return {"model": self.name, "seed": self.seed, **_jsonable(self._params)}

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        texts = list(texts)
        return sp.hstack(
            [self._word.transform(texts), self._char_counts(texts)], format="csr"
        )

    def _char_counts(self, texts: list[str]) -> sp.csr_matrix:
        """The char_wb counts, hashed once per distinct word of the batch.

        char_wb n-grams never cross a word boundary, so a text's counts are the
        sum of its words' counts: (texts x words) @ (words x n-grams). Words
        repeat (Zipf), so this hashes a few thousand words, not every token."""
        vocabulary: dict[str, int] = {}
        columns: list[int] = []
        indptr = [0]
        for text in texts:
            columns.extend(
                vocabulary.setdefault(w, len(vocabulary)) for w in text.lower().split()
            )
            indptr.append(len(columns))
        occurrences = sp.csr_matrix(
            (np.ones(len(columns), np.float32), columns, indptr),
            shape=(len(texts), len(vocabulary)),
        )
        return (occurrences @ self._char.transform(list(vocabulary))).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        labels = [str(label) for label in labels]
        if len(texts) != len(labels):
            raise ValueError(
                f"texts and labels differ in length ({len(texts)}, {len(labels)})"
            )
        if not labels:
            raise ValueError("nothing to train on: no labelled texts")
        self.classes = sorted(set(labels))
        if len(self.classes) == 1:
            self._model = None  # one class seen: it is always the answer
            return
        x = self._tfidf.fit_transform(self._counts(texts))
        self._model = self._linear(labels)
        self._model.fit(x, labels)

    def _linear(self, labels: list[str]) -> Any:
        p = self._params
        _, counts = np.unique(labels, return_counts=True)
        folds = min(int(p["calibration_folds"]), int(counts.min()))
        if folds < 2:
            # Too few of some class to calibrate over folds: logistic
            # regression gives probabilities by itself.
            return OneVsRestClassifier(
                LogisticRegression(C=p["C"] * 10, solver="liblinear", max_iter=1000)
            )
        svm = LinearSVC(C=p["C"], random_state=self.seed)
        # ensemble=False: one SVM on all the gold, calibrated on its inner
        # out-of-fold scores; an ensemble of ``folds`` SVMs would store and
        # evaluate ``folds`` times the weights for no better probabilities.
        return CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not self.classes:
            raise ValueError("the classifier has not been fitted")
        n = len(texts)
        if self._model is None:
            return np.ones((n, 1), dtype=np.float32)
        out = np.empty((n, len(self.classes)), dtype=np.float32)
        step = int(self._params["batch_size"])
        for start in range(0, n, step):
            batch = texts[start : start + step]
            x = self._tfidf.transform(self._counts(batch))
            out[start : start + len(batch)] = self._model.predict_proba(x)
        return out


class MultiLabel:
    """A multi-choice dimension: one binary classifier per category, each saying
    how likely its category is among a span's choices."""

    name = "multi_label"

    def __init__(
        self, make: Callable[[], TextClassifier] | None = None, seed: int = 0, **params
    ):
        self.seed = seed
        self._inner_params = params
        self._make = make  # None: the baseline (a lambda would not pickle)
        self.classes: list[str] = []
        self._models: list[TextClassifier] = []

    def _new(self) -> TextClassifier:
        if self._make is not None:
            return self._make()
        return TfidfLinear(seed=self.seed, **self._inner_params)

    def params(self) -> dict:
        inner = self._new().params()
        return {"model": self.name, "per_category": inner, "seed": self.seed}

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[str]]) -> None:
        sets = [frozenset(str(c) for c in chosen) for chosen in labels]
        if len(texts) != len(sets):
            raise ValueError(
                f"texts and labels differ in length ({len(texts)}, {len(sets)})"
            )
        self.classes = sorted(set().union(*sets)) if sets else []
        if not self.classes:
            raise ValueError("nothing to train on: no category was ever chosen")
        self._models = []
        for category in self.classes:
            model = self._new()
            model.fit(texts, ["yes" if category in s else "no" for s in sets])
            self._models.append(model)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not self._models:
            raise ValueError("the classifier has not been fitted")
        columns = []
        for model in self._models:
            proba = model.predict_proba(texts)
            yes = model.classes.index("yes") if "yes" in model.classes else None
            columns.append(
                proba[:, yes] if yes is not None else np.zeros(len(texts), np.float32)
            )
        return np.column_stack(columns).astype(np.float32)

    def predict_sets(
        self, texts: Sequence[str], threshold: float = 0.5
    ) -> list[frozenset[str]]:
        """Each text's categories whose probability reaches ``threshold``."""
        return sets_from_proba(self.predict_proba(texts), self.classes, threshold)


def sets_from_proba(
    proba: np.ndarray, classes: Sequence[str], threshold: float = 0.5
) -> list[frozenset[str]]:
    """Per row, the categories whose probability reaches ``threshold``."""
    chosen = np.asarray(proba) >= threshold
    return [
        frozenset(c for c, on in zip(classes, row, strict=True) if on) for row in chosen
    ]


REGISTRY: dict[str, Callable[..., TextClassifier]] = {
    TfidfLinear.name: TfidfLinear,
    MultiLabel.name: MultiLabel,
}


def make_classifier(name: str = "tfidf_linear", **params: Any) -> TextClassifier:
    """A fresh, unfitted model of the registered kind ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[name](**params)


def library_versions() -> dict:
    """The versions a model was trained with (its provenance)."""
    return {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def dumps(clf: TextClassifier) -> bytes:
    """A fitted model as bytes (pickle, zlib-compressed: the hashed weights are
    mostly zeros), for the app's own model store."""
    return MAGIC + zlib.compress(pickle.dumps(clf, protocol=pickle.HIGHEST_PROTOCOL), 1)


def loads(data: bytes) -> TextClassifier:
    """A model ``dumps`` wrote. Unpickling runs code: only bytes this app stored."""
    if not data.startswith(MAGIC):
        raise ValueError("the stored bytes are not a model this app wrote")
    raw = zlib.decompress(data[len(MAGIC) :])
    clf = pickle.loads(raw)  # noqa: S301 - our own store only (module docstring)
    if not isinstance(clf, TextClassifier):
        raise ValueError("the stored bytes are not a text classifier")
    return clf


def _jsonable(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
