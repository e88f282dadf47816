"""Published reliability data sets, in long (unit, coder, value) form, for the tests.

Sources are cited next to each data set; the expected values asserted in the
tests are the published ones, not values produced by this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Long = tuple[list[Any], list[Any], list[Any]]


def wide_to_long(columns: dict[str, Sequence[Any]]) -> Long:
    """{coder: values by unit, None = missing} -> parallel units, coders, values."""
    units, coders, values = [], [], []
    for coder, col in columns.items():
        for unit, value in enumerate(col, start=1):
            if value is not None:
                units.append(unit)
                coders.append(coder)
                values.append(value)
    return units, coders, values


def table_to_long(
    table: Sequence[Sequence[int]], labels: Sequence[Any] | None = None
) -> Long:
    """Two-coder contingency table (rows coder A, columns coder B) -> ratings."""
    q = len(table)
    labels = list(labels) if labels is not None else list(range(1, q + 1))
    units, coders, values = [], [], []
    unit = 0
    for i in range(q):
        for j in range(q):
            for _ in range(int(table[i][j])):
                unit += 1
                units += [unit, unit]
                coders += ["A", "B"]
                values += [labels[i], labels[j]]
    return units, coders, values


def counts_to_long(counts: Sequence[Sequence[int]]) -> Long:
    """Fleiss-form table (units x categories: number of raters) -> ratings.

    Rater identities are not part of this form; rater ids 0..r_i-1 per unit.
    """
    units, coders, values = [], [], []
    for unit, row in enumerate(counts, start=1):
        coder = 0
        for cat, n in enumerate(row, start=1):
            for _ in range(int(n)):
                units.append(unit)
                coders.append(coder)
                values.append(cat)
                coder += 1
    return units, coders, values


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section
# "C. Any number of observers, missing data": 4 observers x 12 units, values
# 1..5. Published: nominal .743, ordinal .815, interval .849, ratio .797.
# Also Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., p. 120 (the
# irrCAC data set "cac.raw4raters"), with columns as raters.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
RAW_4RATERS = {
    "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, None],
    "Rater3": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Gwet (2014), 4th ed. (smaller version of the p. 125 table): irrCAC "raw_5observers".
RAW_5OBSERVERS = {
    "Observer1": [1, 1, 2, None, 0, 0, 1, 1, 2, 2, None, 0, 1, 3, 1],
    "Observer2": [1, 1, 3, 0, 0, 0, 0, None, 2, 1, 1, 0, 2, 3, 1],
    "Observer3": [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
    "Observer4": [None, 1, 3, None, None, None, None, 0, None, 1, 0, 0, 2, 2, None],
    "Observer5": [2, None, None, 0, 0, 0, 1, None, 2, None, None, None, None, 3, 1],
}

# irrCAC data sets "raw_g1g2", "raw_gender", "raw_ben_gerry" (Gwet 2014 examples).
RAW_G1G2 = {
    "Rater1": ["a", "b", "c", "c", "b", "a", "d", "a", "b", None, None, None, "b", "b"],
    "Rater2": ["a", "b", "c", "c", "b", "b", "d", "a", "b", "e", None, None, "b", "a"],
    "Rater3": [None, "c", "c", "c", "b", "c", "d", "b", "b", "e", "a", "c", "c", "c"],
    "Rater4": ["a", "b", "c", "c", "b", "d", "d", "a", "b", "e", "a", None, "b", "b"],
}
RAW_GENDER = {
    "Rater1": "a a a a a b b b c a a a a a b".split(),
    "Rater2": "a a a a b a b c c a a a a b a".split(),
    "Rater3": "a b b c a a b b c a b b c a a".split(),
    "Rater4": "c c c c a a b b c c c c c a a".split(),
}
RAW_BEN_GERRY = {
    "Ben": ["a", "a", "b", "b", "d", "c", "c", "c", "e", "d", "d", "a"],
    "Gerry": ["b", "a", "b", "b", "b", "c", "c", "c", "e", None, "d", "d"],
}

# Fleiss (1971), Psychological Bulletin 76, 378-382, Table 1: 30 patients, 6
# psychiatrists each, 5 diagnoses (as the irr R package's `diagnoses` and the
# statsmodels test suite). Published kappa = .430 (irr: 0.4302445).
FLEISS_1971 = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])  # fmt: skip

# Wikipedia "Fleiss' kappa" worked example: 10 subjects x 14 raters, 5 categories,
# kappa = 0.210 (also in the statsmodels test suite).
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip

# SAS PROC FREQ example reproduced in statsmodels' tests (table10): simple
# kappa 0.4842, weighted kappa (Cicchetti-Allison = linear weights) 0.4701.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]

# irr R package `anxiety` data (Gwet-style ratings of 20 subjects by 3 raters);
# irr::kappa2(anxiety[, 2:3]) = -0.006289308, "equal" (linear) 0.1459075,
# "squared" (quadratic) 0.2520325, as recorded in statsmodels' tests.
ANXIETY_RATER2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_RATER3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]

# Gwet (2014) contingency tables, irrCAC "cont3x3abstractors" (100 pregnant
# women, 3 categories) and "cont4x4diagnosis" (223 psychiatric patients).
CONT3X3_ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
CONT4X4_DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]
