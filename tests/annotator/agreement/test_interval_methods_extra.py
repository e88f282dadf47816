"""The log-jackknife interval and its withholding rule on few disagreements."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement.coded import (
    alpha_from_parts,
    alpha_parts,
    encode,
    kappa_family,
    kappa_tables,
)
from annotator.agreement.interval_methods_extra import (
    MIN_DISAGREEING_UNITS,
    alpha_unit_disagreements,
    disagreeing_units,
    kappa_disagreeing_units,
    log_jackknife,
    withheld_reason,
)
from annotator.agreement.intervals_by_method import (
    alpha_intervals,
    kappa_family_intervals,
)

Z = 1.959963984540054


def _two_coders(first, second, **kw):
    """A coding of len(first) units by coders 0 and 1."""
    n = len(first)
    units = np.repeat(np.arange(n), 2)
    coders = np.tile([0, 1], n)
    values = np.ravel(np.column_stack([first, second]))
    return encode(units, coders, values, **kw)


def _hand_log_jackknife(estimate, leave_one_out):
    """log(1 - estimate) -+ z * the ordinary jackknife SE, mapped back."""
    phi = np.log(1.0 - np.asarray(leave_one_out))
    n = len(phi)
    se = math.sqrt((n - 1) / n * float(np.sum((phi - phi.mean()) ** 2)))
    centre = math.log(1.0 - estimate)
    return 1.0 - math.exp(centre + Z * se), 1.0 - math.exp(centre - Z * se)


FIRST = [0, 0, 1, 1, 0, 1, 0, 1, 0, 1]
SECOND = [0, 0, 1, 1, 0, 1, 1, 0, 1, 1]  # units 6, 7 and 8 disagree


def test_disagreeing_units_count_units_or_unit_types():
    assert disagreeing_units(np.array([0, 1, 0.25, 0, 1.0])) == 3
    assert disagreeing_units(np.array([0.0, 0.0])) == 0
    # Per unit type: 4 units that disagree and 2 that do not.
    assert disagreeing_units(np.array([1.0, 0.0]), np.array([4, 2])) == 4


def test_alpha_unit_disagreements_are_the_numerator_of_observed_disagreement():
    parts = alpha_parts(_two_coders(FIRST, SECOND, level="nominal"), "nominal")
    d_u = alpha_unit_disagreements(parts)
    assert list(np.flatnonzero(d_u)) == [6, 7, 8]
    assert disagreeing_units(d_u) == 3


def test_alpha_log_jackknife_equals_the_hand_computation():
    coded = _two_coders(FIRST, SECOND, level="nominal")
    estimate = alpha_from_parts(alpha_parts(coded, "nominal")).value

    def alpha_without(unit):
        keep = [u for u in range(len(FIRST)) if u != unit]
        left = _two_coders(
            [FIRST[u] for u in keep], [SECOND[u] for u in keep], level="nominal"
        )
        return alpha_from_parts(alpha_parts(left, "nominal")).value

    low, high = _hand_log_jackknife(
        estimate, [alpha_without(u) for u in range(len(FIRST))]
    )
    got = alpha_intervals(coded, "nominal", n_resamples=50, seed=1)["logjack"]
    assert got.holds and got.method == "logjack" and got.reason == ""
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-6)
    assert got.low < estimate < got.high


def test_percent_agreement_log_jackknife_equals_the_hand_computation():
    coded = _two_coders(FIRST, SECOND)
    p_a = kappa_family(coded, "identity")["percent_agreement"].value
    assert p_a == pytest.approx(0.7)
    # Leaving out a disagreeing unit gives 7/9, an agreeing one 6/9.
    leave_one_out = [7 / 9 if u in (6, 7, 8) else 6 / 9 for u in range(10)]
    low, high = _hand_log_jackknife(p_a, leave_one_out)
    got = kappa_family_intervals(coded, n_resamples=20)["percent_agreement"]
    assert (got["logjack"].low, got["logjack"].high) == pytest.approx((low, high))


def test_kappa_disagreeing_units_count_pairable_units_whatever_the_weights():
    # Five points; four neighbouring disagreements, one across the scale, and a
    # single-coded unit that cannot disagree.
    first = [0, 1, 2, 3, 0] + [2] * 15
    second = [1, 2, 3, 4, 4] + [2] * 15
    coded = _two_coders(first, second, categories=[0, 1, 2, 3, 4])
    assert kappa_disagreeing_units(kappa_tables(coded, "quadratic")) == 5
    assert kappa_disagreeing_units(kappa_tables(coded, "identity")) == 5


def test_one_disagreement_withholds_the_interval_with_words():
    first = [0] * 10 + [1] * 10
    second = list(first)
    second[3] = 1
    coded = _two_coders(first, second, level="nominal")
    got = alpha_intervals(coded, "nominal", n_resamples=50)["logjack"]
    assert not got.holds and math.isnan(got.low) and math.isnan(got.high)
    assert got.reason == withheld_reason(1)
    assert "too few disagreements (1 unit disagrees)" in got.reason
    family = kappa_family_intervals(coded, n_resamples=50)
    assert not any(m["logjack"].holds for m in family.values())


def test_no_disagreement_withholds_and_two_equal_ones_hold():
    first = [0] * 10 + [1] * 10
    same = alpha_intervals(_two_coders(first, first, level="nominal"), "nominal")
    assert not same["logjack"].holds
    assert same["logjack"].reason == withheld_reason(0)
    second = list(first)
    second[3], second[15] = 1, 0
    two = alpha_intervals(_two_coders(first, second, level="nominal"), "nominal")
    assert two["logjack"].holds
    assert -1.0 <= two["logjack"].low < two["logjack"].high <= 1.0


def test_the_threshold_decides_and_the_reason_names_the_level():
    jack = np.array([0.7, 0.8, 0.75, 0.72])
    assert MIN_DISAGREEING_UNITS == 2
    assert log_jackknife(0.75, jack, 2).holds
    below = log_jackknife(0.75, jack, 1)
    assert not below.holds and "(1 unit disagrees)" in below.reason
    assert log_jackknife(0.75, jack, 3, min_disagreeing=4).reason == (
        withheld_reason(3)
    )
    assert "(3 units disagree)" in withheld_reason(3)
    assert "90 % interval" in log_jackknife(0.75, jack, 1, 0.9).reason


def test_a_group_holding_every_disagreement_or_an_undefined_value_withholds():
    assert not log_jackknife(0.9, np.array([0.9, 1.0, 0.85]), 3).holds
    undefined = log_jackknife(0.9, np.array([0.9, np.nan, 0.85]), 3)
    assert not undefined.holds and "left out" in undefined.reason
    assert not log_jackknife(math.nan, np.array([0.9, 0.8]), 3).holds


def test_the_interval_is_asymmetric_toward_lower_agreement():
    jack = np.array([0.95, 0.9, 0.93, 0.92, 0.94, 0.91])
    got = log_jackknife(0.92, jack, 5)
    assert got.low < 0.92 < got.high <= 1.0
    assert 0.92 - got.low > got.high - 0.92


def test_logjack_score_falls_back_to_the_score_interval_on_one_disagreement():
    first = [0] * 10 + [1] * 10
    second = list(first)
    second[3] = 1
    coded = _two_coders(first, second, level="nominal")
    alpha = alpha_intervals(coded, "nominal", n_resamples=50)
    got, score = alpha["logjack_score"], alpha["score"]
    assert got.holds and (got.low, got.high) == (score.low, score.high)
    assert got.method == "score"  # named for the method that made it
    withheld = withheld_reason(1)
    assert got.reason == (
        f"the score interval, as the log-jackknife one is withheld ({withheld})"
    )
    for methods in kappa_family_intervals(coded, n_resamples=50).values():
        fallback = methods["logjack_score"]
        assert fallback.holds and fallback.low == methods["score"].low


def test_logjack_score_is_the_log_jackknife_interval_when_that_holds():
    coded = _two_coders(FIRST, SECOND, level="nominal")
    alpha = alpha_intervals(coded, "nominal", n_resamples=50)
    both = alpha["logjack_score"], alpha["logjack"]
    assert both[0].method == "logjack"
    assert [(i.low, i.high, i.reason) for i in both] == [
        (both[1].low, both[1].high, "")
    ] * 2
