"""Gold-label aggregation maths: hand-made cases per rule, Dawid-Skene on simulated
coders of known accuracy, and properties checked against a naive reference."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.gold_maths import (
    METHODS,
    UNDECIDED,
    GoldInputError,
    GoldRow,
    aggregate,
    aggregate_sets,
    dawid_skene,
    labels_to_indicators,
    majority,
    single,
    unanimous,
)


def ratings(table: dict[int, list[int]]) -> tuple[list[int], list[int], list[int]]:
    """{unit: [value by coder 0, value by coder 1, ...]} as parallel columns."""
    u, c, v = [], [], []
    for unit, vals in table.items():
        for coder, val in enumerate(vals):
            u.append(unit)
            c.append(coder)
            v.append(val)
    return u, c, v


def decided(d) -> dict[int, tuple[int, str]]:
    return {r.unit: (r.value, r.method) for r in d.rows() if r.method is not None}


# ------------------------------------------------------------- simple rules


def test_unanimous_of_three_and_of_two_but_not_one_or_split():
    d = unanimous(*ratings({10: [2, 2, 2], 11: [1, 1], 12: [0], 13: [1, 1, 0]}))
    assert decided(d) == {10: (2, "unanimous"), 11: (1, "unanimous")}
    assert list(d.undecided_units) == [12, 13]
    assert list(d.n_ratings) == [3, 2, 1, 3]


def test_single_takes_the_only_rating_and_nothing_else():
    d = single(*ratings({5: [3], 6: [3, 3], 7: [0]}))
    assert decided(d) == {5: (3, "single"), 7: (0, "single")}


def test_majority_strict_by_default():
    d = majority(
        *ratings(
            {
                1: [0, 0, 1],  # 2 of 3
                2: [0, 0, 1, 1],  # 2-2 tie
                3: [0, 0, 1, 2],  # 2 of 4 = 0.5, not above 0.5
                4: [2, 2, 2, 1],  # 3 of 4
                5: [1],  # one rating is not a majority
            }
        )
    )
    assert decided(d) == {1: (0, "majority"), 4: (2, "majority")}


def test_majority_min_share_boundaries():
    data = ratings({1: [0, 0, 1], 2: [0, 0, 1, 2], 3: [0, 0, 1, 1]})
    assert decided(majority(*data, min_share=2 / 3)) == {}
    assert decided(majority(*data, min_share=2 / 3, inclusive=True)) == {
        1: (0, "majority")
    }
    # at least half: 2 of 4 passes when the mode is unique, a 2-2 tie never does
    assert decided(majority(*data, inclusive=True)) == {
        1: (0, "majority"),
        2: (0, "majority"),
    }
    # plurality: any unique mode
    assert decided(majority(*data, min_share=0.0)) == {
        1: (0, "majority"),
        2: (0, "majority"),
    }
    assert decided(majority(*data, min_share=0.0, min_ratings=1)) == {
        1: (0, "majority"),
        2: (0, "majority"),
    }


def test_majority_rejects_a_share_outside_zero_one():
    with pytest.raises(GoldInputError, match="min_share"):
        majority([1, 1], [1, 2], [0, 0], min_share=1.0)


def test_aggregate_applies_rules_in_order_and_lists_the_undecided():
    data = ratings({1: [0, 0, 0], 2: [1], 3: [2, 2, 0], 4: [0, 1], 5: [1, 0, 2]})
    d = aggregate(*data, 3)
    assert decided(d) == {
        1: (0, "unanimous"),
        2: (1, "single"),
        3: (2, "majority"),
    }
    assert list(d.undecided_units) == [4, 5]
    assert list(d.method_names) == ["unanimous", "single", "majority", None, None]
    assert np.isnan(d.posteriors).all() and d.model is None
    # majority first: the unanimous unit is then decided by majority
    d2 = aggregate(*data, 3, methods=("majority", "unanimous"))
    assert decided(d2) == {1: (0, "majority"), 3: (2, "majority")}


def test_rows_are_plain_python_records():
    (row,) = aggregate([7], [3], [1], 2).rows()
    assert row == GoldRow(unit=7, value=1, method="single", posterior=None, n_ratings=1)
    assert isinstance(row.unit, int) and isinstance(row.value, int)


def test_ids_are_any_integers_and_rows_any_order():
    d = aggregate([900_000_001, 5, 900_000_001], [42, 7, 41], [1, 0, 1], 2)
    assert list(d.units) == [5, 900_000_001]
    assert decided(d) == {5: (0, "single"), 900_000_001: (1, "unanimous")}


def test_empty_input_gives_empty_decisions():
    d = aggregate([], [], [], 3, methods=("unanimous", "single", "model"))
    assert len(d) == 0 and d.model is not None and d.model.posterior.shape == (0, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 1], [2, 2], [0, 1], 2), "coder 2 rated unit 1 more than once"),
        (([1], [2], [3], 3), "value 3 is not a category code 0..2"),
        (([1], [2], [-1], 3), "value -1"),
        (([1, 2], [2], [0, 1], 2), "same length"),
        (([1], [2], [0.5], 2), "values must be integer codes"),
        ((["a"], [2], [0], 2), "units must be integer codes"),
        (([1], [2], [0], 0), "n_categories must be >= 1"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(GoldInputError, match=message):
        aggregate(*args)


def test_unknown_or_repeated_methods_are_rejected():
    for methods in (("unanimous", "vote"), ("single", "single"), ()):
        with pytest.raises(GoldInputError, match="methods must be"):
            aggregate([1], [1], [0], 2, methods=methods)


# ------------------------------------------------------------- Dawid-Skene


def simulate(
    seed: int,
    accuracies: list[float],
    n_categories: int,
    *,
    n_units: int = 2000,
    coverage: float = 1.0,
    adversarial: tuple[int, ...] = (),
):
    """Coders who are right with their accuracy; errors uniform over the other
    categories, or for an adversarial coder always truth + 1 (mod K)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_categories, n_units)
    cols: list[list[np.ndarray]] = [[], [], []]
    for j, acc in enumerate(accuracies):
        units = np.flatnonzero(rng.random(n_units) < coverage)
        t = truth[units]
        shift = (
            np.ones(len(units), np.int64)
            if j in adversarial
            else rng.integers(1, n_categories, len(units))
        )
        said = np.where(rng.random(len(units)) < acc, t, (t + shift) % n_categories)
        for col, x in zip(cols, (units, np.full(len(units), j), said), strict=True):
            col.append(x)
    u, c, v = (np.concatenate(col) for col in cols)
    return truth, u, c, v


