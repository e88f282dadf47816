"""A dependency-free progress bar for long-running commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line on a terminal; prints a line every few seconds elsewhere."""

    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, unit: str = "B"
    ) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.unit = unit
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.interactive = self.stream.isatty()

    def update(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if now - self.last_drawn < (0.1 if self.interactive else 5.0):
            return
        self.last_drawn = now
        self._draw(done, note, now)

    def finish(self, done: int, note: str = "") -> None:
        self._draw(done, note, time.monotonic())
        if self.interactive:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, done: int, note: str, now: float) -> None:
        fraction = min(done / self.total, 1.0)
        filled = int(fraction * 30)
        elapsed = now - self.started
        line = (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%} "
            f"{elapsed:6.1f}s {note}"
        )
        if self.interactive:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
