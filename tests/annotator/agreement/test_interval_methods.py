"""Percentile, BCa and score intervals as pure functions of resamples and parts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement import krippendorff_alpha
from annotator.agreement.alpha import alpha_parts, encode_for_alpha
from annotator.agreement.interval_methods import (
    acceleration,
    bca,
    bias_correction,
    percentile,
    score_alpha,
    wilson,
)


def _parts(units, coders, values, level="nominal"):
    coded = encode_for_alpha(units, coders, values, level=level, categories=None)
    return alpha_parts(coded, level)


def _agreeing(n_units, n_coders, rng, p_agree=0.8, q=3, missing=0.0):
    units = np.repeat(np.arange(n_units), n_coders)
    coders = np.tile(np.arange(n_coders), n_units)
    truth = np.repeat(rng.integers(0, q, n_units), n_coders)
    values = np.where(
        rng.random(len(units)) < p_agree, truth, rng.integers(0, q, len(units))
    )
    keep = rng.random(len(units)) >= missing
    return units[keep], coders[keep], values[keep]


def test_bca_is_the_percentile_interval_when_z0_and_a_are_zero():
    theta = 0.7
    steps = np.linspace(0.001, 0.2, 500)
    # Symmetric about the estimate, one resample on it (counted half): z0 = 0.
    resampled = np.concatenate([theta - steps, [theta], theta + steps])
    jack = np.concatenate([theta - steps[:40], theta + steps[:40]])  # a = 0
    assert bias_correction(resampled, theta) == 0.0
    assert acceleration(jack) == pytest.approx(0.0, abs=1e-15)
    p, b = percentile(resampled, theta), bca(resampled, theta, jack)
    assert p.holds and b.holds and (p.method, b.method) == ("percentile", "bca")
    assert b.low == pytest.approx(p.low, abs=1e-9)
    assert b.high == pytest.approx(p.high, abs=1e-9)


def test_bca_moves_the_interval_of_a_right_skewed_mean_to_the_right():
    # The mean of exponential data: the textbook case (Efron 1987, sec. 2) where
    # the percentile interval sits too far left; z0 > 0 and a > 0 push it right.
    rng = np.random.default_rng(5)
    x = rng.exponential(1.0, 25)
    idx = rng.integers(0, len(x), size=(4000, len(x)))
    resampled = x[idx].mean(axis=1)
    jack = (x.sum() - x) / (len(x) - 1)
    assert bias_correction(resampled, x.mean()) > 0
    assert acceleration(jack) > 0
    p, b = percentile(resampled, x.mean()), bca(resampled, x.mean(), jack)
    assert b.low > p.low and b.high > p.high


def test_negative_acceleration_moves_the_interval_left():
    theta = 0.0
    resampled = np.linspace(-1, 1, 2001)  # z0 = 0
    skewed = np.array([0.0] * 20 + [3.0])  # one far value: d's skewed
    assert acceleration(skewed) < 0
    p, b = percentile(resampled, theta), bca(resampled, theta, skewed)
    assert b.low < p.low and b.high < p.high


def test_bca_does_not_hold_when_every_resample_is_on_one_side():
    b = bca(np.array([0.8, 0.9, 0.95]), 0.5, np.array([0.4, 0.5, 0.6]))
    assert not b.holds and math.isnan(b.low) and math.isnan(b.high)
    assert "every resample lies above the estimate" in b.reason
    below = bca(np.array([0.1, 0.2]), 0.5, np.array([0.4, 0.5, 0.6]))
    assert not below.holds and "below the estimate" in below.reason


def test_bca_does_not_hold_when_the_jackknife_variance_is_zero():
    b = bca(np.array([0.4, 0.5, 0.6]), 0.5, np.full(10, 0.5))
    assert not b.holds and "jackknife variance is 0" in b.reason


def test_bca_does_not_hold_when_a_jackknife_value_is_undefined():
    b = bca(np.array([0.4, 0.5, 0.6]), 0.5, np.array([0.4, np.nan, 0.6]))
    assert not b.holds and "undefined with some units left out" in b.reason


def test_no_defined_resample_holds_no_interval():
    for interval in (
        percentile(np.full(5, np.nan), 0.5),
        bca(np.full(5, np.nan), 0.5, np.array([0.4, 0.6])),
    ):
        assert not interval.holds and "no resample" in interval.reason


def test_percentile_drops_undefined_resamples_as_the_engine_does():
    values = np.array([np.nan, 0.1, 0.2, 0.3, np.nan, 0.4])
    p = percentile(values, 0.25, confidence=0.5)
    assert (p.low, p.high) == tuple(np.quantile([0.1, 0.2, 0.3, 0.4], [0.25, 0.75]))


def test_confidence_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="confidence"):
        percentile(np.array([0.1]), 0.1, confidence=1.0)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize(("n_coders", "missing"), [(2, 0.0), (3, 0.25), (5, 0.3)])
def test_score_interval_contains_the_estimate_and_stays_in_minus_one_one(
    level, n_coders, missing
):
    rng = np.random.default_rng(n_coders)
    for p_agree in (0.2, 0.7, 0.95):
        u, c, v = _agreeing(40, n_coders, rng, p_agree=p_agree, missing=missing)
        s = score_alpha(_parts(u, c, v, level))
        value = krippendorff_alpha(u, c, v, level=level).value
        assert s.holds and s.method == "score"
        assert -1.0 <= s.low <= value <= s.high <= 1.0


def test_score_interval_for_two_coders_uses_the_units_as_n():
    rng = np.random.default_rng(2)
    u, c, v = _agreeing(50, 2, rng, p_agree=0.85, q=2)
    parts = _parts(u, c, v)
    r = krippendorff_alpha(u, c, v)
    # Two coders, nominal: D_o is the share of disagreeing units, n_eff = 50.
    low, high = wilson(r.observed, 50)
    s = score_alpha(parts)
    assert s.low == pytest.approx(1 - high / r.expected)
    assert s.high == pytest.approx(1 - low / r.expected)


def test_score_interval_with_no_disagreement_says_how_n_was_taken():
    units = np.repeat(np.arange(30), 2)
    coders = np.tile([0, 1], 30)
    values = np.repeat(np.arange(30) % 3, 2)
    s = score_alpha(_parts(units, coders, values))
    assert s.holds and s.high == 1.0 and 0.8 < s.low < 1.0
    assert "30 pairable units" in s.reason


def test_score_interval_does_not_hold_without_variation_or_pairable_units():
    one_category = score_alpha(_parts([1, 1, 2, 2], [1, 2, 1, 2], ["a"] * 4))
    assert not one_category.holds and "one category" in one_category.reason
    single = score_alpha(_parts([1, 2], [1, 1], ["a", "b"]))
    assert not single.holds and "two or more coders" in single.reason