def majority_vote_accuracy(truth, u, v, n_categories) -> float:
    """Expected accuracy of plurality vote with ties broken uniformly at random."""
    counts = np.zeros((len(truth), n_categories))
    np.add.at(counts, (u, v), 1)
    top = counts == counts.max(axis=1, keepdims=True)
    return float((top[np.arange(len(truth)), truth] / top.sum(axis=1)).mean())


@pytest.mark.parametrize(
    ("accuracies", "k", "adversarial", "coverage", "min_gain"),
    [
        ([0.8, 0.8, 0.8, 0.8, 0.3], 3, (), 1.0, 0.01),
        ([0.8, 0.8, 0.8, 0.8, 0.3], 4, (), 1.0, 0.01),
        ([0.75, 0.75, 0.2], 3, (2,), 1.0, 0.15),
        ([0.9, 0.6, 0.55, 0.5, 0.45], 3, (), 1.0, 0.08),
        ([0.9, 0.85, 0.6, 0.5, 0.3], 4, (), 0.7, 0.03),
    ],
)
def test_dawid_skene_beats_majority_and_recovers_coder_accuracy(
    accuracies, k, adversarial, coverage, min_gain
):
    truth, u, c, v = simulate(
        7, accuracies, k, adversarial=adversarial, coverage=coverage
    )
    fit = dawid_skene(u, c, v, k)
    ds_accuracy = float((fit.labels == truth[fit.units]).mean())
    assert ds_accuracy - majority_vote_accuracy(truth, u, v, k) >= min_gain
    np.testing.assert_allclose(fit.accuracy, accuracies, atol=0.05)
    assert fit.confusion.shape == (len(accuracies), k, k)
    np.testing.assert_allclose(fit.confusion.sum(axis=2), 1.0)
    np.testing.assert_allclose(fit.priors.sum(), 1.0)
    assert 1 <= fit.n_iter <= 200


