"""The reliability report object: built from the dashboard's own report, with facts."""

import pytest

from annotator.agreement_report.reliability import (
    ReliabilityRequestError,
    parse_primary,
    parse_unit_noun,
    reliability_report,
)
from tests.factories import make_coded_project

pytestmark = pytest.mark.django_db


def test_report_wraps_the_dashboards_figures_and_reads_the_facts():
    project = make_coded_project(documents=2)
    report = reliability_report(project)
    assert report.dimensions == report.report.dimensions
    facts = report.facts
    assert facts.n_population >= facts.n_sample > 0
    assert facts.codebook_version == project.codebook.version
    assert {d.key for d in facts.dimensions} == {d.key for d in report.dimensions}
    assert report.paragraph and f"{facts.n_population:,}" in report.paragraph


def test_primary_and_unit_options_name_the_parameter_when_wrong():
    assert parse_primary({"primary.topic": "gwet_ac1"}, ["topic", "stance"]) == {
        "topic": "gwet_ac1",
        "stance": "krippendorff_alpha",
    }
    with pytest.raises(ReliabilityRequestError, match="primary"):
        parse_primary({"primary": "nope"}, ["topic"])
    with pytest.raises(ReliabilityRequestError, match="primary.x"):
        parse_primary({"primary.x": "gwet_ac1"}, ["topic"])
    assert parse_unit_noun({"unit": "paragraphs"}) == "paragraphs"
    with pytest.raises(ReliabilityRequestError, match="unit"):
        parse_unit_noun({"unit": "<b>"})
