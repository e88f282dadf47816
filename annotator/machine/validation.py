"""A machine coder validated like a human one: grouped out-of-fold predictions, alpha.

Every figure scores a prediction made by a model that never saw the scored
span's document (``folds`` keeps a document's spans in one fold), and alpha
with its interval comes from the project's own engine (``annotator.agreement``),
so the model is held to exactly the numbers a human coder is.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .alphas import alpha_only, alpha_with_interval, pair_parts
from .classifier import TextClassifier, sets_from_proba
from .comparison import coder_comparison
from .scores import category_scores, confusion

__all__ = [
    "OutOfFold",
    "coder_comparison",
    "folds",
    "learning_curve",
    "out_of_fold",
    "validate",
]


@dataclass(frozen=True)
class OutOfFold:
    """Each item's class probabilities and key from a model fit without its fold."""

    proba: np.ndarray  # n x len(classes)
    predicted: list  # str, or frozenset for multi-label
    fold: np.ndarray  # fold id per item
    classes: list[str]
    # Keys of the ``unseen`` items (out_of_fold), in their order.
    unseen_predicted: list = field(default_factory=list)


def _is_multi(labels: Sequence[Any]) -> bool:
    return bool(labels) and isinstance(labels[0], (frozenset, set, list, tuple))


def folds(
    n: int, groups: Sequence[Any] | None, k: int = 5, seed: int = 0
) -> np.ndarray:
    """Fold id (0..k'-1) per item; all items of one group share a fold.

    Groups are shuffled (``seed``), then each goes to the currently smallest
    fold, largest groups first, so folds come out near equal. With fewer
    groups than ``k``, each group is its own fold."""
    if groups is None:
        groups = range(n)
    groups = list(groups)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} items")
    names, codes = np.unique(
        np.asarray(groups, dtype=object).astype(str), return_inverse=True
    )
    if len(names) < 2:
        raise ValueError(
            f"cross-validation needs spans from at least 2 documents (got {len(names)})"
        )
    k = min(k, len(names))
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    sizes = np.bincount(codes, minlength=len(names))
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of_group = np.empty(len(names), dtype=np.int64)
    load = np.zeros(k, dtype=np.int64)
    for g in order:
        f = int(np.argmin(load))
        fold_of_group[g] = f
        load[f] += sizes[g]
    return fold_of_group[codes]


def out_of_fold(
    make: Callable[[], TextClassifier],
    texts: Sequence[str],
    labels: Sequence[Any],
    groups: Sequence[Any] | None,
    k: int = 5,
    seed: int = 0,
    *,
    unseen: Sequence[tuple[str, Any]] = (),
) -> OutOfFold:
    """Predict every item with a fresh model (``make()``) fit on the other folds.

    Labels that are sets (multi-choice) give per-category probabilities and
    predicted sets (probability >= .5); otherwise the most probable class.

    ``unseen``: (text, group) pairs without a label (spans the gold lacks) to
    predict as well, each by a fold model that never saw its group: the one
    holding its group out, or, for a group no item has, one chosen by a
    checksum of the group's name (no fold model saw it)."""
    n = len(texts)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} texts")
    fold = folds(n, groups, k=k, seed=seed)
    multi = _is_multi(labels)
    if multi:
        labels = [frozenset(map(str, chosen)) for chosen in labels]
        classes = sorted(set().union(*labels))
    else:
        labels = [str(label) for label in labels]
        classes = sorted(set(labels))
    column = {c: i for i, c in enumerate(classes)}
    proba = np.zeros((n, len(classes)), dtype=np.float32)
    texts = list(texts)
    n_folds = int(fold.max()) + 1
    extra_fold = _unseen_folds(fold, groups, unseen, n_folds)
    extra = np.zeros((len(unseen), len(classes)), dtype=np.float32)
    for f in range(n_folds):
        train = np.flatnonzero(fold != f)
        test = np.flatnonzero(fold == f)
        model = make()
        model.fit([texts[i] for i in train], [labels[i] for i in train])
        got = model.predict_proba([texts[i] for i in test])
        for j, c in enumerate(model.classes):
            proba[test, column[c]] = got[:, j]
        mine = np.flatnonzero(extra_fold == f)
        if len(mine):
            got = model.predict_proba([unseen[i][0] for i in mine])
            for j, c in enumerate(model.classes):
                extra[mine, column[c]] = got[:, j]
    return OutOfFold(
        proba, _keys(proba, classes, multi), fold, classes, _keys(extra, classes, multi)
    )


def _keys(proba: np.ndarray, classes: list[str], multi: bool) -> list:
    if multi:
        return sets_from_proba(proba, classes)
    return [classes[i] for i in proba.argmax(axis=1)]


