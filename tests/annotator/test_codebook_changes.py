"""The pure diff of two codebook versions: examples and properties."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.codebook_changes import codebook_changes
from annotator.codebooks import _normalise
from tests.factories import SMALL_CODEBOOK


def data(**changes):
    book = _normalise(copy.deepcopy(SMALL_CODEBOOK))
    book.update(changes)
    return book


def category(book, dimension, key):
    d = next(d for d in book["dimensions"] if d["key"] == dimension)
    return next(c for c in d["categories"] if c["key"] == key)


def test_same_data_no_change():
    changes = codebook_changes(data(), data())
    assert changes.empty and changes.words() == [] and changes.recode == frozenset()


def test_each_kind_of_change_in_words():
    old, new = data(), data()
    topic = new["dimensions"][0]
    topic["categories"] = [c for c in topic["categories"] if c["key"] != "other"]
    topic["categories"].append({**category(old, "topic", "arms"), "key": "energy",
                                "label": "Energy", "shortcut": "3"})  # fmt: skip
    category(new, "topic", "arms")["label"] = "Arms control"
    category(new, "topic", "trade")["definition"] = "Trade and tariffs."
    category(new, "stance", "neutral")["shortcut"] = "w"
    category(new, "stance", "friendly")["value"] = 2.0
    category(new, "tags", "quote")["typical_words"] = ["said"]
    new["dimensions"].append({**new["dimensions"][2], "key": "tone", "label": "Tone"})
    new["dimensions"][2] = {**new["dimensions"][2], "instructions": "Tag facts."}
    changes = codebook_changes(old, new)
    assert changes.words() == [
        "Dimension “Tags” (tags): instructions rewritten.",
        "Category quote of tags (“Quote”): typical words changed.",
        "Dimension “Tone” (tone) added.",
        "Category quote of tone added: “Quote”.",
        "Category number of tone added: “Number”.",
        "Category other of topic (“Other”) removed.",
        "Category arms of topic renamed: “Arms” → “Arms control”.",
        "Category trade of topic (“Trade”) redefined: definition changed.",
        "Category energy of topic added: “Energy”.",
        "Category neutral of stance: shortcut “s” → “w”.",
        "Category friendly of stance (“Friendly”) redefined: numeric value changed.",
    ]
    assert changes.recode == {("topic", "other"), ("topic", "trade"),
                              ("stance", "friendly")}  # fmt: skip
    assert changes.recode_reasons()[("topic", "other")] == "removed"


def test_a_reshaped_dimension_recodes_all_its_categories():
    old, new = data(), data()
    new["dimensions"][2]["multiple"] = False
    del new["dimensions"][0]
    changes = codebook_changes(old, new)
    assert changes.recode == {("tags", "quote"), ("tags", "number")}
    assert changes.words() == [
        "Dimension “Topic” (topic) removed.",
        "Dimension “Tags” (tags): several categories allowed yes → no.",
    ]
    assert set(changes.recode_reasons().values()) == {"its dimension changed shape"}


def test_name_and_description():
    changes = codebook_changes(data(), data(name="New", description="More."))
    assert changes.words() == [
        "Name changed: “Test codebook” → “New”.",
        "Description rewritten.",
    ]
    assert not changes.empty and not changes.recode


# --- properties ----------------------------------------------------------------------

keys = st.sampled_from(["a", "b", "c", "d", "e"])
words = st.sampled_from(["", "x", "y"])
categories = st.lists(
    st.fixed_dictionaries(
        {
            "key": keys,
            "label": words,
            "definition": words,
            "examples": st.lists(words, max_size=2),
            "typical_words": st.lists(words, max_size=2),
            "shortcut": st.sampled_from(["", "1", "2"]),
            "value": st.sampled_from([None, 0.0, 1.0]),
        }
    ),
    min_size=2,
    max_size=4,
    unique_by=lambda c: c["key"],
)
dimensions = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(["topic", "stance", "tags"]),
            "label": words,
            "level": st.sampled_from(["nominal", "ordinal"]),
            "multiple": st.booleans(),
            "required": st.booleans(),
            "instructions": words,
            "categories": categories,
        }
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda d: d["key"],
)
books = st.builds(lambda ds: {"name": "n", "description": "", "dimensions": ds},
                  dimensions)  # fmt: skip


def pairs(book):
    return {(d["key"], c["key"]) for d in book["dimensions"] for c in d["categories"]}


@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)
@given(books)
def test_a_version_against_itself_is_unchanged(book):
    assert codebook_changes(book, copy.deepcopy(book)).empty


@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)
@given(books, books)
def test_added_one_way_is_removed_the_other(old, new):
    there = codebook_changes(old, new)
    back = codebook_changes(new, old)

    def of(changes, kind):
        return {(c.dimension, c.key) for c in changes.categories if c.kind == kind}

    assert of(there, "renamed") == of(back, "renamed")
    assert of(there, "redefined") == of(back, "redefined")
    kept = {d["key"] for d in old["dimensions"]}
    assert of(there, "removed") == {
        p
        for p in pairs(old) - pairs(new)
        if p[0] in {d["key"] for d in new["dimensions"]}
    }
    assert of(there, "added") == pairs(new) - pairs(old)
    assert of(back, "removed") == {p for p in pairs(new) - pairs(old) if p[0] in kept}


@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)
@given(books, books)
def test_recoded_categories_are_old_ones_whose_codes_lose_their_meaning(old, new):
    changes = codebook_changes(old, new)
    assert changes.recode <= pairs(old)
    after = {
        (d["key"], c["key"]): (d, c) for d in new["dimensions"] for c in d["categories"]
    }
    before = {
        (d["key"], c["key"]): (d, c) for d in old["dimensions"] for c in d["categories"]
    }
    for pair, (dimension, was) in before.items():
        if pair[0] not in {d["key"] for d in new["dimensions"]}:
            assert pair not in changes.recode  # a dimension removed: nothing to redo
            continue
        meaning_changed = (
            pair not in after
            or any(
                was[f] != after[pair][1][f] for f in ("definition", "examples", "value")
            )
            or any(dimension[f] != after[pair][0][f] for f in ("level", "multiple"))
        )
        assert (pair in changes.recode) == meaning_changed
    assert set(changes.recode_reasons()) == changes.recode
