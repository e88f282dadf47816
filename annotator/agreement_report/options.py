"""How a report groups its trend (by week or by batch), read from query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from annotator.params import whole_number

from .groups import OVER


@dataclass(frozen=True)
class Options:
    over: str = "week"
    batch_size: int = 100


def parse_options(params: Mapping[str, str]) -> Options:
    """The dashboard's and the API's options; ValueError names the bad one."""
    over = params.get("over") or "week"
    if over not in OVER:
        raise ValueError(f"over must be one of {', '.join(OVER)}, not {over!r}")
    raw = params.get("batch_size") or "100"
    batch_size = whole_number(raw)
    if batch_size is None:
        raise ValueError(f"batch_size must be a whole number, not {raw!r}")
    if not 1 <= batch_size <= 1_000_000:
        raise ValueError("batch_size must be between 1 and 1,000,000")
    return Options(over, batch_size)
