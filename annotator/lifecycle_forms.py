"""HTML forms of a project's lifecycle (close, reopen) and of codings imports."""

from __future__ import annotations

from django import forms

from annotator.upload_limits import CODINGS_IMPORT


class LifecycleForm(forms.Form):
    """Close or reopen a project: the one action its state allows."""

    action = forms.ChoiceField(choices=[], widget=forms.HiddenInput)

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = "reopen" if project.is_closed else "close"
        self.fields["action"].choices = [(allowed, allowed)]
        self.fields["action"].error_messages["required"] = (
            f"Say what to do: this project can only be {allowed}d now."
        )
        self.fields["action"].error_messages["invalid_choice"] = (
            f"This project can only be {allowed}d now."
        )


class CodingsImportForm(forms.Form):
    file = forms.FileField(
        label="Codings file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson"}),
        help_text="CSV with a header, or JSONL: one code a row (span_id, or "
        "document_id / document_title with span_index; coder; dimension; category "
        "or value).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".jsonl", ".ndjson")):
            raise forms.ValidationError(f"{upload.name}: choose a .csv or .jsonl file.")
        CODINGS_IMPORT.check_size(upload)
        return upload
