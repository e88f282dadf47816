import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_the_seed_corpus_and_reads_a_document(page, manager, seed_corpus):
    log_in(page, "manager", PASSWORD)
    page.get_by_role("link", name=seed_corpus.name).click()
    page.get_by_role(
        "link", name="Putin says Russia wants to build good relations with US"
    ).click()
    assert page.locator("li.span.excluded", has_text="All news").count() == 1
    assert page.locator("li.span").count() > 10


def test_manager_upload_error_is_shown_in_place(page, manager, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title,text\nA,\n", encoding="utf-8")
    log_in(page, "manager", PASSWORD)
    page.goto("/corpora/import/")
    page.fill("input[name=new_corpus_name]", "Broken")
    page.set_input_files("input[name=files]", str(bad))
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "bad.csv, line 2, field 'text': missing or empty" in alert.inner_text()
