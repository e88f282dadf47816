"""The methods paragraph is written from the facts: no fixed prose (design §4)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import pytest

from annotator.agreement_report import methods
from annotator.agreement_report.methods import (
    SENTENCES,
    coefficient,
    count,
    paragraph,
    sentences,
)
from annotator.agreement_report.references import REFERENCES, reference_list
from annotator.agreement_report.reliability import (
    DesignChangeFact,
    DimensionFacts,
    ReportFacts,
)

STANCE = DimensionFacts(
    key="stance",
    label="stance",
    level="nominal",
    n_categories=3,
    n_pairable_units=298,
    n_pairable_values=640,
    n_coders=6,
    primary="krippendorff_alpha",
    value=0.81,
    low=0.77,
    high=0.85,
    interval_method="bca",
    interval_note="",
    min_ratings_per_unit=2,
    max_ratings_per_unit=5,
    mean_ratings_per_unit=2.4,
    primary_units=298,
)
TOPIC = dataclasses.replace(
    STANCE,
    key="topic",
    label="topic",
    level="ordinal",
    n_categories=5,
    value=0.7,
    low=0.62,
    high=0.78,
    weights="quadratic",
)
SHARE_RAISED = DesignChangeFact(
    datetime(2026, 3, 3, 12, tzinfo=UTC),
    {"coders_per_span": 2, "sample_share": 0.05, "lease_minutes": 30},
    {"coders_per_span": 2, "sample_share": 0.075, "lease_minutes": 30},
    "",
)
BASE = ReportFacts(
    project_name="Speeches",
    unit_noun="paragraphs",
    coders_per_span=2,
    sample_share=0.075,
    per_document=True,
    n_population=4180,
    n_sample=312,
    n_sample_complete=298,
    n_coders=6,
    codebook_name="Stance codebook",
    codebook_version=4,
    codebook_digest="0123456789abcdef",
    first_rating=datetime(2026, 2, 2, 9, tzinfo=UTC),
    last_rating=datetime(2026, 3, 14, 17, tzinfo=UTC),
    design_changes=(SHARE_RAISED,),
    dimensions=(STANCE, TOPIC),
    n_resamples=1000,
    seed=0,
)


def with_stance(**changes) -> ReportFacts:
    return dataclasses.replace(
        BASE, dimensions=(dataclasses.replace(STANCE, **changes), TOPIC)
    )


def test_numbers_follow_apa():
    assert coefficient(0.8123) == ".81" and coefficient(-0.05) == "−.05"
    assert coefficient(1.0) == "1.00" and coefficient(math.nan) == "undefined"
    assert count(2, start=True) == "Two" and count(10, start=True) == "Ten"
    assert count(12, start=True) == "12" and count(4180) == "4,180"


def test_the_base_paragraph_states_its_facts():
    text, _ = paragraph(BASE)
    # 298 of the 312 sampled paragraphs got their two coders: the design is
    # said as planned, the next sentence says how many got it.
    assert text.startswith("The design assigned a random sample of 312 ")
    assert "to two coders each, coding independently" in text
    assert "of 4,180 paragraphs (7.5%), drawn per document" in text
    assert "raised from 5.0% to 7.5% on 3 March 2026" in text
    assert "298 of the 312 sampled paragraphs" in text
    assert "by 2 to 5 of the 6 coders (2.4 on average)" in text
    assert "version 4 of the codebook" in text
    assert "between 2 February and 14 March 2026" in text
    assert "Krippendorff's α = .81, 95% CI [.77, .85]" in text
    assert "Krippendorff's (2004, p. 241)" in text


PERTURBATIONS = {
    "unit_noun": dict(unit_noun="sentences"),
    "coders_per_span": dict(coders_per_span=3),
    "n_population": dict(n_population=5000),
    "n_sample": dict(n_sample=400),
    "n_sample_complete": dict(n_sample_complete=250),
    "n_coders": dict(n_coders=7),
    "codebook_name": dict(codebook_name="Another codebook"),
    "codebook_version": dict(codebook_version=5),
    "codebook_digest": dict(codebook_digest="fedcba9876543210"),
    "first_rating": dict(first_rating=datetime(2026, 1, 20, tzinfo=UTC)),
    "last_rating": dict(last_rating=datetime(2026, 4, 1, tzinfo=UTC)),
    "design_changes": dict(design_changes=()),
    "per_document": dict(per_document=False),
    "n_resamples": dict(n_resamples=2000),
    "seed": dict(seed=7),
}
DIMENSION_PERTURBATIONS = {
    "label": dict(label="position"),
    "level": dict(level="set"),
    "n_categories": dict(n_categories=4),
    "n_pairable_units": dict(n_pairable_units=20, primary_units=20),
    "value": dict(value=0.6),
    "low": dict(low=0.7),
    "high": dict(high=0.9),
    "interval_method": dict(interval_method="percentile"),
    "primary": dict(primary="gwet_ac1"),
    "max_ratings_per_unit": dict(max_ratings_per_unit=4),
    "mean_ratings_per_unit": dict(mean_ratings_per_unit=3.1),
    "interval_note": dict(low=math.nan, high=math.nan, interval_note="why not"),
}


@pytest.mark.parametrize("field", PERTURBATIONS)
def test_changing_a_fact_changes_the_paragraph(field):
    changed = dataclasses.replace(BASE, **PERTURBATIONS[field])
    assert paragraph(changed)[0] != paragraph(BASE)[0]


@pytest.mark.parametrize("field", DIMENSION_PERTURBATIONS)
def test_changing_a_dimensions_fact_changes_the_paragraph(field):
    changed = with_stance(**DIMENSION_PERTURBATIONS[field])
    assert paragraph(changed)[0] != paragraph(BASE)[0]


WITHHELD = with_stance(low=math.nan, high=math.nan, interval_note="too few")
SMALL = with_stance(n_pairable_units=12, primary_units=12)
# For each sentence, two fact sets where it applies that must read differently.
PAIRS = {
    methods.design: (BASE, dataclasses.replace(BASE, n_sample=4180)),
    methods.design_change: (
        BASE,
        dataclasses.replace(
            BASE,
            design_changes=(
                dataclasses.replace(
                    SHARE_RAISED,
                    before={"coders_per_span": 2},
                    after={"coders_per_span": 3},
                ),
            ),
        ),
    ),
    methods.active_learning: (
        dataclasses.replace(BASE, active_learning=((SHARE_RAISED.changed_at, None),)),
        dataclasses.replace(
            BASE,
            active_learning=(
                (SHARE_RAISED.changed_at, datetime(2026, 3, 9, tzinfo=UTC)),
            ),
        ),
    ),
    methods.incomplete: (BASE, dataclasses.replace(BASE, n_sample_complete=0)),
    methods.variable_coders: (BASE, with_stance(min_ratings_per_unit=3)),
    methods.codebook: (
        BASE,
        dataclasses.replace(BASE, last_rating=datetime(2026, 2, 2, 18, tzinfo=UTC)),
    ),
    methods.dimensions: (BASE, with_stance(interval_method="percentile")),
    methods.reading: (BASE, with_stance(value=0.5)),
    methods.small_sample: (SMALL, with_stance(n_pairable_units=25)),
    methods.withheld: (WITHHELD, with_stance(low=math.nan, interval_note="no")),
    methods.against_plan: (BASE, with_stance(n_categories=2)),
}


def test_every_sentence_is_covered_here():
    assert set(PAIRS) == set(SENTENCES)


@pytest.mark.parametrize("make", SENTENCES, ids=lambda f: f.__name__)
def test_every_sentence_is_driven_by_facts(make):
    a, b = PAIRS[make]
    first, second = make(a), make(b)
    assert first is not None and second is not None
    assert first.text != second.text


def test_sentences_are_absent_where_their_facts_do_not_apply():
    plain = dataclasses.replace(
        BASE,
        design_changes=(),
        n_sample_complete=312,
        dimensions=(
            dataclasses.replace(STANCE, min_ratings_per_unit=2, max_ratings_per_unit=2),
        ),
        n_coders=2,
    )
    present = {s.text.split(" ")[0] for s in sentences(plain)}
    text, _ = paragraph(plain)
    assert "During coding" not in text and "sampled paragraphs were coded" not in text
    assert "Each of the" not in text and "No interval" not in text
    assert "Fewer than" not in text and "active learning" not in text and present


@pytest.mark.parametrize("facts", [BASE, WITHHELD, SMALL, with_stance(level="set")])
def test_references_are_the_union_of_the_keys_cited(facts):
    cited = [key for s in sentences(facts) for key in s.cites]
    _, references = paragraph(facts)
    assert references == reference_list(cited)
    assert len(references) == len(set(cited))
    assert set(references) <= set(REFERENCES.values())


def test_a_withheld_interval_cites_no_interval_method():
    only = dataclasses.replace(
        BASE,
        dimensions=(dataclasses.replace(STANCE, low=math.nan, high=math.nan),),
    )
    _, references = paragraph(only)
    assert REFERENCES["efron1987"] not in references
    assert REFERENCES["efron1987"] in paragraph(BASE)[1]
    assert REFERENCES["passonneau2006"] in paragraph(with_stance(level="set"))[1]


def test_dimensions_sharing_a_method_share_a_sentence():
    text = methods.dimensions(BASE).text
    assert text.count("intervals:") == 1
    assert "For stance (nominal" in text and "for topic (ordinal" in text
    apart = methods.dimensions(with_stance(interval_method="percentile")).text
    assert apart.count("intervals:") == 2


def test_reading_names_the_dimensions_in_each_band():
    text = methods.reading(BASE).text
    assert "at or above .800 (reliable enough to draw conclusions) for stance" in text
    assert "between .667 and .800 (tentative conclusions only) for topic" in text
    both_low = with_stance(value=0.5, label="a"), with_stance(value=0.5)
    assert "below .667 (not reliable) for a" in methods.reading(both_low[0]).text
    assert (
        "for stance and topic"
        in methods.reading(
            dataclasses.replace(
                BASE, dimensions=(STANCE, dataclasses.replace(TOPIC, value=0.9))
            )
        ).text
    )


def test_the_reference_list_is_alphabetical_as_apa_asks():
    # The paragraph cites Krippendorff (the coefficient) before Efron (the
    # interval) and Bloch & Kraemer last; APA 7 lists by surname.
    _, references = paragraph(BASE)
    surnames = [ref.split(",")[0] for ref in references]
    assert surnames == ["Bloch", "Efron", "Krippendorff"]


def test_the_design_is_not_said_done_when_the_data_say_otherwise():
    # A project not coded yet read "Two coders independently coded each of
    # the 113 spans. None of the 113 sampled spans was coded by two coders".
    nothing = dataclasses.replace(BASE, n_sample=4180, n_sample_complete=0)
    text, _ = paragraph(nothing)
    assert "coders independently coded" not in text
    assert text.startswith("The design assigned each of the 4,180 paragraphs to two")
    done = dataclasses.replace(BASE, n_sample_complete=312)
    assert paragraph(done)[0].startswith(
        "Two coders independently coded a random sample of 312 of 4,180 "
        "paragraphs (7.5%), drawn per document; each of the other paragraphs "
        "was assigned to one coder."
    )


def test_alpha_is_not_rounded_across_the_threshold_it_is_judged_by():
    # α = .7996 read "α = .80" and then "between .667 and .800".
    text, _ = paragraph(with_stance(value=0.7996))
    assert "Krippendorff's α = .7996" in text
    assert "between .667 and .800 (tentative conclusions only) for stance" in text
    assert "Krippendorff's α = .66," in paragraph(with_stance(value=0.6649))[0]
    assert "Krippendorff's α = .666," in paragraph(with_stance(value=0.6661))[0]


def test_an_undefined_alpha_is_said_in_words():
    # No unit coded twice read "Krippendorff's α = undefined".
    text, _ = paragraph(with_stance(value=math.nan, low=math.nan, high=math.nan))
    assert "Krippendorff's α is undefined" in text and "= undefined" not in text


def test_the_sample_is_set_against_the_plan_units_against_units():
    # The plan asks for pairable values and units coded twice; the sample is
    # judged in units, and each count says which it is.
    text = methods.against_plan(with_stance(n_pairable_units=40)).text
    assert "asks for 117 pairable values (59 units coded twice)" in text
    assert (
        "stance has 40 paragraphs coded more than once (640 pairable values), "
        "fewer than the 59 asked for" in text
    )
    assert "topic has 298 paragraphs coded more than once" in text
    assert "at least the 82 asked for" in text


def test_reading_says_what_the_interval_says_beside_the_estimate():
    # Krippendorff judges by the interval's lower end: .81 with an interval
    # down to .77 is not "reliable" on its own say.
    text = methods.reading(BASE).text
    assert (
        "for stance, α = .81, but its 95% CI reaches down to .77 "
        "(between .667 and .800)" in text
    )
    near = methods.reading(with_stance(value=0.78, low=0.70, high=0.83)).text
    assert (
        "α = .78, and its 95% CI's lower end, .70, is between .667 and .800 too, "
        "though it reaches up to .83 (at or above .800)" in near
    )
    above = methods.reading(with_stance(value=0.9, low=0.7996, high=0.95)).text
    assert "reaches down to .7996 (between .667 and .800)" in above
    safe = methods.reading(with_stance(value=0.9, low=0.85, high=0.95)).text
    assert "its 95% CI's lower end, .85, is at or above .800 too" in safe
    none = methods.reading(
        dataclasses.replace(BASE, dimensions=(WITHHELD.dimensions[0],))
    ).text
    assert "Judged" not in none and "at or above .800" in none


def test_the_dashboards_reading_says_an_interval_end_in_another_band():
    from annotator.agreement_report.records import reading

    # The dashboard's verdict line reads the estimate; an end of the interval
    # in another band is said beside it.
    said = reading(0.81, 0.77, 0.85)
    assert said.startswith("α = 0.810 (95% interval 0.770 to 0.850) is reliable")
    assert "but its interval reaches down to 0.770 (between .667 and .800)" in said
    up = reading(0.78, 0.70, 0.83)
    assert "its interval reaches up to 0.830 (at or above .800)" in up
    assert "down to" not in up
    assert "reaches" not in reading(0.9, 0.85, 0.95) + reading(0.9)
