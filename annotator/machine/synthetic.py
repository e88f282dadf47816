"""Seeded synthetic spans whose words carry (or, at signal 0, do not carry) their topic.

Each topic owns a small vocabulary; every span draws each word from its topic's
vocabulary with probability ``signal`` and from a shared noise vocabulary
otherwise. Spans come in documents (``groups``) whose spans mostly share one
topic, as real documents do, so a model that trained on a span's document would
have an unfair head start -- which is what the grouped folds prevent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SYLLABLES = (
    "ka ri to mu se la no vi de pa lo su ne ti ra mo ge bu fi ha "
    "zo ce wa ku le ny dra spe tor van qui".split()
)


@dataclass(frozen=True)
class Corpus:
    """Parallel texts, their labels (a string, or a frozenset for multi-label)
    and the document each span belongs to."""

    texts: list[str]
    labels: list
    groups: list[str]
    topics: list[str]


def _vocabulary(rng: np.random.Generator, size: int, taken: set[str]) -> list[str]:
    words: list[str] = []
    while len(words) < size:
        n = int(rng.integers(2, 5))
        word = "".join(rng.choice(_SYLLABLES, size=n))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def _vocabularies(
    rng: np.random.Generator, n_topics: int, topic_words: int, noise_words: int
) -> tuple[list[list[str]], list[str]]:
    taken: set[str] = set()
    topics = [_vocabulary(rng, topic_words, taken) for _ in range(n_topics)]
    return topics, _vocabulary(rng, noise_words, taken)


def _texts(
    rng: np.random.Generator,
    topic_vocab: list[list[str]],
    noise: list[str],
    topics: tuple[np.ndarray, np.ndarray],
    signal: float,
    length: tuple[int, int],
) -> list[str]:
    """One text per span: each word from one of the span's two topics (the same
    topic twice for a single-topic span) with probability ``signal``, else noise."""
    first, second = topics
    lengths = rng.integers(length[0], length[1] + 1, size=len(first))
    span_of_word = np.repeat(np.arange(len(first)), lengths)
    total = len(span_of_word)
    per_topic = len(topic_vocab[0])
    topic = np.where(rng.random(total) < 0.5, first[span_of_word], second[span_of_word])
    in_topic = topic * per_topic + rng.integers(per_topic, size=total)
    in_noise = len(topic_vocab) * per_topic + rng.integers(len(noise), size=total)
    words = np.array([w for v in topic_vocab for w in v] + noise, dtype=object)[
        np.where(rng.random(total) < signal, in_topic, in_noise)
    ]
    ends = np.cumsum(lengths)
    return [" ".join(words[e - n : e]) for e, n in zip(ends, lengths, strict=True)]


def corpus(
    n: int,
    *,
    n_topics: int = 4,
    signal: float = 0.3,
    spans_per_document: int = 10,
    length: tuple[int, int] = (8, 24),
    topic_words: int = 40,
    noise_words: int = 3000,
    document_topic: float = 0.7,
    seed: int = 0,
    vocabulary_seed: int = 0,
) -> Corpus:
    """``n`` single-label spans; ``signal=0`` gives texts that say nothing of
    their label. A document keeps one topic for a ``document_topic`` share of
    its spans (0: every span's topic drawn afresh). Corpora with one
    ``vocabulary_seed`` share their words, so one can be trained on and
    another (another ``seed``) predicted."""
    words = np.random.default_rng(vocabulary_seed)
    topic_vocab, noise = _vocabularies(words, n_topics, topic_words, noise_words)
    rng = np.random.default_rng(seed)
    names = [f"topic_{t}" for t in range(n_topics)]
    doc = np.arange(n) // spans_per_document
    home = rng.integers(n_topics, size=int(doc.max()) + 1 if n else 0)[doc]
    own = rng.random(n) < document_topic
    topic = np.where(own, home, rng.integers(n_topics, size=n))
    texts = _texts(rng, topic_vocab, noise, (topic, topic), signal, length)
    labels = [names[t] for t in topic]
    return Corpus(texts, labels, [f"doc{d}" for d in doc], names)


def multi_label_corpus(
    n: int,
    *,
    n_topics: int = 4,
    signal: float = 0.4,
    spans_per_document: int = 10,
    length: tuple[int, int] = (8, 24),
    seed: int = 0,
    vocabulary_seed: int = 0,
) -> Corpus:
    """``n`` spans each about one or two topics; labels are frozensets of topics."""
    words = np.random.default_rng(vocabulary_seed)
    topic_vocab, noise = _vocabularies(words, n_topics, 40, 3000)
    rng = np.random.default_rng(seed)
    names = [f"topic_{t}" for t in range(n_topics)]
    first = rng.integers(n_topics, size=n)
    # A second, different topic for ~40% of spans.
    other = (first + rng.integers(1, n_topics, size=n)) % n_topics
    second = np.where(rng.random(n) < 0.4, other, first)
    texts = _texts(rng, topic_vocab, noise, (first, second), signal, length)
    labels = [
        frozenset({names[a], names[b]}) for a, b in zip(first, second, strict=True)
    ]
    groups = [f"doc{i // spans_per_document}" for i in range(n)]
    return Corpus(texts, labels, groups, names)
