"""Kappa-family coefficients against published values (Gwet 2014 / irrCAC, Fleiss
1971, SAS, the irr R package)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    percent_agreement,
    scott_pi,
)

from . import published as pub

COEFFICIENTS = {
    "pa": percent_agreement,
    "fleiss": fleiss_kappa,
    "conger": conger_kappa,
    "gwet": gwet_ac1,
    "bp": brennan_prediger,
}

# (data set, weights, coefficient, p_a, p_e, value), 3 decimals, as published in
# the irrCAC test suite / Gwet (2014) for the missing-ratings formulas.
IRRCAC_RAW = [
    ("RAW_4RATERS", "identity", "fleiss", 0.818, 0.239, 0.761),
    ("RAW_4RATERS", "identity", "conger", 0.818, 0.233, 0.763),
    ("RAW_4RATERS", "identity", "gwet", 0.818, 0.190, 0.775),
    ("RAW_4RATERS", "identity", "bp", 0.818, 0.200, 0.773),
    ("RAW_4RATERS", "linear", "fleiss", 0.939, 0.667, 0.818),
    ("RAW_4RATERS", "linear", "conger", 0.939, 0.675, 0.814),
    ("RAW_4RATERS", "linear", "gwet", 0.939, 0.571, 0.859),
    ("RAW_4RATERS", "linear", "bp", 0.939, 0.600, 0.848),
    ("RAW_4RATERS", "quadratic", "fleiss", 0.975, 0.818, 0.865),
    ("RAW_4RATERS", "quadratic", "conger", 0.975, 0.827, 0.858),
    ("RAW_4RATERS", "quadratic", "gwet", 0.975, 0.714, 0.914),
    ("RAW_4RATERS", "quadratic", "bp", 0.975, 0.750, 0.902),
    ("RAW_5OBSERVERS", "identity", "fleiss", 0.616, 0.291, 0.458),
    ("RAW_5OBSERVERS", "identity", "conger", 0.616, 0.276, 0.469),
    ("RAW_5OBSERVERS", "identity", "gwet", 0.616, 0.236, 0.497),
    ("RAW_5OBSERVERS", "identity", "bp", 0.616, 0.250, 0.487),
    ("RAW_G1G2", "identity", "fleiss", 0.744, 0.252, 0.657),
    ("RAW_G1G2", "identity", "conger", 0.744, 0.249, 0.659),
    ("RAW_G1G2", "identity", "gwet", 0.744, 0.187, 0.685),
    ("RAW_G1G2", "identity", "bp", 0.744, 0.200, 0.679),
    ("RAW_GENDER", "identity", "fleiss", 0.456, 0.375, 0.129),
    ("RAW_GENDER", "identity", "conger", 0.456, 0.347, 0.166),
    ("RAW_GENDER", "identity", "gwet", 0.456, 0.312, 0.208),
    ("RAW_GENDER", "identity", "bp", 0.456, 0.333, 0.183),
    ("RAW_BEN_GERRY", "identity", "fleiss", 0.727, 0.222, 0.649),
    ("RAW_BEN_GERRY", "identity", "conger", 0.727, 0.205, 0.657),
    ("RAW_BEN_GERRY", "identity", "gwet", 0.727, 0.194, 0.661),
    ("RAW_BEN_GERRY", "identity", "bp", 0.727, 0.200, 0.659),
]


@pytest.mark.parametrize(
    ("dataset", "weights", "name", "pa", "pe", "value"), IRRCAC_RAW
)
def test_gwet_2014_missing_ratings_examples(dataset, weights, name, pa, pe, value):
    units, coders, values = pub.wide_to_long(getattr(pub, dataset))
    r = COEFFICIENTS[name](units, coders, values, weights=weights)
    assert (round(r.observed, 3), round(r.expected, 3), round(r.value, 3)) == (
        pa,
        pe,
        value,
    )
    pa_only = percent_agreement(units, coders, values, weights=weights)
    assert round(pa_only.value, 3) == pa


def test_raw_4raters_counts():
    units, coders, values = pub.wide_to_long(pub.RAW_4RATERS)
    r = fleiss_kappa(units, coders, values)
    assert (r.n_units, r.n_pairable, r.n_coders, r.excluded_units) == (11, 40, 4, 1)


def test_gwet_4raters_five_decimals():
    # irrCAC documentation: AC1 = 0.77544 (pe 0.19032), Fleiss = 0.76117.
    units, coders, values = pub.wide_to_long(pub.RAW_4RATERS)
    assert round(gwet_ac1(units, coders, values).value, 5) == 0.77544
    assert round(gwet_ac1(units, coders, values).expected, 5) == 0.19032
    assert round(fleiss_kappa(units, coders, values).value, 5) == 0.76117


def test_fleiss_1971_diagnoses():
    data = pub.FLEISS_1971
    units = np.repeat(np.arange(len(data)), data.shape[1])
    coders = np.tile(np.arange(data.shape[1]), len(data))
    r = fleiss_kappa(units, coders, data.ravel())
    assert round(r.value, 3) == 0.430
    assert r.value == pytest.approx(0.4302445, abs=1e-7)  # irr::kappam.fleiss


def test_wikipedia_fleiss_example():
    units, coders, values = pub.counts_to_long(pub.WIKIPEDIA_FLEISS)
    assert round(fleiss_kappa(units, coders, values).value, 3) == 0.210


@pytest.mark.parametrize(
    ("weights", "expected"), [("identity", 0.4842), ("linear", 0.4701)]
)
def test_cohen_sas_example(weights, expected):
    units, coders, values = pub.table_to_long(pub.SAS_TABLE)
    assert (
        round(cohen_kappa(units, coders, values, weights=weights).value, 4) == expected
    )


@pytest.mark.parametrize(
    ("weights", "expected"),
    [("identity", -0.006289308), ("linear", 0.1459075), ("quadratic", 0.2520325)],
)
def test_cohen_irr_anxiety(weights, expected):
    n = len(pub.ANXIETY_RATER2)
    units = list(range(n)) * 2
    coders = ["r2"] * n + ["r3"] * n
    values = pub.ANXIETY_RATER2 + pub.ANXIETY_RATER3
    r = cohen_kappa(units, coders, values, weights=weights)
    assert r.value == pytest.approx(expected, abs=1e-7)


# Gwet (2014) two-rater tables (irrCAC table tests): Cohen, Scott, AC1/AC2.
TABLES = [
    ("CONT3X3_ABSTRACTORS", "identity", 0.796, 0.796, 0.849),
    ("CONT3X3_ABSTRACTORS", "linear", 0.843, 0.843, 0.900),
    ("CONT3X3_ABSTRACTORS", "quadratic", 0.892, 0.892, 0.940),
    ("CONT4X4_DIAGNOSIS", "identity", 0.432, 0.430, 0.456),
    ("CONT4X4_DIAGNOSIS", "linear", 0.407, 0.406, 0.377),
    ("CONT4X4_DIAGNOSIS", "quadratic", 0.383, 0.382, 0.299),
]


@pytest.mark.parametrize(("table", "weights", "cohen", "scott", "gwet"), TABLES)
def test_two_rater_tables(table, weights, cohen, scott, gwet):
    units, coders, values = pub.table_to_long(getattr(pub, table))
    assert round(cohen_kappa(units, coders, values, weights=weights).value, 3) == cohen
    assert round(scott_pi(units, coders, values, weights=weights).value, 3) == scott
    assert round(gwet_ac1(units, coders, values, weights=weights).value, 3) == gwet


def test_two_complete_coders_identities():
    # Complete two-coder data: Conger = Cohen and Scott = Fleiss (Gwet 2014).
    units, coders, values = pub.table_to_long(pub.CONT4X4_DIAGNOSIS)
    for w in ("identity", "linear", "quadratic"):
        cohen = cohen_kappa(units, coders, values, weights=w).value
        assert conger_kappa(units, coders, values, weights=w).value == pytest.approx(
            cohen
        )
        fleiss = fleiss_kappa(units, coders, values, weights=w).value
        assert scott_pi(units, coders, values, weights=w).value == pytest.approx(fleiss)


def test_gwet_names_and_ac2_alias():
    units, coders, values = pub.wide_to_long(pub.RAW_4RATERS)
    assert gwet_ac1(units, coders, values).coefficient == "gwet_ac1"
    weighted = gwet_ac1(units, coders, values, weights="quadratic")
    assert weighted.coefficient == "gwet_ac2"
    assert gwet_ac2(units, coders, values).value == weighted.value


def test_declared_categories_change_q():
    units, coders, values = pub.wide_to_long(pub.RAW_4RATERS)
    r = brennan_prediger(
        units, coders, values, categories=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    )
    assert r.expected == pytest.approx(0.1)
    with pytest.raises(ValueError, match="value 7 is not one of"):
        fleiss_kappa([1, 1], ["a", "b"], [7, 1], categories=[1, 2])


def test_custom_weight_matrix():
    units, coders, values = pub.wide_to_long(pub.RAW_4RATERS)
    w = np.eye(5)
    assert fleiss_kappa(units, coders, values, weights=w).value == pytest.approx(
        fleiss_kappa(units, coders, values).value
    )
    with pytest.raises(ValueError, match="5 x 5"):
        fleiss_kappa(units, coders, values, weights=np.eye(3))
    with pytest.raises(ValueError, match="weights must be one of"):
        fleiss_kappa(units, coders, values, weights="cubic")


def test_cohen_needs_two_coders_and_uses_shared_units():
    with pytest.raises(ValueError, match="exactly two coders"):
        cohen_kappa([1, 1, 1], ["a", "b", "c"], [1, 1, 1])
    units, coders, values = pub.wide_to_long(pub.RAW_BEN_GERRY)
    r = cohen_kappa(units, coders, values)
    assert (r.n_units, r.excluded_units, r.n_pairable) == (11, 1, 22)


def test_set_values_are_categories():
    units = [1, 1, 2, 2, 3, 3]
    coders = ["a", "b"] * 3
    sets = [{"x"}, {"x"}, ("x", "y"), ["y", "x"], {"z"}, {"y"}]
    labels = ["x", "x", "xy", "xy", "z", "y"]
    for f in (
        fleiss_kappa,
        conger_kappa,
        scott_pi,
        gwet_ac1,
        brennan_prediger,
        cohen_kappa,
    ):
        assert f(units, coders, sets).value == pytest.approx(
            f(units, coders, labels).value
        )
    with pytest.raises(ValueError, match="identity"):
        fleiss_kappa(units, coders, sets, weights="linear")


def test_undefined_cases_are_nan():
    # One category only: chance agreement is 1, kappa undefined.
    for f in (fleiss_kappa, conger_kappa, scott_pi, gwet_ac1, cohen_kappa):
        assert math.isnan(f([1, 1, 2, 2], ["a", "b"] * 2, ["x"] * 4).value)
    r = fleiss_kappa([1, 2], ["a", "b"], ["x", "y"])  # nobody shares a unit
    assert math.isnan(r.value) and r.n_units == 0 and r.excluded_units == 2
