"""The refusal a closed project answers claims and submits with (services.lifecycle)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

CLOSED = (
    "This project is closed: it takes no claims and no codes until a manager "
    "reopens it. Its pages, gold, agreement and exports can still be read."
)


class ProjectClosed(ValidationError):
    """A claim, skip or submit in a closed project (the pages and the API say so in
    words; the API answers 409)."""
