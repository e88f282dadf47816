"""The grouped jackknife on the engine's tables, and each interval method per figure."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement import bootstrap_alpha, krippendorff_alpha
from annotator.agreement.bootstrap import resample_tables
from annotator.agreement.coded import (
    alpha_parts,
    bootstrap_kappa_family,
    encode,
    kappa_family,
    kappa_tables,
)
from annotator.agreement.interval_methods import (
    jackknife_groups,
    jackknife_values,
    wilson,
)
from annotator.agreement.interval_policy import made_by
from annotator.agreement.intervals_by_method import (
    ALPHA_METHODS,
    KAPPA_METHODS,
    alpha_intervals,
    kappa_family_intervals,
)

SCALE = (1, 2, 3, 4)


def _ratings(n_units, seed, n_coders=3, missing=0.2, single=0.0):
    """Agreeing-ish ratings on SCALE; ``single`` units keep only one rating."""
    rng = np.random.default_rng(seed)
    units = np.repeat(np.arange(n_units), n_coders)
    coders = np.tile(np.arange(n_coders), n_units)
    truth = np.repeat(rng.integers(1, 5, n_units), n_coders)
    values = np.where(
        rng.random(len(units)) < 0.7, truth, rng.integers(1, 5, len(units))
    )
    keep = rng.random(len(units)) >= missing
    lone = np.repeat(rng.random(n_units) < single, n_coders) & (coders > 0)
    keep &= ~lone
    return units[keep], coders[keep], values[keep]


def _without(units, coders, values, removed):
    keep = ~np.isin(units, removed)
    return units[keep], coders[keep], values[keep]


def test_groups_are_balanced_seeded_and_single_units_up_to_200():
    assert list(jackknife_groups(7, seed=3)) == list(range(7))
    g = jackknife_groups(1001, seed=3)
    sizes = np.bincount(g)
    assert len(sizes) == 200 and sizes.max() - sizes.min() <= 1
    assert (g == jackknife_groups(1001, seed=3)).all()
    assert not (g == jackknife_groups(1001, seed=4)).all()
    strata = np.arange(1001) < 300
    gs = jackknife_groups(1001, seed=3, strata=strata)
    per_group = np.bincount(gs[strata], minlength=200)
    assert per_group.max() - per_group.min() <= 1  # each group its share


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("n_units", [40, 450])
def test_alpha_jackknife_rows_equal_alpha_with_the_group_deleted(level, n_units):
    units, coders, values = _ratings(n_units, seed=n_units)
    coded = encode(units, coders, values, level=level, categories=SCALE)
    parts = alpha_parts(coded, level)
    tables = resample_tables(parts)
    of_unit = tables.types.of_unit
    groups = jackknife_groups(len(of_unit), seed=11)
    jack = jackknife_values(tables.alphas, of_unit, tables.types.size, groups)
    assert len(jack) == min(len(of_unit), 200)
    # Local unit order of the tables: pairable unit codes, sorted.
    labels = coded.unit_labels[np.unique(parts.entries.unit)]
    for g in (0, 1, len(jack) // 2, len(jack) - 1):
        removed = labels[groups == g]
        expected = krippendorff_alpha(
            *_without(units, coders, values, removed), level=level, categories=SCALE
        ).value
        assert jack[g] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_units", [40, 450])
def test_kappa_jackknife_rows_equal_the_family_with_the_group_deleted(n_units):
    units, coders, values = _ratings(n_units, seed=n_units, single=0.3)
    coded = encode(units, coders, values, categories=SCALE)
    tables = kappa_tables(coded, "quadratic")
    strata = tables.pairable[tables.of_unit]
    groups = jackknife_groups(len(tables.of_unit), seed=2, strata=strata)
    rows = []
    jackknife_values(
        lambda m: rows.append(tables.values(m)) or np.zeros(len(m)),
        tables.of_unit,
        tables.size,
        groups,
    )
    labels = coded.unit_labels[tables.units]
    for g in (0, 7, int(groups.max())):
        rest = _without(units, coders, values, labels[groups == g])
        family = kappa_family(encode(*rest, categories=SCALE), "quadratic")
        for name in ("percent_agreement", "fleiss_kappa", "gwet", "brennan_prediger"):
            got = np.concatenate([r[name] for r in rows])[g]
            assert got == pytest.approx(family[name].value, abs=1e-12)


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_alpha_intervals_share_the_engines_percentile_interval(level):
    units, coders, values = _ratings(12, seed=1, n_coders=3, missing=0.1)
    coded = encode(units, coders, values, level=level, categories=SCALE)
    got = alpha_intervals(coded, level, n_resamples=300, seed=9)
    boot = bootstrap_alpha(
        units, coders, values, level=level, categories=SCALE, n_resamples=300, seed=9
    )
    assert tuple(got) == ALPHA_METHODS
    assert (got["percentile"].low, got["percentile"].high) == (
        boot.ci_low,
        boot.ci_high,
    )
    for method, interval in got.items():
        assert interval.method in made_by(method)
        assert interval.holds, interval.reason
        assert interval.low <= boot.estimate.value <= interval.high or method == "bca"


@pytest.mark.parametrize("weights", ["identity", "quadratic"])
def test_kappa_family_intervals_share_the_engines_percentile_intervals(weights):
    units, coders, values = _ratings(15, seed=4, n_coders=3, missing=0.1, single=0.2)
    coded = encode(units, coders, values, categories=SCALE)
    got = kappa_family_intervals(coded, weights, n_resamples=300, seed=9)
    engine = bootstrap_kappa_family(coded, weights, n_resamples=300, seed=9)
    assert set(got) == set(engine)
    for name, methods in got.items():
        assert tuple(methods) == KAPPA_METHODS
        p = methods["percentile"]
        assert (p.low, p.high) == engine[name]
        assert methods["bca"].method == "bca"


def test_bca_on_real_alpha_is_reproducible_and_holds():
    units, coders, values = _ratings(300, seed=8)
    coded = encode(units, coders, values, level="nominal")
    a = alpha_intervals(coded, "nominal", n_resamples=400, seed=3)
    b = alpha_intervals(coded, "nominal", n_resamples=400, seed=3)
    assert a == b and a["bca"].holds
    assert (
        a["bca"].low < krippendorff_alpha(units, coders, values).value < a["bca"].high
    )


def test_nothing_to_resample_gives_intervals_that_do_not_hold():
    coded = encode([1, 2, 3], ["a", "a", "a"], ["x", "y", "x"], level="nominal")
    alpha = alpha_intervals(coded, "nominal", n_resamples=50)
    assert not any(i.holds for i in alpha.values())
    assert all("two or more coders" in i.reason for i in alpha.values())
    family = kappa_family_intervals(coded, n_resamples=50)
    assert not any(i.holds for m in family.values() for i in m.values())


@pytest.mark.parametrize("weights", ["identity", "quadratic"])
@pytest.mark.parametrize(("n_coders", "missing"), [(2, 0.0), (3, 0.25)])
def test_kappa_score_intervals_contain_the_estimates(weights, n_coders, missing):
    units, coders, values = _ratings(60, seed=n_coders, n_coders=n_coders)
    coded = encode(units, coders, values, categories=SCALE)
    family = kappa_family(coded, weights)
    got = kappa_family_intervals(coded, weights, n_resamples=50, seed=1)
    for name, methods in got.items():
        s = methods["score"]
        assert s.holds and s.method == "score"
        assert -1.0 <= s.low <= family[name].value <= s.high <= 1.0


def test_kappa_score_interval_for_two_coders_uses_the_units_as_n():
    units, coders, values = _ratings(50, seed=3, n_coders=2, missing=0.0)
    coded = encode(units, coders, values, categories=SCALE)
    p_a = kappa_family(coded, "identity")["percent_agreement"].value
    low, high = wilson(1 - p_a, 50)
    s = kappa_family_intervals(coded, n_resamples=10)["percent_agreement"]["score"]
    assert (s.low, s.high) == pytest.approx((1 - high, 1 - low))


def test_kappa_score_interval_with_full_agreement_says_how_n_was_taken():
    units = np.repeat(np.arange(40), 2)
    coded = encode(units, np.tile([0, 1], 40), np.repeat(np.arange(40) % 3, 2))
    got = kappa_family_intervals(coded, n_resamples=20)
    s = got["fleiss_kappa"]["score"]
    assert s.holds and s.high == 1.0 and s.low < 1.0
    assert "40 pairable units" in s.reason
