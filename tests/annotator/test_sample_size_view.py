"""The sample-size helper's page and fragment, and its place on the new-project form."""

import pytest
from django.urls import reverse

from annotator.agreement.sample_size import plan
from tests.factories import CorpusFactory, DocumentFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "project-sample-size"


def test_the_page_plans_the_defaults_as_a_plain_form(manager_client):
    response = manager_client.get(reverse(URL))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'method="get"' in html
    for label in ("Target α", "Minimum acceptable α", "Categories", "Coders per unit"):
        assert label in html
    assert 'name="corpus"' in html and 'name="sample_share"' in html
    expected = plan(0.9, 0.8, 2)
    assert f"Code at least {expected.recommended_units} units" in html


def test_the_fragment_answers_the_assumptions_asked(manager_client):
    asked = {
        "target_alpha": "0.85",
        "min_alpha": "0.8",
        "categories": "4",
        "coders": "2",
    }
    response = manager_client.get(reverse(URL), asked, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="sample-size"' in html
    expected = plan(0.85, 0.8, 4)
    assert f"Code at least {expected.recommended_units} units" in html
    assert f"{expected.krippendorff_values:,} pairable values" in html


def test_a_corpus_and_share_say_how_many_units_the_design_samples(
    manager_client, manager
):
    corpus = CorpusFactory(created_by=manager)
    for d in range(5):  # 5 documents of 8 paragraphs: 40 spans
        DocumentFactory(corpus=corpus, text="\n\n".join(f"P{d}.{i}." for i in range(8)))
    asked = {
        "target_alpha": "0.9", "min_alpha": "0.8", "categories": "2", "coders": "2",
        "corpus": corpus.pk, "sample_share": "50",
    }  # fmt: skip
    html = manager_client.get(reverse(URL), asked, **HTMX).content.decode()
    assert "50 % of 40 spans: about 20 units" in html
    assert "Raise the sample share" in html


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("target_alpha", "1.5", "Target α"),
        ("categories", "1", "Categories"),
        ("min_alpha", "0.95", "Minimum acceptable α"),
        ("coders", "many", "Coders per unit"),
        # Capped so that one request cannot ask for seconds of simulation.
        ("categories", "21", "Categories"),
        ("coders", "11", "Coders per unit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(manager_client, field, value, words):
    asked = {
        "target_alpha": "0.9",
        "min_alpha": "0.8",
        "categories": "2",
        "coders": "2",
    }
    asked[field] = value
    for headers in ({}, HTMX):
        response = manager_client.get(reverse(URL), asked, **headers)
        assert response.status_code == 400
        html = response.content.decode()
        assert f'class="error" role="alert">{words}' in html
        assert "Code at least" not in html


def test_the_new_project_form_loads_the_helper(manager_client):
    html = manager_client.get(reverse("project-create")).content.decode()
    assert f'hx-get="{reverse(URL)}?embedded=True"' in html
    assert 'hx-include="#id_corpus, #id_sample_share"' in html
    assert f'href="{reverse(URL)}"' in html  # without JavaScript: the page
    embedded = manager_client.get(reverse(URL), {"embedded": "True"}, **HTMX)
    assert embedded.status_code == 200
    assert 'name="corpus"' not in embedded.content.decode()  # the project form's


def test_a_large_answer_is_thousands_separated(manager_client):
    asked = {"target_alpha": "0.96", "min_alpha": "0.95", "categories": "2"}
    html = manager_client.get(reverse(URL), asked, **HTMX).content.decode()
    expected = plan(0.96, 0.95, 2)
    assert expected.recommended_units > 1000
    assert f"Code at least {expected.recommended_units:,} units" in html
