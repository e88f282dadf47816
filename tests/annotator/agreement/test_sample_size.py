"""The pre-registration helper: Krippendorff's minimum, Gwet's precision, power."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from annotator.agreement import krippendorff_alpha
from annotator.agreement.coder_model import Design, simulate
from annotator.agreement.sample_size import (
    gwet_units,
    pairable_values_needed,
    plan,
    power_sigma,
)


@pytest.mark.parametrize(
    ("min_alpha", "categories", "values"),
    [(0.667, 2, 60), (0.667, 4, 81), (0.800, 4, 139)],
)
def test_krippendorffs_minimum_is_the_tabulated_one(min_alpha, categories, values):
    p = plan(0.9, min_alpha, categories)
    assert (
        p.krippendorff_values
        == values
        == pairable_values_needed(min_alpha, 1 / categories)
    )
    assert p.krippendorff_units == math.ceil(values / 2)
    assert f"{values:,} pairable values" in p.krippendorff_text


def test_gwets_precision_is_one_over_the_squared_margin():
    assert gwet_units(0.10) == 100
    assert gwet_units(0.05) == 400
    assert dict(plan(0.9, 0.8, 3).gwet_units) == {0.10: 100, 0.05: 400}
    assert "100 units" in plan(0.9, 0.8, 3).gwet_text


def test_the_power_answer_follows_its_formula_and_is_reproducible():
    p = plan(0.9, 0.8, 2)
    z = NormalDist().inv_cdf(0.95) + NormalDist().inv_cdf(0.80)
    assert p.power_units == math.ceil((z * p.power_sigma / 0.1) ** 2)
    assert plan(0.9, 0.8, 2).power_units == p.power_units  # seeded
    # A wider gap needs fewer units; more power needs more.
    assert plan(0.9, 0.7, 2).power_units < p.power_units
    assert plan(0.9, 0.8, 2, power=0.9).power_units > p.power_units


def test_the_simulated_spread_matches_the_engines_alpha():
    """sigma_1 from the helper's vectorised alphas against the engine's alpha on
    independently drawn studies of the same model."""
    design = Design(200, 2, (0.5, 0.5), 0.9)
    rng = np.random.default_rng(7)
    alphas = [
        krippendorff_alpha(*simulate(design, rng), level="nominal").value
        for _ in range(400)
    ]
    engine_sigma = np.std(alphas, ddof=1) * math.sqrt(200)
    assert power_sigma(0.9, 2, 2) == pytest.approx(engine_sigma, rel=0.15)


def test_the_recommendation_is_the_larger_answer_with_its_reason():
    for args in [(0.9, 0.8, 2), (0.9, 0.667, 3), (0.85, 0.8, 4)]:
        p = plan(*args)
        assert p.recommended_units == max(p.krippendorff_units, p.power_units)
        word = "power" if p.power_units > p.krippendorff_units else "Krippendorff"
        assert p.reason.startswith(("the " + word, word))


def test_no_power_answer_when_the_target_is_the_minimum():
    p = plan(0.8, 0.8, 4)
    assert p.power_units is None
    assert p.recommended_units == p.krippendorff_units == 70
    assert "No power answer" in p.power_text


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0.9, 0.8, 1), "n_categories"),
        ((0.7, 0.8, 2), "min_alpha"),
        ((0.9, 0.8, 2, 1), "coders"),
    ],
)
def test_bad_assumptions_name_the_argument(args, field):
    with pytest.raises(ValueError, match=field):
        plan(*args)


def test_counts_read_as_words_one_unit_and_thousands_separated():
    # The page printed "Code at least 5101 units" and "the power answer (1 units)".
    tiny = plan(0.99, 0.01, 2)
    assert tiny.power_units == 1
    assert "the power answer (1 unit)" in tiny.reason
    assert "1 unit gives the 95 % lower bound" in tiny.power_text
    big = plan(0.96, 0.95, 2)
    assert big.recommended_units > 1000
    assert big.recommended_text == f"{big.recommended_units:,} units"
