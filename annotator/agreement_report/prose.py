"""Numbers and dates as the report's prose writes them (APA 7; pure)."""

from __future__ import annotations

import math
from datetime import datetime

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight")
WORDS += ("nine", "ten")


def coefficient(x: float, places: int = 2) -> str:
    """A value bounded by 1 without its leading zero (.81, −.05)."""
    if not math.isfinite(x):
        return "undefined"
    text = f"{x:.{places}f}"
    sign = "−" if text.startswith("-") else ""
    return sign + text.lstrip("-").removeprefix("0")


def count(n: int, *, start: bool = False) -> str:
    """A count: a word for one to ten opening a sentence, else digits with
    thousands separators."""
    if start and 0 <= n <= 10:
        return WORDS[n].capitalize()
    return f"{n:,}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def day(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"


def span_of_days(first: datetime, last: datetime) -> str:
    if first.date() == last.date():
        return f"on {day(first)}"
    if first.year == last.year:
        return f"between {first.day} {first:%B} and {day(last)}"
    return f"between {day(first)} and {day(last)}"


def names(items: list[str]) -> str:
    """ "a", "a and b", "a, b, and c" (APA's serial comma)."""
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def period(start: datetime, end: datetime | None) -> str:
    """A period of days: "from 3 May to 9 June 2026", "on 3 May 2026", or "from
    3 May 2026 onwards" while it lasts (``end`` None)."""
    if end is None:
        return f"from {day(start)} onwards"
    if start.date() == end.date():
        return f"on {day(start)}"
    if start.year == end.year:
        return f"from {start.day} {start:%B} to {day(end)}"
    return f"from {day(start)} to {day(end)}"
