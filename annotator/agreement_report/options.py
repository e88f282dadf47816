"""A report's options from query parameters: its trend's grouping, its version.

The trend is grouped by week or by batch; the codebook version says whose
annotations count (``version_asked``). ``report_request`` is both, as every
reader of a report asks them (the dashboard, its CSV and the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from annotator.models import Codebook, Project
from annotator.params import whole_number

from .groups import OVER


@dataclass(frozen=True)
class Options:
    over: str = "week"
    batch_size: int = 100
    version: int | None = None  # a codebook version; None: the project's own


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
    version = None
    if raw_version := params.get("version"):
        version = whole_number(raw_version)
        if not version:
            raise ValueError(
                f"version must be a codebook version number, not {raw_version!r}"
            )
    return Options(over, batch_size, version)


def version_asked(project: Project, options: Options) -> Codebook | None:
    """The codebook version whose annotations the report counts: the one asked
    for (None if the project's codebook has no such version up to its own),
    else the project's own."""
    if options.version is None or options.version == project.codebook.version:
        return project.codebook
    return Codebook.objects.versions_of(project).filter(version=options.version).first()


class ReportRequestError(Exception):
    """A report request that cannot be answered: its HTTP status and the words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def report_request(
    project: Project, params: Mapping[str, str]
) -> tuple[Options, Codebook]:
    """The options asked for and the codebook version they name; a bad option is a
    ReportRequestError(400), a version the project's codebook never had one (404)."""
    try:
        options = parse_options(params)
    except ValueError as error:
        raise ReportRequestError(400, str(error)) from error
    codebook = version_asked(project, options)
    if codebook is None:
        raise ReportRequestError(
            404, f"No version {options.version} of this project's codebook."
        )
    return options, codebook
