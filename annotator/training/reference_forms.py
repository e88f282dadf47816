"""The reference items' forms: mark by hand, upload, edit, the one click from gold."""

from __future__ import annotations

from django import forms

from annotator.models import ReferenceItem
from annotator.upload_limits import UploadPage
from corpus.models import Document, Span

USE_CHOICES = ReferenceItem.Use.choices
# Read whole in the request, so no larger than any other request's body.
REFERENCE_UPLOAD = UploadPage(
    "project-reference-upload",
    lambda user, **kwargs: False,  # never above the usual body limit
    "DATA_UPLOAD_MAX_MEMORY_SIZE",
    "split it into smaller files.",
)


class ItemFields(forms.Form):
    """Use and explanation; the codes come from the card's choice groups."""

    use = forms.ChoiceField(label="Use", choices=USE_CHOICES)
    explanation = forms.CharField(
        label="Explanation",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why these are the right codes: practice shows it after an answer.",
    )


class MarkForm(ItemFields):
    """A span named by its id, or by its document and span number."""

    SERVICE_FIELDS = {"span": "span_id"}
    span_id = forms.IntegerField(
        label="Span id", required=False, min_value=1, help_text="Or a document below."
    )
    document = forms.ModelChoiceField(
        label="Document", queryset=Document.objects.none(), required=False
    )
    span_index = forms.IntegerField(
        label="Span number in the document",
        required=False,
        min_value=0,
        help_text="Its span_index: the first span of a document is 0.",
    )
    field_order = ["span_id", "document", "span_index", "use", "explanation"]

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["document"].queryset = Document.objects.filter(
            corpus_id=project.corpus_id
        ).order_by("title", "pk")

    def clean(self):
        data = super().clean()
        if data.get("span_id"):
            return data
        document, index = data.get("document"), data.get("span_index")
        if document is None or index is None:
            raise forms.ValidationError(
                "Give a span id, or a document and the span's number in it."
            )
        span_id = (
            Span.objects.filter(document=document, index=index)
            .values_list("pk", flat=True)
            .first()
        )
        if span_id is None:
            self.add_error("span_index", f"{document.title} has no span {index}.")
        data["span_id"] = span_id
        return data


class FromGoldForm(forms.Form):
    span = forms.IntegerField(min_value=1)
    use = forms.ChoiceField(label="Use", choices=USE_CHOICES)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Reference items file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson"}),
        help_text="CSV with a header, or JSONL: one code a row (span_id, or "
        "document_id / document_title with span_index; use; dimension; category "
        "or value; explanation).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".jsonl", ".ndjson")):
            raise forms.ValidationError(f"{upload.name}: choose a .csv or .jsonl file.")
        REFERENCE_UPLOAD.check_size(upload)
        return upload
