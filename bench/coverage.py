#!/usr/bin/env python3
"""Coverage study: how often the engine's 95 % intervals cover the population value.

Simulates studies from the exchangeable coder model (annotator/agreement/coder_model.py,
whose population coefficients are known in closed form) over the grid of
docs/design/reliability-report.md §8 WP2: n in {30, 50, 100, 200} units x coders
{2, 3 and 5 (both with 25 % of ratings missing)} x priors {binary .5/.5, nominal
.7/.2/.1, ordinal-5 .1/.2/.4/.2/.1 with quadratic weights} x alpha in {.667, .8, .9}.
Every study runs the engine's unit bootstrap (``bootstrap_from_parts`` for alpha,
``kappa_tables`` for percent agreement, Fleiss, Gwet and Brennan-Prediger) and each
interval method on the same resamples (``--methods`` without percentile and BCa
draws none); a study's interval covers when low <= population value <= high. A
withheld interval counts as a miss in the tables; the summary also gives coverage
among the intervals given and the share withheld. On two-coder nominal designs,
percent agreement and Brennan-Prediger depend on one binomial count, so the
methods that draw no resample get their exact coverage (bench/coverage_exact.py).

    .venv/bin/python bench/coverage.py --studies 400 --jobs 2
    .venv/bin/python bench/coverage.py --studies 50 --designs 'n50-2c-binary-*'
    .venv/bin/python bench/coverage.py --studies 10000 --jobs 2 --methods logjack_score

Per method, a table gives per design and coefficient the coverage (%) with its 95 %
Wilson interval and the mean interval width (bench/coverage_report.py); cells of
>= 50 units outside [93, 97] % are marked with "!" ("‡" where no interval could be
inside). Seeds come from SeedSequence((seed, design index, study)), so a design's
studies are the same whatever ``--designs``, ``--methods`` or ``--jobs`` select.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotator.agreement.coded import (  # noqa: E402
    alpha_from_parts,
    alpha_parts,
    encode,
    kappa_family,
)
from annotator.agreement.coder_model import (  # noqa: E402
    Design,
    population_values,
    simulate,
)
from annotator.agreement.interval_methods import Interval  # noqa: E402
from annotator.agreement.intervals_by_method import (  # noqa: E402
    ALPHA_METHODS,
    KAPPA_METHODS,
    alpha_intervals,
    kappa_family_intervals,
)
from bench import coverage_exact  # noqa: E402
from bench.coverage_report import (  # noqa: E402
    BAND,
    COEFFICIENTS,
    failing,
    summary,
    tables,
)

PRIORS = {
    "binary": ((0.5, 0.5), "nominal"),
    "nominal": ((0.7, 0.2, 0.1), "nominal"),
    "ordinal5": ((0.1, 0.2, 0.4, 0.2, 0.1), "ordinal"),
}
UNITS = (30, 50, 100, 200)
CODERS = ((2, 0.0), (3, 0.25), (5, 0.25))
ALPHAS = (0.667, 0.8, 0.9)


def grid() -> list[Design]:
    """The 108 designs of §8 WP2, in a fixed order (a design's index seeds it)."""
    return [
        Design(n, m, prior, a, missing, level, f"n{n}-{m}c-{pname}-a{a:g}")
        for pname, (prior, level) in PRIORS.items()
        for (m, missing) in CODERS
        for a in ALPHAS
        for n in UNITS
    ]


# --- one study ------------------------------------------------------------------------

# Which interval methods each coefficient gets (the engine's comparators).
METHODS = {
    c: (ALPHA_METHODS if c == "krippendorff_alpha" else KAPPA_METHODS)
    for c in COEFFICIENTS
}


def chosen_methods(names: str | None) -> dict[str, list[str]]:
    """``METHODS`` cut down to the comma-separated ``names`` (all when None)."""
    if not names:
        return {c: list(ms) for c, ms in METHODS.items()}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in ALPHA_METHODS + KAPPA_METHODS]
    if unknown or not wanted:
        raise SystemExit(f"--methods {names!r}: known are {', '.join(ALPHA_METHODS)}")
    return {c: [m for m in ms if m in wanted] for c, ms in METHODS.items()}


