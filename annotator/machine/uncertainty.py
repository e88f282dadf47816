"""A machine coder's uncertainty about each span, for active learning (pure numpy).

Uncertainty is one minus the probability of the decision the machine made,
taken at its least sure decision. A single-choice dimension decides once: the
chosen category, so 1 − its probability (0 to 1 − 1/K). A multi-choice
dimension decides once per category, in or out of the set: 1 − max(p, 1 − p),
i.e. min(p, 1 − p), at its least sure category (0 to 0.5). Not the set's
probability (the product over its categories, which MachineLabel stores): that
falls with the number of categories however sure each decision is, so a
many-category dimension would always look the most uncertain. A span's
uncertainty is the highest over its dimensions. A probability the model could
not give (NaN) counts as not knowing: uncertainty 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def single_choice(proba: np.ndarray) -> np.ndarray:
    """Per row of class probabilities: 1 − the chosen class's probability."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] == 0:
        return np.ones(len(proba))
    chosen = np.nan_to_num(proba, nan=0.0).max(axis=1)
    return np.clip(1.0 - chosen, 0.0, 1.0)


def multi_choice(proba: np.ndarray) -> np.ndarray:
    """Per row of per-category "in the set" probabilities: the least sure
    category's min(p, 1 − p); 0 without categories (nothing to decide)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] == 0:
        return np.zeros(len(proba))
    unsure = np.minimum(proba, 1.0 - proba)
    return np.clip(np.nan_to_num(unsure, nan=1.0).max(axis=1), 0.0, 1.0)


def of_spans(per_dimension: Iterable[np.ndarray], n: int) -> np.ndarray:
    """The spans' uncertainty: the highest of their dimensions' (0 with none)."""
    most = np.zeros(n)
    for values in per_dimension:
        most = np.maximum(most, values)
    return most
