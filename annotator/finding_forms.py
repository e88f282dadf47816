"""HTML forms for finding and downloading: downloads, searches, list filters.

Input shapes and checks only; what they select is read by QuerySets and the
exporting package, who may see it by annotator/access.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms

from annotator.models import GoldMethod
from corpus.search import WHERE

WHAT = [("gold", "Gold labels"), ("annotations", "Every coder's annotations")]
FORMATS = [("csv", "CSV"), ("jsonl", "JSONL")]
GOLD_ONLY = "Only gold labels can be filtered by {field}; annotations by date alone."


class DownloadForm(forms.Form):
    """What to download from the project page, with the export API's filters."""

    what = forms.ChoiceField(choices=WHAT, initial="gold", label="Download")
    format = forms.ChoiceField(choices=FORMATS, initial="csv")
    dimension = forms.ChoiceField(required=False, help_text="Gold only.")
    method = forms.ChoiceField(
        required=False,
        choices=[("", "any method")] + list(GoldMethod.choices),
        help_text="Gold only: how the label was reached.",
    )
    since = forms.DateTimeField(
        required=False,
        label="Updated since",
        help_text="Only rows changed at or after this moment (UTC), e.g. "
        "2026-01-31 12:00.",
    )
    raw = forms.BooleanField(
        required=False,
        label="Exact text in CSV",
        help_text="For data pipelines: cells that a spreadsheet would open as "
        "formulas are not quoted.",
    )

    def __init__(self, *args, dimension_keys: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = [("", "every dimension")] + [
            (key, key) for key in dimension_keys
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("what") == "annotations":
            for field in ("dimension", "method"):
                if data.get(field):
                    self.add_error(field, GOLD_ONLY.format(field=field))
        return data

    def api_query(self) -> dict[str, str]:
        """The cleaned choices as the export API's query parameters."""
        data = self.cleaned_data
        query = {}
        if data.get("dimension"):
            query["dimension"] = data["dimension"]
        if data.get("method"):
            query["method"] = data["method"]
        if data.get("since"):
            query["updated_since"] = utc(data["since"]).isoformat()
        if data.get("raw") and data["format"] == "csv":
            query["raw"] = "1"
        return query


def utc(moment: datetime) -> datetime:
    """A form's datetime in UTC (naive ones are UTC, as the API reads them)."""
    return (
        moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    )


def day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class SearchForm(forms.Form):
    """Words to find in documents' titles, outlets and texts (corpus/search.py)."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="Every word must occur; case does not matter.",
    )
    where = forms.ChoiceField(
        required=False,
        choices=WHERE,
        label="In",
        help_text="Title and outlet searches are the fastest.",
    )

    def words(self) -> tuple[str, str]:
        """(query, where); empty when the form is not valid."""
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["q"].strip(), self.cleaned_data["where"]


FILTER_FIELDS = ("text", "category", "since", "until")  # ListFilterForm's


def filter_form(params, categories: list[tuple[str, str]]) -> ListFilterForm:
    """The list filters, bound only when the request fills one of them in."""
    sent = any(params.get(name) for name in FILTER_FIELDS)
    return ListFilterForm(params if sent else None, categories=categories)


class ListFilterForm(forms.Form):
    """The reviewers' and coders' lists narrowed by text, category and date."""

    text = forms.CharField(
        required=False, max_length=200, label="Text", help_text="Words in the span."
    )
    category = forms.ChoiceField(required=False, label="Category")
    since = forms.DateField(required=False, label="From", help_text="YYYY-MM-DD")
    until = forms.DateField(required=False, label="To", help_text="YYYY-MM-DD")

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "any category")] + categories

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date comes before the start date.")
        return data
