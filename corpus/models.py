"""What we are given: corpora, their documents, and the spans coders will read."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.urls import reverse

PARTIAL_DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def content_hash(text: str) -> str:
    """SHA-256 of the text with Unicode and whitespace normalised.

    Normalising first means a re-export with different line endings or trailing
    spaces is still recognised as the same document.
    """
    normalised = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def is_partial_date(value: str) -> bool:
    """YYYY, YYYY-MM or a real calendar date YYYY-MM-DD."""
    if not PARTIAL_DATE_RE.match(value):
        return False
    if len(value) == 10:
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True


def validate_partial_date(value: str) -> None:
    if value and not is_partial_date(value):
        raise ValidationError(
            f"'{value}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD.",
            code="invalid_date",
        )


class Corpus(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who uploaded it through the site; none for `import_corpus` and the demo, which
    # an operator runs for the whole team. Until a project uses the corpus, only its
    # uploader (and staff) sees it: a draft corpus is no other manager's business.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "corpora"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("corpus-detail", args=[self.pk])


class DocumentQuerySet(models.QuerySet):
    def in_corpus_order(self) -> DocumentQuerySet:
        """Documents in the order they were imported (the corpus's reading order)."""
        return self.order_by("corpus_id", "id")

    def with_span_counts(self) -> DocumentQuerySet:
        return self.annotate(
            n_spans=models.Count("spans"),
            n_excluded=models.Count("spans", filter=Q(spans__excluded=True)),
        )


class Document(models.Model):
    corpus = models.ForeignKey(
        Corpus, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=1000)
    source = models.CharField("outlet / source", max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    # ISO 8601 with reduced precision ("2022", "2017-07", "2017-07-30"): sources often
    # give only a year, and inventing a day would be false precision.
    published = models.CharField(
        max_length=10, blank=True, validators=[validate_partial_date]
    )
    language = models.CharField(max_length=35, blank=True)
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    imported_at = models.DateTimeField(auto_now_add=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["corpus_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "content_hash"],
                name="document_unique_content_per_corpus",
            ),
            models.CheckConstraint(
                condition=~Q(text=""), name="document_text_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # The hash is derived data, not business logic: it must always match the text.
        self.content_hash = content_hash(self.text)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("document-detail", args=[self.pk])

    def span_text(self, start: int, end: int) -> str:
        """The text between two offsets: the one place span text is ever made."""
        if not 0 <= start < end <= len(self.text):
            raise ValidationError(
                f"offsets {start}..{end} fall outside the document "
                f"(length {len(self.text)})."
            )
        return self.text[start:end]

    def make_span(
        self,
        *,
        index: int,
        start: int,
        end: int,
        excluded: bool = False,
        exclusion_reason: str = "",
    ) -> Span:
        """An unsaved span whose text is cut from this document.

        Taking offsets, never text, is what guarantees text == document.text[start:end].
        """
        return Span(
            document=self,
            index=index,
            start=start,
            end=end,
            text=self.span_text(start, end),
            excluded=excluded,
            exclusion_reason=exclusion_reason,
        )


class SpanQuerySet(models.QuerySet):
    def codable(self) -> SpanQuerySet:
        """Spans that coders should see (not excluded as page chrome and the like)."""
        return self.filter(excluded=False)

    def in_corpus(self, corpus: Corpus | int) -> SpanQuerySet:
        return self.filter(document__corpus=corpus)


class Span(models.Model):
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="spans"
    )
    index = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    excluded = models.BooleanField(
        default=False,
        help_text="Excluded spans (page chrome, bylines) are never coded.",
    )
    exclusion_reason = models.CharField(max_length=200, blank=True)

    objects = SpanQuerySet.as_manager()

    class Meta:
        ordering = ["document_id", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "index"], name="span_unique_index"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="span_not_empty"
            ),
            # The database backs up make_span(): a span's text is exactly as long as its
            # offsets say, on SQLite and PostgreSQL alike (both count characters).
            models.CheckConstraint(
                condition=Exact(Length("text"), F("end") - F("start")),
                name="span_text_matches_offsets",
            ),
        ]
        indexes = [models.Index(fields=["document", "excluded", "index"])]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.index}: {self.text[:60]}"

    def clean(self) -> None:
        if self.document.text[self.start : self.end] != self.text:
            raise ValidationError(
                "span text does not match the document at its offsets."
            )