def study_seeds(seed: int, index: int, study: int) -> tuple[np.random.Generator, int]:
    """The simulation's generator and the bootstraps' integer seed of one study."""
    sim, boot = np.random.SeedSequence((seed, index, study)).spawn(2)
    return np.random.default_rng(sim), int(boot.generate_state(1)[0])


def one_study(
    design: Design,
    rng: np.random.Generator,
    boot_seed: int,
    resamples: int,
    methods: dict[str, list[str]],
) -> tuple[dict[str, float], dict[str, dict[str, Interval]]]:
    """Each coefficient's estimate and its interval by each of ``methods``.

    The percentile intervals are the engine's (``bootstrap_from_parts`` and
    ``bootstrap_kappa_family`` draw the same resamples for the seed)."""
    units, coders, values = simulate(design, rng)
    coded = encode(
        units, coders, values, level=design.level, categories=design.categories
    )
    parts = alpha_parts(coded, design.level)
    family = kappa_family(coded, design.weights)
    estimates = {"krippendorff_alpha": alpha_from_parts(parts).value}
    estimates.update({c: family[c].value for c in COEFFICIENTS[1:]})
    intervals = {
        "krippendorff_alpha": alpha_intervals(
            coded,
            design.level,
            n_resamples=resamples,
            seed=boot_seed,
            parts=parts,
            methods=tuple(methods["krippendorff_alpha"]),
        )
    }
    kappa_methods = tuple(
        dict.fromkeys(m for c in COEFFICIENTS[1:] for m in methods[c])
    )
    intervals.update(
        kappa_family_intervals(
            coded,
            design.weights,
            n_resamples=resamples,
            seed=boot_seed,
            methods=kappa_methods,
        )
    )
    return estimates, intervals


@dataclass
class Cell:
    """One design's results: per (coefficient, method) hits, widths and estimates."""

    design: Design
    index: int
    truth: dict[str, float]
    covered: dict[tuple[str, str], np.ndarray]
    held: dict[tuple[str, str], np.ndarray]  # the method gave an interval
    width: dict[tuple[str, str], np.ndarray]
    estimate: dict[str, np.ndarray]
    seconds: float = 0.0
    # Filled by ``run`` where coverage_exact applies: exact coverage per key,
    # and per coefficient whether 93-97 % is reachable (with the nearest runs).
    exact: dict[tuple[str, str], float] = field(default_factory=dict)
    reach: dict[str, tuple[bool, float, float]] = field(default_factory=dict)

    @property
    def unattainable(self) -> set[str]:
        return {coef for coef, (ok, _, _) in self.reach.items() if not ok}

    @property
    def studies(self) -> int:
        return len(next(iter(self.estimate.values())))


def run_chunk(
    design: Design,
    index: int,
    studies: range,
    seed: int,
    resamples: int,
    methods: dict[str, list[str]],
) -> Cell:
    """Run ``studies`` of one design (a process-pool task)."""
    start = time.process_time()
    truth = population_values(design)
    keys = [(c, m) for c in COEFFICIENTS for m in methods[c]]
    covered = {k: np.zeros(len(studies), dtype=bool) for k in keys}
    held = {k: np.zeros(len(studies), dtype=bool) for k in keys}
    width = {k: np.full(len(studies), np.nan) for k in keys}
    estimate = {c: np.full(len(studies), np.nan) for c in COEFFICIENTS}
    for i, study in enumerate(studies):
        rng, boot_seed = study_seeds(seed, index, study)
        values, intervals = one_study(design, rng, boot_seed, resamples, methods)
        for coef, by_method in intervals.items():
            if coef not in estimate:
                continue
            estimate[coef][i] = values[coef]
            for name in methods[coef]:
                iv = by_method[name]
                held[coef, name][i] = iv.holds
                covered[coef, name][i] = iv.holds and iv.low <= truth[coef] <= iv.high
                width[coef, name][i] = iv.high - iv.low
    seconds = time.process_time() - start
    return Cell(design, index, truth, covered, held, width, estimate, seconds)


