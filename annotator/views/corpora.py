"""Corpus pages for managers: list, detail, document, upload; the health check."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access
from annotator.finding_forms import SearchForm
from annotator.forms import CorpusImportForm
from annotator.models import Job
from annotator.services.corpus_import import request_corpus_import
from annotator.views.base import (
    HtmxHttpRequest,
    partial,
    query_without_page,
    see_other,
)
from corpus.models import Document
from corpus.search import search_corpora, search_documents

SEE_CORPORA = "Only managers see corpora."
IMPORTS_SHOWN = 5
DOCUMENTS_PER_PAGE = 50
RECENT_IMPORTS = timedelta(hours=1)  # a finished import stays listed this long
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
    """The corpora, and the user's imports under way or just finished; with a
    search, the corpora holding matches and the matching documents, in pages
    (htmx: the results alone)."""
    context = _listing(request)
    form = SearchForm(request.GET)
    query, where = form.words()
    context.update(form=form, query=query, filters=query_without_page(request))
    if query:
        context["corpora"] = search_corpora(context["corpora"], query, where)
        documents = search_documents(
            Document.objects.filter(corpus__in=access.visible_corpora(request.user)),
            query,
            where,
        )
        context["page"] = _document_page(request, documents)
    return render(
        request, partial(request, "annotator/corpus_list.html", "results"), context
    )


def _document_page(request: HtmxHttpRequest, documents):
    documents = (
        documents.with_span_counts()
        .select_related("corpus")
        .only("id", "title", "source", "published", "language", "corpus__name")
        .in_corpus_order()
    )
    return Paginator(documents, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))


@access.login_required
@access.requires(access.can_see_corpora, SEE_CORPORA)
@require_GET
def import_panel(request: HtmxHttpRequest) -> HttpResponse:
    """The imports panel of the corpora list (htmx polls it while an import
    waits or runs), or the list holding it."""
    return render(
        request,
        partial(request, "annotator/corpus_list.html", "import-jobs"),
        _listing(request),
    )


def _listing(request: HtmxHttpRequest) -> dict:
    imports = list(
        Job.objects.imports_of(
            request.user, finished_since=timezone.now() - RECENT_IMPORTS
        ).order_by("-created_at")[:IMPORTS_SHOWN]
    )
    return {
        "corpora": access.visible_corpora(request.user).order_by("name"),
        "imports": imports,
        "any_active": any(job.is_active for job in imports),
    }


@access.login_required
@access.requires(access.can_see_corpora, SEE_CORPORA)
@require_GET
def corpus_detail(request: HtmxHttpRequest, corpus_id: int) -> HttpResponse:
    """A corpus's documents in pages; a search narrows them (htmx: the list)."""
    corpus = get_object_or_404(access.visible_corpora(request.user), pk=corpus_id)
    form = SearchForm(request.GET)
    query, where = form.words()
    documents = search_documents(Document.objects.filter(corpus=corpus), query, where)
    return render(
        request,
        partial(request, "annotator/corpus_detail.html", "document-list"),
        {
            "corpus": corpus,
            "page": _document_page(request, documents),
            "form": form,
            "query": query,
            "filters": query_without_page(request),
        },
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
    """Upload files into a new or existing corpus: the form is checked at once,
    the files are stored and a worker imports them (all or nothing); the answer
    is the job's page, with its progress bar."""
    form = CorpusImportForm(
        request.POST or None,
        request.FILES or None,
        corpora=access.visible_corpora(request.user),
    )
    if request.method == "POST" and form.is_valid():
        job = request_corpus_import(
            uploads=form.cleaned_data["files"],
            options=form.job_options(),
            by=request.user,
        )
        return see_other(request, reverse("job-detail", args=[job.pk]))
    return render(
        request,
        partial(request, "annotator/corpus_import.html", "import-form"),
        {"form": form},
    )
