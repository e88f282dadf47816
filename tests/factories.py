"""factory_boy factories for the domain models."""

from __future__ import annotations

import factory
from django.contrib.auth.models import User

from corpus.models import Corpus, Document
from corpus.segmenting import segment

PASSWORD = "a-test-password-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CorpusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Corpus

    name = factory.Sequence(lambda n: f"Corpus {n}")


class DocumentFactory(factory.django.DjangoModelFactory):
    """A document whose paragraphs become spans, as an import would make them."""

    class Meta:
        model = Document
        skip_postgeneration_save = True

    corpus = factory.SubFactory(CorpusFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    source = "Test outlet"
    published = "2017-07-30"
    language = "en"
    text = factory.Sequence(
        lambda n: (
            f"Paragraph one of document {n}.\n\nParagraph two.\n\nParagraph three."
        )
    )

    @factory.post_generation
    def spans(obj, create, extracted, **kwargs):
        if not create:
            return
        pieces = segment(obj.text, extracted or "paragraph")
        obj.spans.bulk_create(
            obj.make_span(index=i, start=start, end=end)
            for i, (start, end) in enumerate(pieces)
        )


SMALL_CODEBOOK = {
    "name": "Test codebook",
    "family": "test-codebook",
    "dimensions": [
        {
            "key": "topic",
            "label": "Topic",
            "level": "nominal",
            "categories": [
                {"key": "arms", "label": "Arms", "shortcut": "1"},
                {"key": "trade", "label": "Trade", "shortcut": "2"},
                {"key": "other", "label": "Other", "shortcut": "0"},
            ],
        },
        {
            "key": "stance",
            "label": "Stance",
            "level": "ordinal",
            "categories": [
                {"key": "hostile", "label": "Hostile", "value": -1, "shortcut": "a"},
                {"key": "neutral", "label": "Neutral", "value": 0, "shortcut": "s"},
                {"key": "friendly", "label": "Friendly", "value": 1, "shortcut": "d"},
            ],
        },
        {
            "key": "tags",
            "label": "Tags",
            "multiple": True,
            "required": False,
            "categories": [
                {"key": "quote", "label": "Quote", "shortcut": "q"},
                {"key": "number", "label": "Number", "shortcut": "n"},
            ],
        },
    ],
}


def make_codebook(**changes):
    from annotator.codebooks import import_codebook

    return import_codebook({**SMALL_CODEBOOK, **changes})[0]


def make_project(*, documents=3, spans_per_document=3, coders=(), **design):
    """A project over a fresh corpus; `coders` are usernames made coders in it.

    The coders join after creation, as a manager may add them, so a test may
    give fewer coders than the design needs (create_project refuses that).
    """
    from annotator.models import Membership
    from annotator.services import create_project, set_membership

    corpus = CorpusFactory()
    for d in range(documents):
        DocumentFactory(
            corpus=corpus,
            text="\n\n".join(f"Doc {d} para {i}." for i in range(spans_per_document)),
        )
    users = [UserFactory(username=name) for name in coders]
    project = create_project(
        name=f"Project on {corpus.name}",
        corpus=corpus,
        codebook=make_codebook(),
        **design,
    )
    for user in users:
        set_membership(project=project, user=user, role=Membership.Role.CODER)
    return project
