"""bench/coverage.py on 3 designs x 20 studies: it runs and its numbers are sane."""

from __future__ import annotations

import math

import numpy as np

from annotator.agreement.coder_model import population_values
from bench import coverage

DESIGNS = "n30-2c-binary-a0.9,n50-3c-nominal-a0.8,n50-5c-ordinal5-a0.667"


def test_three_designs_of_twenty_studies(capsys):
    designs = coverage.select(DESIGNS)
    assert [d.name for _, d in designs] == DESIGNS.split(",")
    cells = coverage.run(designs, studies=20, seed=3, resamples=200, chunk=10)
    for cell in cells:
        assert cell.studies == 20
        assert cell.truth == population_values(cell.design)
        for key, hits in cell.covered.items():
            assert 0.0 <= hits.mean() <= 1.0, key
            widths = cell.width[key][cell.held[key]]
            assert np.all(widths >= 0), key
        alpha = cell.estimate["krippendorff_alpha"]
        assert abs(np.nanmean(alpha) - cell.design.alpha) < 0.15
    # Most intervals of any method cover the truth even on 20 studies.
    assert np.mean([h.mean() for c in cells for h in c.covered.values()]) > 0.6
    coverage.main(["--studies", "4", "--resamples", "50", "--designs", DESIGNS])
    out = capsys.readouterr().out
    assert "| n50-3c-nominal-a0.8 |" in out and "Proposed METHOD" in out
    assert "**logjack**" in out and "withheld % (max)" in out
    assert "units(...) < 2" in out


def test_coverage_among_given_intervals_leaves_the_withheld_out():
    index, design = coverage.select("n50-2c-binary-a0.9")[0]
    cell = coverage.run([(index, design)], studies=30, resamples=50)[0]
    key = ("krippendorff_alpha", "logjack")
    held = cell.held[key]
    # About 2.5 disagreeing units are expected: some studies see fewer than 2.
    assert 0 < held.sum() < 30
    assert coverage.given_share(cell, key) == cell.covered[key][held].mean()
    assert not cell.covered[key][~held].any()


def test_the_grid_and_a_design_seed_do_not_depend_on_the_selection():
    grid = coverage.grid()
    assert len(grid) == 108 and len({d.name for d in grid}) == 108
    index, design = coverage.select("n100-3c-binary-a0.9")[0]
    rng, seed = coverage.study_seeds(0, index, 7)
    again, seed_again = coverage.study_seeds(0, index, 7)
    assert seed == seed_again and rng.random() == again.random()
    one = coverage.run([(index, design)], studies=3, resamples=50)[0]
    two = coverage.run([(index, design)], studies=3, resamples=50, chunk=1)[0]
    for key in one.covered:
        assert np.array_equal(one.width[key], two.width[key], equal_nan=True)


def test_wilson_interval():
    low, high = coverage.wilson(380, 400)
    assert low < 0.95 < high and math.isclose(high - low, 0.043, abs_tol=0.002)
