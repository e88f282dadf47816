"""Test data: factory_boy factories, and the projects and codings tests build."""

from __future__ import annotations

import copy
from datetime import timedelta

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


def make_project(
    *, documents=3, spans_per_document=3, coders=(), manager=None, **design
):
    """A project over a fresh corpus; `coders` are usernames made coders in it,
    `manager` (a user) its manager.

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
    if manager is not None:
        set_membership(project=project, user=manager, role=Membership.Role.MANAGER)
    return project


# The codebook move's project: span i gets TOPICS[i] from both coders.
TOPICS = ["arms", "trade", "other"]


def make_topics_project(**more_labels):
    """One document of three spans that ann and bob both coded: span i's topic is
    TOPICS[i], the stance neutral, with ``more_labels`` (e.g. tags) on every span."""
    from annotator.services import claim_next_span, submit_annotation

    project = make_project(documents=1, spans_per_document=3, coders=("ann", "bob"))
    for name in ("ann", "bob"):
        coder = project.memberships.get(user__username=name).user
        while (assignment := claim_next_span(project=project, coder=coder)) is not None:
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels={
                    "topic": TOPICS[assignment.span.index],
                    "stance": "neutral",
                    **more_labels,
                },
            )
    return project


def newer_data(**changes):
    """Version 2: arms renamed, trade redefined, other removed, stance as it was."""
    data = copy.deepcopy(SMALL_CODEBOOK)
    topic = data["dimensions"][0]
    topic["categories"] = [
        {"key": "arms", "label": "Arms control", "shortcut": "1"},
        {"key": "trade", "label": "Trade", "shortcut": "2",
         "definition": "Trade, tariffs and sanctions."},
        {"key": "energy", "label": "Energy", "shortcut": "3"},
    ]  # fmt: skip
    data.update(changes)
    return data


def annotate_once(codebook) -> None:
    """One annotation on ``codebook`` in a project of its own: the version in use."""
    from annotator.services import claim_next_span, submit_annotation

    project = make_project(documents=1, spans_per_document=2, coders=["ann"])
    project.codebook = codebook
    project.save()
    coder = project.memberships.get().user
    assignment = claim_next_span(project=project, coder=coder)
    submit_annotation(
        coder=coder,
        assignment=assignment,
        labels={"topic": "arms", "stance": "neutral"},
    )


def member(project, username: str, role: str) -> User:
    """A new user with ``role`` in the project."""
    from annotator.services import set_membership

    user = UserFactory(username=username)
    set_membership(project=project, user=user, role=role)
    return user


def logged_in(client, user: User):
    """The test client, logged in as ``user`` (with the factories' password)."""
    client.login(username=user.username, password=PASSWORD)
    return client


def varied_labels(coder: str, n: int) -> dict:
    """Deterministic, imperfect labels: coder c3 disagrees more often."""
    shift = {"c1": 0, "c2": 0 if n % 4 else 1, "c3": n % 3}[coder]
    tags = (["quote"], ["quote", "number"], [], ["number"])[(n + shift) % 4]
    return {
        "topic": ("arms", "trade", "other")[(n + shift) % 3],
        "stance": ("hostile", "neutral", "friendly")[(n // 2 + (shift > 0)) % 3],
        "tags": tags,
    }


def code_everything(project, coders=("c1", "c2", "c3"), start=None):
    """Each coder claims and submits until the queue is empty, an hour apart per
    claim, with varied_labels."""
    from django.utils import timezone

    from annotator.services import claim_next_span, submit_annotation

    start = start or timezone.now() - timedelta(days=30)
    users = {name: User.objects.get(username=name) for name in coders}
    step = 0
    busy = True
    while busy:
        busy = False
        for name in coders:
            now = start + timedelta(hours=step)
            step += 1
            assignment = claim_next_span(project=project, coder=users[name], now=now)
            if assignment is None:
                continue
            busy = True
            submit_annotation(
                coder=users[name],
                assignment=assignment,
                labels=varied_labels(name, assignment.span_id),
                now=now + timedelta(seconds=10 + assignment.span_id % 7),
            )


def make_coded_project(documents: int):
    """Three coders (c1-c3) have coded every span of a half-sampled project of
    ``documents`` × 4 spans (code_everything)."""
    project = make_project(
        documents=documents,
        spans_per_document=4,
        coders=("c1", "c2", "c3"),
        sample_share=0.5,
    )
    code_everything(project)
    return project


def make_reference_items(project, n: int, use: str, codes=None, spans=None):
    """``n`` reference items of ``use`` on the project's last spans not yet
    reference items (or on ``spans``), with ``codes`` (default: arms, neutral, no
    tags); a check item gets its place in the pool."""
    from annotator.models import ReferenceItem
    from annotator.training.pool import place_check
    from corpus.models import Span

    taken = ReferenceItem.objects.filter(project=project).values("span_id")
    if spans is None:
        spans = list(
            Span.objects.filter(document__corpus_id=project.corpus_id)
            .exclude(pk__in=taken)
            .order_by("-document_id", "-index")[:n]
        )
    items = [
        ReferenceItem.objects.create(
            project=project,
            codebook_id=project.codebook_id,
            span=span,
            use=use,
            codes=codes or {"topic": ["arms"], "stance": ["neutral"], "tags": []},
            explanation=f"Span {span.pk}: the reference codes, explained.",
        )
        for span in spans
    ]
    if use == ReferenceItem.Use.CHECK:
        for item in items:
            place_check(item)
    return items


def make_checks_project(
    *, checks=6, documents=3, spans_per_document=4, coders=("c1", "c2"), rate=20,
    **design,
):  # fmt: skip
    """A project whose last ``checks`` spans are hidden-check items (their study
    work items full, as if coded: only then are they served), at ``rate``."""
    from django.db.models import F

    from annotator.models import WorkItem

    project = make_project(
        documents=documents, spans_per_document=spans_per_document, coders=coders,
        **design,
    )  # fmt: skip
    items = make_reference_items(project, checks, "check")
    WorkItem.objects.filter(
        project=project, span_id__in=[item.span_id for item in items]
    ).update(taken=F("target"))
    project.check_rate = rate
    project.save(update_fields=["check_rate"])
    return project, items


class DueRandom:
    """A stand-in for services.queue_checks.RANDOM: a check is always (or never)
    due; positions come from a seeded Random."""

    def __init__(self, due: bool = True, seed: int = 0):
        import random

        self.due, self.rng = due, random.Random(seed)

    def random(self) -> float:
        return 0.0 if self.due else 0.999999

    def getrandbits(self, k: int) -> int:
        return self.rng.getrandbits(k)


def answer_checks(project, coder, correct: list[bool], start=None):
    """``coder``'s answers to len(correct) hidden checks, a minute apart from
    ``start``: the reference codes where True, else a different topic. Reuses the
    project's check items the coder has not answered, makes more as needed
    (make_reference_items), and writes the pool's completed Assignment,
    Annotation (with the pool's next change number) and Label rows as
    services/submits.py does. Returns the pool annotations."""
    from django.db.models import F
    from django.utils import timezone

    from annotator.models import Annotation, Assignment, Label, ReferenceItem, WorkItem
    from annotator.services.labels import codebook_dimensions
    from annotator.services.submits import next_change
    from annotator.training.pool import ensure_pool

    start = start or timezone.now() - timedelta(days=1)
    pool = ensure_pool(project)
    done = Assignment.objects.filter(project=pool, coder=coder).values("span_id")
    items = list(
        ReferenceItem.objects.filter(project=project, use="check")
        .exclude(span_id__in=done)
        .order_by("pk")[: len(correct)]
    )
    if len(items) < len(correct):
        items += make_reference_items(project, len(correct) - len(items), "check")
    dimensions = codebook_dimensions(project.codebook_id)
    annotations = []
    for i, (item, right) in enumerate(zip(items, correct, strict=True)):
        at = start + timedelta(minutes=i)
        codes = dict(item.codes)
        if not right:
            topics = dimensions["topic"].category_map
            codes["topic"] = [c for c in topics if c not in codes["topic"]][:1]
        work_item = WorkItem.objects.get(project=pool, span_id=item.span_id)
        WorkItem.objects.filter(pk=work_item.pk).update(taken=F("taken") + 1)
        assignment = Assignment.objects.create(
            project=pool, work_item=work_item, span_id=item.span_id, coder=coder,
            status=Assignment.Status.COMPLETED, claimed_at=at, shown_at=at,
            expires_at=at + timedelta(minutes=30), finished_at=at,
        )  # fmt: skip
        annotation = Annotation.objects.create(
            assignment=assignment, project=pool, codebook_id=project.codebook_id,
            seconds=5.0, change=next_change(pool.pk),
        )  # fmt: skip
        Label.objects.bulk_create(
            Label(
                annotation=annotation,
                project=pool,
                span_id=item.span_id,
                coder=coder,
                dimension=dimensions[key],
                category=dimensions[key].category_map[category],
            )  # fmt: skip
            for key, chosen in codes.items()
            for category in chosen
        )
        annotations.append(annotation)
    return annotations
