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
