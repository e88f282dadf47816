"""Document text → spans as (start, end) character offsets.

Offsets always index the original text: segmentation never edits it, so a span can be
shown in its context and exported with offsets that round-trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from functools import lru_cache

BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A paragraph that ends like this has finished its sentence.
SENTENCE_END = re.compile(r"""[.!?…:;]["'”’»)\]]*$""")
# A paragraph that starts like this continues the previous one's sentence.
CONTINUATION_START = re.compile(r"""^[a-z(,;]""")


class Segmentation(StrEnum):
    PARAGRAPH = "paragraph"
    SENTENCE = "sentence"
    LINE = "line"
    NONE = "none"


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def raw_paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Blocks separated by one or more blank lines, trimmed of surrounding space."""
    position = 0
    for separator in BLANK_LINES.finditer(text):
        block = _strip(text, position, separator.start())
        if block:
            yield block
        position = separator.end()
    block = _strip(text, position, len(text))
    if block:
        yield block


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraphs, with a sentence broken across a blank line joined back together.

    Real exports split sentences at page or column breaks ("…including its allies" /
    "who are interested…"). A block that does not end a sentence, followed by one that
    starts in lower case, is the same sentence: coding it as two spans would ask coders
    to judge half-sentences.
    """
    merged: list[tuple[int, int]] = []
    for start, end in raw_paragraphs(text):
        # The cheap test first: most paragraphs start in upper case, and then the
        # previous one's ending (a search over its whole text) never needs reading.
        if merged and CONTINUATION_START.match(text[start : start + 1]):
            previous_start, previous_end = merged[-1]
            if not SENTENCE_END.search(text, previous_start, previous_end):
                merged[-1] = (previous_start, end)
                continue
        merged.append((start, end))
    return merged


@lru_cache(maxsize=8)
def _sentence_segmenter(language: str):
    import pysbd

    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:
        return pysbd.Segmenter(language="en", clean=False)


def sentences(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Sentences within each paragraph, by pySBD's rule-based segmenter.

    pySBD (Sadvilkar & Neumann 2020) keeps abbreviations such as "U.S.", "J. P. Biden"
    and "A.N.Darchiev" whole; a home-made regex would not. Sentences never cross a
    paragraph boundary, except where paragraphs() repaired a broken sentence.
    """
    segmenter = _sentence_segmenter((language or "en")[:2].lower())
    result: list[tuple[int, int]] = []
    for paragraph_start, paragraph_end in paragraphs(text):
        paragraph = text[paragraph_start:paragraph_end]
        cursor = 0
        for piece in segmenter.segment(paragraph):
            # clean=False returns pieces of the input in order; locate each from the
            # cursor so repeated sentences get their own offsets.
            found = paragraph.find(piece, cursor)
            if found < 0:
                found = cursor
            span = _strip(paragraph, found, found + len(piece))
            cursor = found + len(piece)
            if span:
                result.append((paragraph_start + span[0], paragraph_start + span[1]))
    return result


def lines(text: str) -> list[tuple[int, int]]:
    result = []
    position = 0
    for line in text.splitlines(keepends=True):
        span = _strip(text, position, position + len(line))
        if span:
            result.append(span)
        position += len(line)
    return result


def whole(text: str) -> list[tuple[int, int]]:
    span = _strip(text, 0, len(text))
    return [span] if span else []


def segment(
    text: str, method: Segmentation | str, language: str = "en"
) -> list[tuple[int, int]]:
    """Split text into spans by the named method; offsets index the original text."""
    method = Segmentation(method)
    if method is Segmentation.PARAGRAPH:
        return paragraphs(text)
    if method is Segmentation.SENTENCE:
        return sentences(text, language)
    if method is Segmentation.LINE:
        return lines(text)
    return whole(text)
