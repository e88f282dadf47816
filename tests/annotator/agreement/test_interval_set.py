"""dimension_intervals: each coefficient by its policy method, from one draw."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.agreement.coded import alpha_parts, bootstrap_from_parts, encode
from annotator.agreement.interval_policy import METHOD, NAME, describe, made_by
from annotator.agreement.interval_set import (
    KAPPA_POLICY_METHODS,
    KAPPA_RESAMPLED,
    dimension_intervals,
    resamples_drawn,
)
from annotator.agreement.intervals_by_method import (
    RESAMPLED,
    alpha_intervals,
    kappa_family_intervals,
)
from annotator.agreement.kappa_bootstrap import KappaTables
from annotator.agreement_report.intervals import VERSION, interval_set, to_stored
from tests.annotator.agreement.test_intervals_by_method import _ratings


@pytest.mark.parametrize(
    ("level", "weights", "gwet"),
    [("nominal", "identity", "gwet_ac1"), ("ordinal", "quadratic", "gwet_ac2")],
)
def test_each_coefficient_gets_its_policy_method_on_the_shared_resamples(
    level, weights, gwet
):
    coded = encode(*_ratings(80, seed=4, single=0.2), level=level)
    parts = alpha_parts(coded, level)
    got = dimension_intervals(parts, weights, n_resamples=300, seed=5)
    assert set(got.intervals) == {
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        gwet,
        "brennan_prediger",
    }
    for name, method in got.methods.items():
        assert method in made_by(METHOD[name]), name
    alpha = alpha_intervals(coded, level, n_resamples=300, seed=5, parts=parts)
    assert got.intervals["krippendorff_alpha"] == alpha[METHOD["krippendorff_alpha"]]
    kappa = kappa_family_intervals(coded, weights, n_resamples=300, seed=5)
    for name, by_method in kappa.items():
        key = gwet if name == "gwet" else name
        assert got.intervals[key] == by_method[METHOD[key]], key
    boot = bootstrap_from_parts(parts, n_resamples=300, seed=5)
    assert got.p_below == boot.p_below and got.n_valid == boot.n_valid
    assert (got.n_resamples, got.seed, got.confidence) == (300, 5, 0.95)


def test_too_few_disagreements_give_the_score_interval_with_the_reason():
    # Every pairable unit agrees: the jackknife has nothing to spread, so the
    # log-jackknife interval is withheld and the score interval given instead.
    units = np.repeat(np.arange(30), 2)
    coders = np.tile([0, 1], 30)
    values = np.repeat(np.arange(30) % 3, 2)
    parts = alpha_parts(encode(units, coders, values), "nominal")
    got = dimension_intervals(parts, "identity", n_resamples=200, seed=0)
    alpha = got.intervals["krippendorff_alpha"]
    assert alpha.holds and alpha.method == "score"
    assert "0 units disagree" in alpha.reason
    assert got.notes["krippendorff_alpha"] == alpha.reason
    assert alpha.low < 1.0 == alpha.high


def test_a_withheld_interval_has_nan_bounds_and_its_reason():
    # No unit coded twice: no interval of any method, and the words say why.
    parts = alpha_parts(
        encode(np.arange(10), np.zeros(10), np.arange(10) % 2), "nominal"
    )
    got = dimension_intervals(parts, "identity", n_resamples=50, seed=0)
    alpha = got.intervals["krippendorff_alpha"]
    assert not alpha.holds and alpha.reason
    assert got.notes["krippendorff_alpha"] == alpha.reason
    assert all(math.isnan(x) for x in got.bounds()["krippendorff_alpha"])


def test_progress_counts_the_resamples_drawn():
    parts = alpha_parts(encode(*_ratings(40, seed=1)), "nominal")
    seen: list[int] = []
    dimension_intervals(
        parts, "identity", n_resamples=100, seed=0, progress=seen.append
    )
    assert seen[-1] == resamples_drawn(100) and 100 in seen


def test_the_kappa_bootstrap_is_drawn_only_when_the_policy_reads_it(monkeypatch):
    # The policy's methods (log-jackknife, score) read no resample: the kappa
    # family's 1,000 draws would be work for nothing, and are not made.
    assert any(m in RESAMPLED for m in KAPPA_POLICY_METHODS) == KAPPA_RESAMPLED
    assert resamples_drawn(100) == (200 if KAPPA_RESAMPLED else 100)
    parts = alpha_parts(encode(*_ratings(60, seed=4)), "nominal")
    every = kappa_family_intervals(parts.coded, n_resamples=200, seed=5)
    draws = []
    real_draw = KappaTables.draw
    monkeypatch.setattr(
        KappaTables, "draw", lambda self, *a: draws.append(a) or real_draw(self, *a)
    )
    got = dimension_intervals(parts, "identity", n_resamples=200, seed=5)
    assert bool(draws) == KAPPA_RESAMPLED
    for name, interval in got.intervals.items():
        if name != "krippendorff_alpha":
            family_name = "gwet" if name.startswith("gwet") else name
            assert interval == every[family_name][METHOD[name]], name


def test_the_stored_form_reads_back_to_the_same_set():
    parts = alpha_parts(encode(*_ratings(60, seed=2, single=0.1)), "nominal")
    got = dimension_intervals(parts, "identity", n_resamples=200, seed=3)
    stored = to_stored(got, "nominal")
    assert stored["version"] == VERSION == 2
    assert stored["kappa"]["fleiss_kappa"]["method"] in made_by(METHOD["fleiss_kappa"])
    assert interval_set(stored) == got


def test_every_policy_method_has_a_name_and_a_description():
    for policy in set(METHOD.values()):
        assert describe(policy, 1000)
        for method in made_by(policy):
            assert NAME[method] and describe(method, 1000)
    assert describe("bca", 1000) == (
        "BCa bootstrap (Efron 1987), 1,000 resamples of units"
    )
    with pytest.raises(ValueError, match="unknown interval method 'x'"):
        describe("x", 1000)
