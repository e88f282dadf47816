"""Krippendorff's alpha against Krippendorff (2011) and the `krippendorff` package."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest

from annotator.agreement import krippendorff_alpha, masi_distance

from .published import KRIPPENDORFF_2011, wide_to_long

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_published_values(level, expected):
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    result = krippendorff_alpha(units, coders, values, level=level)
    assert round(result.value, 3) == expected
    # 12 units, one of them (unit 12) rated once; 40 pairable values.
    assert result.n_units == 11
    assert result.excluded_units == 1
    assert result.n_pairable == 40
    assert result.n_coders == 4


def test_krippendorff_2011_as_ordered_labels():
    # Same data as labels; the order comes from `categories`.
    names = ["very low", "low", "mid", "high", "very high"]
    cols = {
        k: [None if v is None else names[v - 1] for v in col]
        for k, col in KRIPPENDORFF_2011.items()
    }
    units, coders, values = wide_to_long(cols)
    ordinal = krippendorff_alpha(
        units, coders, values, level="ordinal", categories=names
    )
    interval = krippendorff_alpha(
        units, coders, values, level="interval", categories=names
    )
    assert round(ordinal.value, 3) == 0.815
    assert round(interval.value, 3) == 0.849  # positions 1..5 equal the values
    # Without categories the labels sort alphabetically: a different scale.
    other = krippendorff_alpha(units, coders, values, level="ordinal")
    assert round(other.value, 3) != 0.815
    assert round(krippendorff_alpha(units, coders, values).value, 3) == 0.743


def test_numeric_strings_sort_numerically():
    units = [1, 1, 2, 2, 3, 3, 4, 4]
    coders = ["a", "b"] * 4
    numbers = [1, 2, 2, 2, 10, 10, 1, 1]
    text = [str(v) for v in numbers]
    for level in ("ordinal", "interval", "ratio"):
        a = krippendorff_alpha(units, coders, numbers, level=level).value
        b = krippendorff_alpha(units, coders, text, level=level).value
        assert a == pytest.approx(b)


def _random_reliability_data(seed: int, level: str):
    rng = np.random.default_rng(seed)
    n_coders, n_units = rng.integers(2, 6), rng.integers(5, 60)
    if level == "nominal":
        domain = np.arange(rng.integers(2, 6))
    else:
        domain = np.sort(
            rng.choice(np.arange(1, 40), size=rng.integers(3, 8), replace=False)
        )
    truth = rng.choice(domain, size=n_units)
    noise = rng.choice(domain, size=(n_coders, n_units))
    data = np.where(rng.random((n_coders, n_units)) < 0.6, truth, noise).astype(float)
    data[rng.random((n_coders, n_units)) < 0.3] = np.nan
    return data


def _long(data):
    coders, units = np.nonzero(~np.isnan(data))
    return units, coders, data[coders, units]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(8))
def test_matches_krippendorff_package_on_random_data(level, seed):
    data = _random_reliability_data(seed, level)
    units, coders, values = _long(data)
    ours = krippendorff_alpha(units, coders, values, level=level).value
    try:
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    except ValueError:  # the package refuses degenerate data; we return nan
        assert math.isnan(ours)
        return
    assert ours == pytest.approx(float(theirs), abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_declared_unused_categories_match_value_domain(level):
    data = _random_reliability_data(3, level)
    units, coders, values = _long(data)
    domain = sorted(set(values.tolist()) | {99.0, 100.0})
    ours = krippendorff_alpha(
        units, coders, values, level=level, categories=domain
    ).value
    theirs = krippendorff.alpha(
        reliability_data=data, value_domain=domain, level_of_measurement=level
    )
    assert ours == pytest.approx(float(theirs), abs=1e-9)


def test_perfect_agreement_is_one_and_constant_data_is_undefined():
    units, coders = [1, 1, 2, 2, 3, 3], ["a", "b"] * 3
    for level in LEVELS:
        assert (
            krippendorff_alpha(units, coders, [1, 1, 2, 2, 3, 3], level=level).value
            == 1
        )
        assert math.isnan(krippendorff_alpha(units, coders, [4] * 6, level=level).value)


def test_counts_and_no_pairable_units():
    # unit 1: 3 ratings, unit 2: 2 ratings, units 3 and 4: 1 rating each.
    units = [1, 1, 1, 2, 2, 3, 4]
    coders = ["a", "b", "c", "a", "b", "a", "c"]
    values = ["x", "x", "y", "y", "y", "x", "y"]
    r = krippendorff_alpha(units, coders, values)
    assert (r.n_units, r.n_pairable, r.excluded_units, r.n_coders) == (2, 5, 2, 3)
    lonely = krippendorff_alpha([1, 2], ["a", "b"], ["x", "y"])
    assert math.isnan(lonely.value)
    assert (lonely.n_units, lonely.n_pairable, lonely.excluded_units) == (0, 0, 2)
    assert set(r.to_dict()) >= {
        "value",
        "coefficient",
        "n_units",
        "n_pairable",
        "n_coders",
        "excluded_units",
    }


def test_missing_values_are_absent_ratings():
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    full = krippendorff_alpha(units, coders, values, level="interval").value
    padded = krippendorff_alpha(
        units + [12, 12],
        coders + ["A", "C"],
        values + [None, float("nan")],
        level="interval",
    ).value
    assert padded == pytest.approx(full)


def test_duplicate_rating_is_rejected():
    with pytest.raises(ValueError, match="more than once"):
        krippendorff_alpha([1, 1, 1], ["a", "a", "b"], [1, 2, 1])


def test_unknown_category_and_level_are_rejected():
    with pytest.raises(ValueError, match="'z' is not one of the declared categories"):
        krippendorff_alpha([1, 1], ["a", "b"], ["x", "z"], categories=["x", "y"])
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([1, 1], ["a", "b"], ["x", "y"], level="cardinal")


# --- set-valued data (MASI, Passonneau 2006) -------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"x"}, {"x"}, 0.0),  # identical
        ({"x", "y"}, {"x"}, 1 - 0.5 * 2 / 3),  # subset: J = 1/2, M = 2/3
        ({"x", "y"}, {"x", "z"}, 1 - (1 / 3) * (1 / 3)),  # overlap: J = 1/3, M = 1/3
        ({"x"}, {"y"}, 1.0),  # disjoint
        (set(), set(), 0.0),
    ],
)
def test_masi_distance(a, b, expected):
    assert masi_distance(a, b) == pytest.approx(expected)
    assert masi_distance(b, a) == pytest.approx(expected)


def test_set_alpha_with_singletons_equals_nominal_alpha():
    units, coders, values = wide_to_long(KRIPPENDORFF_2011)
    sets = [frozenset([v]) for v in values]
    r = krippendorff_alpha(units, coders, sets, level="set")
    assert r.value == pytest.approx(krippendorff_alpha(units, coders, values).value)


def test_set_alpha_by_hand():
    # Two units, two coders. Unit 1: {a,b} vs {a}; unit 2: {c} vs {c}.
    # Pairable values: {a,b},{a},{c},{c} (n = 4); o({a,b},{a}) = o({a},{a,b}) = 1,
    # o({c},{c}) = 2. d({a,b},{a}) = 1 - 1/2 * 2/3 = 2/3, d(x,{c}) = 1 otherwise.
    units, coders = [1, 1, 2, 2], ["p", "q", "p", "q"]
    values = [["a", "b"], ("a",), {"c"}, frozenset({"c"})]
    r = krippendorff_alpha(units, coders, values, level="set")
    observed = 2 * (2 / 3)
    expected = 2 * (2 / 3) + 2 * 2 * 1 + 2 * 2 * 1  # sum_ck n_c n_k d_ck
    assert r.value == pytest.approx(1 - 3 * observed / expected)
    with pytest.raises(ValueError, match="label 'c'"):
        krippendorff_alpha(units, coders, values, level="set", categories=["a", "b"])


@pytest.mark.parametrize("level", ("nominal", *LEVELS[1:]))
def test_spellings_of_one_number_are_one_value(level):
    # "1" and "1.0" are the same number: every level must treat them as equal,
    # exactly as it treats the numbers themselves.
    units = [1, 1, 2, 2, 3, 3, 4, 4]
    coders = ["a", "b"] * 4
    text = ["1", "1.0", "2", " 2", "3", "3.00", "1", "2"]
    numbers = [1, 1, 2, 2, 3, 3, 1, 2]
    got = krippendorff_alpha(units, coders, text, level=level)
    want = krippendorff_alpha(units, coders, numbers, level=level)
    assert got.value == pytest.approx(want.value)
    assert got.n_pairable == want.n_pairable == 8


@pytest.mark.parametrize("spread", [1, 100_000])
def test_integer_ids_code_like_np_unique(spread):
    # Dense ids (a lookup table) and sparse ones (a sort) give the same codes.
    from annotator.agreement.uniques import code_integers

    rng = np.random.default_rng(spread)
    ids = rng.integers(-50, 400, 1000) * spread
    labels, codes = code_integers(ids)
    want_labels, want_codes = np.unique(ids, return_inverse=True)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_array_equal(codes, want_codes)
