"""The coder model's closed-form population values against one large simulated study."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement import cohen_kappa, krippendorff_alpha
from annotator.agreement.coded import encode, kappa_family
from annotator.agreement.coder_model import Design, population_values, simulate

FAMILIES = {
    "binary, 2 coders": Design(400_000, 2, (0.5, 0.5), 0.8),
    "nominal, 3 coders, 25% missing": Design(
        400_000, 3, (0.7, 0.2, 0.1), 0.667, missing=0.25
    ),
    "ordinal-5 quadratic, 5 coders, 25% missing": Design(
        200_000, 5, (0.1, 0.2, 0.4, 0.2, 0.1), 0.9, missing=0.25, level="ordinal"
    ),
}


@pytest.mark.parametrize("name", FAMILIES)
def test_a_large_study_matches_the_population_values(name):
    design = FAMILIES[name]
    units, coders, values = simulate(design, np.random.default_rng(17))
    truth = population_values(design)
    cats = design.categories
    seen = {
        "krippendorff_alpha": krippendorff_alpha(
            units, coders, values, level=design.level, categories=cats
        ).value
    }
    coded = encode(units, coders, values, categories=cats)
    for key, result in kappa_family(coded, design.weights).items():
        seen[key] = result.value
    if design.n_coders == 2:
        seen["cohen_kappa"] = cohen_kappa(
            units, coders, values, categories=cats, weights=design.weights
        ).value
    assert set(seen) <= set(truth)
    for key, value in seen.items():
        assert value == pytest.approx(truth[key], abs=0.005), key


def test_population_values_in_closed_form():
    binary = population_values(Design(50, 2, (0.5, 0.5), 0.81))
    # p_a = r^2 + (1 - r^2) * .5; Gwet's p_e = 2/2 * .5 = .5 = BP's p_e = 2/4.
    assert binary["percent_agreement"] == pytest.approx(0.905)
    assert binary["gwet"] == pytest.approx(0.81)
    assert binary["brennan_prediger"] == pytest.approx(0.81)
    skewed = population_values(Design(50, 2, (0.7, 0.2, 0.1), 0.64))
    pa = 0.64 + 0.36 * (0.49 + 0.04 + 0.01)
    pe = 3 / 6 * (0.7 * 0.3 + 0.2 * 0.8 + 0.1 * 0.9)
    assert skewed["gwet"] == pytest.approx((pa - pe) / (1 - pe))
    assert skewed["brennan_prediger"] == pytest.approx((pa - 1 / 3) / (1 - 1 / 3))
    assert skewed["fleiss_kappa"] == skewed["krippendorff_alpha"] == 0.64


def test_simulate_drops_missing_ratings_and_keeps_the_scale():
    design = Design(1_000, 3, (0.1, 0.2, 0.4, 0.2, 0.1), 0.8, 0.25, "ordinal")
    units, coders, values = simulate(design, np.random.default_rng(0))
    assert len(units) == len(coders) == len(values)
    assert 0.7 < len(units) / 3_000 < 0.8
    assert values.min() >= 0 and values.max() < design.q
    with pytest.raises(ValueError):
        Design(10, 2, (0.5, 0.6), 0.8)
