"""The agreement report as CSV from the project page: its header, its rows against
the report the page and the API show, and who may download it."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.urls import reverse

from annotator.agreement_report import TABLE_COLUMNS, project_report, report_rows
from annotator.models import Membership
from tests.annotator import test_export_api as api

pytestmark = pytest.mark.django_db
project = api.project
reviewer = api.reviewer


def agreement_csv(client, project) -> list[dict[str, str]]:
    response = client.get(reverse("project-agreement-csv", args=[project.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    filename = f"project-{project.pk}-agreement-v{project.codebook.version}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    text = response.content.decode("utf-8")
    assert text.splitlines()[0] == ",".join(TABLE_COLUMNS)
    return list(csv.DictReader(io.StringIO(text)))


def cell(value) -> str:
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def test_the_csv_holds_every_figure_of_the_report(client, project, reviewer):
    client.force_login(reviewer)
    rows = agreement_csv(client, project)
    report = project_report(project)
    assert {r["codebook_version"] for r in rows} == {str(project.codebook.version)}
    for d in report.dimensions:
        mine = [r for r in rows if r["dimension"] == d.key]
        assert {r["level"] for r in mine} == {d.level}
        by = {}
        for r in mine:
            by.setdefault(r["breakdown"], []).append(r)
        overall = {r["coefficient"]: r for r in by["overall"]}
        assert list(overall) == list(d.coefficients)
        for name, result in d.coefficients.items():
            assert overall[name]["value"] == cell(result.value)
            assert overall[name]["n_units"] == str(result.n_units)
        alpha = overall["krippendorff_alpha"]
        if d.interval_holds("krippendorff_alpha"):
            assert alpha["ci_low"] == cell(d.alpha.ci_low) != ""
        assert [r["key"] for r in by.get("category", [])] == [
            key for key, _, _ in d.per_category
        ]
        assert len(by.get("document", [])) == d.n_documents
        assert [r["label"] for r in by.get("period", [])] == [
            g.label for g in d.over_time
        ]
        coders = by["coder"]
        assert {r["label"] for r in coders} == {"c1", "c2"}
        assert {r["coefficient"] for r in coders} == {
            "percent_agreement",
            "alpha_without",
        }
        (pair,) = by["coder_pair"]
        assert pair["key"] in ("c1|c2", "c2|c1")
        assert pair["value"] == cell(d.pairwise.matrix[0, 1])
    # One row-builder: the download is report_rows() of the same report.
    built = [[str(v) for v in row] for row in report_rows(report)]
    assert [list(r.values()) for r in rows] == built


def test_a_title_a_spreadsheet_would_run_is_quoted(client, project, reviewer):
    """Document titles come from imported corpora: one that opens as a formula is
    written as text, the rule of every other CSV download (formula_safe)."""
    from corpus.models import Document

    document = Document.objects.filter(corpus=project.corpus).first()
    document.title = '=HYPERLINK("http://example.invalid","open")'
    document.save(update_fields=["title"])
    client.force_login(reviewer)
    labels = {r["label"] for r in agreement_csv(client, project)}
    assert "'" + document.title in labels
    assert document.title not in labels


def test_the_project_page_links_the_csv(client, project, reviewer):
    client.force_login(reviewer)
    page = client.get(project.get_absolute_url()).text
    assert reverse("project-agreement-csv", args=[project.pk]) in page
    alone = client.get(reverse("project-downloads", args=[project.pk])).text
    assert reverse("project-agreement-csv", args=[project.pk]) in alone


def test_coders_are_refused_reviewers_and_managers_served(client, project):
    coder = Membership.objects.filter(project=project, role="coder").first().user
    client.force_login(coder)
    url = reverse("project-agreement-csv", args=[project.pk])
    refused = client.get(url)
    assert refused.status_code == 403 and b"code blind" in refused.content
    for role in ("reviewer", "manager"):
        client.force_login(api.member(project, f"a-{role}", role))
        assert agreement_csv(client, project)


def test_the_csv_costs_a_fixed_number_of_queries(
    client, project, reviewer, django_assert_num_queries
):
    """Session, user, project with role; the codebook's dimensions and each one's
    categories (3 here); annotations, labels and work items (the report's reads);
    coders' and documents' names. None per row, span or document."""
    client.force_login(reviewer)
    url = reverse("project-agreement-csv", args=[project.pk])
    with django_assert_num_queries(12):
        assert client.get(url).status_code == 200
