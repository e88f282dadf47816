"""The reliability report's LaTeX: escaping, and pdfLaTeX compiling it within the text.

The compile tests put the download in a standard article (10pt, A4) with the
packages its header names and read pdflatex's log; they are skipped without
pdflatex, except under CI (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from annotator.agreement_report.reliability import reliability_report
from annotator.agreement_report.text_tables import tex_escape
from tests.annotator.test_reliability_downloads import code_all, text_of, url
from tests.factories import logged_in, make_project, member


@pytest.fixture
def project(db):
    """The downloads' project: two coders, b disagreeing on every fourth span."""
    project = make_project(documents=2, spans_per_document=20, coders=("a", "b"))
    code_all(project, "a")
    code_all(project, "b")
    return project


@pytest.fixture
def reviewer(client, project):
    return logged_in(client, member(project, "rita", "reviewer"))


def test_latex_escapes_a_dimension_label(project, reviewer):
    project.codebook.dimensions.filter(key="topic").update(label="50%_of {x}")
    response = reviewer.get(url(project, "tex"))
    assert response.status_code == 200
    body = text_of(response)
    assert r"50\%\_of \{x\}" in body
    assert "50%_of {x}" not in body
    assert r"\toprule" in body and r"\bottomrule" in body
    # Every table row has as many cells as its column spec has columns.
    blocks = re.findall(
        r"\\begin\{tabularx\}\{\\linewidth\}\{(.*?)\}\n(.*?)\\end", body, re.S
    )
    assert blocks
    for spec, rows in blocks:
        n = len(re.sub(r">\{[^}]*\}", "", spec))  # r and X, without >{...}
        for line in rows.splitlines():
            if line.endswith(r"\\"):
                assert len(re.findall(r"(?<!\\)&", line)) == n - 1, line


def test_latex_escapes_its_ten_special_characters():
    assert tex_escape("# $ % & _ { } ~ ^ \\") == (
        r"\# \$ \% \& \_ \{ \} \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{}"
    )
    assert tex_escape("α ≥ .8") == r"$\alpha$ $\geq$ .8"


def test_latex_writes_no_character_pdflatex_cannot_set(project, reviewer):
    # pdfLaTeX stops at ≥ ("Unicode character not set up for use with
    # LaTeX"), and in its default OT1 encoding < > | print as ¡ ¿ —.
    assert tex_escape("≥ ≤ × ± < > |") == (
        r"$\geq$ $\leq$ $\times$ $\pm$ \textless{} \textgreater{} \textbar{}"
    )
    body = text_of(reviewer.get(url(project, "tex")))
    assert "≥" in reliability_report(project).paragraph
    assert not re.findall(r"[^\x00-\x7f]", body.split("\n", 2)[2])


needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None and not os.environ.get("CI"),
    reason="compiling the LaTeX needs pdflatex (texlive-latex-recommended)",
)


def pdflatex(tables: str, tmp_path) -> str:
    """The log of a standard article (10pt, A4, the default text width) that
    ``\\input``s ``tables`` with the packages its header names, by pdflatex."""
    header = [line for line in tables.splitlines() if line.startswith("% Needs ")]
    packages = re.findall(r"\\usepackage\{[^}]*\}", " ".join(header))
    (tmp_path / "tables.tex").write_text(tables, encoding="utf-8")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass[a4paper]{article}\n"
        + "\n".join(packages)
        + "\n\\begin{document}\n\\input{tables}\n\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    log = (tmp_path / "paper.log").read_text(encoding="latin-1")
    assert done.returncode == 0, log[-2000:]
    return log


@needs_pdflatex
@pytest.mark.parametrize("query", ["", "?primary=gwet_ac2"])
def test_the_latex_compiles_with_pdflatex_inside_the_text_width(
    project, reviewer, tmp_path, query
):
    tables = text_of(reviewer.get(url(project, "tex", query)))
    log = pdflatex(tables, tmp_path)
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
    assert "Missing character" not in log


@needs_pdflatex
def test_a_latin_label_compiles_and_another_script_names_its_engine(
    project, reviewer, tmp_path
):
    # The report's own words are ASCII; a label is set as written.
    project.codebook.dimensions.filter(key="topic").update(label="Thème")
    tables = text_of(reviewer.get(url(project, "tex")))
    assert "compiles with pdfLaTeX (UTF-8 input" in tables.splitlines()[2]
    log = pdflatex(tables, tmp_path)
    assert "Missing character" not in log
    project.codebook.dimensions.filter(key="topic").update(label="Тема")
    header = text_of(reviewer.get(url(project, "tex"))).splitlines()[2]
    assert header.startswith(r"% Needs \usepackage{booktabs}")
    assert "compile with XeLaTeX or LuaLaTeX" in header and "Т" in header
