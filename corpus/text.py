"""Text no database can store: the one check for imports and for what people type.

PostgreSQL refuses a NUL character in text and JSON, and a lone surrogate (JSON
allows "\\ud800") cannot be encoded as UTF-8 anywhere: both must be refused with a
message before they reach a write, or the request fails as a server error.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str, *, nul_hint: str = "") -> str | None:
    """What makes the text unstorable, said for a person, or None when it is fine."""
    bad = UNSTORABLE.search(value)
    if bad is None:
        return None
    char = bad.group()
    if char == "\x00":
        return f"contains a NUL character{nul_hint}"
    return (
        f"contains an unpaired surrogate (\\u{ord(char):04x}), which is not valid "
        "Unicode."
    )


def shown(value: str) -> str:
    """The text as a message may quote it: each unstorable character written as its
    escape (\\x00, \\udc00), since a lone surrogate cannot even be sent back."""
    return UNSTORABLE.sub(lambda bad: ascii(bad.group())[1:-1], value)
