"""Corpus pages for managers: list, detail, document, upload; the health check."""

from __future__ import annotations

import logging
from itertools import chain

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access
from annotator.forms import CorpusImportForm
from annotator.views.base import HtmxHttpRequest, partial, see_other
from corpus.importing import ImportFailed, import_documents, read_upload
from corpus.models import Document

SEE_CORPORA = "Only managers see corpora."
logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for load balancers.

    The caller is anonymous: the driver's error (host, port, user) goes to the
    log, the answer only says the database is unreachable.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means "not healthy"
        logger.exception("healthz: the database did not answer")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@access.login_required
@access.requires(access.can_see_corpora, SEE_CORPORA)
@require_GET
def corpus_list(request: HtmxHttpRequest) -> HttpResponse:
    corpora = access.visible_corpora(request.user).order_by("name")
    return render(request, "annotator/corpus_list.html", {"corpora": corpora})


@access.login_required
@access.requires(access.can_see_corpora, SEE_CORPORA)
@require_GET
def corpus_detail(request: HtmxHttpRequest, corpus_id: int) -> HttpResponse:
    corpus = get_object_or_404(access.visible_corpora(request.user), pk=corpus_id)
    documents = (
        Document.objects.filter(corpus=corpus)
        .with_span_counts()
        .only("id", "title", "source", "published", "language")
        .in_corpus_order()
    )
    page = Paginator(documents, 50).get_page(request.GET.get("page"))
    return render(
        request,
        partial(request, "annotator/corpus_detail.html", "document-list"),
        {"corpus": corpus, "page": page},
    )


@access.login_required
@access.requires(access.can_see_corpora, SEE_CORPORA)
@require_GET
def document_detail(request: HtmxHttpRequest, document_id: int) -> HttpResponse:
    document = get_object_or_404(
        Document.objects.select_related("corpus").filter(
            corpus__in=access.visible_corpora(request.user)
        ),
        pk=document_id,
    )
    return render(
        request,
        "annotator/document_detail.html",
        {"document": document, "spans": document.spans.order_by("index")},
    )


@access.login_required
@access.requires(access.can_import_corpora, "Only managers import corpora.")
@require_http_methods(["GET", "POST"])
def corpus_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload files into a new or existing corpus; all or nothing."""
    form = CorpusImportForm(
        request.POST or None,
        request.FILES or None,
        corpora=access.visible_corpora(request.user),
    )
    if request.method == "POST" and form.is_valid():
        uploads = form.cleaned_data["files"]
        try:
            with transaction.atomic():
                corpus = form.target_corpus(created_by=request.user)
                report = import_documents(
                    corpus=corpus,
                    records=chain.from_iterable(
                        read_upload(upload.file, upload.name) for upload in uploads
                    ),
                    segmentation=form.cleaned_data["segmentation"],
                    exclude_patterns=form.cleaned_data["exclude_patterns"],
                    default_language=form.cleaned_data["language"],
                )
        except ImportFailed as error:
            form.add_error(None, f"{error} Nothing was imported.")
        else:
            messages.success(request, report.summary())
            for duplicate in report.duplicates[:10]:
                messages.info(request, f"Duplicate skipped: {duplicate}")
            return see_other(request, corpus.get_absolute_url())
    return render(
        request,
        partial(request, "annotator/corpus_import.html", "import-form"),
        {"form": form},
    )
