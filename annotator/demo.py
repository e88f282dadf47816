"""The demo: seed corpus, demo users and (once projects exist) a demo project.

Used by `manage.py load_demo`, the README's first command, and tests that want the
real seed texts. Safe to run again: nothing is duplicated.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone

from annotator.access import MANAGERS_GROUP, MANAGERS_PERMISSIONS
from annotator.codebooks import import_codebook, read_codebook_file
from annotator.demo_training import load_demo_training
from annotator.gold import refresh_gold
from annotator.models import (
    Annotation,
    Category,
    Codebook,
    Job,
    JobKind,
    MachineCoder,
    Membership,
    Project,
)
from annotator.services import (
    claim_next_span,
    create_project,
    set_membership,
    submit_annotation,
)
from corpus.importing import ImportReport, RawDocument, import_documents
from corpus.models import Corpus
from corpus.segmenting import Segmentation

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SEEDS = FIXTURES / "seeds"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


DEMO_USERS = (
    DemoUser("manager", "manager-demo-pass", "manager"),
    DemoUser("reviewer", "reviewer-demo-pass", "reviewer"),
    DemoUser("coder1", "coder1-demo-pass", "coder"),
    DemoUser("coder2", "coder2-demo-pass", "coder"),
    DemoUser("coder3", "coder3-demo-pass", "coder"),
)


def seed_manifest() -> dict:
    return json.loads((SEEDS / "manifest.json").read_text(encoding="utf-8"))


def seed_records() -> Iterator[RawDocument]:
    """The seed files as import records, with the metadata the manifest gives them."""
    for entry in seed_manifest()["documents"]:
        data = (SEEDS / entry["file"]).read_bytes()
        fields = {
            "text": data.decode("utf-8"),
            "title": entry["title"],
            "source": entry["source"],
            "published": entry["published"],
            "language": entry["language"],
            "metadata": {"file": entry["file"], **entry.get("metadata", {})},
        }
        yield RawDocument(entry["file"], 1, fields, len(data))


@transaction.atomic
def load_seed_corpus(
    segmentation: Segmentation | str = Segmentation.PARAGRAPH,
) -> ImportReport:
    """Create (or top up) the seed corpus from fixtures/seeds/."""
    manifest = seed_manifest()
    corpus, _ = Corpus.objects.get_or_create(
        name=manifest["corpus"], defaults={"description": manifest["description"]}
    )
    return import_documents(
        corpus=corpus,
        records=seed_records(),
        segmentation=segmentation,
        exclude_patterns=manifest["exclude"],
    )


def managers_group() -> Group:
    """Managers may see and import corpora; project roles come from memberships.

    Migrate creates the group; this re-asserts its permissions for databases
    whose group was edited by hand."""
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="corpus", codename__in=MANAGERS_PERMISSIONS
        )
    )
    return group


def load_demo_user(demo: DemoUser) -> User:
    user, _ = User.objects.get_or_create(username=demo.username)
    user.set_password(demo.password)
    user.email = f"{demo.username}@example.org"
    user.save()
    if demo.role == Membership.Role.MANAGER:
        user.groups.add(managers_group())
    return user


DEMO_PROJECT = "Russia–US relations: topic and stance (demo)"


def load_default_codebook() -> Codebook:
    codebook, _ = import_codebook(read_codebook_file(FIXTURES / "codebook.yaml"))
    return codebook


@transaction.atomic
def load_demo_project() -> tuple[Project, ImportReport]:
    """The seed corpus coded by three coders, two per span, with a reviewer."""
    report = load_seed_corpus()
    corpus = report.corpus
    users = {demo.username: load_demo_user(demo) for demo in DEMO_USERS}
    project = Project.objects.filter(name=DEMO_PROJECT).first()
    if project is None:
        project = create_project(
            name=DEMO_PROJECT,
            corpus=corpus,
            codebook=load_default_codebook(),
            created_by=users["manager"],
            coders_per_span=2,
            sample_share=1.0,
            description=(
                "Code each span's topic and the speaker's stance toward the US."
            ),
        )
    for demo in DEMO_USERS:
        set_membership(project=project, user=users[demo.username], role=demo.role)
    return project, report


SIMULATED_PROJECT = "Russia–US relations: simulated codings (demo)"
# Simulated coders and how often each agrees with the reference code: a careful, a
# good and a sloppy coder, so the dashboard has differences to show.
SIMULATED_CODERS = (("sim-ana", 0.95), ("sim-boris", 0.88), ("sim-chen", 0.7))
COOPERATIVE_CUES = re.compile(
    r"cooperat|joint|together|constructive|good relations|dialogue|partner", re.I
)
HOSTILE_CUES = re.compile(
    r"accus|groundless|hostil|threat|pressure|anti-russian|expel|seiz|unfriendly", re.I
)


def reference_codes(text: str, topics: list[Category]) -> dict[str, str]:
    """A rough code for a span from the codebook's typical words and stance cues.

    Only the simulated project uses it: simulated coders deviate from it at their own
    rates, which gives the agreement pages realistic data to show. It is not a
    classifier and nothing else relies on it.
    """
    lowered = text.lower()
    hits = {
        topic.key: sum(lowered.count(word.lower()) for word in topic.typical_words)
        for topic in topics
    }
    best = max(hits, key=hits.get) if hits else "none"
    topic = best if hits.get(best) else "none"
    cooperative = len(COOPERATIVE_CUES.findall(text))
    hostile = len(HOSTILE_CUES.findall(text))
    stance = (
        "cooperative"
        if cooperative > hostile
        else "hostile"
        if hostile > cooperative
        else "neutral"
    )
    return {"topic": topic, "stance": stance}


@transaction.atomic
def load_simulated_project() -> Project:
    """A second demo project, fully coded by three simulated coders.

    So that a reviewer trying the demo sees agreement figures, disagreements and a
    trend at once, without the real demo project's queue being used up. Seeded and
    idempotent: a second run finds the project coded and changes nothing.
    """
    existing = Project.objects.filter(name=SIMULATED_PROJECT).first()
    if existing is not None:
        refresh_gold(existing)  # nothing to do unless codings changed since
        load_demo_training(existing)  # a demo database made before coder training
        return existing
    corpus = load_seed_corpus().corpus
    users = {demo.username: load_demo_user(demo) for demo in DEMO_USERS}
    codebook = load_default_codebook()
    project = create_project(
        name=SIMULATED_PROJECT,
        corpus=corpus,
        codebook=codebook,
        created_by=users["manager"],
        coders_per_span=2,
        sample_share=0.8,
        description=(
            "Simulated codings (not real coders) so the agreement pages have data: "
            "three simulated coders agree with a rough reference code 95%, 88% and "
            "70% of the time."
        ),
    )
    set_membership(project=project, user=users["reviewer"], role="reviewer")
    dimensions = {d.key: d for d in codebook.dimensions.prefetch_related("categories")}
    choices = {key: list(d.categories.all()) for key, d in dimensions.items()}
    coders = []
    for username, accuracy in SIMULATED_CODERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_unusable_password()
        user.save()
        set_membership(project=project, user=user, role="coder")
        coders.append((user, accuracy))
    clock = timezone.now() - timedelta(days=21)
    rng = random.Random(2017)
    active = list(coders)
    while active:
        for coder, accuracy in list(active):
            clock += timedelta(minutes=rng.randint(20, 140))
            assignment = claim_next_span(project=project, coder=coder, now=clock)
            if assignment is None:
                active.remove((coder, accuracy))
                continue
            text = assignment.span.text
            reference = reference_codes(text, choices["topic"])
            labels = {
                key: (
                    reference[key]
                    if rng.random() < accuracy
                    else rng.choice(choices[key]).key
                )
                for key in ("topic", "stance")
            }
            submitted = clock + timedelta(seconds=rng.uniform(6, 45))
            annotation = submit_annotation(
                coder=coder,
                assignment=assignment,
                labels=labels,
                uncertain=labels != reference and rng.random() < 0.3,
                now=submitted,
            )
            # created_at is stamped by the database clock; date it in the simulated
            # three weeks so the agreement trend has periods to show.
            Annotation.objects.filter(pk=annotation.pk).update(
                created_at=submitted, updated_at=submitted
            )
    # Gold from the rules now, so the reviewer finds the disagreements queued at
    # /projects/<id>/adjudicate/.
    refresh_gold(project)
    # Reference items from that gold, hidden checks and a drifting coder
    # (annotator.demo_training), so the coders page has an alert to show.
    load_demo_training(project)
    return project


def queue_demo_machine_coder(project: Project) -> Job | None:
    """Queue the training of the project's machine coder, unless it has one or
    one is being trained; returns the job queued (None: nothing to do)."""
    from annotator.services.machine_coders import request_training

    if MachineCoder.objects.current_of(project) is not None:
        return None
    if Job.objects.of(project, JobKind.MACHINE_TRAIN).active().exists():
        return None
    return request_training(project)
