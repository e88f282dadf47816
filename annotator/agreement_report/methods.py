"""The methods paragraph written from the report's facts, with its references (pure).

Each function in ``SENTENCES`` reads the facts and returns a Sentence, or None
where its facts do not apply; the paragraph joins the sentences present and its
reference list is the union of the keys they cite, alphabetical (references.py).
Numbers follow APA 7. See docs/design/reliability-report.md §4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from annotator.agreement.interval_policy import describe
from annotator.agreement.small_samples import MIN_PAIRABLE_UNITS

from .judging import interval_clause
from .names import PROSE_NAMES
from .prose import coefficient, count, day, names, percent, period, span_of_days
from .references import COEFFICIENT_SOURCE, METHOD_SOURCE, reference_list
from .reliability import DimensionFacts, ReportFacts

# Krippendorff (2004, p. 241): rely on α >= .800, tentative between .667 and .800.
RELIABLE, TENTATIVE = 0.800, 0.667
NAMES = PROSE_NAMES
LEVELS = {"set": "multi-choice, MASI distance"}
_INLINE_CITATION = re.compile(r" \([A-Z][^()]* \d{4}\)")


@dataclass(frozen=True)
class Sentence:
    """One sentence (or a few joined) and the reference keys it cites, in order."""

    text: str
    cites: tuple[str, ...] = ()


def method_words(method: str, n_resamples: int) -> str:
    """The interval method in words: interval_policy's own where it has them."""
    try:
        # Its words cite inline ("(Efron 1987)"); the paragraph cites in APA
        # form from METHOD_SOURCE, so the inline citation is dropped.
        return _INLINE_CITATION.sub("", describe(method, n_resamples))
    except ValueError:  # a method the policy does not describe
        pass
    if method == "gwet_variance":
        return "Gwet's linearised variance with a t interval"
    return method


def _cite(keys: Iterable[str]) -> str:
    """In-text citation of ``keys`` (APA: authors, year; by surname)."""
    from .references import REFERENCES

    parts = []
    for key in dict.fromkeys(keys):
        authors, _, rest = REFERENCES[key].partition(" (")
        surnames = [a.split(",")[0] for a in authors.replace("& ", "").split(".,")]
        names = " & ".join(s.strip() for s in surnames if s.strip())
        parts.append(f"{names}, {rest[:4]}")
    return "(" + "; ".join(sorted(parts)) + ")"  # APA: alphabetical


# --- the sentences ------------------------------------------------------------


def design(f: ReportFacts) -> Sentence | None:
    """The design as done when every sampled unit got its k coders, else as
    planned (the next sentence says how many did): k is the project's current
    one, so "k coders coded" would be false after a change of k or mid-study."""
    if f.n_population == 0:
        return None
    k = count(f.coders_per_span, start=True)
    done = f.n_sample_complete >= f.n_sample
    everything = f.n_sample >= f.n_population
    if everything and done:
        return Sentence(
            f"{k} coders independently coded each of the {f.n_population:,} "
            f"{f.unit_noun}."
        )
    if everything:
        return Sentence(
            f"The design assigned each of the {f.n_population:,} {f.unit_noun} "
            f"to {k.lower()} coders, coding independently."
        )
    per_document = ", drawn per document" if f.per_document else ""
    sample = (
        f"a random sample of {f.n_sample:,} of {f.n_population:,} {f.unit_noun} "
        f"({percent(f.n_sample, f.n_population)}){per_document}"
    )
    if done:
        return Sentence(
            f"{k} coders independently coded {sample}; each of the other "
            f"{f.unit_noun} was assigned to one coder."
        )
    return Sentence(
        f"The design assigned {sample} to {k.lower()} coders each, coding "
        f"independently, and each of the other {f.unit_noun} to one coder."
    )


def _change(before: dict, after: dict) -> list[str]:
    said = []
    if "sample_share" in before and before["sample_share"] != after.get("sample_share"):
        old, new = before["sample_share"], after.get("sample_share", 0)
        verb = "raised" if new > old else "lowered"
        said.append(
            f"the sample share was {verb} from {100 * old:.1f}% to {100 * new:.1f}%"
        )
    if "coders_per_span" in before and before["coders_per_span"] != after.get(
        "coders_per_span"
    ):
        said.append(
            "the number of coders per sampled unit was changed from "
            f"{before['coders_per_span']} to {after.get('coders_per_span')}"
        )
    return said


def design_change(f: ReportFacts) -> Sentence | None:
    parts = [
        f"{' and '.join(said)} on {day(c.changed_at)}"
        for c in f.design_changes
        if (said := _change(dict(c.before), dict(c.after)))
    ]
    if not parts:
        return None
    return Sentence(f"During coding, {'; '.join(parts)}.")


