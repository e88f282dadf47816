"""Free text people type (reasons, comments, notes, tokens), checked before a write.

One rule for every service that stores such text, the importer's own
(corpus.text): a NUL character or a lone surrogate is refused with a message
naming the field, since PostgreSQL would fail the whole request on it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from corpus.text import unstorable

NUL_HINT = " (\\x00), which cannot be stored; remove it."


def typed_text(value: str, *, field: str, label: str) -> str:
    """The text stripped, or ValidationError({field: "<label>: what is wrong"})."""
    if problem := unstorable(value, nul_hint=NUL_HINT):
        raise ValidationError({field: f"{label}: {problem}"})
    return value.strip()
