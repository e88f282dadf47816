#!/usr/bin/env python3
"""Coverage study: how often the engine's 95 % intervals cover the population value.

Simulates studies from the exchangeable coder model (annotator/agreement/coder_model.py,
whose population coefficients are known in closed form) over the grid of
docs/design/reliability-report.md §8 WP2: n in {30, 50, 100, 200} units x coders
{2, 3 and 5 (both with 25 % of ratings missing)} x priors {binary .5/.5, nominal
.7/.2/.1, ordinal-5 .1/.2/.4/.2/.1 with quadratic weights} x alpha in {.667, .8, .9}.
Every study runs the engine's unit bootstrap (``bootstrap_from_parts`` for alpha,
``kappa_tables`` for percent agreement, Fleiss, Gwet and Brennan-Prediger) and each
interval method on the same resamples; a study's interval covers when
low <= population value <= high. A withheld interval counts as a miss in the tables;
the summary also gives coverage among the intervals given and the share withheld.

    .venv/bin/python bench/coverage.py --studies 400 --jobs 2
    .venv/bin/python bench/coverage.py --studies 50 --designs 'n50-2c-binary-*'

Per method, a table gives per design and coefficient the coverage (%) with its 95 %
Wilson interval and the mean interval width; cells of >= 50 units outside [93, 97] %
are marked with "!". Seeds come from SeedSequence((seed, design index, study)), so a
design's studies are the same whatever ``--designs`` or ``--jobs`` select.
"""

from __future__ import annotations

import argparse
import fnmatch
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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
from annotator.agreement.interval_methods_extra import (  # noqa: E402
    MIN_DISAGREEING_UNITS,
    withheld_reason,
)
from annotator.agreement.intervals_by_method import (  # noqa: E402
    ALPHA_METHODS,
    KAPPA_METHODS,
    alpha_intervals,
    kappa_family_intervals,
)

CONFIDENCE = 0.95
BAND = (0.93, 0.97)
MIN_UNITS_MARKED = 50
COEFFICIENTS = (
    "krippendorff_alpha",
    "percent_agreement",
    "fleiss_kappa",
    "gwet",
    "brennan_prediger",
)
SHORT = {
    "krippendorff_alpha": "α",
    "percent_agreement": "% agr",
    "fleiss_kappa": "Fleiss",
    "gwet": "Gwet",
    "brennan_prediger": "BP",
}
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
ALL_METHODS = tuple(dict.fromkeys(m for ms in METHODS.values() for m in ms))


def study_seeds(seed: int, index: int, study: int) -> tuple[np.random.Generator, int]:
    """The simulation's generator and the bootstraps' integer seed of one study."""
    sim, boot = np.random.SeedSequence((seed, index, study)).spawn(2)
    return np.random.default_rng(sim), int(boot.generate_state(1)[0])


