"""The coverage bench's printed tables: per-method coverage, the summary and the misses.

A cell's coverage is the share of its studies whose interval covered the
population value, or its exact value where ``bench/coverage_exact.py`` computed
one (two coders, nominal: marked "exact"). A cell of >= 50 units outside
93-97 % is marked "!", or "‡" where no interval monotone in the data could lie
in that band (the exact module says which), and the summary counts the two apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from annotator.agreement.interval_methods_extra import (
    MIN_DISAGREEING_UNITS,
    withheld_reason,
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
Key = tuple[str, str]  # (coefficient, method)


def wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion hits / n."""
    if n == 0:
        return math.nan, math.nan
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def methods_of(cells: Sequence[Any]) -> dict[str, list[str]]:
    """The methods the cells were run with, per coefficient, in run order."""
    by_coef: dict[str, list[str]] = {c: [] for c in COEFFICIENTS}
    for coef, method in cells[0].covered if cells else ():
        by_coef[coef].append(method)
    return by_coef


def share(cell: Any, key: Key) -> float:
    """The cell's coverage: exact where computed, else the share of its studies."""
    if key in cell.exact:
        return cell.exact[key]
    return float(cell.covered[key].mean())


def marked(cell: Any, key: Key) -> bool:
    """A cell of >= 50 units whose coverage falls outside [93, 97] %."""
    value = share(cell, key)
    return cell.design.n_units >= MIN_UNITS_MARKED and not BAND[0] <= value <= BAND[1]


def unattainable(cell: Any, key: Key) -> bool:
    """Marked, and no interval monotone in the data could lie in the band there."""
    return marked(cell, key) and key[0] in cell.unattainable


def cell_text(cell: Any, key: Key) -> str:
    """ "94.5 (92.0–96.3) w 0.210" (or "96.8 exact w 0.190"), plus how many
    studies got no interval, and "!" or "‡"."""
    hits, n = int(cell.covered[key].sum()), len(cell.covered[key])
    widths = cell.width[key][np.isfinite(cell.width[key])]
    mean_width = f"{widths.mean():.3f}" if len(widths) else "–"
    if key in cell.exact:
        text = f"{100 * cell.exact[key]:.1f} exact w {mean_width}"
    else:
        low, high = wilson(hits, n)
        text = f"{100 * hits / n:.1f} ({100 * low:.1f}–{100 * high:.1f}) w {mean_width}"
    none = n - int(cell.held[key].sum())
    text += f" [{none} none]" if none else ""
    if unattainable(cell, key):
        return text + " ‡"
    return text + (" !" if marked(cell, key) else "")


def tables(cells: Sequence[Any]) -> str:
    """Per method, a Markdown table: designs x the coefficients it serves."""
    by_coef = methods_of(cells)
    lines = []
    for method in dict.fromkeys(m for ms in by_coef.values() for m in ms):
        coefs = [c for c in COEFFICIENTS if method in by_coef[c]]
        lines += [
            "",
            f"**{method}**: coverage % (95 % Wilson interval, or exact), mean width w, "
            "[studies with no interval, counted as misses]; "
            "! = ≥ 50 units and outside 93–97 %; ‡ = so, and no interval could be",
            "",
            "| design | " + " | ".join(SHORT[c] for c in coefs) + " |",
            "|---" * (len(coefs) + 1) + "|",
        ]
        for cell in cells:
            row = [cell_text(cell, (c, method)) for c in coefs]
            lines.append(f"| {cell.design.name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def given_share(cell: Any, key: Key) -> float:
    """Coverage among the studies that got an interval (nan when none did)."""
    if key in cell.exact and cell.held[key].all():
        return cell.exact[key]
    held = cell.held[key]
    return float(cell.covered[key][held].mean()) if held.any() else math.nan


def summary(cells: Sequence[Any]) -> str:
    """Per coefficient and method: cells outside the band (those no interval could
    bring into it apart) and the lowest coverage, counting a withheld interval
    as a miss and, apart, among the intervals given."""
    lines = [
        "",
        "| coefficient | method | cells ≥ 50 units | outside 93–97 % (low/high) | "
        "of which unattainable | mean coverage | lowest (design) | withheld % (max) | "
        "outside among given (low/high) | lowest among given |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    big = [c for c in cells if c.design.n_units >= MIN_UNITS_MARKED]
    if not big:
        return "\n(no design of >= 50 units selected: no summary)"
    best: dict[str, tuple[int, float, float, str]] = {}
    for coef, methods in methods_of(cells).items():
        for method in methods:
            key = (coef, method)
            shares = [share(c, key) for c in big]
            given = [given_share(c, key) for c in big]
            withheld = [1.0 - float(c.held[key].mean()) for c in big]
            below = sum(s < BAND[0] for s in shares)
            above = sum(s > BAND[1] for s in shares)
            bound = sum(unattainable(c, key) for c in big)
            g_below = sum(s < BAND[0] for s in given if math.isfinite(s))
            g_above = sum(s > BAND[1] for s in given if math.isfinite(s))
            low = min(range(len(big)), key=shares.__getitem__)
            finite = [g if math.isfinite(g) else 2.0 for g in given]
            g_low = min(range(len(big)), key=finite.__getitem__)
            lines.append(
                f"| {SHORT[coef]} | {method} | {len(big)} | {below + above} "
                f"({below}/{above}) | {bound} | {100 * np.mean(shares):.1f} | "
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


def failing(cells: Sequence[Any]) -> str:
    """Every marked cell, one line each."""
    rows = [
        f"- {cell.design.name} {SHORT[coef]} {method}: "
        f"{cell_text(cell, (coef, method))}"
        for cell in cells
        for coef, methods in methods_of(cells).items()
        for method in methods
        if marked(cell, (coef, method))
    ]
    return "\n".join(rows) if rows else "- none"
