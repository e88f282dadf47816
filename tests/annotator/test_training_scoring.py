"""Agreement with the reference (training.scoring): α and percent per dimension,
checked against worked examples computed by hand below."""

from __future__ import annotations

import pytest

from annotator.services import codebook_dimensions
from annotator.training.scoring import agreement_with_reference
from tests.factories import make_codebook

pytestmark = pytest.mark.django_db


@pytest.fixture
def dims():
    return codebook_dimensions(make_codebook().pk)


def pairs(dimension: str, reference: list, given: list) -> list:
    return [
        ({dimension: r}, {dimension: g}) for r, g in zip(reference, given, strict=True)
    ]


def test_nominal_alpha_and_percent_by_hand(dims):
    """Reference arms, arms, trade, trade; the coder arms, arms, trade, arms.

    Values pooled: arms 5, trade 3, n = 8. Coincidences: arms-arms 4, trade-trade
    2, arms-trade 1 and trade-arms 1 (the fourth item). Nominal δ = 1 off the
    diagonal: α = 1 - (n - 1) Σ o δ / Σ n_c n_k δ = 1 - 7 × 2 / (2 × 5 × 3)
    = 1 - 14/30 = 8/15 ≈ 0.533. Three items of four match: 75 %.
    """
    result = agreement_with_reference(
        [dims["topic"]],
        pairs("topic", [["arms"], ["arms"], ["trade"], ["trade"]],
              [["arms"], ["arms"], ["trade"], ["arms"]]),
    )["topic"]  # fmt: skip
    assert result.alpha == pytest.approx(8 / 15)
    assert result.percent == pytest.approx(0.75)
    assert (result.n, result.level) == (4, "nominal")
    assert not result.passed
    assert result.reason == "α 0.53 is below the threshold 0.80"


def test_ordinal_alpha_by_hand(dims):
    """Stance (hostile -1 < neutral 0 < friendly 1). Reference hostile, neutral,
    friendly, neutral; the coder the same but friendly on the fourth.

    n_hostile 2, n_neutral 3, n_friendly 3, n = 8. Ordinal δ²(c, k) =
    (Σ_{g=c..k} n_g - (n_c + n_k)/2)²: neutral-friendly (6 - 3)² = 9,
    hostile-neutral (5 - 2.5)² = 6.25, hostile-friendly (8 - 2.5)² = 30.25.
    Observed: the fourth item, 2 × 9 = 18. Expected: 2 × (2·3·6.25 + 2·3·30.25 +
    3·3·9) = 600. α = 1 - 7 × 18 / 600 = 0.79: just under 0.80.
    """
    result = agreement_with_reference(
        [dims["stance"]],
        pairs("stance", [["hostile"], ["neutral"], ["friendly"], ["neutral"]],
              [["hostile"], ["neutral"], ["friendly"], ["friendly"]]),
    )["stance"]  # fmt: skip
    assert result.alpha == pytest.approx(0.79)
    assert result.level == "ordinal"
    assert not result.passed
    passed = agreement_with_reference(
        [dims["stance"]],
        pairs("stance", [["hostile"], ["neutral"], ["friendly"], ["neutral"]],
              [["hostile"], ["neutral"], ["friendly"], ["friendly"]]),
        min_alpha=0.75,
    )["stance"]  # fmt: skip
    assert passed.passed and passed.reason == ""


def test_a_multi_choice_dimension_is_set_valued_by_hand(dims):
    """Tags (multi-choice): one rating per item, the set chosen (empty if none),
    MASI distance. Reference {}, {quote}, {}, {quote, number}; the coder the same
    but {quote} on the fourth.

    n: {} 4, {quote} 3, {quote, number} 1; n = 8. MASI d = 1 - Jaccard ×
    monotonicity: d({}, anything) = 1, d({quote}, {quote, number}) = 1 - ½ × ⅔ = ⅔.
    Observed: 2 × ⅔ = 4/3. Expected: 2 × (4·3·1 + 4·1·1 + 3·1·⅔) = 36.
    α = 1 - 7 × (4/3) / 36 = 1 - 28/108 ≈ 0.741. Percent: 3 of 4 sets equal.
    """
    result = agreement_with_reference(
        [dims["tags"]],
        pairs("tags", [[], ["quote"], [], ["quote", "number"]],
              [[], ["quote"], [], ["quote"]]),
    )["tags"]  # fmt: skip
    assert result.level == "set"
    assert result.alpha == pytest.approx(1 - 28 / 108)
    assert result.percent == pytest.approx(0.75)


def test_perfect_agreement_with_variation_passes(dims):
    result = agreement_with_reference(
        [dims["topic"]],
        pairs("topic", [["arms"], ["trade"]], [["arms"], ["trade"]]),
    )["topic"]
    assert (result.alpha, result.percent, result.passed) == (1.0, 1.0, True)


def test_no_variation_leaves_alpha_undefined_and_fails_in_words(dims):
    """Every item arms, every answer arms: D_e = 0, α undefined, though all match."""
    result = agreement_with_reference(
        [dims["topic"]], pairs("topic", [["arms"]] * 3, [["arms"]] * 3)
    )["topic"]
    assert result.alpha is None and result.percent == 1.0
    assert not result.passed
    assert "undefined" in result.reason and "variation" in result.reason


def test_nothing_to_compare_fails_in_words(dims):
    result = agreement_with_reference(
        [dims["stance"]], [({"topic": ["arms"]}, {"topic": ["arms"]})]
    )["stance"]
    assert (result.alpha, result.percent, result.n) == (None, None, 0)
    assert not result.passed and "no item" in result.reason


def test_the_percent_threshold_applies_when_set(dims):
    """The nominal example: α 8/15 clears 0.5, but 75 % misses 80 %."""
    result = agreement_with_reference(
        [dims["topic"]],
        pairs("topic", [["arms"], ["arms"], ["trade"], ["trade"]],
              [["arms"], ["arms"], ["trade"], ["arms"]]),
        min_alpha=0.5,
        min_percent=0.8,
    )["topic"]  # fmt: skip
    assert not result.passed
    assert result.reason == "agreement 75% is below the required 80%"


def test_results_are_kept_as_json(dims):
    result = agreement_with_reference(
        [dims["topic"]], pairs("topic", [["arms"]], [["arms"]])
    )["topic"]
    assert set(result.as_json()) == {
        "alpha", "percent", "n", "level", "passed", "reason",
    }  # fmt: skip