def one_study(
    design: Design, rng: np.random.Generator, boot_seed: int, resamples: int
) -> tuple[dict[str, float], dict[str, dict[str, Interval]]]:
    """Each coefficient's estimate and its interval by each method, for one study.

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
            coded, design.level, n_resamples=resamples, seed=boot_seed, parts=parts
        )
    }
    intervals.update(
        kappa_family_intervals(
            coded, design.weights, n_resamples=resamples, seed=boot_seed
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

    @property
    def studies(self) -> int:
        return len(next(iter(self.estimate.values())))


def run_chunk(
    design: Design, index: int, studies: range, seed: int, resamples: int
) -> Cell:
    """Run ``studies`` of one design (a process-pool task)."""
    start = time.process_time()
    truth = population_values(design)
    keys = [(c, m) for c in COEFFICIENTS for m in METHODS[c]]
    covered = {k: np.zeros(len(studies), dtype=bool) for k in keys}
    held = {k: np.zeros(len(studies), dtype=bool) for k in keys}
    width = {k: np.full(len(studies), np.nan) for k in keys}
    estimate = {c: np.full(len(studies), np.nan) for c in COEFFICIENTS}
    for i, study in enumerate(studies):
        rng, boot_seed = study_seeds(seed, index, study)
        values, intervals = one_study(design, rng, boot_seed, resamples)
        for coef, by_method in intervals.items():
            if coef not in estimate:
                continue
            estimate[coef][i] = values[coef]
            for name in METHODS[coef]:
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
) -> list[Cell]:
    """Every design's studies, split into chunks over ``jobs`` processes."""
    tasks = [
        (design, index, range(s, min(s + chunk, studies)), seed, resamples)
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
    return [merge(by_design[index]) for index, _ in designs]


# --- output ---------------------------------------------------------------------------


def wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion hits / n."""
    if n == 0:
        return math.nan, math.nan
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def outside(cell: Cell, key: tuple[str, str]) -> bool:
    """A cell of >= 50 units whose coverage falls outside [93, 97] %."""
    share = float(cell.covered[key].mean())
    return cell.design.n_units >= MIN_UNITS_MARKED and not BAND[0] <= share <= BAND[1]


def cell_text(cell: Cell, key: tuple[str, str]) -> str:
    """ "94.5 (92.0–96.3) w 0.210", plus how many studies got no interval, and "!"."""
    hits, n = int(cell.covered[key].sum()), len(cell.covered[key])
    low, high = wilson(hits, n)
    widths = cell.width[key][np.isfinite(cell.width[key])]
    mean_width = f"{widths.mean():.3f}" if len(widths) else "–"
    none = n - int(cell.held[key].sum())
    text = f"{100 * hits / n:.1f} ({100 * low:.1f}–{100 * high:.1f}) w {mean_width}"
    text += f" [{none} none]" if none else ""
    return text + (" !" if outside(cell, key) else "")


def tables(cells: Sequence[Cell]) -> str:
    """Per method, a Markdown table: designs x the coefficients it serves."""
    lines = []
    for method in ALL_METHODS:
        coefs = [c for c in COEFFICIENTS if method in METHODS[c]]
        lines += [
            "",
            f"**{method}**: coverage % (95 % Wilson interval), mean width w, "
            "[studies with no interval, counted as misses]; "
            "! = ≥ 50 units and outside 93–97 %",
            "",
            "| design | " + " | ".join(SHORT[c] for c in coefs) + " |",
            "|---" * (len(coefs) + 1) + "|",
        ]
        for cell in cells:
            row = [cell_text(cell, (c, method)) for c in coefs]
            lines.append(f"| {cell.design.name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def given_share(cell: Cell, key: tuple[str, str]) -> float:
    """Coverage among the studies that got an interval (nan when none did)."""
    held = cell.held[key]
    return float(cell.covered[key][held].mean()) if held.any() else math.nan


def summary(cells: Sequence[Cell]) -> str:
    """Per coefficient and method: cells outside the band and the lowest coverage,
    counting a withheld interval as a miss and, apart, among the intervals given."""
    lines = [
        "",
        "| coefficient | method | cells ≥ 50 units | outside 93–97 % (low/high) | "
        "mean coverage | lowest (design) | withheld % (max) | "
        "outside among given (low/high) | lowest among given |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    big = [c for c in cells if c.design.n_units >= MIN_UNITS_MARKED]
    if not big:
        return "\n(no design of >= 50 units selected: no summary)"
    best: dict[str, tuple[int, float, float, str]] = {}
    for coef in COEFFICIENTS:
        for method in METHODS[coef]:
            key = (coef, method)
            shares = [float(c.covered[key].mean()) for c in big]
            given = [given_share(c, key) for c in big]
            withheld = [1.0 - float(c.held[key].mean()) for c in big]
            below = sum(s < BAND[0] for s in shares)
            above = sum(s > BAND[1] for s in shares)
            g_below = sum(s < BAND[0] for s in given if math.isfinite(s))
            g_above = sum(s > BAND[1] for s in given if math.isfinite(s))
            low = min(range(len(big)), key=shares.__getitem__)
            finite = [g if math.isfinite(g) else 2.0 for g in given]
            g_low = min(range(len(big)), key=finite.__getitem__)
            lines.append(
                f"| {SHORT[coef]} | {method} | {len(big)} | {below + above} "
                f"({below}/{above}) | {100 * np.mean(shares):.1f} | "
                f"{100 * shares[low]:.1f} ({big[low].design.name}) | "
                f"{100 * np.mean(withheld):.1f} ({100 * max(withheld):.1f}) | "
                f"{g_below + g_above} ({g_below}/{g_above}) | "
                f"{100 * given[g_low]:.1f} ({big[g_low].design.name}) |"
            )
            # Rank on coverage among the intervals given, then on how many were
            # withheld: a method may only win by withholding if it says so.
            score = (
                g_below + g_above,
                float(np.mean(withheld)),
                abs(float(np.nanmean(given)) - CONFIDENCE),
            )
            if coef not in best or score < best[coef][:3]:
                best[coef] = (*score, method)
    lines += [
        "",
        "Proposed METHOD (fewest cells of >= 50 units outside the band among the "
        "intervals given, then the fewest withheld):",
    ]
    lines += [f"    {coef!r}: {best[coef][3]!r}," for coef in best] + [
        "Withholding rule (logjack; logjack_score gives the score interval instead): "
        f"none when interval_methods_extra.disagreeing_units(...) < "
        f"{MIN_DISAGREEING_UNITS} or one jackknife group holds every disagreement: "
        f'"{withheld_reason(1)}".'
    ]
    return "\n".join(lines)


def failing(cells: Sequence[Cell]) -> str:
    """Every marked cell, one line each."""
    rows = [
        f"- {cell.design.name} {SHORT[coef]} {method}: "
        f"{cell_text(cell, (coef, method))}"
        for cell in cells
        for coef in COEFFICIENTS
        for method in METHODS[coef]
        if outside(cell, (coef, method))
    ]
    return "\n".join(rows) if rows else "- none"


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
    args = parser.parse_args(argv)
    designs = select(args.designs)
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
        f"seed {args.seed}, {args.jobs} job(s), methods {', '.join(ALL_METHODS)}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    wall = time.perf_counter()
    cells = run(designs, args.studies, args.seed, args.resamples, args.jobs)
    wall = time.perf_counter() - wall
    print("3c and 5c: 25 % of ratings missing; ordinal5: quadratic weights.")
    print(tables(cells))
    print(summary(cells))
    print("\nCells outside 93–97 % (≥ 50 units):")
    print(failing(cells))
    cpu = sum(c.seconds for c in cells)
    print(
        f"\nfinished {datetime.now(UTC):%H:%M} UTC: {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"({1000 * cpu / max(1, len(cells) * args.studies):.1f} ms per study); "
        f"load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