def active_learning(f: ReportFacts) -> Sentence | None:
    """When the machine coder ordered the single-coded remainder (the project's
    active learning option, from its DesignChange rows)."""
    if not f.active_learning:
        return None
    when = names([period(start, end) for start, end in f.active_learning])
    return Sentence(
        f"{when[0].upper()}{when[1:]} the single-coded remainder was served "
        "most-uncertain first by a machine coder (active learning); the "
        "reliability sample kept its random draw."
    )


def incomplete(f: ReportFacts) -> Sentence | None:
    if f.n_sample == 0 or f.n_sample_complete >= f.n_sample:
        return None
    if f.n_sample_complete == 0:
        return Sentence(
            f"None of the {f.n_sample:,} sampled {f.unit_noun} was coded by "
            f"{count(f.coders_per_span, start=True).lower()} coders as planned."
        )
    return Sentence(
        f"{count(f.n_sample_complete, start=True)} of the {f.n_sample:,} sampled "
        f"{f.unit_noun} were coded by {count(f.coders_per_span, start=True).lower()} "
        "coders as planned; the "
        "others by fewer."
    )


def _widest(f: ReportFacts) -> DimensionFacts | None:
    rated = [d for d in f.dimensions if d.n_pairable_units]
    return max(rated, key=lambda d: d.n_pairable_units) if rated else None


def variable_coders(f: ReportFacts) -> Sentence | None:
    d = _widest(f)
    if d is None or not d.max_ratings_per_unit:
        return None
    least, most = d.min_ratings_per_unit, d.max_ratings_per_unit
    if least == most and most >= f.n_coders:
        return None  # every unit by every coder
    how = f"{least}" if least == most else f"{least} to {most}"
    mean = "" if least == most else f" ({d.mean_ratings_per_unit:.1f} on average)"
    return Sentence(
        f"Each of the {d.n_pairable_units:,} {f.unit_noun} coded more than once "
        f"was coded by {how} of the {f.n_coders} coders{mean}."
    )


def codebook(f: ReportFacts) -> Sentence | None:
    when = ""
    if f.first_rating and f.last_rating:
        when = f", {span_of_days(f.first_rating, f.last_rating)}"
    return Sentence(
        f"Coding followed version {f.codebook_version} of the codebook "
        f"“{f.codebook_name}” (SHA-256 {f.codebook_digest[:12]}){when}."
    )


def _places(d: DimensionFacts) -> int:
    """Two decimals (APA), more when two would put α on the other side of a
    threshold the reading sentence judges it by (.7996 is not ".80")."""
    if d.primary != "krippendorff_alpha" or not math.isfinite(d.value):
        return 2
    for places in (2, 3):
        shown = float(f"{d.value:.{places}f}")
        if all((shown >= t) == (d.value >= t) for t in (RELIABLE, TENTATIVE)):
            return places
    return 4


def _about(d: DimensionFacts, f: ReportFacts) -> str:
    level = LEVELS.get(d.level, d.level)
    weights = ""
    if d.primary != "krippendorff_alpha" and d.weights != "identity":
        weights = f", {d.weights} weights"
    value = coefficient(d.value, _places(d))
    name = NAMES.get(d.primary, d.primary)
    result = f"{name} = {value}" if math.isfinite(d.value) else f"{name} is undefined"
    if math.isfinite(d.low) and math.isfinite(d.high):
        result += f", 95% CI [{coefficient(d.low)}, {coefficient(d.high)}]"
    units = f"{d.n_pairable_units:,} {f.unit_noun}"
    if d.primary_units > d.n_pairable_units:  # its chance term reads every coded unit
        units += (
            f" coded more than once, chance agreement from all {d.primary_units:,}"
            " coded"
        )
    return (
        f"for {d.label} ({level}, {d.n_categories} categories{weights}; "
        f"{units}), {result}"
    )


def dimensions(f: ReportFacts) -> Sentence | None:
    """One sentence per interval method, naming every dimension that uses it."""
    groups: dict[str, list[DimensionFacts]] = {}
    for d in f.dimensions:
        holds = math.isfinite(d.low) and math.isfinite(d.high)
        groups.setdefault(d.interval_method if holds else "", []).append(d)
    texts, cites = [], []
    for method, members in groups.items():
        items = [_about(d, f) for d in members]
        keys = [
            COEFFICIENT_SOURCE[d.primary]
            for d in members
            if d.primary in COEFFICIENT_SOURCE
        ]
        keys += ["passonneau2006" for d in members if d.level == "set"]
        text = "; ".join(items)
        if method:
            source = METHOD_SOURCE.get(method)
            keys += [source] if source else []
            text += f"; intervals: {method_words(method, f.n_resamples)}"
            if "bootstrap" in method_words(method, f.n_resamples):
                text += f", seed {f.seed}"
        keys = list(dict.fromkeys(keys))
        texts.append(
            f"{text[0].upper()}{text[1:]} {_cite(keys)}."
            if keys
            else f"{text[0].upper()}{text[1:]}."
        )
        cites += keys
    if not texts:
        return None
    return Sentence(" ".join(texts), tuple(dict.fromkeys(cites)))


