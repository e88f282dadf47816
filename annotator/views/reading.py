"""A project's document read whole, read-only, with one span highlighted.

Opened from the coding screen (and the adjudication card) beside the span in its
context: the text, its title, outlet and date, never anyone's codes, so a coder
reads here nothing blind coding keeps from them. Who may: ``access.document_reader``.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access
from annotator.params import whole_number
from annotator.views.base import HtmxHttpRequest
from corpus.models import Document, Span


@access.login_required
@require_GET
def project_document(
    request: HtmxHttpRequest, project_id: int, document_id: int
) -> HttpResponse:
    """The document's text, the span named by ``?span=`` marked in it."""
    project = access.document_reader(request.user, project_id, document_id)
    document = Document.objects.only("title", "source", "published", "text").get(
        pk=document_id
    )
    text, parts = document.text, None
    wanted = whole_number(request.GET.get("span") or "")
    span = wanted and Span.objects.filter(pk=wanted, document=document).first()
    if span:
        parts = (text[: span.start], text[span.start : span.end], text[span.end :])
    return render(
        request,
        "annotator/project_document.html",
        {"project": project, "document": document, "text": text, "parts": parts},
    )
