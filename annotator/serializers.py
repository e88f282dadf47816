"""DRF serializers: shapes only. Rules live in annotator/services/, never here.

None of these queries per row: views fetch with select_related / prefetch_related
(see annotator/api/), and tests pin the query counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotator.models import Annotation, Assignment, Codebook, Project
from annotator.services.text import NUL_HINT
from corpus.models import Document, Span
from corpus.text import shown, unstorable

LABELS_SCHEMA = {
    "type": "object",
    "description": "{dimension key: category key, or a list of keys for "
    "multiple-choice dimensions}",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "example": {"topic": "syria", "stance": ["neutral"]},
}


# --- projects ------------------------------------------------------------------------


class CodebookRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Codebook
        fields = ["id", "family", "version", "name"]


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(
        source="user_role",
        allow_null=True,
        help_text="Your role here: coder, reviewer or manager (null for staff who "
        "are not members).",
    )
    corpus = serializers.CharField(source="corpus.name")
    codebook = CodebookRefSerializer()

    class Meta:
        model = Project
        fields = [
            "id", "name", "description", "role", "corpus", "codebook",
            "coders_per_span", "sample_share", "order", "lease_minutes", "created_at",
        ]  # fmt: skip


# --- claims --------------------------------------------------------------------------


class DocumentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "source", "published"]


class SpanSerializer(serializers.ModelSerializer):
    document = DocumentRefSerializer()

    class Meta:
        model = Span
        fields = ["id", "document", "index", "start", "end", "text"]


class ContextSpanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Span
        fields = ["id", "index", "text"]


class ContextSerializer(serializers.Serializer):
    before = ContextSpanSerializer(
        many=True, help_text="In reading order: the nearest span comes last."
    )
    after = ContextSpanSerializer(many=True)


class ClaimSerializer(serializers.ModelSerializer):
    """The span a coder should code now, with its neighbours for reading."""

    assignment = serializers.IntegerField(source="pk")
    span = SpanSerializer()
    context = ContextSerializer()

    class Meta:
        model = Assignment
        fields = ["assignment", "span", "context", "expires_at"]


# --- submits and skips ---------------------------------------------------------------


@extend_schema_field(LABELS_SCHEMA)
class LabelsField(serializers.Field):
    """{dimension: key or [keys]}; the codebook itself is checked by the service."""

    default_error_messages = {
        "shape": "Expected an object mapping dimension keys to a category key or a "
        "list of category keys.",
        "value": "'{dimension}': expected a category key or a list of category keys.",
        "text": "Labels: a {what} {problem}",
    }

    def to_internal_value(self, data) -> dict[str, str | list[str]]:
        if not isinstance(data, dict):
            self.fail("shape")
        clean: dict[str, str | list[str]] = {}
        for key, value in data.items():
            self.check_text(str(key), "dimension key")
            if isinstance(value, str):
                clean[str(key)] = value
            elif isinstance(value, Sequence) and all(
                isinstance(item, str) for item in value
            ):
                clean[str(key)] = list(value)
            else:
                self.fail("value", dimension=shown(str(key)))
            for item in [value] if isinstance(value, str) else value:
                self.check_text(item, "category key")
        return clean

    def check_text(self, text: str, what: str) -> None:
        """The one rule for typed text (corpus.text), said without echoing it."""
        if problem := unstorable(text, nul_hint=NUL_HINT):
            self.fail("text", what=what, problem=problem)

    def to_representation(self, value):
        return value


class SubmitSerializer(serializers.Serializer):
    labels = LabelsField()
    uncertain = serializers.BooleanField(default=False)
    comment = serializers.CharField(
        default="", allow_blank=True, max_length=5000, trim_whitespace=True
    )
    token = serializers.CharField(
        default="",
        allow_blank=True,
        max_length=64,
        help_text="Any string unique to this submit (e.g. a UUID): resending the "
        "same token never saves twice.",
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SkippedSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="pk")

    class Meta:
        model = Assignment
        fields = ["assignment", "status", "skip_reason", "finished_at"]


# --- annotations ---------------------------------------------------------------------


class AnnotatedSpanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Span
        fields = ["id", "document", "index", "text"]


class AnnotationSerializer(serializers.ModelSerializer):
    """One of the caller's own annotations; labels as {dimension: [keys]}."""

    span = AnnotatedSpanSerializer(source="assignment.span")
    labels = serializers.SerializerMethodField()
    codebook_version = serializers.IntegerField(source="codebook.version")

    class Meta:
        model = Annotation
        fields = [
            "id", "assignment", "span", "labels", "uncertain", "comment", "seconds",
            "codebook_version", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"topic": ["syria"], "stance": ["neutral"]},
        }
    )
    def get_labels(self, annotation: Annotation) -> dict[str, list[str]]:
        return annotation.label_keys()


# --- exports (annotator/exporting/ builds the rows; these give their shape) ---------


class ExportSpanFields(serializers.Serializer):
    span_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    document_title = serializers.CharField()
    start = serializers.IntegerField(help_text="Character offset into the document.")
    end = serializers.IntegerField()
    text = serializers.CharField(help_text="document.text[start:end]")


class GoldRowSerializer(ExportSpanFields):
    """One gold label with its provenance (rows are dicts from annotator.exporting)."""

    dimension = serializers.CharField(help_text="The dimension's key.")
    categories = serializers.ListField(
        child=serializers.CharField(),
        help_text="Category keys: one for single-choice dimensions, any number "
        "(maybe none) for multi-choice ones.",
    )
    method = serializers.ChoiceField(
        choices=["unanimous", "single", "majority", "model", "adjudicated"]
    )
    decided_by = serializers.CharField(
        allow_null=True, help_text="The reviewer's username for adjudicated labels."
    )
    decided_at = serializers.DateTimeField()
    posterior = serializers.FloatField(
        allow_null=True, help_text="The model's posterior probability (method model)."
    )
    codebook_version = serializers.IntegerField()
    n_ratings = serializers.IntegerField()
    coder_codes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="{coder id: [category keys]} when the label was decided.",
    )
    coder_usernames = serializers.DictField(
        child=serializers.CharField(),
        help_text="{coder id: username} for the coders in coder_codes.",
    )
    agreement = serializers.FloatField(
        allow_null=True, help_text="Share of ratings equal to the gold code."
    )
    note = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()


class AnnotationRowSerializer(ExportSpanFields):
    """One coder's annotation of a span: the raw codes, for reviewers and managers."""

    annotation_id = serializers.IntegerField()
    coder_id = serializers.IntegerField()
    coder = serializers.CharField(help_text="The coder's username.")
    labels = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="{dimension key: [category keys]}",
    )
    uncertain = serializers.BooleanField()
    comment = serializers.CharField(allow_blank=True)
    seconds = serializers.FloatField(allow_null=True)
    codebook_version = serializers.IntegerField()
    source = serializers.ChoiceField(
        choices=["coded", "imported"],
        help_text="coded here, or imported (manage.py import_codings, the upload page)",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GoldRowPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="null on the last page.")
    results = GoldRowSerializer(many=True)


class AnnotationRowPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="null on the last page.")
    results = AnnotationRowSerializer(many=True)
