"""The codebook pages' forms: a codebook file uploaded, a move to a newer version."""

from __future__ import annotations

from django import forms


class CodebookUploadForm(forms.Form):
    """A codebook file: read as JSON if it ends in .json, else as YAML (what
    `manage.py import_codebook` does); `data` is the parsed mapping."""

    MAX_BYTES = 1024 * 1024
    file = forms.FileField(
        label="Codebook file (.yaml, .yml or .json)",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )

    def clean(self):
        from annotator.codebooks import parse_codebook_text

        upload = self.cleaned_data.get("file")
        if upload is None:
            return self.cleaned_data
        if upload.size > self.MAX_BYTES:
            self.add_error("file", f"{upload.name}: larger than 1 MB; no codebook is.")
            return self.cleaned_data
        try:
            text = upload.read().decode("utf-8")
            self.cleaned_data["data"] = parse_codebook_text(text, upload.name)
        except UnicodeDecodeError as error:
            self.add_error(
                "file", f"{upload.name}: not UTF-8 text (byte {error.start + 1})."
            )
        except forms.ValidationError as error:
            self.add_error("file", error.messages)
        return self.cleaned_data


class CodebookMoveForm(forms.Form):
    """The newer version of its codebook a project moves to (the move page)."""

    version = forms.TypedChoiceField(
        label="Move to version",
        coerce=int,
        help_text="Codes whose category was removed or redefined go back to their "
        "coders; the rest are carried.",
    )

    def __init__(self, *args, versions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [
            (codebook.version, f"version {codebook.version}: {codebook.name}")
            for codebook in versions
        ]
