"""The report's facts as read from the database: design, sample, ratings, dates."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

import pytest

from annotator.agreement_report import project_report
from annotator.agreement_report.facts import (
    RatingsPerUnit,
    ratings_per_unit,
    read_facts,
)
from annotator.agreement_report.reliability import reliability_report
from annotator.codebooks import content_digest
from annotator.models import Annotation, Label, WorkItem
from annotator.services.design import change_design
from tests.factories import make_coded_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_coded_project(documents=3)


def spread(counts: list[int]) -> RatingsPerUnit:
    pairable = [n for n in counts if n >= 2]
    return RatingsPerUnit(len(pairable), min(pairable), mean(pairable), max(pairable))


def test_the_facts_are_the_projects(project):
    report = project_report(project)
    facts = read_facts(project, project.codebook, report, {}, "spans")
    items = list(WorkItem.objects.filter(project=project))
    assert facts.n_population == len(items)
    assert facts.n_sample == sum(item.in_sample for item in items)
    annotations = list(Annotation.objects.filter(project=project))
    per_item = defaultdict(int)
    for a in annotations:
        per_item[a.assignment.work_item_id] += 1
    sampled = {item.pk for item in items if item.in_sample}
    assert facts.n_sample_complete == sum(
        1 for pk in sampled if per_item[pk] >= project.coders_per_span
    )
    assert facts.n_coders == len({a.assignment.coder_id for a in annotations})
    assert facts.codebook_digest == content_digest(project.codebook)
    assert facts.first_rating == min(a.created_at for a in annotations)
    assert facts.last_rating == max(a.updated_at for a in annotations)
    assert facts.design_changes == ()
    for d, reported in zip(facts.dimensions, report.dimensions, strict=True):
        assert d.value == reported.estimate.value
        assert d.n_pairable_units == reported.estimate.n_units
        assert d.n_pairable_values == reported.estimate.n_pairable


def test_ratings_per_unit_equal_a_count_of_the_rows(project):
    coders = defaultdict(set)
    for label in Label.objects.filter(project=project).select_related("dimension"):
        coders[label.dimension.key, label.span_id].add(label.coder_id)
    by_span = defaultdict(set)
    for a in Annotation.objects.filter(project=project).select_related("assignment"):
        by_span[a.assignment.span_id].add(a.assignment.coder_id)
    found = ratings_per_unit(project, project.codebook, ["tags"])
    for key in ("topic", "stance"):
        counts = [len(c) for (k, _), c in coders.items() if k == key]
        assert found[key] == spread(counts)
    # A multi-choice rating may be the empty set: no label row, still a rating.
    assert found["tags"] == spread([len(c) for c in by_span.values()])
    facts = reliability_report(project).facts
    assert {d.key: d.max_ratings_per_unit for d in facts.dimensions} == {
        key: found[key].most for key in ("topic", "stance", "tags")
    }


def test_changes_of_k_and_share_are_facts_and_lease_changes_are_not(project):
    change_design(project, lease_minutes=project.lease_minutes + 5)
    change_design(project, coders_per_span=3)
    project.refresh_from_db()
    facts = reliability_report(project).facts
    assert [
        (c.before["coders_per_span"], c.after["coders_per_span"])
        for c in facts.design_changes
    ] == [(2, 3)]
    assert facts.n_sample_complete == 0  # two coders each, three asked for now
    report = reliability_report(project)
    assert "the number of coders per sampled unit was changed from 2 to 3" in (
        report.paragraph
    )
    assert f"None of the {facts.n_sample} sampled spans" in report.paragraph


def test_reading_the_facts_takes_a_fixed_number_of_queries(
    project, django_assert_num_queries
):
    report = project_report(project)
    with django_assert_num_queries(FACT_QUERIES):
        read_facts(project, project.codebook, report, {}, "spans")


# Items; annotation times and coders; complete sample units; ratings per unit
# from labels and (a multi-choice dimension) from annotations; design changes;
# the codebook's digest (two: its dimensions, their categories).
FACT_QUERIES = 8


def test_the_paragraph_of_a_factory_project_reads_as_its_facts(project):
    from annotator.agreement_report.methods import coefficient, count, day, percent
    from annotator.agreement_report.references import REFERENCES

    report = reliability_report(project, unit_noun="paragraphs")
    f = report.facts
    text = report.paragraph
    sample = (
        f"a random sample of {f.n_sample} of {f.n_population} paragraphs "
        f"({percent(f.n_sample, f.n_population)}), drawn per document"
    )
    k = count(f.coders_per_span, start=True)
    assert text.startswith(
        f"{k} coders independently coded {sample};"
        if f.n_sample_complete == f.n_sample
        else f"The design assigned {sample} to {k.lower()} coders each"
    )
    assert f"version {f.codebook_version} of the codebook" in text
    assert f"on {day(f.first_rating)}" in text  # coded in one sitting
    for d in f.dimensions:
        assert f"{d.label} (" in text
        assert f"Krippendorff's α = {coefficient(d.value)}" in text
        assert f"{d.label} ({d.n_pairable_units})" in text  # the small-sample caution
    assert REFERENCES["krippendorff2004"] in report.references
    assert report.references == sorted(report.references)  # APA 7: by surname
    assert REFERENCES["passonneau2006"] in report.references  # a multi-choice dimension
    assert REFERENCES["bloch1989"] in report.references  # the sample against the plan
    assert len(report.references) == len(set(report.references))


def test_the_paragraph_counts_the_units_the_table_does(project):
    # Gwet's AC1 rests on all coded units (its chance term reads the
    # single-coded ones): the table's Units column says so, and so must the
    # paragraph, which said the pairable count only.
    report = reliability_report(project, primary={"topic": "gwet_ac1"})
    topic = next(d for d in report.dimensions if d.key == "topic")
    coded, pairable = topic.units("gwet_ac1")["n"], topic.estimate.n_units
    assert coded > pairable
    assert (
        f"{pairable} spans coded more than once, chance agreement from all "
        f"{coded} coded), Gwet's AC1 = "
    ) in report.paragraph
