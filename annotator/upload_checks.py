"""What every upload form checks the same way: a file over its size limit."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile


def refuse_oversized(upload: UploadedFile, limit: int, advice: str) -> None:
    """Refuse an upload over ``limit`` bytes, naming the file, its size, the limit
    and what to do instead."""
    if upload.size > limit:
        raise forms.ValidationError(
            f"{upload.name}: {upload.size:,} bytes is over the {limit:,}-byte "
            f"limit; {advice}"
        )
