"""The log-jackknife interval, its variance floor and its withholding rule."""

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
    alpha_variance_floor,
    chance_spread,
    disagreeing_units,
    kappa_disagreeing_units,
    kappa_variance_floor,
    log_jackknife,
    variance_floor,
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


def _hand_log_jackknife(estimate, leave_one_out, floor=1.0):
    """The jackknife's bias-corrected log(1 - estimate) -+ z * the ordinary
    jackknife SE (its variance times ``floor``), mapped back."""
    phi = np.log(1.0 - np.asarray(leave_one_out))
    n = len(phi)
    se = math.sqrt(floor * (n - 1) / n * float(np.sum((phi - phi.mean()) ** 2)))
    centre = n * math.log(1.0 - estimate) - (n - 1) * phi.mean()
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


def test_the_centre_is_the_jackknife_bias_corrected_log_disagreement():
    # Leaving a unit out raises log(1 - theta) on average (the log of a small
    # disagreement sum runs low), so the corrected centre lies above it and
    # the interval below the plain one.
    jack = np.array([0.95, 0.9, 0.93, 0.92, 0.94, 0.91])
    phi = np.log1p(-jack)
    centre = 6 * math.log1p(-0.92) - 5 * phi.mean()
    se = math.sqrt(5 / 6 * float(np.sum((phi - phi.mean()) ** 2)))
    got = log_jackknife(0.92, jack, 5)
    assert got.low == pytest.approx(1 - math.exp(centre + Z * se))
    assert got.high == pytest.approx(1 - math.exp(centre - Z * se))


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


def test_chance_spread_is_one_plus_the_squared_cv_of_chance_disagreement_sizes():
    # Sizes 1, 4, 9 met with weights .5, .3, .2 (a zero size or weight is no
    # disagreement): mean 3.5, mean square 21.5.
    size = np.array([1.0, 4.0, 9.0, 0.0, 16.0])
    weight = np.array([0.5, 0.3, 0.2, 0.4, 0.0])
    assert chance_spread(size, weight) == pytest.approx(21.5 / 3.5**2)
    assert chance_spread(np.ones(6), np.arange(1.0, 7.0)) == 1.0
    assert chance_spread(np.zeros(3), np.ones(3)) == 1.0


def test_the_variance_floor_raises_only_where_the_sample_is_more_even_than_chance():
    # Three equal disagreements: the sample's own spread is 1.
    assert variance_floor(np.array([0.0, 1.0, 1.0, 1.0]), 2.0) == 2.0
    # Sizes 1 and 4 over 2 units: own spread 2 * 17 / 25.
    assert variance_floor(np.array([0.0, 1.0, 4.0]), 1.5) == pytest.approx(
        1.5 / (2 * 17 / 25)
    )
    # As unequal as chance or more, or nothing seen: no change.
    assert variance_floor(np.array([1.0, 9.0]), 1.2) == 1.0
    assert variance_floor(np.zeros(4), 3.0) == 1.0
    # Unit types: 3 units of size 1 and one of size 4 (own spread 4 * 19 / 49).
    got = variance_floor(np.array([1.0, 4.0, 0.0]), 2.0, np.array([3, 1, 9]))
    assert got == pytest.approx(2.0 / (4 * 19 / 49))


# Five points; the sample's disagreements are all between neighbours (a small
# reliability sample that happens to hold no distant one).
NEAR_FIRST = [0, 1, 2, 3, 2, 1] + [0, 1, 2, 2, 2, 3, 4] * 4
NEAR_SECOND = [1, 2, 3, 4, 1, 0] + [0, 1, 2, 2, 2, 3, 4] * 4
SCALE = [0, 1, 2, 3, 4]


def test_nominal_data_never_raise_the_jackknife_variance():
    coded = _two_coders(NEAR_FIRST, NEAR_SECOND, level="nominal", categories=SCALE)
    assert alpha_variance_floor(alpha_parts(coded, "nominal")) == 1.0
    assert kappa_variance_floor(kappa_tables(coded, "identity")) == 1.0
    three = encode(
        np.repeat(np.arange(4), 3),
        np.tile([0, 1, 2], 4),
        [0, 0, 1, 1, 1, 1, 0, 1, 1, 2, 2, 2],
    )
    assert alpha_variance_floor(alpha_parts(three, "nominal")) == 1.0


def test_near_disagreements_on_a_weighted_scale_widen_the_interval():
    coded = _two_coders(NEAR_FIRST, NEAR_SECOND, level="ordinal", categories=SCALE)
    parts = alpha_parts(coded, "ordinal")
    floor = alpha_variance_floor(parts)
    assert floor > 1.0
    got = alpha_intervals(coded, "ordinal", n_resamples=20)["logjack"]
    groups = len(NEAR_FIRST)
    leave_one_out = [
        alpha_from_parts(
            alpha_parts(
                _two_coders(
                    NEAR_FIRST[:u] + NEAR_FIRST[u + 1 :],
                    NEAR_SECOND[:u] + NEAR_SECOND[u + 1 :],
                    level="ordinal",
                    categories=SCALE,
                ),
                "ordinal",
            )
        ).value
        for u in range(groups)
    ]
    estimate = alpha_from_parts(parts).value
    assert (got.low, got.high) == pytest.approx(
        _hand_log_jackknife(estimate, leave_one_out, floor), rel=1e-6
    )
    plain = _hand_log_jackknife(estimate, leave_one_out)
    assert got.low < plain[0] and got.high > plain[1]
    tables = kappa_tables(coded, "quadratic")
    assert kappa_variance_floor(tables) > 1.0
    family = kappa_family_intervals(coded, "quadratic", methods=("logjack",))
    assert all(m["logjack"].holds for m in family.values())
