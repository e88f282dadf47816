"""The Django admin for corpora, documents and spans (exclusion toggled here)."""

from django.contrib import admin

from corpus.models import Corpus, Document, Span


@admin.register(Corpus)
class CorpusAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["created_by"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "corpus", "source", "published", "language"]
    list_filter = ["corpus", "language"]
    search_fields = ["title", "source", "url"]
    readonly_fields = ["content_hash", "imported_at"]


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["document", "index", "start", "end", "excluded", "text"]
    list_filter = ["excluded", "document__corpus"]
    search_fields = ["text"]
    list_editable = ["excluded"]
    # Offsets and text are cut from the document once; editing them would break the
    # text == document.text[start:end] invariant.
    readonly_fields = ["document", "index", "start", "end", "text"]
    list_select_related = ["document"]
