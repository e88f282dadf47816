"""Breakdowns agree with the plain coefficients computed on the matching subsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement import (
    alpha_by_group,
    alpha_over_time,
    alpha_per_category,
    coder_stats,
    cohen_kappa,
    coincidence_matrix,
    confusion_matrix,
    krippendorff_alpha,
    pairwise_cohen_kappa,
    percent_agreement,
)

from .published import KRIPPENDORFF_2011, wide_to_long


def _random(seed: int, n_units: int = 80, n_coders: int = 4):
    rng = np.random.default_rng(seed)
    units = np.repeat(np.arange(n_units), n_coders)
    coders = np.tile(np.array([f"c{i}" for i in range(n_coders)]), n_units)
    truth = np.repeat(rng.integers(1, 5, n_units), n_coders)
    values = np.where(
        rng.random(len(units)) < 0.7, truth, rng.integers(1, 5, len(units))
    )
    keep = rng.random(len(units)) < 0.75
    return units[keep], coders[keep], values[keep]


@pytest.mark.parametrize("seed", range(3))
def test_per_category_alpha_is_binary_alpha(seed):
    units, coders, values = _random(seed)
    per = alpha_per_category(units, coders, values)
    assert list(per) == [1, 2, 3, 4]
    for cat, result in per.items():
        binary = krippendorff_alpha(units, coders, values == cat)
        assert result.value == pytest.approx(binary.value)
        assert result.n_units == binary.n_units


def test_per_label_alpha_for_sets():
    units, coders = [1, 1, 2, 2, 3, 3, 4, 4], ["a", "b"] * 4
    sets = [{"x", "y"}, {"x"}, {"y"}, {"y"}, {"x"}, {"x", "y"}, set(), {"y"}]
    per = alpha_per_category(units, coders, sets, level="set")
    for label in ("x", "y"):
        has = [label in s for s in sets]
        assert per[label].value == pytest.approx(
            krippendorff_alpha(units, coders, has).value
        )


def test_pairwise_kappa_matches_cohen_on_each_pair():
    units, coders, values = _random(5)
    res = pairwise_cohen_kappa(units, coders, values, weights="linear")
    assert res.row_labels == ("c0", "c1", "c2", "c3")
    for i, a in enumerate(res.row_labels):
        assert math.isnan(res.matrix[i, i])
        for j, b in enumerate(res.col_labels):
            if i == j:
                continue
            sel = np.isin(coders, [a, b])
            want = cohen_kappa(
                units[sel],
                coders[sel],
                values[sel],
                weights="linear",
                categories=[1, 2, 3, 4],
            )
            assert res.matrix[i, j] == pytest.approx(want.value)
            assert res.counts[i, j] == want.n_units
    assert res.to_dict()["c0"]["c1"] == pytest.approx(res.matrix[0, 1])


def test_pairwise_kappa_nan_below_two_shared_units():
    res = pairwise_cohen_kappa(
        [1, 1, 2, 2, 3], ["a", "b", "a", "c", "c"], [1, 2, 1, 1, 2]
    )
    i = {c: k for k, c in enumerate(res.row_labels)}
    assert math.isnan(res.matrix[i["a"], i["b"]])  # one shared unit
    assert res.counts[i["a"], i["b"]] == 1


def test_coder_stats():
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    stats = coder_stats(units, coders, values, level="interval")
    assert sum(s.n_coded for s in stats.values()) == len(values)
    arr = np.array(coders)
    for name, s in stats.items():
        rest = arr != name
        want = krippendorff_alpha(
            np.array(units)[rest], arr[rest], np.array(values)[rest], level="interval"
        )
        assert s.alpha_without == pytest.approx(want.value)
        assert 0 <= s.percent_agreement <= 1
    # Observer B rated unit 12 alone: 10 of B's 11 ratings are on shared units.
    assert stats["B"].n_coded == 11 and stats["B"].n_shared_units == 10
    total = sum(s.n_comparisons * s.percent_agreement for s in stats.values())
    assert total / sum(s.n_comparisons for s in stats.values()) == pytest.approx(
        # pooled pairwise agreement is the unit-size-weighted percent agreement
        sum(s.n_comparisons * s.percent_agreement for s in stats.values())
        / sum(s.n_comparisons for s in stats.values())
    )
    assert percent_agreement(units, coders, values).value > 0


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_by_group_equals_separate_alpha(level):
    units, coders, values = _random(7)
    groups = np.where(
        units % 3 == 0, "doc-a", np.where(units % 3 == 1, "doc-b", "doc-c")
    )
    res = alpha_by_group(units, coders, values, groups, level=level)
    assert list(res) == ["doc-a", "doc-b", "doc-c"]
    for g, r in res.items():
        sel = groups == g
        want = krippendorff_alpha(units[sel], coders[sel], values[sel], level=level)
        assert r.value == pytest.approx(want.value)
        assert (r.n_units, r.n_pairable, r.excluded_units, r.n_coders) == (
            want.n_units,
            want.n_pairable,
            want.excluded_units,
            want.n_coders,
        )


def test_alpha_over_time_with_dates():
    units, coders, values = _random(8)
    days = np.array(["2024-01-01", "2024-01-09", "2024-02-03"], dtype="datetime64[D]")
    times = days[units % 3]
    res = alpha_over_time(units, coders, values, times, freq="M")
    assert [str(k) for k in res] == ["2024-01-01", "2024-02-01"]
    jan = (units % 3) < 2
    assert list(res.values())[0].value == pytest.approx(
        krippendorff_alpha(units[jan], coders[jan], values[jan]).value
    )
    batches = alpha_over_time(units, coders, values, units % 2)
    assert list(batches) == [0, 1]


def test_coincidence_matrix_properties():
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    m = coincidence_matrix(units, coders, values)
    assert m.row_labels == (1, 2, 3, 4, 5)
    assert np.allclose(m.matrix, m.matrix.T)
    assert m.matrix.sum() == pytest.approx(40)  # n pairable values
    # n_c and o_55 as printed in Krippendorff (2011), p. 4 (unit 12 excluded):
    # unit 10 holds three 5s, contributing 3 * 2 / (3 - 1) = 3 to o_55.
    assert np.allclose(m.matrix.sum(axis=1), [9, 13, 10, 5, 3])
    assert m.matrix[4, 4] == pytest.approx(3)


def test_confusion_matrices():
    units = [1, 1, 2, 2, 3, 3, 3]
    coders = ["a", "b", "a", "b", "a", "b", "c"]
    values = ["x", "y", "y", "y", "x", "x", "y"]
    ab = confusion_matrix(units, coders, values, coder_a="a", coder_b="b")
    assert ab.row_labels == ("x", "y")
    assert ab.matrix.tolist() == [[1, 1], [0, 1]]
    pooled = confusion_matrix(units, coders, values)
    assert np.array_equal(pooled.matrix, pooled.matrix.T)
    assert pooled.matrix.sum() == 2 + 2 + 6  # ordered pairs of different coders
    with pytest.raises(ValueError, match="unknown coder"):
        confusion_matrix(units, coders, values, coder_a="a", coder_b="zz")


def test_weeks_start_on_monday():
    # 2024-01-07 is a Sunday, 2024-01-08 a Monday: numpy's own "W" unit would put
    # them in one Thursday-based week and split Mon 8th from Thu 11th.
    units = np.array([1, 1, 2, 2, 3, 3, 4, 4])
    coders = np.array(["a", "b"] * 4)
    values = np.array([1, 1, 1, 2, 2, 2, 3, 3])
    days = np.array(
        ["2024-01-07", "2024-01-07", "2024-01-08", "2024-01-08"]
        + ["2024-01-11T23:00", "2024-01-11T23:00", "2024-01-14", "2024-01-14"],
        dtype="datetime64[m]",
    )
    res = alpha_over_time(units, coders, values, days, freq="W")
    assert [str(k) for k in res] == ["2024-01-01", "2024-01-08"]
    assert [r.n_units for r in res.values()] == [1, 3]
    week2 = days >= np.datetime64("2024-01-08")
    assert res[list(res)[1]].value == pytest.approx(
        krippendorff_alpha(units[week2], coders[week2], values[week2]).value
    )


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio", "set"])
@pytest.mark.parametrize("seed", range(4))
def test_leave_one_coder_out_equals_alpha_without_that_coder(level, seed):
    # Units with 2, 3 and 4 ratings: leaving a coder out turns some 2-rating
    # units single (they drop out) and shrinks others.
    units, coders, values = _random(seed, n_units=60, n_coders=4)
    if level == "set":
        labels = {1: ("a",), 2: ("a", "b"), 3: ("b",), 4: ()}
        values = np.array([frozenset(labels[v]) for v in values], dtype=object)
    stats = coder_stats(units, coders, values, level=level)
    for name, s in stats.items():
        rest = coders != name
        want = krippendorff_alpha(units[rest], coders[rest], values[rest], level=level)
        assert s.alpha_without == pytest.approx(want.value, abs=1e-12)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "set"])
def test_coder_stats_of_no_ratings_is_empty(level):
    empty = np.array([], dtype=object) if level == "set" else np.array([], dtype=int)
    assert coder_stats([], [], empty, level=level, categories=[1, 2]) == {}


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_groups_that_split_a_unit_count_it_once_per_group(level):
    # Groups drawn per rating, so most units' ratings fall into several groups.
    units, coders, values = _random(11, n_units=120)
    groups = np.random.default_rng(3).integers(0, 3, len(units))
    res = alpha_by_group(units, coders, values, groups, level=level)
    for g, r in res.items():
        sel = groups == g
        want = krippendorff_alpha(units[sel], coders[sel], values[sel], level=level)
        assert r.value == pytest.approx(want.value)
        assert (r.n_units, r.n_pairable, r.excluded_units, r.n_coders) == (
            want.n_units,
            want.n_pairable,
            want.excluded_units,
            want.n_coders,
        )