def reading(f: ReportFacts) -> Sentence | None:
    """α against .800 and .667, naming the dimensions in each band."""
    judged = [
        d
        for d in f.dimensions
        if d.primary == "krippendorff_alpha"
        and math.isfinite(d.value)
        and d.n_pairable_units >= MIN_PAIRABLE_UNITS
    ]
    if not judged:
        return None
    bands = (
        (RELIABLE, math.inf, "at or above .800 (reliable enough to draw conclusions)"),
        (TENTATIVE, RELIABLE, "between .667 and .800 (tentative conclusions only)"),
        (-math.inf, TENTATIVE, "below .667 (not reliable)"),
    )
    said = [
        f"{words} for {names(labels)}"
        for low, high, words in bands
        if (labels := [d.label for d in judged if low <= d.value < high])
    ]
    text = f"Against Krippendorff's (2004, p. 241) thresholds, α is {'; '.join(said)}."
    # The verdict above reads the estimate; Krippendorff judges by the
    # interval's lower end, so say where each interval lies too.
    clauses = [
        f"for {d.label}, {clause}"
        for d in judged
        if (clause := interval_clause(d.value, d.low, d.high))
    ]
    if clauses:
        text += (
            " Judged, as Krippendorff advises, by the lower end of the interval: "
            f"{'; '.join(clauses)}."
        )
    return Sentence(text, ("krippendorff2004",))


def small_sample(f: ReportFacts) -> Sentence | None:
    few = [d for d in f.dimensions if d.n_pairable_units < MIN_PAIRABLE_UNITS]
    if not few:
        return None
    items = [f"{d.label} ({d.n_pairable_units:,})" for d in few]
    return Sentence(
        f"Fewer than {MIN_PAIRABLE_UNITS} {f.unit_noun} were coded more than once "
        f"for {names(items)}: such estimates are unstable, and their intervals "
        "are wide and may not cover the true value."
    )


def withheld(f: ReportFacts) -> Sentence | None:
    missing = [
        f"{d.label} ({d.interval_note})"
        for d in f.dimensions
        if not (math.isfinite(d.low) and math.isfinite(d.high)) and d.interval_note
    ]
    if not missing:
        return None
    return Sentence(f"No interval is reported for {names(missing)}.")


def against_plan(f: ReportFacts) -> Sentence | None:
    """The sample against Krippendorff's minimum (sample_size.plan)."""
    from annotator.agreement.sample_size import plan

    from .facts import PLAN_MIN_ALPHA

    by_q: dict[int, list[DimensionFacts]] = {}
    for d in f.dimensions:
        if d.n_categories >= 2:
            by_q.setdefault(d.n_categories, []).append(d)
    cited = _cite(["krippendorff2004", "bloch1989"])
    texts = []
    for q, members in by_q.items():
        p = plan(PLAN_MIN_ALPHA, PLAN_MIN_ALPHA, q)
        # Units against units (the plan's units coded twice against the
        # sample's units coded more than once), each with its pairable values,
        # so neither count is read against the other kind.
        has = [
            f"{d.label} has {d.n_pairable_units:,} {f.unit_noun} coded more than "
            f"once ({d.n_pairable_values:,} pairable values), "
            + (
                f"at least the {p.recommended_units:,} asked for"
                if d.n_pairable_units >= p.recommended_units
                else f"fewer than the {p.recommended_units:,} asked for"
            )
            for d in members
        ]
        texts.append(
            f"{p.krippendorff_text.removesuffix('.')} {cited}; {'; '.join(has)}."
        )
    if not texts:
        return None
    return Sentence(" ".join(texts), ("krippendorff2004", "bloch1989"))


SENTENCES: tuple[Callable[[ReportFacts], Sentence | None], ...] = (
    design,
    design_change,
    active_learning,
    incomplete,
    variable_coders,
    codebook,
    dimensions,
    reading,
    small_sample,
    withheld,
    against_plan,
)


def sentences(facts: ReportFacts) -> list[Sentence]:
    return [s for make in SENTENCES if (s := make(facts)) is not None]


def paragraph(facts: ReportFacts) -> tuple[str, list[str]]:
    """The paragraph's text and its formatted references, alphabetical (APA)."""
    present = sentences(facts)
    keys = [key for s in present for key in s.cites]
    return " ".join(s.text for s in present), reference_list(keys)
