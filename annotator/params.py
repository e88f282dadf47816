"""Whole numbers read strictly from query parameters, errors naming the parameter."""

from __future__ import annotations

import re

# ASCII digits only: str.isdigit() and int() also take "²" or "٥", and int() fails
# on the first, which reached the caller as "invalid literal for int()".
DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits: within every database's bigint


def whole_number(raw: str) -> int | None:
    """The whole number `raw` spells in ASCII digits, or None."""
    return int(raw) if DIGITS.fullmatch(raw) else None
