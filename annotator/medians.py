"""The median of values per group: one implementation for every page and report.

Pure numpy. It interpolates an even count's middle pair as PostgreSQL's
PERCENTILE_CONT(0.5) does (low + 0.5 × (high − low)), so the database's fast path
(annotator.models.Median) and this give the same float, bit for bit.
"""

from __future__ import annotations

import numpy as np

# Up to this many groups, one selection per group beats sorting every value.
FEW_GROUPS = 64


def medians_by_group(groups: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """{group: median of its values}; NaN values are left out, and a group with
    none has no entry."""
    groups = np.asarray(groups, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(values)
    groups, values = groups[keep], values[keep]
    if len(groups) == 0:
        return {}
    labels, codes = np.unique(groups, return_inverse=True)
    codes = codes.ravel()
    if len(labels) <= FEW_GROUPS:
        return {
            int(label): _median(values[codes == g]) for g, label in enumerate(labels)
        }
    # One sort by value, then a stable sort by group: each group's values end up
    # contiguous and in order, so every median is a lookup.
    by_value = np.argsort(values, kind="stable")
    ordered = values[by_value[np.argsort(codes[by_value], kind="stable")]]
    counts = np.bincount(codes, minlength=len(labels))
    starts = np.cumsum(counts) - counts
    low = ordered[starts + (counts - 1) // 2]
    high = ordered[starts + counts // 2]
    middle = low + 0.5 * (high - low)
    return {int(g): float(m) for g, m in zip(labels, middle, strict=True)}


def _median(values: np.ndarray) -> float:
    n = len(values)
    lower, upper = (n - 1) // 2, n // 2
    parted = np.partition(values, [lower, upper])
    low, high = parted[lower], parted[upper]
    return float(low + 0.5 * (high - low))
