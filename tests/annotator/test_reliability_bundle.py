"""The replication bundle: its files, the CLI on its CSVs, its page, and its script
run in a clean virtualenv with the pinned krippendorff and irrCAC."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from annotator.agreement_report.bundle import REQUIREMENTS, write_bundle
from annotator.agreement_report.reliability import reliability_report
from annotator.models import Annotation
from tests.conftest import IN_CI
from tests.factories import code_everything, logged_in, make_project, member

pytestmark = pytest.mark.django_db
CODERS = ("c1", "c2", "c3")


def make_bundle_project(coders=CODERS, k=3):
    """Nominal, ordinal and multi-choice dimensions; half the spans sampled for
    k coders, the rest coded once; with k = 3 a few sampled spans lose a
    rating (2 and 3 ratings per unit, and single-coded units)."""
    project = make_project(
        documents=6,
        spans_per_document=4,
        coders=coders,
        sample_share=0.5,
        coders_per_span=k,
    )
    code_everything(project, coders)
    if k == 3:
        doubled = (
            Annotation.objects.filter(assignment__project=project)
            .values_list("assignment__span_id", flat=True)
            .order_by("assignment__span_id")
        )
        spans = sorted({s for s in doubled if list(doubled).count(s) == 3})[:3]
        Annotation.objects.filter(
            assignment__project=project,
            assignment__span_id__in=spans,
            assignment__coder__username="c3",
        ).delete()
    return project


def bundle_of(project) -> zipfile.ZipFile:
    out = io.BytesIO()
    write_bundle(reliability_report(project), out)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_the_bundle_holds_ratings_codebook_figures_and_no_coder_names():
    project = make_bundle_project()
    names = []
    for user in User.objects.filter(username__in=CODERS):  # names the zip can't hold
        user.username = f"name-of-{user.username}-xq"
        user.save()
        names.append(user.username)
    report = reliability_report(project)
    zf = bundle_of(project)
    keys = [d.key for d in report.dimensions]
    assert sorted(zf.namelist()) == sorted(
        ["README.txt", "codebook.yaml", "expected.json", "requirements.txt"]
        + ["replicate.py"]
        + [f"ratings/{key}.csv" for key in keys]
    )
    assert zf.read("requirements.txt").decode().split() == list(REQUIREMENTS)
    everything = b"".join(zf.read(name) for name in zf.namelist()).decode()
    assert len(names) == 3
    for name in names:
        assert name not in everything
    expected = json.loads(zf.read("expected.json"))
    assert (expected["seed"], expected["n_resamples"]) == (
        report.report.seed,
        report.report.n_resamples,
    )
    assert expected["confidence"] == report.facts.confidence
    for d, spec in zip(report.dimensions, expected["dimensions"], strict=True):
        assert spec["key"] == d.key and spec["level"] == d.level
        assert set(spec["coefficients"]) == set(d.coefficients)
        for name, r in d.coefficients.items():
            figure = spec["coefficients"][name]
            assert figure["value"] == pytest.approx(r.value, abs=0, nan_ok=True) or (
                figure["value"] is None and math.isnan(r.value)
            )
            if name in d.intervals:
                assert figure["interval"] == pytest.approx(list(d.intervals[name]))
                assert figure["method"]
        rows = list(csv.DictReader(io.StringIO(zf.read(spec["ratings"]).decode())))
        assert len(rows) == d.n_ratings
        assert {int(r["coder"]) for r in rows} <= {1, 2, 3}
        assert {int(r["unit"]) for r in rows} == set(
            project.work_items.values_list("span_id", flat=True)
        )
    tags = list(csv.DictReader(io.StringIO(zf.read("ratings/tags.csv").decode())))
    assert any("|" in r["value"] for r in tags) and any(r["value"] == "" for r in tags)


def test_coders_are_numbered_in_user_id_order():
    project = make_bundle_project()
    zf = bundle_of(project)
    rows = list(csv.DictReader(io.StringIO(zf.read("ratings/topic.csv").decode())))
    ids = sorted(User.objects.filter(username__in=CODERS).values_list("pk", flat=True))
    in_csv: dict[int, set[int]] = {}
    for r in rows:
        in_csv.setdefault(int(r["unit"]), set()).add(int(r["coder"]))
    in_db: dict[int, set[int]] = {}
    coded = Annotation.objects.filter(assignment__project=project).values_list(
        "assignment__span_id", "assignment__coder_id"
    )
    for span, user in coded:
        in_db.setdefault(span, set()).add(ids.index(user) + 1)
    assert in_csv == in_db


def test_the_cli_on_the_bundles_csv_gives_the_reports_figures(tmp_path):
    project = make_bundle_project()
    report = reliability_report(project)
    zf = bundle_of(project)
    zf.extractall(tmp_path)
    expected = json.loads((tmp_path / "expected.json").read_text())
    for spec, d in zip(expected["dimensions"], report.dimensions, strict=True):
        out = io.StringIO()
        call_command(
            "agreement",
            csv=str(tmp_path / spec["ratings"]),
            level=spec["level"],
            weights=spec["weights"],
            categories=",".join(spec["categories"]),
            json=True,
            stdout=out,
        )
        got = json.loads(out.getvalue())
        for name, r in d.coefficients.items():
            value = got["coefficients"][name]
            if math.isnan(r.value):
                assert value is None
            else:
                assert value == pytest.approx(r.value, abs=1e-12), (d.key, name)
        # The CLI's intervals (--seed 0 by default) are the report's, to
        # rounding: the CLI numbers categories (and the distinct sets of keys)
        # in its own order, so the jackknife's and the chance term's sums run
        # in another order (differences of about 1e-16).
        exact = 1e-12
        assert set(got["intervals"]) == set(d.intervals)
        for name, ends in got["intervals"].items():
            if ends is not None:
                assert tuple(ends) == pytest.approx(d.intervals[name], abs=exact), (
                    d.key,
                    name,
                )
            assert got["interval_methods"][name] == d.interval_methods[name]


def test_the_page_gives_the_zip_to_reviewers_and_waits_for_intervals(client, settings):
    project = make_bundle_project(coders=("c1", "c2"), k=2)
    reviewer = member(project, "rita", "reviewer")
    url = reverse("project-reliability-bundle", args=[project.pk])
    response = logged_in(client, reviewer).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(response.content))
    assert "replicate.py" in zf.namelist()
    expected = json.loads(zf.read("expected.json"))
    assert {"cohen_kappa", "krippendorff_alpha"} <= set(
        expected["dimensions"][0]["coefficients"]
    )
    report_page = reverse("project-reliability", args=[project.pk])
    page = client.get(report_page).content.decode()
    assert f'href="{url}"' in page  # offered with the other files
    chosen = client.get(report_page, {"unit": "paragraphs"}).content.decode()
    assert f'href="{url}?unit=paragraphs"' in chosen
    bad = client.get(url, {"primary": "nope"})
    assert bad.status_code == 400 and b"primary" in bad.content
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0  # a job's intervals,
    settings.TASKS = {  # and the job waits in the queue
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    waiting = client.get(url)
    assert waiting.status_code == 409
    assert b"intervals" in waiting.content
    coder = project.memberships.get(user__username="c1").user
    assert logged_in(client, coder).get(url).status_code == 403


def test_the_page_reads_a_pinned_number_of_queries(client, django_assert_num_queries):
    project = make_bundle_project()
    reviewer = member(project, "rita", "reviewer")
    client = logged_in(client, reviewer)
    url = reverse("project-reliability-bundle", args=[project.pk])
    client.get(url)  # warm caches (sessions, content types)
    # The report's reads (session, project, versions, its ratings, the stored
    # intervals, facts.read_facts) and the bundle's one batch of ratings reads:
    # none per span or per coder. (A change to facts.py moves this count.)
    with django_assert_num_queries(29):
        assert client.get(url).status_code == 200


# --- the script in a clean virtualenv --------------------------------------------


def _bundle_python() -> str | None:
    """A Python scipy 1.12's wheels exist for (3.10-3.12)."""
    if sys.version_info < (3, 13):
        return sys.executable
    return shutil.which("python3.12") or shutil.which("python3.11")


