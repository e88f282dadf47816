"""Which gold labels an export reads: filters parsed from query parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet, TextField, Value
from django.utils.dateparse import parse_datetime

from annotator.exporting.columns import CODER_NAMES
from annotator.models import (
    Assignment,
    Dimension,
    GoldLabel,
    GoldMethod,
    Membership,
    Project,
)
from annotator.params import whole_number


@dataclass(frozen=True)
class GoldFilters:
    dimension_ids: tuple[int, ...] | None = None
    method: str | None = None
    document: int | None = None
    updated_since: datetime | None = None


NO_FILTERS = GoldFilters()  # every label (a default argument; the class is frozen)


def parse_datetime_param(name: str, raw: str) -> datetime:
    """An ISO 8601 datetime; naive ones are UTC. ValueError names the parameter."""
    try:
        moment = parse_datetime(raw.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(
            f"{name}: expected an ISO 8601 datetime such as 2026-01-31T12:00:00Z, "
            f"not {raw!r}"
        )
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        # In UTC: PostgreSQL refuses offsets past ±15:59, which Python accepts.
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name}: {raw!r} is out of range") from None


def dimension_ids(project: Project, key: str) -> tuple[int, ...]:
    """Ids of the dimension `key` in every version of the project's codebook.

    Gold and annotations keep the version they were made under, so one key can
    name several dimension rows. ValueError lists the keys that exist.
    """
    rows = list(
        Dimension.objects.in_family_of(project.codebook_id).values_list("pk", "key")
    )
    ids = tuple(pk for pk, row_key in rows if row_key == key)
    if not ids:
        known = ", ".join(sorted({row_key for _, row_key in rows}))
        raise ValueError(f"dimension: {key!r} is not in the codebook ({known})")
    return ids


def parse_gold_filters(project: Project, params: Mapping[str, str]) -> GoldFilters:
    """Filters from query parameters; ValueError names the bad one and why."""
    filters: dict = {}
    if key := params.get("dimension"):
        filters["dimension_ids"] = dimension_ids(project, key)
    if method := params.get("method"):
        if method not in GoldMethod.values:
            raise ValueError(
                f"method: {method!r} is not one of {', '.join(GoldMethod.values)}"
            )
        filters["method"] = method
    if document := params.get("document"):
        if (number := whole_number(document)) is None:
            raise ValueError(f"document: expected a document id, not {document!r}")
        filters["document"] = number
    if since := params.get("updated_since"):
        filters["updated_since"] = parse_datetime_param("updated_since", since)
    return GoldFilters(**filters)


def coder_names(project: Project) -> str:
    """{user id: username} of the project's members and of everyone who coded in
    it (a coder removed since keeps their codes in gold), as JSON text: what the
    gold export's coder_usernames column looks names up in (columns.CoderNames).
    One query, index probes per user, however many gold rows follow."""
    users = get_user_model().objects.filter(
        Exists(Membership.objects.filter(project=project, user=OuterRef("pk")))
        | Exists(Assignment.objects.filter(project=project, coder=OuterRef("pk")))
    )
    names = users.values_list("pk", "username")
    return json.dumps({str(pk): username for pk, username in names})


def gold_labels(project: Project, filters: GoldFilters = NO_FILTERS) -> QuerySet:
    """The project's gold labels under the filters, unordered, with the project's
    coder names read once for the whole export (columns.CODER_NAMES)."""
    labels = GoldLabel.objects.filter(project=project).annotate(
        **{CODER_NAMES: Value(coder_names(project), output_field=TextField())}
    )
    if filters.dimension_ids is not None:
        labels = labels.filter(dimension_id__in=filters.dimension_ids)
    if filters.method is not None:
        labels = labels.filter(method=filters.method)
    if filters.document is not None:
        labels = labels.filter(span__document_id=filters.document)
    if filters.updated_since is not None:
        # Inclusive: a client that resumes from the last updated_at it saw gets the
        # boundary rows again (harmless upserts on span and dimension), never fewer.
        labels = labels.filter(updated_at__gte=filters.updated_since)
    return labels