def test_dawid_skene_reads_an_adversarial_coder():
    truth, u, c, v = simulate(3, [0.75, 0.75, 0.1], 3, adversarial=(2,))
    fit = dawid_skene(u, c, v, 3)
    # the adversarial coder says truth + 1 about 90% of the time: off-diagonal
    np.testing.assert_allclose(
        [fit.confusion[2, t, (t + 1) % 3] for t in range(3)], 0.9, atol=0.05
    )


def test_posteriors_are_distributions():
    truth, u, c, v = simulate(11, [0.7, 0.6, 0.5], 4, coverage=0.6)
    fit = dawid_skene(u, c, v, 4)
    assert ((fit.posterior >= 0) & (fit.posterior <= 1)).all()
    np.testing.assert_allclose(fit.posterior.sum(axis=1), 1.0)
    np.testing.assert_array_equal(fit.labels, fit.posterior.argmax(axis=1))
    np.testing.assert_allclose(fit.map_posterior, fit.posterior.max(axis=1))
    assert len(fit.units) == len(np.unique(u))


def test_invariant_to_permuting_unit_and_coder_ids_and_row_order():
    truth, u, c, v = simulate(5, [0.85, 0.7, 0.6, 0.4], 3, n_units=500)
    fit = dawid_skene(u, c, v, 3)
    rng = np.random.default_rng(0)
    unit_map = rng.permutation(10_000)[: len(truth)] + 50  # new, shuffled ids
    coder_map = np.array([901, 17, 333, 2])
    rows = rng.permutation(len(u))
    fit2 = dawid_skene(unit_map[u][rows], coder_map[c][rows], v[rows], 3)
    where = np.searchsorted(fit2.units, unit_map[fit.units])
    np.testing.assert_allclose(fit2.posterior[where], fit.posterior, atol=1e-9)
    cw = np.searchsorted(fit2.coders, coder_map[fit.coders])
    np.testing.assert_allclose(fit2.confusion[cw], fit.confusion, atol=1e-9)
    assert fit2.n_iter == fit.n_iter


def test_perfect_agreement_gives_posterior_near_one():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 300)
    u, c, v = np.repeat(np.arange(300), 3), np.tile([1, 2, 3], 300), truth.repeat(3)
    fit = dawid_skene(u, c, v, 3)
    np.testing.assert_array_equal(fit.labels, truth)
    assert fit.map_posterior.min() > 0.999
    assert fit.accuracy.min() > 0.99 and fit.converged


def test_many_ratings_per_unit_do_not_underflow():
    # 3000 coders on each of 4 units: linear-space likelihoods would be 0.
    n_coders = 3000
    rng = np.random.default_rng(4)
    truth = np.array([0, 1, 2, 1])
    said = np.where(
        rng.random((4, n_coders)) < 0.6, truth[:, None], rng.integers(0, 3, (4, 1))
    )
    u, c = np.repeat(np.arange(4), n_coders), np.tile(np.arange(n_coders), 4)
    fit = dawid_skene(u, c, said.ravel(), 3)
    assert np.isfinite(fit.posterior).all() and np.isfinite(fit.log_likelihood)
    np.testing.assert_array_equal(fit.labels, truth)


def test_max_iter_reports_no_convergence():
    truth, u, c, v = simulate(1, [0.7, 0.6, 0.55], 3, n_units=200)
    fit = dawid_skene(u, c, v, 3, max_iter=1)
    assert fit.n_iter == 1 and not fit.converged


def test_dawid_skene_rejects_bad_settings():
    with pytest.raises(GoldInputError, match="max_iter"):
        dawid_skene([1], [1], [0], 2, max_iter=0)
    for smoothing in (-1, 0):  # zero leaves 0/0 cells and log(0) vetoes
        with pytest.raises(GoldInputError, match="smoothing > 0"):
            dawid_skene([1], [1], [0], 2, smoothing=smoothing)


