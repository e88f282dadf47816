"""A coder's check accuracy over time as SVG coordinates (drawn server-side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from annotator.training.checks import Point

# Geometry in SVG user units.
WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 14, 40
# Line styles cycle through this many classes (coders.css: .series-0 ...).
STYLES = 4


@dataclass(frozen=True)
class Line:
    dimension: str
    style: int
    points: str  # "x,y x,y ..." for <polyline points>
    last: float  # the last rolling accuracy


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    threshold: float
    threshold_y: float
    middle_y: float
    ticks: list[tuple[float, str]]  # y, label of the accuracy axis
    x_ticks: list[tuple[float, int]]  # x, answer number
    lines: list[Line]
    n: int
    summary: str  # the text alternative's one sentence


def _y(value: float) -> float:
    return round(PAD_TOP + (1.0 - value) * (HEIGHT - PAD_TOP - PAD_BOTTOM), 1)


def chart(
    points: Sequence[Point], threshold: float, dimensions: Sequence[str]
) -> Chart | None:
    """Rolling accuracy per dimension after each answer, with the threshold line;
    None without answers."""
    if not points:
        return None
    n = len(points)
    span = WIDTH - PAD_LEFT - PAD_RIGHT

    def x(i: int) -> float:
        return round(PAD_LEFT + (span / 2 if n == 1 else i * span / (n - 1)), 1)

    lines = []
    for style, key in enumerate(dimensions):
        drawn = [
            f"{x(i)},{_y(p.accuracy[key])}"
            for i, p in enumerate(points)
            if key in p.accuracy
        ]
        if drawn:
            last = next(p.accuracy[key] for p in reversed(points) if key in p.accuracy)
            lines.append(Line(key, style % STYLES, " ".join(drawn), last))
    step = max(1, n // 8)
    x_ticks = [(x(i), i + 1) for i in range(0, n, step)]
    if x_ticks[-1][1] != n:
        x_ticks.append((x(n - 1), n))
    now = ", ".join(f"{line.dimension} {line.last:.0%}" for line in lines)
    summary = (
        f"Rolling accuracy on hidden checks over {n} answer{'s' if n != 1 else ''} "
        f"(window of up to {points[-1].window}); now {now}; "
        f"the threshold is {threshold:.0%}."
    )
    return Chart(
        WIDTH, HEIGHT, PAD_LEFT, WIDTH - PAD_RIGHT, PAD_TOP, HEIGHT - PAD_BOTTOM,
        threshold, _y(threshold), _y(0.5),
        [(_y(v), f"{v:.0%}") for v in (1.0, 0.75, 0.5, 0.25, 0.0)],
        x_ticks, lines, n, summary,
    )  # fmt: skip
