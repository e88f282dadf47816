"""Unit bootstrap of Krippendorff's alpha."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement import bootstrap_alpha, krippendorff_alpha
from annotator.agreement.alpha import alpha_parts, encode_for_alpha
from annotator.agreement.bootstrap import resample_tables

from .published import KRIPPENDORFF_2011, wide_to_long

LEVELS = ("nominal", "ordinal", "interval", "ratio", "set")


def _data(seed: int, level: str, n_units: int = 150):
    rng = np.random.default_rng(seed)
    units = np.repeat(np.arange(n_units), 3)
    coders = np.tile(np.arange(3), n_units)
    truth = np.repeat(rng.integers(1, 6, n_units), 3)
    values = np.where(
        rng.random(3 * n_units) < 0.7, truth, rng.integers(1, 6, 3 * n_units)
    )
    keep = rng.random(3 * n_units) < 0.8
    units, coders, values = units[keep], coders[keep], values[keep]
    if level == "set":
        values = [
            frozenset({int(v), int(v) + 1}) if v % 2 else frozenset({int(v)})
            for v in values
        ]
    return units, coders, values


@pytest.mark.parametrize("level", LEVELS)
def test_resample_of_every_unit_once_reproduces_the_estimate(level):
    units, coders, values = _data(1, level)
    parts = alpha_parts(
        encode_for_alpha(units, coders, values, level=level, categories=None), level
    )
    tables = resample_tables(parts)
    # Drawing every unit exactly once: each type as often as it has units.
    got = tables.alphas(tables.types.size[None, :].astype(float))
    assert got[0] == pytest.approx(
        krippendorff_alpha(units, coders, values, level=level).value
    )


@pytest.mark.parametrize("level", LEVELS)
def test_ci_contains_estimate_and_is_reproducible(level):
    units, coders, values = _data(2, level)
    r = bootstrap_alpha(units, coders, values, level=level, n_resamples=400, seed=7)
    assert r.ci_low <= r.estimate.value <= r.ci_high
    assert r.n_valid == 400 and len(r.samples) == 400
    again = bootstrap_alpha(units, coders, values, level=level, n_resamples=400, seed=7)
    assert (again.ci_low, again.ci_high) == (r.ci_low, r.ci_high)
    assert np.all(r.samples <= 1.0)


def test_p_below_and_confidence():
    units, coders, values = _data(3, "nominal")
    r = bootstrap_alpha(units, coders, values, minimums=(0.0, 0.5, 0.667, 0.8, 1.01))
    assert r.p_below[0.0] <= r.p_below[0.5] <= r.p_below[0.667] <= r.p_below[0.8]
    assert r.p_below[1.01] == 1.0
    assert r.p_below[0.5] == pytest.approx(np.mean(r.samples < 0.5))
    narrow = bootstrap_alpha(units, coders, values, confidence=0.5)
    assert r.ci_low <= narrow.ci_low <= narrow.ci_high <= r.ci_high
    d = r.to_dict()
    assert "samples" not in d and d["estimate"]["value"] == r.estimate.value


def test_bootstrap_on_published_data_and_degenerate_input():
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    r = bootstrap_alpha(units, coders, values, level="interval", n_resamples=2000)
    assert round(r.estimate.value, 3) == 0.849
    assert r.ci_low < 0.849 < r.ci_high <= 1.0
    empty = bootstrap_alpha([1, 2], ["a", "b"], [1, 2])
    assert math.isnan(empty.estimate.value) and math.isnan(empty.ci_low)
    assert empty.n_valid == 0 and math.isnan(empty.p_below[0.8])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_alpha(units, coders, values, confidence=95)


def test_many_distinct_unit_types_use_the_index_draw_path():
    rng = np.random.default_rng(4)
    n = 3000  # continuous values: every unit is its own type (> multinomial limit)
    a = rng.normal(size=n)
    b = a + rng.normal(scale=0.5, size=n)
    units = np.concatenate([np.arange(n), np.arange(n)])
    coders = np.repeat([0, 1], n)
    r = bootstrap_alpha(
        units, coders, np.concatenate([a, b]), level="interval", n_resamples=300
    )
    assert r.ci_low <= r.estimate.value <= r.ci_high
    assert 0.01 < r.ci_high - r.ci_low < 0.2


@pytest.mark.parametrize("n_categories", [4, 2000])
def test_units_with_equal_value_counts_share_a_type(n_categories):
    # 4 categories: each unit's counts fit in one integer key; 2000 categories
    # with 8 coders per unit do not, and the row-wise unique is used instead.
    rng = np.random.default_rng(5)
    n_units, n_coders = 300, 8
    base = rng.integers(0, n_categories, (40, n_coders))  # 40 distinct patterns
    pattern = rng.integers(0, 40, n_units)
    table = base[pattern]
    units = np.repeat(np.arange(n_units), n_coders)
    coders = np.tile(np.arange(n_coders), n_units)
    values = table.ravel()
    parts = alpha_parts(
        encode_for_alpha(units, coders, values, level="nominal", categories=None),
        "nominal",
    )
    types = resample_tables(parts).types
    signature = [tuple(sorted(row)) for row in table]
    seen: dict = {}
    for unit, t in enumerate(types.of_unit):
        assert seen.setdefault(signature[unit], t) == t
    assert len(set(types.of_unit.tolist())) == len(set(signature))
    assert types.size.sum() == n_units


def _kappa_data(seed: int = 2):
    rng = np.random.default_rng(seed)
    n = 120
    units = np.repeat(np.arange(n), 3)
    coders = np.tile(np.arange(3), n)
    truth = np.repeat(rng.integers(1, 5, n), 3)
    values = np.where(rng.random(3 * n) < 0.7, truth, rng.integers(1, 5, 3 * n))
    keep = rng.random(3 * n) < 0.6  # missing ratings and single-rated units
    return units[keep], coders[keep], values[keep]


@pytest.mark.parametrize("weights", ["identity", "quadratic"])
def test_kappa_bootstrap_of_the_sample_itself_is_the_estimate(monkeypatch, weights):
    # A "resample" that draws every unit exactly once must give the point
    # estimates: this pins the per-type sums to the coefficients' formulas.
    from annotator.agreement import kappa_bootstrap as boot
    from annotator.agreement.coded import encode, kappa_family

    class Exact:
        def __init__(self, seed):
            pass

        def multinomial(self, n, p, size):
            return np.tile(np.rint(np.asarray(p) * n), (size, 1))

    coded = encode(*_kappa_data(), level="auto")
    monkeypatch.setattr(boot.np.random, "default_rng", Exact)
    got = boot.bootstrap_kappa_family(coded, weights, n_resamples=3)
    want = kappa_family(coded, weights)
    for name in boot.KAPPA_INTERVALS:
        low, high = got[name]
        assert low == pytest.approx(want[name].value)
        assert high == pytest.approx(want[name].value)


def test_kappa_bootstrap_intervals_bracket_the_estimates():
    from annotator.agreement.coded import (
        KAPPA_INTERVALS,
        bootstrap_kappa_family,
        encode,
        kappa_family,
    )

    coded = encode(*_kappa_data(), level="auto")
    a = bootstrap_kappa_family(coded, "linear", n_resamples=400, seed=1)
    assert a == bootstrap_kappa_family(coded, "linear", n_resamples=400, seed=1)
    want = kappa_family(coded, "linear")
    for name in KAPPA_INTERVALS:
        low, high = a[name]
        assert low < want[name].value < high
        assert high - low < 0.5
    empty = encode([1], ["a"], [1], level="auto")
    assert all(
        math.isnan(x) for pair in bootstrap_kappa_family(empty).values() for x in pair
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unit_types_numbered_as_numpy_unique_numbers_them(seed):
    # Most keys small (one-entry units), a few large: same ids and first units.
    from annotator.agreement.uniques import first_and_inverse

    rng = np.random.default_rng(seed)
    small = 21
    key = np.where(
        rng.random(5_000) < 0.8,
        rng.integers(0, small, 5_000),
        small + rng.integers(0, 10**12, 5_000) % (50 if seed else 10**12),
    )
    _, want_first, want_inverse = np.unique(key, return_index=True, return_inverse=True)
    first, inverse = first_and_inverse(key, small)
    np.testing.assert_array_equal(first, want_first)
    np.testing.assert_array_equal(inverse, want_inverse.ravel())


def test_progress_counts_the_resamples_done_without_changing_the_draws(monkeypatch):
    from annotator.agreement import bootstrap as module
    from annotator.agreement.coded import bootstrap_from_parts

    units, coders, values = _data(3, "nominal")
    coded = encode_for_alpha(units, coders, values, level="nominal", categories=None)
    parts = alpha_parts(coded, "nominal")
    monkeypatch.setattr(module, "_BATCH_CELLS", 1000)  # several batches
    plain = bootstrap_from_parts(parts, n_resamples=250, seed=5)
    done: list[int] = []
    reported = bootstrap_from_parts(
        parts, n_resamples=250, seed=5, progress=done.append
    )
    assert len(done) > 1 and done == sorted(done) and done[-1] == 250
    assert (reported.ci_low, reported.ci_high) == (plain.ci_low, plain.ci_high)
    assert reported.p_below == plain.p_below