def test_model_rule_decides_the_rest_and_reports_posteriors():
    truth, u, c, v = simulate(9, [0.9, 0.8, 0.7, 0.3], 3, n_units=400, coverage=0.6)
    d = aggregate(u, c, v, 3, methods=("unanimous", "single", "model"))
    names = d.method_names
    assert set(names) <= {"unanimous", "single", "model"}
    assert d.model is not None
    model_units = names == "model"
    np.testing.assert_array_equal(d.values[model_units], d.model.labels[model_units])
    # posterior of the decided value, whatever rule decided it
    idx = np.flatnonzero(d.decided)
    np.testing.assert_allclose(d.posteriors[idx], d.model.posterior[idx, d.values[idx]])
    strict = aggregate(u, c, v, 3, methods=("unanimous", "model"), min_posterior=0.95)
    low = strict.method_names == None  # noqa: E711 (object array comparison)
    assert low.any()
    assert (strict.model.map_posterior[strict.method_names == "model"] >= 0.95).all()


def test_model_leaves_an_exact_tie_undecided():
    # One unit, two coders who disagree: by symmetry the posterior is 1/2, 1/2.
    d = aggregate([1, 1], [1, 2], [0, 1], 2, methods=("model",))
    np.testing.assert_allclose(d.model.posterior, [[0.5, 0.5]])
    assert list(d.undecided_units) == [1]


# ------------------------------------------------------------- set-valued


def test_labels_to_indicators_keeps_empty_choices():
    mat = labels_to_indicators(
        [1, 1, 2], [5, 6, 5], [1, 2, 2], [5, 5, 5], [0, 1, 2], n_categories=3
    )
    assert mat.tolist() == [
        [True, False, False],
        [False, False, False],
        [False, True, True],
    ]
    with pytest.raises(GoldInputError, match="coder 9 on unit 1 has no rating"):
        labels_to_indicators([1], [5], [1], [9], [0], 3)
    with pytest.raises(GoldInputError, match="label_values"):
        labels_to_indicators([1], [5], [1], [5], [3], 3)


def test_sets_per_category_majority_finds_what_all_chose():
    # {a,b} / {a} / {a,c}: no two sets are equal, yet every coder chose a.
    u, c = [1, 1, 1, 2, 2, 3, 4, 4], [1, 2, 3, 1, 2, 1, 1, 2]
    chosen = np.array(
        [
            [1, 1, 0],
            [1, 0, 0],
            [1, 0, 1],
            [0, 1, 1],  # unit 2: identical sets
            [0, 1, 1],
            [0, 0, 1],  # unit 3: one rating
            [1, 0, 0],  # unit 4: {a} vs {} -> a is tied 1-1
            [0, 0, 0],
        ],
        dtype=bool,
    )
    d = aggregate_sets(u, c, chosen)
    rows = {r.unit: (r.value, r.method) for r in d.rows()}
    assert rows == {
        1: (frozenset({0}), "majority"),
        2: (frozenset({1, 2}), "unanimous"),
        3: (frozenset({2}), "single"),
        4: (None, None),
    }
    assert d.category_methods[0].tolist() == [
        METHODS.index("unanimous"),
        METHODS.index("majority"),
        METHODS.index("majority"),
    ]
    assert d.category_methods[3, 0] == UNDECIDED


def test_sets_empty_result_can_be_sent_to_adjudication():
    u, c = [1, 1, 2, 2], [1, 2, 1, 2]
    chosen = np.array([[0, 0], [0, 0], [1, 0], [1, 0]], dtype=bool)
    assert aggregate_sets(u, c, chosen).decided.all()
    strict = aggregate_sets(u, c, chosen, allow_empty=False)
    assert list(strict.undecided_units) == [1]


