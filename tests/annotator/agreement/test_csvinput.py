"""Reading ratings CSVs: the declared scale, numbers, sets, and errors naming lines."""

from __future__ import annotations

import io

import pytest

from annotator.agreement import (
    RatingsInputError,
    krippendorff_alpha,
    read_ratings_csv,
    summary,
)


def _csv(text: str) -> io.StringIO:
    f = io.StringIO(text)
    f.name = "r.csv"
    return f


def test_declared_scale_accepts_other_spellings_of_its_numbers():
    ratings = read_ratings_csv(
        _csv("unit,coder,value\n1,a,1.0\n1,b,1\n2,a,2\n2,b,2.00\n"),
        level="ordinal",
        categories=["1", "2", "3"],
    )
    result = summary(*ratings, level="ordinal", categories=["1", "2", "3"])
    assert result["coefficients"]["percent_agreement"] == 1.0


def test_value_off_the_declared_scale_names_its_line():
    with pytest.raises(RatingsInputError, match=r"r.csv, line 3: value '4'"):
        read_ratings_csv(
            _csv("unit,coder,value\n1,a,1\n1,b,4\n"), categories=["1", "2"]
        )
    with pytest.raises(RatingsInputError, match=r"line 2: label 'z' is not one"):
        read_ratings_csv(
            _csv("unit,coder,value\n1,a,x|z\n"), level="set", categories=["x", "y"]
        )


def test_interval_accepts_labels_and_uses_their_positions():
    text = "unit,coder,value\n1,a,low\n1,b,low\n2,a,high\n2,b,mid\n3,a,mid\n3,b,mid\n"
    ratings = read_ratings_csv(_csv(text), level="interval")
    on_labels = summary(*ratings, level="interval", categories=["low", "mid", "high"])
    numbers = read_ratings_csv(
        _csv(text.replace("low", "1").replace("mid", "2").replace("high", "3")),
        level="interval",
    )
    on_numbers = summary(*numbers, level="interval")
    assert on_labels["coefficients"]["krippendorff_alpha"] == pytest.approx(
        on_numbers["coefficients"]["krippendorff_alpha"]
    )


def test_sets_are_parsed_and_blank_lines_skipped():
    units, coders, values = read_ratings_csv(
        _csv("unit,coder,value,note\n\n1,a,x|y,n\n1,b,y | x,\n"), level="set"
    )
    assert list(values) == [frozenset({"x", "y"})] * 2
    assert list(units) == ["1", "1"] and list(coders) == ["a", "b"]


def test_an_empty_set_is_a_rating_at_the_set_level_only():
    """A coder who chose no label of a multi-choice dimension rated it: the empty
    set (a missing rating has no row). At other levels an empty value is refused."""
    units, coders, values = read_ratings_csv(
        _csv("unit,coder,value\n1,a,\n1,b,x\n2,a,\n2,b, \n"), level="set"
    )
    assert list(values) == [frozenset(), frozenset({"x"}), frozenset(), frozenset()]
    result = krippendorff_alpha(units, coders, values, level="set")
    assert result.n_pairable == 4
    with pytest.raises(RatingsInputError, match="line 2: field 'value' is empty"):
        read_ratings_csv(_csv("unit,coder,value\n1,a,\n1,b,x\n"), level="nominal")