def _unseen_folds(
    fold: np.ndarray, groups, unseen: Sequence[tuple[str, Any]], n_folds: int
) -> np.ndarray:
    """The fold whose model predicts each unseen item: its group's, or a
    checksum's pick for a group no labelled item has."""
    group_list = [str(g) for g in (groups if groups is not None else range(len(fold)))]
    fold_of = dict(zip(group_list, (int(f) for f in fold), strict=True))
    return np.array(
        [fold_of.get(str(g), zlib.crc32(str(g).encode()) % n_folds) for _, g in unseen],
        dtype=np.int64,
    )


def validate(
    gold_keys: Sequence[Any],
    predicted_keys: Sequence[Any],
    categories: Sequence[Any] | None,
    level: str,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict:
    """The model scored against the gold as a second coder would be.

    Keys: ``alpha_vs_gold``, ``interval`` ([lo, hi] or None), ``interval_method``,
    ``interval_note``, ``level``, ``n``, ``per_category`` ({category: precision,
    recall, f1, support}), ``f1_macro``, ``confusion`` ({"categories", "matrix"}
    rows gold, columns predicted; None for multi-choice, whose per-category
    counts are in ``per_category``)."""
    if len(gold_keys) != len(predicted_keys):
        raise ValueError(
            f"{len(gold_keys)} gold keys but {len(predicted_keys)} predictions"
        )
    if not gold_keys:
        raise ValueError("nothing to validate: no gold keys")
    parts = pair_parts(gold_keys, predicted_keys, level, categories)
    scored = alpha_with_interval(parts, level, n_resamples, seed)
    per_category, f1_macro = category_scores(
        gold_keys, predicted_keys, categories, level
    )
    return {
        "alpha_vs_gold": scored["alpha"],
        "interval": scored["interval"],
        "interval_method": scored.get("interval_method"),
        "interval_note": scored["interval_note"],
        "level": level,
        "n": len(gold_keys),
        "per_category": per_category,
        "f1_macro": f1_macro,
        "confusion": None
        if level == "set"
        else confusion(gold_keys, predicted_keys, categories),
    }


def learning_curve(
    make: Callable[[], TextClassifier],
    texts: Sequence[str],
    labels: Sequence[Any],
    groups: Sequence[Any] | None,
    sizes: Sequence[int] | None = None,
    seed: int = 0,
    *,
    k: int = 5,
    level: str | None = None,
    categories: Sequence[Any] | None = None,
) -> list[tuple[int, float]]:
    """(gold spans used, out-of-fold alpha vs gold) on nested subsets.

    Subsets grow by whole documents in one seeded order, so each contains the
    one before; a curve still rising at the right says more coding would help.
    ``level`` defaults to nominal (set for multi-choice labels); ``categories``
    orders an ordinal scale (keys otherwise sort as text)."""
    n = len(texts)
    level = level or ("set" if _is_multi(labels) else "nominal")
    group_list = [str(g) for g in (groups if groups is not None else range(n))]
    names = list(dict.fromkeys(group_list))
    order = np.random.default_rng(seed).permutation(len(names))
    rank = {names[g]: r for r, g in enumerate(order)}
    by_rank = sorted(range(n), key=lambda i: rank[group_list[i]])
    if sizes is None:
        sizes = [s for s in (n // 16, n // 8, n // 4, n // 2) if s >= 50] + [n]
    curve = []
    for size in sorted(set(int(s) for s in sizes)):
        # Round up to whole documents: a document is never split across sizes.
        cut = min(size, n)
        while cut < n and group_list[by_rank[cut]] == group_list[by_rank[cut - 1]]:
            cut += 1
        chosen = by_rank[:cut]
        sub_labels = _normalised([labels[i] for i in chosen])
        sub_groups = [group_list[i] for i in chosen]
        if len(set(sub_groups)) < 2 or len(set(map(_hashable, sub_labels))) < 2:
            continue
        oof = out_of_fold(
            make, [texts[i] for i in chosen], sub_labels, sub_groups, k, seed
        )
        alpha = alpha_only(sub_labels, oof.predicted, level, categories)
        curve.append((cut, float(alpha)))
    return curve


def _hashable(label: Any) -> Any:
    return frozenset(label) if isinstance(label, (set, list, tuple)) else label


def _normalised(labels: Sequence[Any]) -> list:
    """Labels as ``out_of_fold`` predicts them: strings, or frozensets of strings."""
    if _is_multi(labels):
        return [frozenset(map(str, chosen)) for chosen in labels]
    return [str(label) for label in labels]
