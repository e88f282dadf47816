"""The certification gate: a claim's refusal for a coder not yet certified."""

from __future__ import annotations

from django.core.exceptions import ValidationError

NOT_CERTIFIED = (
    "Pass the certification test before coding in this project (Training page)."
)


class NotCertified(ValidationError):
    """A claim by an uncertified coder in a project whose gate is ``require``
    (services.queue._lock_coder): the API answers 403, the page a gate card."""
