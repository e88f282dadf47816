"""Small samples: each interval resamples the units its estimate uses, and an
interval that cannot hold is never passed off as one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.agreement import krippendorff_alpha
from annotator.agreement.alpha import alpha_parts
from annotator.agreement.bootstrap import resample_tables
from annotator.agreement.coded import (
    KAPPA_INTERVALS,
    bootstrap_kappa_family,
    encode,
    kappa_family,
    kappa_samples,
    kappa_tables,
)
from annotator.agreement.small_samples import (
    MIN_PAIRABLE_UNITS,
    interval_holds,
    pairable_values_needed,
)


def _two_double_coded(first=(0, 1), second=(1, 2), singles=38, seed=0):
    """Two units coded by both coders plus single-coded units (the issue's shape)."""
    rng = np.random.default_rng(seed)
    units, coders, values = [0, 0, 1, 1], [0, 1, 0, 1], [*first, *second]
    for u in range(2, 2 + singles):
        units.append(u)
        coders.append(u % 2)
        values.append(int(rng.integers(0, 3)))
    return encode(units, coders, values, level="nominal", categories=(0, 1, 2))


def test_every_resample_keeps_the_double_coded_units_of_the_estimate():
    # Before: a resample drew 40 units from all coded ones, so it held a random
    # number of the 2 double-coded units (none in 13% of resamples, which were
    # dropped). Percent agreement uses those units only: with one agreeing and
    # one disagreeing unit its resamples can only be 0, 1/2 or 1, every time.
    coded = _two_double_coded(first=(1, 1), second=(0, 2))
    samples = kappa_samples(coded, n_resamples=2000, seed=3)
    pa = samples["percent_agreement"]
    assert len(pa) == 2000 and np.isfinite(pa).all()
    assert set(np.unique(pa)) <= {0.0, 0.5, 1.0}
    assert np.mean(pa == 0.5) == pytest.approx(0.5, abs=0.05)
    for name in KAPPA_INTERVALS:
        assert np.isfinite(samples[name]).all(), name


def test_the_cause_is_a_one_sided_chance_term_not_the_unit_set():
    # The shape: both double-coded units disagree (p_a = 0 in every
    # resample) and the categories are about equally common overall. Fleiss'
    # p_e = sum pi_k^2 is at its minimum there and Gwet's
    # sum pi_k (1 - pi_k) at its maximum, so every resample moves p_e the same
    # way: all of Fleiss' resamples lie at or below the estimate, all of
    # Gwet's at or above it, and a percentile interval misses or only touches
    # the estimate -- although the resample of every unit once gives the
    # estimate exactly (the units are the same).
    units, coders, values = [0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]
    for i, v in enumerate([0] * 8 + [1] * 8 + [2] * 9):
        units.append(2 + i)
        coders.append(i % 2)
        values.append(v)
    coded = encode(units, coders, values, level="nominal", categories=(0, 1, 2))
    tables = kappa_tables(coded)
    estimate = kappa_family(coded, "identity")
    at_identity = tables.values(tables.size[None, :])
    for name in KAPPA_INTERVALS:
        assert at_identity[name][0] == pytest.approx(estimate[name].value)
    samples = kappa_samples(coded, n_resamples=2000, seed=1)
    fleiss, gwet = estimate["fleiss_kappa"], estimate["gwet"]
    assert (samples["fleiss_kappa"] <= fleiss.value + 1e-12).all()
    assert (samples["gwet"] >= gwet.value - 1e-12).all()
    intervals = bootstrap_kappa_family(coded, n_resamples=2000, seed=1)
    low, high = intervals["fleiss_kappa"]
    assert high == pytest.approx(fleiss.value) and low < fleiss.value - 0.1
    for name in ("fleiss_kappa", "gwet"):
        r = estimate[name]
        assert not interval_holds(r.value, *intervals[name], r.n_units)


def test_threshold_is_krippendorffs_smallest_sample():
    # Krippendorff (2004), Table 11.4 (Bloch & Kraemer 1989): alpha_min = .667,
    # p = .05, the most even split p_c = .5 -> 60 pairable values, 30 units by
    # two coders; and the tabulated 139 for alpha_min = .800, p_c = .25.
    assert pairable_values_needed(0.667, 0.5) == 2 * MIN_PAIRABLE_UNITS
    assert pairable_values_needed(0.800, 0.25) == 139
    assert pairable_values_needed(0.667, 0.25) == 81
    with pytest.raises(ValueError, match="p_c"):
        pairable_values_needed(0.8, 0)


@st.composite
def small_matrices(draw):
    """2-8 double-coded units (2-4 coders each), 0-12 single-coded, 2-4 categories."""
    q = draw(st.integers(2, 4))
    n_coders = draw(st.integers(2, 4))
    units, coders, values = [], [], []
    for u in range(draw(st.integers(1, 8))):
        who = draw(
            st.lists(
                st.integers(0, n_coders - 1), min_size=2, max_size=n_coders, unique=True
            )
        )
        for c in who:
            units.append(u)
            coders.append(c)
            values.append(draw(st.integers(0, q - 1)))
    for u in range(100, 100 + draw(st.integers(0, 12))):
        units.append(u)
        coders.append(draw(st.integers(0, n_coders - 1)))
        values.append(draw(st.integers(0, q - 1)))
    weights = draw(st.sampled_from(["identity", "quadratic"]))
    return units, coders, values, q, weights


@settings(max_examples=150, deadline=None)
@given(small_matrices(), st.integers(0, 2**16))
def test_bootstrap_and_estimate_use_the_same_units(matrix, seed):
    units, coders, values, q, weights = matrix
    level = "nominal" if weights == "identity" else "ordinal"
    coded = encode(units, coders, values, level=level, categories=tuple(range(q)))
    family = kappa_family(coded, weights)
    tables = kappa_tables(coded, weights)
    # The kappa resamples draw from every coded unit ...
    assert sorted(coded.unit_labels[tables.units].tolist()) == sorted(set(units))
    at_identity = tables.values(tables.size[None, :])
    for name in KAPPA_INTERVALS:
        want = family[name].value
        if math.isfinite(want):
            assert at_identity[name][0] == pytest.approx(want, abs=1e-9), name
    # ... keeping as many double-coded and single-coded units as the sample has.
    m = tables.draw(np.random.default_rng(seed), 50)
    n_pairable = tables.size[tables.pairable].sum()
    assert (m[:, tables.pairable].sum(axis=1) == n_pairable).all()
    assert (m.sum(axis=1) == tables.size.sum()).all()
    # Alpha's resamples draw the pairable units only; alpha on them alone is alpha.
    parts = alpha_parts(coded, level)
    pairable = set(coded.unit_labels[np.unique(parts.entries.unit)].tolist())
    assert len(resample_tables(parts).types.of_unit) == len(pairable)
    keep = [i for i, u in enumerate(units) if u in pairable]
    alone = krippendorff_alpha(
        [units[i] for i in keep],
        [coders[i] for i in keep],
        [values[i] for i in keep],
        level=level,
        categories=tuple(range(q)),
    ).value
    full = krippendorff_alpha(
        units, coders, values, level=level, categories=tuple(range(q))
    ).value
    assert alone == pytest.approx(full, nan_ok=True)


@settings(max_examples=150, deadline=None)
@given(small_matrices(), st.integers(0, 2**16))
def test_an_interval_shown_as_holding_contains_its_estimate(matrix, seed):
    units, coders, values, q, weights = matrix
    level = "nominal" if weights == "identity" else "ordinal"
    coded = encode(units, coders, values, level=level, categories=tuple(range(q)))
    family = kappa_family(coded, weights)
    intervals = bootstrap_kappa_family(coded, weights, n_resamples=200, seed=seed)
    for name, (low, high) in intervals.items():
        r = family[name]
        # Every one of these samples is below the minimum: none is shown as holding.
        assert not interval_holds(r.value, low, high, r.n_units)
        # And an interval that misses its estimate never holds, whatever the size.
        if math.isfinite(low) and not low <= r.value <= high:
            assert not interval_holds(r.value, low, high, 10 * MIN_PAIRABLE_UNITS)
