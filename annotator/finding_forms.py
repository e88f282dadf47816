"""HTML forms for finding and downloading: downloads, searches, list filters.

Input shapes and checks only; what they select is read by QuerySets and the
exporting package, who may see it by annotator/access.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms

from annotator.models import GoldMethod

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
