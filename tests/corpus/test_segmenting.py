import pytest

from annotator.demo import SEEDS
from corpus.segmenting import Segmentation, lines, paragraphs, segment, sentences


def texts(text, offsets):
    return [text[start:end] for start, end in offsets]


def test_paragraphs_split_on_blank_lines_and_trim():
    text = "  Title\n\nFirst paragraph.\nsame paragraph.\n \t\nLast one.  \n"
    assert texts(text, paragraphs(text)) == [
        "Title",
        "First paragraph.\nsame paragraph.",
        "Last one.",
    ]


def test_paragraph_broken_mid_sentence_is_joined():
    text = "It hurt its allies\n\nwho are interested in us.\n\nNext point."
    assert texts(text, paragraphs(text)) == [
        "It hurt its allies\n\nwho are interested in us.",
        "Next point.",
    ]


def test_paragraph_ending_a_sentence_is_not_joined_to_lowercase_start():
    text = 'He said: \n\n"yes."\n\nA sentence.\n\nlowercase start.'
    assert texts(text, paragraphs(text)) == [
        "He said:",
        '"yes."',
        "A sentence.",
        "lowercase start.",
    ]


def test_seed_000_broken_sentence_is_repaired():
    text = (SEEDS / "000_badf8af62774b53a.txt").read_text(encoding="utf-8")
    joined = [t for t in texts(text, paragraphs(text)) if "including its allies" in t]
    assert len(joined) == 1
    assert joined[0].endswith("relations with the Russian Federation.")
    assert not any(
        t.startswith("who are interested") for t in texts(text, paragraphs(text))
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The U.S. side closed the consulate in San Francisco.",
        "J. P. Biden met the Russian president in Geneva.",
        "Interview of A.N.Darchiev, to the Interfax news agency.",
        "Talks with the U.S.A. resumed in Oct. 2017 at 10 a.m. sharp.",
    ],
)
def test_sentences_keep_abbreviations_whole(sentence):
    text = f"First sentence here. {sentence} Last sentence here."
    assert texts(text, sentences(text)) == [
        "First sentence here.",
        sentence,
        "Last sentence here.",
    ]


def test_sentences_of_seed_004_keep_darchiev_whole():
    text = (SEEDS / "004_c3a73a7ae10772a7.txt").read_text(encoding="utf-8")
    found = [t for t in texts(text, sentences(text)) if "Darchiev" in t]
    assert found and all("A.N.Darchiev" in t for t in found)
    assert "A.N." not in [t.strip() for t in texts(text, sentences(text))]


def test_repeated_sentences_get_their_own_offsets():
    text = "Yes. No. Yes. No."
    offsets = sentences(text)
    assert texts(text, offsets) == ["Yes.", "No.", "Yes.", "No."]
    assert len(set(offsets)) == 4


@pytest.mark.parametrize("method", list(Segmentation))
@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_offsets_round_trip_on_every_seed(method, seed):
    text = (SEEDS / seed).read_text(encoding="utf-8")
    offsets = segment(text, method)
    assert offsets, "every seed yields spans"
    previous_end = 0
    for start, end in offsets:
        piece = text[start:end]
        assert piece == piece.strip() and piece
        assert start >= previous_end, "spans are ordered and never overlap"
        previous_end = end


def test_lines_and_none():
    text = "one\n\n two \nthree"
    assert texts(text, lines(text)) == ["one", "two", "three"]
    assert texts(text, segment(text, "none")) == ["one\n\n two \nthree"]
    assert segment("  \n ", "none") == []
