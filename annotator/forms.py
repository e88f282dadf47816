from __future__ import annotations

import re

from django import forms
from django.conf import settings

from corpus.importing import SUPPORTED_SUFFIXES
from corpus.models import Corpus
from corpus.segmenting import Segmentation


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(SUPPORTED_SUFFIXES)})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class CorpusImportForm(forms.Form):
    corpus = forms.ModelChoiceField(
        queryset=Corpus.objects.all(),
        required=False,
        empty_label="— a new corpus —",
        help_text="Add to an existing corpus, or leave empty and name a new one.",
    )
    new_corpus_name = forms.CharField(max_length=200, required=False)
    files = MultipleFileField(
        help_text="One or more .txt files (title = first non-empty line), or a CSV / "
        "JSONL file with title, text, source, url, published, language; other "
        "columns are kept as metadata."
    )
    segmentation = forms.ChoiceField(
        choices=[(choice.value, choice.value) for choice in Segmentation],
        initial=Segmentation.PARAGRAPH.value,
        help_text="paragraph: blank lines; sentence: pySBD; line: one span per line; "
        "none: one span per document.",
    )
    exclude_patterns = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One regular expression per line; spans whose whole text matches are "
        "excluded from coding (page chrome such as 'Subscribe to EIR').",
    )
    language = forms.CharField(max_length=35, required=False, initial="en")

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit = settings.CORPUS_UPLOAD_MAX_BYTES
        for upload in files:
            if not upload.name.lower().endswith(SUPPORTED_SUFFIXES):
                raise forms.ValidationError(
                    f"{upload.name}: unsupported file type; use "
                    f"{', '.join(SUPPORTED_SUFFIXES)}."
                )
            if upload.size > limit:
                raise forms.ValidationError(
                    f"{upload.name}: {upload.size:,} bytes is over the "
                    f"{limit:,}-byte limit; "
                    "import large corpora with 'manage.py import_corpus'."
                )
        return files

    def clean_exclude_patterns(self) -> list[str]:
        patterns = [
            line.strip() for line in self.cleaned_data["exclude_patterns"].splitlines()
        ]
        patterns = [pattern for pattern in patterns if pattern]
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise forms.ValidationError(
                    f"{pattern!r} is not a valid pattern: {error}."
                ) from None
        return patterns

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("new_corpus_name") or "").strip()
        if not cleaned.get("corpus") and not name:
            self.add_error("new_corpus_name", "Choose a corpus or name a new one.")
        if (
            not cleaned.get("corpus")
            and name
            and Corpus.objects.filter(name=name).exists()
        ):
            self.add_error(
                "new_corpus_name", f"A corpus named '{name}' exists; choose it above."
            )
        return cleaned

    def target_corpus(self) -> Corpus:
        """The chosen corpus, or a new one (made inside the caller's transaction)."""
        return self.cleaned_data["corpus"] or Corpus.objects.create(
            name=self.cleaned_data["new_corpus_name"].strip()
        )
