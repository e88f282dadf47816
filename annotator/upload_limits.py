"""The pages that take files larger than other requests' bodies, and their limits.

One rule in one place: the body-size middleware lets an upload to one of these
pages through up to its limit (for a user allowed to use the page), and the
page's form refuses each file over that same limit, naming file and limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from annotator import access


@dataclass(frozen=True)
class UploadPage:
    """A page that takes a file larger than other requests' bodies."""

    url: str  # its URL name
    may: Callable[..., bool]  # who may send it that much: (user, **URL arguments)
    setting: str  # the limit's setting
    advice: str  # what to do with a larger file, as a clause

    @property
    def limit(self) -> int:
        return getattr(settings, self.setting)

    def check_size(self, upload: UploadedFile) -> None:
        """The form's check: a file over the limit is refused, naming both."""
        if upload.size > self.limit:
            raise forms.ValidationError(
                f"{upload.name}: {upload.size:,} bytes is over the "
                f"{self.limit:,}-byte limit; {self.advice}"
            )


CORPUS_IMPORT = UploadPage(
    "corpus-import",
    access.can_import_corpora,
    "CORPUS_UPLOAD_MAX_BYTES",
    "import large corpora with 'manage.py import_corpus'.",
)
# Codings are imported like a corpus (stored, then streamed by a worker): the
# same limit.
CODINGS_IMPORT = UploadPage(
    "project-codings-import",
    access.manages,
    "CORPUS_UPLOAD_MAX_BYTES",
    "import larger files with 'manage.py import_codings'.",
)
PROJECT_RESTORE = UploadPage(
    "project-restore",
    access.can_create_projects,
    "ARCHIVE_UPLOAD_MAX_BYTES",
    "restore large archives with 'manage.py restore_project'.",
)
UPLOAD_PAGES = {
    page.url: page for page in (CORPUS_IMPORT, CODINGS_IMPORT, PROJECT_RESTORE)
}
