"""The machine coder beside the humans: alpha of model vs coder, and coder vs coder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .alphas import GOLD, MODEL, ratings_alpha


def _humans_by_unit(human_ratings, model_by_unit) -> dict[Any, dict[Any, Any]]:
    by_unit: dict[Any, dict[Any, Any]] = {}
    for unit, coder, key in human_ratings:
        if coder in by_unit.setdefault(unit, {}):
            raise ValueError(f"coder {coder!r} rated unit {unit!r} twice")
        by_unit[unit][coder] = key
    return {u: r for u, r in by_unit.items() if len(r) >= 2 and u in model_by_unit}


def _fmt(scored: dict) -> str:
    interval = scored["interval"]
    span = f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""
    return f"{scored['alpha']:.3f}{span}"


def _verdict(model: dict, humans: dict, n_units: int) -> tuple[str, str]:
    if model["alpha"] is None or humans["alpha"] is None:
        return "undetermined", (
            f"Not enough agreement data on the {n_units} shared units to compare "
            "the model with the coders (alpha is undefined)."
        )
    if model["interval"] is None or humans["interval"] is None:
        return "undetermined", (
            f"Model vs coders alpha {_fmt(model)}, coders with each other "
            f"{_fmt(humans)} on {n_units} units; without both intervals the "
            "difference cannot be judged."
        )
    (m_lo, m_hi), (h_lo, h_hi) = model["interval"], humans["interval"]
    figures = (
        f"alpha {_fmt(model)} between the model and the coders, {_fmt(humans)} "
        f"between the coders themselves, on the same {n_units} units"
    )
    if m_hi < h_lo:
        return "less_well", (
            "The model agrees with coders less well than coders agree with each "
            f"other: {figures} (the model's interval lies wholly below)."
        )
    if m_lo > h_hi:
        return "better", (
            "The model agrees with coders better than coders agree with each "
            f"other: {figures} (the model's interval lies wholly above)."
        )
    return "as_well", (
        "The model agrees with coders as well as coders agree with each other: "
        f"{figures} (the intervals overlap)."
    )


def coder_comparison(
    model_by_unit: Mapping[Any, Any],
    human_ratings: Sequence[tuple[Any, Any, Any]],
    level: str,
    categories: Sequence[Any] | None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict:
    """The model beside the human coders on the units both coded.

    Shared units: those the model coded and at least two humans coded (the
    reliability sample). Per coder, alpha of model vs that coder on the shared
    units the coder rated, beside the humans' alpha on those same units. Pooled
    (``model_vs_humans``): each (unit, coder) rating paired with the model's key
    for that unit; its bootstrap resamples those pairs, so a unit coded by
    several coders counts several times (its interval is somewhat narrow).
    ``verdict`` compares the pooled interval with the humans' on the same units."""
    shared = _humans_by_unit(human_ratings, model_by_unit)
    units = sorted(shared, key=str)
    human = [(u, c, k) for u in units for c, k in shared[u].items()]
    empty = {"alpha": None, "interval": None, "interval_note": "no shared units"}
    if not human:
        verdict = _verdict(empty, empty, 0)
        return {
            "n_units": 0,
            "human_human": empty,
            "model_vs_humans": empty,
            "by_coder": {},
            "verdict": verdict[0],
            "verdict_text": verdict[1],
        }
    cols = list(zip(*human, strict=True))
    humans = ratings_alpha(*cols, level, categories, n_resamples, seed)
    pooled = ratings_alpha(
        [*range(len(human)), *range(len(human))],
        [GOLD] * len(human) + [MODEL] * len(human),
        [k for _, _, k in human] + [model_by_unit[u] for u, _, _ in human],
        level,
        categories,
        n_resamples,
        seed,
    )
    by_coder = {}
    for coder in sorted({c for _, c, _ in human}, key=str):
        mine = [u for u in units if coder in shared[u]]
        theirs = [(u, c, k) for u in mine for c, k in shared[u].items()]
        by_coder[str(coder)] = {
            "n_units": len(mine),
            "model_vs_coder": ratings_alpha(
                [*mine, *mine],
                [GOLD] * len(mine) + [MODEL] * len(mine),
                [shared[u][coder] for u in mine] + [model_by_unit[u] for u in mine],
                level,
                categories,
                n_resamples,
                seed,
            ),
            "human_human": ratings_alpha(
                *zip(*theirs, strict=True), level, categories, n_resamples, seed
            ),
        }
    verdict, text = _verdict(pooled, humans, len(units))
    return {
        "n_units": len(units),
        "human_human": humans,
        "model_vs_humans": pooled,
        "by_coder": by_coder,
        "verdict": verdict,
        "verdict_text": text,
    }
