"""The reliability report's downloads and command: PDF text, escaping, 409, 503, URLs.

The PDF test extracts the text (pypdf) and looks for every figure of the
primary and secondary tables as the print HTML writes them, computed here from
the report's own numbers; it is skipped without Pango, except under CI.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.agreement_report import pdf
from annotator.agreement_report.print_tables import figure, interval
from annotator.agreement_report.reliability import reliability_report
from annotator.agreement_report.text_tables import md_escape, tex_escape
from annotator.codebooks import import_codebook
from annotator.models import Project
from annotator.services import claim_next_span, submit_annotation
from tests.factories import SMALL_CODEBOOK, logged_in, make_project, member

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
TOPICS = ["arms", "trade", "other"]
STANCES = ["hostile", "neutral", "friendly"]
FORMATS = {
    "html": "project-reliability-html",
    "pdf": "project-reliability-pdf",
    "md": "project-reliability-md",
    "tex": "project-reliability-tex",
}
needs_pango = pytest.mark.skipif(
    not pdf.pango_available() and not os.environ.get("CI"),
    reason=f"the PDF needs Pango, missing here: {pdf.PANGO_APT}",
)


def code_all(project, name: str) -> None:
    """The coder codes every span left; b disagrees on every fourth."""
    coder = project.memberships.get(user__username=name).user
    while (assignment := claim_next_span(project=project, coder=coder)) is not None:
        s = assignment.span_id + (
            1 if name == "b" and assignment.span_id % 4 == 0 else 0
        )
        labels = {"topic": TOPICS[s % 3], "stance": STANCES[(s // 3) % 3]}
        submit_annotation(coder=coder, assignment=assignment, labels=labels)


@pytest.fixture
def project(db):
    project = make_project(documents=2, spans_per_document=20, coders=("a", "b"))
    code_all(project, "a")
    code_all(project, "b")
    return project


@pytest.fixture
def reviewer(client, project):
    return logged_in(client, member(project, "rita", "reviewer"))


def url(project, name: str, query: str = "") -> str:
    return reverse(FORMATS[name], args=[project.pk]) + query


def text_of(response) -> str:
    return response.content.decode("utf-8")


def one_line(text: str) -> str:
    return " ".join(text.split())


def expected_figures(report) -> list[str]:
    """Every value and interval of the primary and secondary tables, written as
    the print HTML writes them, from the report's own numbers."""
    out = []
    for d in report.dimensions:
        for name, result in d.coefficients.items():
            out.append(figure(result.value))
            low, high = d.intervals.get(name, (math.nan, math.nan))
            if math.isfinite(low) and d.interval_holds(name):
                out.append(interval(low, high))
    return out


