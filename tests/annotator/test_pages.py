import pytest
from django.urls import reverse

from annotator.models import Job
from corpus.models import Corpus, Document, Span
from tests.factories import PASSWORD, CorpusFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_page_logs_a_demo_manager_in(client, manager):
    response = client.post(
        reverse("login"), {"username": "manager", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200 and response.context["user"] == manager


def test_home_shows_the_seed_corpus_to_a_manager(manager_client, seed_corpus):
    response = manager_client.get(reverse("home"))
    assert response.status_code == 200
    assert seed_corpus.name in response.text
    assert reverse("corpus-import") in response.text


def test_coder_sees_no_corpora_and_cannot_open_one(client, coder, seed_corpus):
    client.force_login(coder)
    assert seed_corpus.name not in client.get(reverse("home")).text
    assert client.get(seed_corpus.get_absolute_url()).status_code == 403
    assert client.get(reverse("corpus-import")).status_code == 403


def test_corpus_detail_full_page_and_partial(manager_client, seed_corpus):
    url = seed_corpus.get_absolute_url()
    full = manager_client.get(url)
    assert full.status_code == 200
    assert "<html" in full.text and 'id="document-list"' in full.text
    assert "Putin Hopes for Change in U.S. Policy" in full.text
    part = manager_client.get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text and part.text.lstrip().startswith(
        '<section id="document-list"'
    )
    assert "Putin Hopes for Change in U.S. Policy" in part.text


def test_corpus_detail_query_count_does_not_grow_with_documents(
    manager_client, django_assert_max_num_queries
):
    corpus = CorpusFactory()
    DocumentFactory.create_batch(30, corpus=corpus)
    # session, user, permissions, corpus, count, page
    with django_assert_max_num_queries(8):
        response = manager_client.get(corpus.get_absolute_url())
    assert response.text.count("<tr>") >= 30


def test_document_page_lists_spans_with_excluded_marked(manager_client, seed_corpus):
    document = Document.objects.get(corpus=seed_corpus, source="TASS")
    response = manager_client.get(document.get_absolute_url())
    assert response.status_code == 200
    assert 'class="span excluded"' in response.text
    assert document.spans.codable().first().text[:40] in response.text


def test_import_page_full_and_partial(manager_client):
    full = manager_client.get(reverse("corpus-import"))
    assert (
        full.status_code == 200
        and "<html" in full.text
        and 'id="import-form"' in full.text
    )
    part = manager_client.get(reverse("corpus-import"), headers={"HX-Request": "true"})
    assert "<html" not in part.text and part.text.lstrip().startswith(
        '<form id="import-form"'
    )


def upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content.encode("utf-8"))


def test_import_upload_queues_a_job_whose_page_shows_the_corpus(manager_client):
    """The request answers with the job's page; the worker (run at once under
    pytest) has made the corpus, which that page links to."""
    response = manager_client.post(
        reverse("corpus-import"),
        {
            "new_corpus_name": "Uploaded",
            "segmentation": "paragraph",
            "language": "en",
            "exclude_patterns": "Subscribe.*",
            "files": [
                upload("a.txt", "Title A\n\nBody A.\n\nSubscribe now"),
                upload("b.csv", "title,text\nB,Body B.\n"),
            ],
        },
    )
    job = Job.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    corpus = Corpus.objects.get(name="Uploaded")
    assert corpus.documents.count() == 2
    assert Span.objects.in_corpus(corpus).filter(excluded=True).count() == 1
    page = manager_client.get(response["Location"]).text
    assert (
        f'Corpus <a href="{corpus.get_absolute_url()}">Uploaded</a> imported: '
        "2 documents, 4 spans (1 excluded from coding)."
    ) in page


def test_import_upload_via_htmx_answers_with_client_redirect(manager_client):
    response = manager_client.post(
        reverse("corpus-import"),
        {
            "new_corpus_name": "Via htmx",
            "segmentation": "none",
            "files": [upload("a.txt", "x")],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("job-detail", args=[Job.objects.get().pk])
    assert Corpus.objects.filter(name="Via htmx").exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_upload_fails_its_job_in_words_and_stores_nothing(manager_client, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = manager_client.post(
        reverse("corpus-import"),
        {
            "new_corpus_name": "Broken",
            "segmentation": "paragraph",
            "files": [
                upload("good.txt", "Fine."),
                upload("bad.csv", "title,text\nA,\n"),
            ],
        },
        headers=headers,
    )
    job = Job.objects.get()
    assert job.state == "failed"
    assert job.error == (
        "bad.csv, line 2, field 'text': missing or empty; every document needs "
        "its text. Nothing was imported."
    )
    page = manager_client.get(reverse("job-detail", args=[job.pk]), headers=headers)
    assert "bad.csv, line 2, field &#x27;text&#x27;: missing or empty" in page.text
    assert ("<html" in page.text) is not htmx
    assert response.status_code == (200 if htmx else 303)
    assert not Corpus.objects.exists() and not Document.objects.exists()
    assert not Span.objects.exists()


def test_upload_form_requires_a_corpus_and_known_file_types(manager_client):
    response = manager_client.post(
        reverse("corpus-import"),
        {"segmentation": "paragraph", "files": [upload("a.docx", "x")]},
    )
    assert response.status_code == 200
    assert "Choose a corpus or name a new one." in response.text
    assert "a.docx: unsupported file type" in response.text


def test_healthz_reports_database_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_every_page_names_its_icon_so_browsers_do_not_ask_for_favicon_ico(client):
    from django.contrib.staticfiles import finders

    page = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/annotator/favicon.svg"' in page
    assert finders.find("annotator/favicon.svg")


def test_favicon_ico_leads_to_the_svg_icon(client):
    """Browsers ask for /favicon.ico where no page links the icon: not a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("annotator/favicon.svg")
