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


def _span(
    rng: np.random.Generator,
    topic_vocab: list[list[str]],
    noise: list[str],
    topics: list[int],
    signal: float,
    length: tuple[int, int],
) -> str:
    n = int(rng.integers(length[0], length[1] + 1))
    from_topic = rng.random(n) < signal
    which = rng.choice(topics, size=n)
    words = [
        topic_vocab[t][int(rng.integers(len(topic_vocab[t])))]
        if hit
        else noise[int(rng.integers(len(noise)))]
        for hit, t in zip(from_topic, which, strict=True)
    ]
    return " ".join(words)


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
) -> Corpus:
    """``n`` single-label spans; ``signal=0`` gives texts that say nothing of
    their label. A document keeps one topic for a ``document_topic`` share of
    its spans (0: every span's topic drawn afresh)."""
    rng = np.random.default_rng(seed)
    topic_vocab, noise = _vocabularies(rng, n_topics, topic_words, noise_words)
    names = [f"topic_{t}" for t in range(n_topics)]
    texts, labels, groups = [], [], []
    for i in range(n):
        doc = i // spans_per_document
        if i % spans_per_document == 0:
            home = int(rng.integers(n_topics))
        topic = home if rng.random() < document_topic else int(rng.integers(n_topics))
        texts.append(_span(rng, topic_vocab, noise, [topic], signal, length))
        labels.append(names[topic])
        groups.append(f"doc{doc}")
    return Corpus(texts, labels, groups, names)


def multi_label_corpus(
    n: int,
    *,
    n_topics: int = 4,
    signal: float = 0.4,
    spans_per_document: int = 10,
    length: tuple[int, int] = (8, 24),
    seed: int = 0,
) -> Corpus:
    """``n`` spans each about one or two topics; labels are frozensets of topics."""
    rng = np.random.default_rng(seed)
    topic_vocab, noise = _vocabularies(rng, n_topics, 40, 3000)
    names = [f"topic_{t}" for t in range(n_topics)]
    texts, labels, groups = [], [], []
    for i in range(n):
        size = 1 if rng.random() < 0.6 else 2
        chosen = [int(t) for t in rng.choice(n_topics, size=size, replace=False)]
        texts.append(_span(rng, topic_vocab, noise, chosen, signal, length))
        labels.append(frozenset(names[t] for t in chosen))
        groups.append(f"doc{i // spans_per_document}")
    return Corpus(texts, labels, groups, names)