def _pip_cache() -> str:
    return os.environ.get("PIP_CACHE_DIR") or str(
        Path(tempfile.gettempdir()) / "annotator-pip-cache"
    )


def _skip_unless_ci(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must not skip this test: {reason}", pytrace=False)
    pytest.skip(reason)


def with_engine_intervals(project, folder: Path, method: str) -> dict:
    """expected.json with every interval replaced by the engine's ``method``'s
    (``intervals_by_method``, seed 0) for the same ratings."""
    from annotator.agreement.intervals_by_method import (
        alpha_intervals,
        kappa_family_intervals,
    )
    from annotator.agreement_report.report import _coded
    from annotator.ratings import read_project

    spec = json.loads((folder / "expected.json").read_text())
    dimensions = list(project.codebook.dimensions.all())
    _, ratings = read_project(
        project, dimensions, documents=False, times=False, version_only=True
    )
    for figures, data in zip(spec["dimensions"], ratings, strict=True):
        coded, weights = _coded(data)
        found = {"krippendorff_alpha": alpha_intervals(coded, data.level)[method]}
        for name, by_method in kappa_family_intervals(coded, weights).items():
            gwet = "gwet_ac1" if weights == "identity" else "gwet_ac2"
            found[gwet if name == "gwet" else name] = by_method[method]
        for name, c in figures["coefficients"].items():
            if name in found and found[name].holds:
                c["interval"], c["method"] = [found[name].low, found[name].high], method
            else:
                c["interval"] = c["method"] = None
    return spec


@pytest.mark.network
def test_replicate_py_reproduces_every_figure_in_a_clean_virtualenv(tmp_path):
    python = _bundle_python()
    if python is None:
        _skip_unless_ci("the bundle needs Python 3.10-3.12 (scipy 1.12 wheels)")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--cache-dir", _pip_cache()]
    probe = subprocess.run(
        [*pip, "download", "--no-deps", "-q", "-d", str(tmp_path / "probe")]
        + ["krippendorff==0.9.0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if probe.returncode != 0:
        _skip_unless_ci(f"PyPI unreachable: {probe.stderr.strip()[-300:]}")
    for coders, k in ((("c1", "c2"), 2), (CODERS, 3)):
        project = make_bundle_project(coders=coders, k=k)
        folder = tmp_path / f"bundle-{k}"
        bundle_of(project).extractall(folder)
        if k == 2:  # the first bundle: install its requirements once
            subprocess.run(
                [*pip, "install", "-q", "-r", str(folder / "requirements.txt")],
                check=True,
                timeout=900,
            )
        run = subprocess.run(
            [str(venv / "bin" / "python"), "replicate.py"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "✗" not in run.stdout
        for name in ("krippendorff_alpha", "gwet_ac", "percent_agreement"):
            assert name in run.stdout
        if k == 2:
            assert "cohen_kappa" in run.stdout
    # The methods WP1 brings (BCa, score): the engine's intervals of these
    # ratings, written as the report's, are reproduced too.
    for method in ("bca", "score"):
        (folder / "expected.json").write_text(
            json.dumps(with_engine_intervals(project, folder, method))
        )
        run = subprocess.run(
            [str(venv / "bin" / "python"), "replicate.py"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert f" {method} low" in run.stdout and "Not re-computed" not in run.stdout
    # A figure off by more than its tolerance fails the run, and says which.
    spec = json.loads((folder / "expected.json").read_text())
    spec["dimensions"][0]["coefficients"]["fleiss_kappa"]["value"] += 1e-5
    (folder / "expected.json").write_text(json.dumps(spec))
    run = subprocess.run(
        [str(venv / "bin" / "python"), "replicate.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1
    wrong = [line for line in run.stdout.splitlines() if "✗" in line]
    assert len(wrong) == 1 and "fleiss_kappa" in wrong[0]


def test_expected_json_says_what_each_figure_rests_on_as_the_report_does():
    # expected.json gave Fleiss' κ 89 units where the report's table says it
    # rests on all 113 coded units; a reviewer comparing the two was lost.
    project = make_bundle_project()
    report = reliability_report(project)
    expected = json.loads(bundle_of(project).read("expected.json"))
    for d, spec in zip(report.dimensions, expected["dimensions"], strict=True):
        for name in d.coefficients:
            assert spec["coefficients"][name]["units"] == d.units(name)
        if "fleiss_kappa" in d.coefficients:
            assert spec["coefficients"]["fleiss_kappa"]["units"] == {
                "basis": "coded",
                "n": spec["n_units_coded"],
            }
