"""Alpha of two key columns or of many coders' ratings, with the engine's interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from annotator.agreement.coded import alpha_from_parts, alpha_parts, encode
from annotator.agreement.interval_set import dimension_intervals

MODEL = "model"
GOLD = "gold"


def weights(level: str) -> str:
    # As the reliability report weighs the kappa family (report.py).
    return "quadratic" if level == "ordinal" else "identity"


def pair_parts(first: Sequence[Any], second: Sequence[Any], level: str, categories):
    n = len(first)
    values = [*first, *second]
    if level == "set":
        values = [frozenset(v) for v in values]
    coded = encode(
        np.concatenate([np.arange(n), np.arange(n)]),
        [GOLD] * n + [MODEL] * n,
        values,
        level=level,
        categories=categories,
    )
    return alpha_parts(coded, level)


def _number(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def alpha_with_interval(parts, level: str, n_resamples: int, seed: int) -> dict:
    value = alpha_from_parts(parts).value
    out: dict[str, Any] = {
        "alpha": _number(value),
        "interval": None,
        "interval_note": "",
    }
    if n_resamples <= 0 or parts.n_units < 2:
        out["interval_note"] = (
            "no interval: fewer than 2 units" if n_resamples > 0 else ""
        )
        return out
    found = dimension_intervals(
        parts, weights(level), n_resamples=n_resamples, seed=seed
    )
    interval = found.intervals["krippendorff_alpha"]
    out["interval"] = [interval.low, interval.high] if interval.holds else None
    out["interval_method"] = interval.method
    out["interval_note"] = interval.reason
    return out


def alpha_only(
    gold: Sequence[Any], predicted: Sequence[Any], level: str, categories=None
) -> float:
    """Krippendorff's alpha of predicted vs gold keys, no interval (nan: undefined)."""
    return alpha_from_parts(pair_parts(gold, predicted, level, categories)).value


def ratings_alpha(units, coders, values, level, categories, n_resamples, seed) -> dict:
    if level == "set":
        values = [frozenset(v) for v in values]
    coded = encode(units, coders, values, level=level, categories=categories)
    return alpha_with_interval(alpha_parts(coded, level), level, n_resamples, seed)
