"""Per-category precision, recall, F1, macro F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _category_list(
    gold: Sequence[Any], predicted: Sequence[Any], categories, multi: bool
):
    if categories is not None:
        return list(categories)
    if multi:
        return sorted({c for s in (*gold, *predicted) for c in s}, key=str)
    return sorted({*gold, *predicted}, key=str)


def category_scores(
    gold: Sequence[Any], predicted: Sequence[Any], categories, level: str
) -> tuple[dict, float | None]:
    """({category: precision, recall, f1, support, tp, fp, fn}, macro F1).

    Multi-choice (``level == "set"``) scores each category's membership; the
    macro F1 averages over categories with any gold or predicted use (an F1
    with nothing to score is None, not 0 or 1)."""
    multi = level == "set"
    gold_sets = [frozenset(g) if multi else frozenset([g]) for g in gold]
    pred_sets = [frozenset(p) if multi else frozenset([p]) for p in predicted]
    cats = _category_list(gold, predicted, categories, multi)
    out = {}
    for c in cats:
        tp = sum(
            1 for g, p in zip(gold_sets, pred_sets, strict=True) if c in g and c in p
        )
        fp = sum(
            1
            for g, p in zip(gold_sets, pred_sets, strict=True)
            if c not in g and c in p
        )
        fn = sum(
            1
            for g, p in zip(gold_sets, pred_sets, strict=True)
            if c in g and c not in p
        )
        out[str(c)] = _scores(tp, fp, fn)
    f1s = [s["f1"] for s in out.values() if s["f1"] is not None]
    return out, (sum(f1s) / len(f1s) if f1s else None)


def confusion(gold: Sequence[Any], predicted: Sequence[Any], categories) -> dict:
    """{"categories": [...], "matrix": rows gold, columns predicted (counts)}."""
    cats = _category_list(gold, predicted, categories, False)
    index = {c: i for i, c in enumerate(cats)}
    matrix = [[0] * len(cats) for _ in cats]
    for g, p in zip(gold, predicted, strict=True):
        if g not in index or p not in index:
            raise ValueError(f"key {g if g not in index else p!r} is not a category")
        matrix[index[g]][index[p]] += 1
    return {"categories": [str(c) for c in cats], "matrix": matrix}