def merge(cells: Sequence[Cell]) -> Cell:
    """One Cell from chunks of the same design, in study order."""
    first = cells[0]
    return Cell(
        first.design,
        first.index,
        first.truth,
        {k: np.concatenate([c.covered[k] for c in cells]) for k in first.covered},
        {k: np.concatenate([c.held[k] for c in cells]) for k in first.held},
        {k: np.concatenate([c.width[k] for c in cells]) for k in first.width},
        {k: np.concatenate([c.estimate[k] for c in cells]) for k in first.estimate},
        sum(c.seconds for c in cells),
    )


def run(
    designs: Sequence[tuple[int, Design]],
    studies: int,
    seed: int = 0,
    resamples: int = 1000,
    jobs: int = 1,
    chunk: int = 100,
    methods: dict[str, list[str]] | None = None,
) -> list[Cell]:
    """Every design's studies, split into chunks over ``jobs`` processes; then
    the exact coverage where ``coverage_exact`` applies."""
    methods = methods or chosen_methods(None)
    tasks = [
        (design, index, range(s, min(s + chunk, studies)), seed, resamples, methods)
        for index, design in designs
        for s in range(0, studies, chunk)
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            parts = list(pool.map(run_chunk, *zip(*tasks, strict=True)))
    else:
        parts = [run_chunk(*task) for task in tasks]
    by_design: dict[int, list[Cell]] = {}
    for part in parts:
        by_design.setdefault(part.index, []).append(part)
    cells = [merge(by_design[index]) for index, _ in designs]
    for cell in cells:
        if coverage_exact.applies(cell.design):
            cell.exact, cell.reach = coverage_exact.exact_coverage(
                cell.design, cell.truth, methods, BAND
            )
    return cells


def select(patterns: str | None) -> list[tuple[int, Design]]:
    """The grid's designs whose name matches any comma-separated glob pattern."""
    designs = list(enumerate(grid()))
    if not patterns:
        return designs
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [
        (i, d) for i, d in designs if any(fnmatch.fnmatch(d.name, p) for p in pats)
    ]
    if not chosen:
        raise SystemExit(f"--designs {patterns!r} matches none of: {grid()[0].name}, …")
    return chosen


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--designs", help="comma-separated globs over names like n50-3c-binary-a0.9"
    )
    parser.add_argument(
        "--methods", help="comma-separated interval methods (default: every one)"
    )
    args = parser.parse_args(argv)
    designs = select(args.designs)
    methods = chosen_methods(args.methods)
    names = dict.fromkeys(m for ms in methods.values() for m in ms)
    started = datetime.now(UTC)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(
        f"coverage study {started:%Y-%m-%d %H:%M} UTC, commit {commit}: "
        f"{len(designs)} designs x {args.studies} studies, {args.resamples} resamples, "
        f"seed {args.seed}, {args.jobs} job(s), methods {', '.join(names)}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    wall = time.perf_counter()
    cells = run(
        designs, args.studies, args.seed, args.resamples, args.jobs, methods=methods
    )
    wall = time.perf_counter() - wall
    print("3c and 5c: 25 % of ratings missing; ordinal5: quadratic weights.")
    print(tables(cells))
    print(summary(cells))
    print("\nCells outside 93–97 % (≥ 50 units):")
    print(failing(cells))
    print(
        "\nTwo coders, nominal: percent agreement and Brennan–Prediger hang on k, the"
    )
    print("units the coders disagree on (exact coverage; bench/coverage_exact.py):")
    print(coverage_exact.lattice_lines(cells, BAND))
    cpu = sum(c.seconds for c in cells)
    print(
        f"\nfinished {datetime.now(UTC):%H:%M} UTC: {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"({1000 * cpu / max(1, len(cells) * args.studies):.1f} ms per study); "
        f"load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
