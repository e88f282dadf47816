"""annotator.medians: one median per group, as PostgreSQL's PERCENTILE_CONT(0.5)."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator import medians
from annotator.medians import medians_by_group

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(st.tuples(st.integers(0, 200), values), max_size=300))
def test_medians_are_the_medians(pairs):
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    seconds = np.array([v for _, v in pairs], dtype=np.float64)
    got = medians_by_group(groups, seconds)
    expected = {}
    for group in set(groups.tolist()):
        expected[group] = statistics.median(v for g, v in pairs if g == group)
    assert got.keys() == expected.keys()
    for group, median in expected.items():
        assert got[group] == pytest.approx(median, rel=1e-12, abs=1e-9)


@given(st.lists(st.tuples(st.integers(0, 80), values), min_size=1, max_size=300))
def test_few_and_many_groups_give_the_same_floats(pairs):
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    seconds = np.array([v for _, v in pairs], dtype=np.float64)
    few = medians.FEW_GROUPS
    try:
        medians.FEW_GROUPS = 10**6
        selected = medians_by_group(groups, seconds)
        medians.FEW_GROUPS = -1
        sorted_ = medians_by_group(groups, seconds)
    finally:
        medians.FEW_GROUPS = few
    assert selected == sorted_  # exactly: both interpolate as PostgreSQL does


def test_an_even_count_interpolates_as_postgresql_does():
    low, high = 0.1, 0.7
    got = medians_by_group(np.array([1, 1]), np.array([high, low]))[1]
    assert got == low + 0.5 * (high - low)


def test_nan_is_left_out_and_an_empty_group_has_no_entry():
    got = medians_by_group(np.array([1, 1, 2]), np.array([3.0, np.nan, np.nan]))
    assert got == {1: 3.0}
    assert medians_by_group(np.array([], dtype=np.int64), np.array([])) == {}
