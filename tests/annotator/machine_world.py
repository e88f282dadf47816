"""A project whose span texts carry their codes, partly coded by one coder.

Each span's words say its topic, stance and tags, so a classifier trained on
the gold has something to learn; the first ``coded`` spans (document order) are
coded alike by c1 and c2 (gold: unanimous), the rest are left for the machine.
"""

from __future__ import annotations

from annotator.gold import refresh_gold
from annotator.services import claim_next_span, create_project, submit_annotation
from tests.factories import CorpusFactory, DocumentFactory, UserFactory, make_codebook

TOPIC_WORDS = {
    "arms": "missile warhead treaty disarmament",
    "trade": "tariff export market customs",
    "other": "weather football concert holiday",
}
STANCES = {
    "hostile": "condemned threatened",
    "neutral": "reported noted",
    "friendly": "welcomed praised",
}


def codes_of(document: int, index: int, one_topic: bool = False) -> dict:
    topic = "arms" if one_topic else list(TOPIC_WORDS)[(document + index) % 3]
    stance = list(STANCES)[(document * 2 + index) % 3]
    tags = [t for t, on in (("quote", index % 2 == 0), ("number", index == 1)) if on]
    return {"topic": topic, "stance": stance, "tags": tags}


# Small hashed feature spaces: the tests' models train in a second, not ten.
SMALL_MODELS = '{"word_features": 4096, "char_features": 4096}'  # JSON, as set


def text_of(codes: dict, document: int, index: int) -> str:
    """The words of the codes; the last span of each document says nothing of
    its topic, the third nothing of its stance, and every fourth document's
    first hides its quote, so the machine errs there (α below 1, an interval)."""
    words = [
        TOPIC_WORDS[codes["topic"]] if index != 3 else "about",
        STANCES[codes["stance"]] if index != 2 else "this",
    ]
    if "quote" in codes["tags"] and not (document % 4 == 0 and index == 0):
        words.append('"quoted words" said')
    if "number" in codes["tags"]:
        words.append("42 percent")
    return f"Item {document}-{index}: " + " ".join(words) + "."


def make_machine_project(
    *, documents: int = 12, spans: int = 4, coded: int = 32, one_topic: bool = False
):
    """The project, and {span text: codes} of every span."""
    corpus = CorpusFactory()
    codes_by_text = {}
    for d in range(documents):
        paragraphs = []
        for i in range(spans):
            codes = codes_of(d, i, one_topic)
            text = text_of(codes, d, i)
            codes_by_text[text] = codes
            paragraphs.append(text)
        DocumentFactory(corpus=corpus, text="\n\n".join(paragraphs))
    project = create_project(
        name="Machine project", corpus=corpus, codebook=make_codebook()
    )
    from annotator.models import Membership
    from annotator.services import set_membership

    for name in ("c1", "c2"):
        coder = UserFactory(username=name)
        set_membership(project=project, user=coder, role=Membership.Role.CODER)
        for _ in range(coded):
            assignment = claim_next_span(project=project, coder=coder)
            if assignment is None:
                break
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels=codes_by_text[assignment.span.text],
            )
    refresh_gold(project)
    return project, codes_by_text


def with_readers(manager):
    """A machine project with ``manager`` as its manager and a reviewer, and
    (project, {"manager", "reviewer", "coder"}): the page's and the API's world."""
    from annotator.models import Membership
    from annotator.services import set_membership

    project, _ = make_machine_project()
    set_membership(project=project, user=manager, role=Membership.Role.MANAGER)
    reviewer = UserFactory(username="rita")
    set_membership(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    return project, {
        "manager": manager,
        "reviewer": reviewer,
        "coder": project.memberships.get(user__username="c1").user,
    }