@needs_pango
def test_the_pdf_carries_every_figure_and_the_paragraph(project, reviewer):
    response = reviewer.get(url(project, "pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.content))
    text = one_line(" ".join(page.extract_text() for page in reader.pages))
    report = reliability_report(project)
    figures = expected_figures(report)
    assert any("–" in f and f != "–" for f in figures)  # some interval is drawn
    missing = [f for f in figures if f not in text]
    assert not missing, f"not in the PDF: {missing}"
    assert one_line(report.paragraph[:60]) in text
    for d in report.dimensions:
        assert d.label in text


def test_markdown_escapes_a_pipe_in_a_cell(project, reviewer):
    project.codebook.dimensions.filter(key="topic").update(label="Topic | area")
    response = reviewer.get(url(project, "md"))
    assert response.status_code == 200
    body = text_of(response)
    assert r"Topic \| area" in body
    assert "Topic | area" not in body
    for table in re.split(r"\n\n", body):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        cells = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(cells) <= 1, table  # each row as many cells as the head
    assert md_escape("a|b*c_d") == r"a\|b\*c\_d"


def test_downloads_wait_while_the_intervals_are_computed(project, reviewer, settings):
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0
    settings.TASKS = DUMMY  # the job stays queued: nothing computes it
    for name in FORMATS:
        response = reviewer.get(url(project, name))
        assert response.status_code == 409, name
        body = text_of(response)
        assert body.startswith("The intervals are being computed (")
        assert body.endswith("download when they are current.")


def test_an_older_versions_large_intervals_are_not_promised(
    project, reviewer, settings
):
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0
    settings.TASKS = DUMMY
    older = project.codebook
    newer = import_codebook({**SMALL_CODEBOOK, "name": "Test codebook, revised"})[0]
    assert newer.family == older.family and newer.version == older.version + 1
    Project.objects.filter(pk=project.pk).update(codebook=newer)
    response = reviewer.get(url(project, "md", f"?version={older.version}"))
    assert response.status_code == 409
    assert f"codebook version {older.version} are not computed" in text_of(response)


def test_the_pdf_answers_503_without_pango(project, reviewer, monkeypatch):
    monkeypatch.setattr(pdf, "pango_available", lambda: False)
    response = reviewer.get(url(project, "pdf"))
    assert response.status_code == 503
    assert text_of(response).startswith(
        "PDF needs the Pango library: apt-get install libpango-1.0-0"
    )
    assert reviewer.get(url(project, "md")).status_code == 200


def test_the_print_html_is_self_contained(project, reviewer):
    response = reviewer.get(url(project, "html"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = text_of(response)
    assert "<script" not in body.lower()
    assert not re.search(r"https?://", body)
    assert not re.search(r"""(?:src|href)\s*=""", body)
    assert "<style>" in body and "@page" in body  # the print CSS, inlined
    report = reliability_report(project)
    assert report.paragraph[:60] in body.replace("&#x27;", "'")


def test_a_label_is_text_in_the_print_html(project, reviewer):
    project.codebook.dimensions.filter(key="topic").update(label="<script>x</script>")
    body = text_of(reviewer.get(url(project, "html")))
    assert "<script" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body


@needs_pango
def test_the_pdf_fetches_no_url(tmp_path):
    leak = tmp_path / "leak.css"
    leak.write_text('body::before { content: "LEAKED-STYLESHEET"; }')
    html = (
        f'<link rel="stylesheet" href="file://{leak}">'
        f'<style>@import url("file://{leak}");</style>'
        '<img src="http://127.0.0.1:9/x.png" alt="">'
        "<p>kept</p>"
    )
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(pdf.render(html))).pages[0].extract_text()
    assert "kept" in text and "LEAKED" not in text


def test_query_parameters_choose_the_coefficient_and_the_noun(project, reviewer):
    response = reviewer.get(url(project, "md", "?primary=fleiss_kappa&unit=paragraphs"))
    assert response.status_code == 200
    body = text_of(response)
    head = body.split("**Topic: other")[0]
    assert "| Fleiss' κ |" in head and "Krippendorff's α" not in head
    assert "paragraphs" in body


@pytest.mark.parametrize(
    "query, named",
    [
        ("?primary=nope", "primary"),
        ("?primary.nokey=fleiss_kappa", "primary.nokey"),
        ("?unit=1%24", "unit"),
        ("?version=x", "version"),
    ],
)
def test_a_bad_parameter_is_named(project, reviewer, query, named):
    response = reviewer.get(url(project, "md", query))
    assert response.status_code == 400
    assert text_of(response).startswith(named)


def test_coders_are_refused(project, client):
    coder = project.memberships.get(user__username="a").user
    logged_in(client, coder)
    for name in FORMATS:
        assert client.get(url(project, name)).status_code == 403


@pytest.mark.parametrize("name", ["md", "tex", "html"])
def test_a_download_reads_a_fixed_number_of_queries(
    project, reviewer, django_assert_num_queries, name
):
    # The session and user, the project, the codebook version and its
    # dimensions, the report's ratings (one aggregate per table), the facts.
    # Pinned, so any query added to the report's reading shows here.
    with django_assert_num_queries(21):
        assert reviewer.get(url(project, name)).status_code == 200


@pytest.mark.parametrize("name", ["html", "md", "tex", "pdf", "zip"])
def test_the_command_writes_each_format(project, tmp_path, name):
    if name == "pdf" and not pdf.pango_available() and not os.environ.get("CI"):
        pytest.skip(f"the PDF needs Pango, missing here: {pdf.PANGO_APT}")
    out = tmp_path / f"report.{name}"
    call_command("reliability_report", project=project.pk, format=name, output=str(out))
    data = out.read_bytes()
    start = {"html": b"<!DOCTYPE html>", "md": b"## Reliability of ", "pdf": b"%PDF-"}
    start["tex"] = b"% Reliability of "
    start["zip"] = b"PK"
    assert data.startswith(start[name])
    if name == "zip":
        names = zipfile.ZipFile(out).namelist()
        assert {"replicate.py", "expected.json", "codebook.yaml"} <= set(names)
    elif name != "pdf":
        report = reliability_report(project)
        value = figure(report.dimensions[0].estimate.value)
        assert (tex_escape(value) if name == "tex" else value).encode() in data


def test_the_command_computes_intervals_the_web_leaves_to_a_job(
    project, tmp_path, settings
):
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0
    settings.TASKS = DUMMY
    out = tmp_path / "tables.md"
    call_command("reliability_report", project=project.pk, output=str(out))
    report = reliability_report(project)
    assert report.intervals_current
    alpha = report.dimensions[0].alpha
    assert interval(alpha.ci_low, alpha.ci_high) in out.read_text()


def test_the_command_names_what_is_wrong(project, tmp_path):
    out = tmp_path / "never.md"
    with pytest.raises(CommandError, match="no project with id"):
        call_command("reliability_report", project=99999, output=str(out))
    with pytest.raises(CommandError, match="--primary"):
        call_command(
            "reliability_report", project=project.pk, primary="nope", output=str(out)
        )
    assert not out.exists()


def test_dev_py_prints_the_apt_line_when_pango_is_missing(monkeypatch, capsys):
    from tests.annotator.test_local_settings import load_dev

    dev = load_dev()
    monkeypatch.setattr(dev.ctypes.util, "find_library", lambda name: None)
    dev.check_pango()
    said = capsys.readouterr().out
    assert (
        "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core" in said
    )
    monkeypatch.setattr(dev.ctypes.util, "find_library", lambda name: "libx.so")
    dev.check_pango()
    assert capsys.readouterr().out == ""


def test_a_caption_does_not_give_alpha_the_kappas_weights(project, reviewer):
    # With another headline α joins the "other coefficients" table, whose
    # caption said "(quadratic weights)" of the ordinal α too.
    body = text_of(reviewer.get(url(project, "md", "?primary=gwet_ac2")))
    captions = [line for line in body.splitlines() if "other coefficients (" in line]
    weighted = [c for c in captions if "quadratic" in c]
    assert len(weighted) == 1
    assert (
        "(α at the ordinal level; the others with quadratic weights)" in (weighted[0])
    )
    default = text_of(reviewer.get(url(project, "md")))
    assert "other coefficients (quadratic weights)" in default


def test_the_references_hang_as_apa_sets_them(project, reviewer):
    # APA 7: an unnumbered, alphabetical list, each entry with a hanging
    # indent (its first line at the margin, the others indented).
    body = text_of(reviewer.get(url(project, "html")))
    listed = re.search(r'<(\w+) class="references">(.*?)</\1>', body, re.S)
    assert listed and listed.group(1) == "ul"
    assert listed.group(2).count("<li>") == len(reliability_report(project).references)
    rules = dict(re.findall(r"\n(\.references(?: li)?) \{([^}]*)\}", body))
    assert "list-style: none" in rules[".references"]
    indent = re.search(r"text-indent: -([\d.]+em)", rules[".references li"])
    assert indent and f"padding-left: {indent.group(1)}" in rules[".references li"]
