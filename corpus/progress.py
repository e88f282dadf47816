"""Progress: a dependency-free bar for long commands, and an import's bytes read."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from corpus.importing.base import RawDocument


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


class BytesRead:
    """How far an import of several files has read, in bytes: a record knows the
    bytes of its own file behind it (``bytes_read``); the files before it count
    whole. Call it with each record, in order; it also counts the records."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes  # file name (a record's origin) -> bytes
        self.total = sum(sizes.values())
        self.finished = 0  # bytes of the files read to their end
        self.origin: str | None = None
        self.records = 0

    def __call__(self, record: RawDocument) -> int:
        if record.origin != self.origin:
            if self.origin is not None:
                self.finished += self.sizes.get(self.origin, 0)
            self.origin = record.origin
        self.records += 1
        return self.finished + record.bytes_read