def test_sets_with_model_multiply_category_posteriors():
    truth, u, c, v = simulate(6, [0.9, 0.8, 0.7], 3, n_units=300)
    chosen = np.zeros((len(u), 3), dtype=bool)
    chosen[np.arange(len(u)), v] = True  # a single choice as a one-element set
    d = aggregate_sets(u, c, chosen, methods=("unanimous", "model"))
    assert d.decided.all()
    assert ((d.posteriors > 0) & (d.posteriors <= 1)).all()
    assert set(d.method_names) <= {"unanimous", "model"}
    assert len(d.category_models) == 3
    # each category's binary fit sees the coders' accuracy on "chose k or not"
    assert all(m.confusion.shape == (3, 2, 2) for m in d.category_models)
    decided_posteriors = np.prod(
        [
            m.posterior[np.arange(len(d)), d.values[:, k].astype(int)]
            for k, m in enumerate(d.category_models)
        ],
        axis=0,
    )
    np.testing.assert_allclose(d.posteriors, decided_posteriors)


def test_sets_reject_a_non_matrix():
    with pytest.raises(GoldInputError, match="2-D bool matrix"):
        aggregate_sets([1], [1], np.array([1.5]))
    with pytest.raises(GoldInputError, match="only 0/1"):
        aggregate_sets([1], [1], np.array([[2]]))


# ------------------------------------------------------------- properties

small_ratings = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 4), st.integers(0, 3)),
    max_size=40,
    unique_by=lambda t: (t[0], t[1]),
)


def naive(rows, rule: str, min_share: float = 0.5, inclusive: bool = False):
    by_unit = defaultdict(list)
    for unit, _coder, value in rows:
        by_unit[unit].append(value)
    out = {}
    for unit, vals in by_unit.items():
        counts = Counter(vals).most_common()
        n, (mode, top) = len(vals), counts[0]
        unique = len(counts) == 1 or counts[1][1] < top
        share_ok = top / n >= min_share if inclusive else top / n > min_share
        passes = {
            "unanimous": n >= 2 and len(counts) == 1,
            "single": n == 1,
            "majority": n >= 2 and unique and share_ok,
        }
        if passes[rule]:
            out[unit] = mode
    return out


@settings(max_examples=200, deadline=None)
@given(
    small_ratings,
    st.sampled_from([0.0, 0.25, 0.5, 0.6]),
    st.booleans(),
)
def test_rules_match_a_naive_reference(rows, min_share, inclusive):
    u, c, v = ([r[i] for r in rows] for i in range(3))
    for rule, fn in (("unanimous", unanimous), ("single", single)):
        got = {r.unit: r.value for r in fn(u, c, v).rows() if r.method}
        assert got == naive(rows, rule)
    got = majority(u, c, v, min_share=min_share, inclusive=inclusive)
    assert {r.unit: r.value for r in got.rows() if r.method} == naive(
        rows, "majority", min_share, inclusive
    )
    chain = aggregate(u, c, v, 4)
    expected = naive(rows, "majority") | naive(rows, "single")
    expected |= naive(rows, "unanimous")
    assert {r.unit: r.value for r in chain.rows() if r.method} == expected


@settings(max_examples=100, deadline=None)
@given(small_ratings.filter(bool))
def test_dawid_skene_posteriors_are_always_distributions(rows):
    u, c, v = ([r[i] for r in rows] for i in range(3))
    fit = dawid_skene(u, c, v, 4, max_iter=50)
    assert np.isfinite(fit.posterior).all()
    assert ((fit.posterior >= 0) & (fit.posterior <= 1 + 1e-12)).all()
    np.testing.assert_allclose(fit.posterior.sum(axis=1), 1.0)
    np.testing.assert_allclose(fit.confusion.sum(axis=2), 1.0)
    assert ((fit.accuracy >= 0) & (fit.accuracy <= 1 + 1e-12)).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 3),
            st.lists(st.booleans(), min_size=3, max_size=3),
        ),
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_set_unanimity_means_identical_sets(rows):
    u, c = [r[0] for r in rows], [r[1] for r in rows]
    chosen = np.array([r[2] for r in rows], dtype=bool).reshape(len(rows), 3)
    d = aggregate_sets(u, c, chosen, methods=("unanimous",))
    sets = defaultdict(set)
    counts = Counter(u)
    for unit, _coder, bits in rows:
        sets[unit].add(tuple(bits))
    for r in d.rows():
        identical = counts[r.unit] >= 2 and len(sets[r.unit]) == 1
        assert (r.method == "unanimous") == identical
        if identical:
            (bits,) = sets[r.unit]
            assert r.value == frozenset(i for i, b in enumerate(bits) if b)


# Rows of posteriors over k classes, with many ties (values from a short list).
posterior_rows = st.integers(1, 6).flatmap(
    lambda k: st.lists(
        st.lists(st.sampled_from([0.0, 0.1, 0.5, 1.0]), min_size=k, max_size=k),
        min_size=1,
        max_size=30,
    )
)


@given(posterior_rows)
def test_runner_up_equals_the_sorted_second_value_ties_included(rows):
    # The model rule's tie test reads the runner-up without sorting a copy of
    # the posteriors; it must give what a sort gives, ties and one class included.
    from annotator.gold_maths.chain import _runner_up

    post = np.array(rows).T.copy().T  # (n, k) as a strided view, as the fit returns
    got = _runner_up(post, post.argmax(axis=1))
    want = np.sort(post, axis=1)[:, -2] if post.shape[1] > 1 else 0.0
    np.testing.assert_array_equal(got, want)


@given(posterior_rows)
def test_row_argmax_equals_numpys_ties_to_the_first(rows):
    # The fit reads its MAP class a row at a time (numpy's argmax over the
    # first axis copies the whole array); the result must be numpy's.
    import importlib

    fit = importlib.import_module("annotator.gold_maths.dawid_skene")
    post = np.array(rows, dtype=float).T.copy()  # (k, n)
    labels, best = fit._argmax_rows(post)
    np.testing.assert_array_equal(labels, post.argmax(axis=0))
    np.testing.assert_array_equal(best, post.max(axis=0, initial=0.0))


def _per_unit_dawid_skene(r, max_iter=200, tol=1e-8, smoothing=0.01):
    """The textbook EM over every unit (no rating patterns): the reference the
    fit's pattern-compressed sums must reproduce."""
    n, m, k = len(r.unit_ids), len(r.coder_ids), r.n_categories
    counts = np.bincount(r.value * n + r.unit, minlength=k * n).reshape(k, n)
    post = counts / np.maximum(r.n_ratings, 1)
    cell = r.coder * k + r.value
    ll, it, converged = -np.inf, 0, n == 0
    while not converged and it < max_iter:
        it += 1
        priors = (post.sum(axis=1) + smoothing) / (n + k * smoothing)
        table = np.stack(
            [np.bincount(cell, post[t].take(r.unit), m * k) for t in range(k)]
        )
        conf = table.reshape(k, m, k).transpose(1, 0, 2) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        log_conf = np.log(conf).transpose(1, 0, 2).reshape(k, m * k)
        log_post = (
            np.stack([np.bincount(r.unit, log_conf[t].take(cell), n) for t in range(k)])
            + np.log(priors)[:, None]
        )
        top = log_post.max(axis=0)
        norm = top + np.log(np.exp(log_post - top).sum(axis=0))
        post = np.exp(log_post - norm)
        ll, gain = float(norm.sum()), float(norm.sum()) - ll
        converged = abs(gain) <= tol * len(r.unit)
    return post.T, conf, priors, it


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 6),
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 5), st.integers(0, 4)),
        min_size=1,
        max_size=150,
    ),
)
def test_fit_over_rating_patterns_equals_the_per_unit_em(k, n_coders, rows):
    # EM runs over units grouped by identical ratings, weighted by their
    # counts; the posteriors, confusions, priors and iterations must be the
    # per-unit EM's (to rounding).
    from annotator.gold_maths._input import encode

    seen = {}
    for unit, coder, value in rows:
        seen[(unit, coder % n_coders)] = value % k
    units, coders = zip(*seen, strict=True)
    r = encode(list(units), list(coders), list(seen.values()), k)
    fit = dawid_skene(list(units), list(coders), list(seen.values()), k)
    post, conf, priors, iterations = _per_unit_dawid_skene(r)
    assert fit.n_iter == iterations
    np.testing.assert_allclose(fit.posterior, post, atol=1e-12)
    np.testing.assert_allclose(fit.confusion, conf, atol=1e-12)
    np.testing.assert_allclose(fit.priors, priors, atol=1e-12)
