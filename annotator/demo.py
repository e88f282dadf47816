"""The demo: seed corpus, demo users and (once projects exist) a demo project.

Used by `manage.py load_demo`, the README's first command, and tests that want the
real seed texts. Safe to run again: nothing is duplicated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from annotator.codebooks import import_codebook, read_codebook_file
from annotator.models import Codebook, Membership, Project
from annotator.services import create_project, set_membership
from corpus.importing import ImportReport, RawDocument, import_documents
from corpus.models import Corpus
from corpus.segmenting import Segmentation

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SEEDS = FIXTURES / "seeds"
MANAGERS_GROUP = "Managers"


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
    """Managers may see and import corpora; project roles come from memberships."""
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="corpus",
            codename__in=[
                "view_corpus",
                "add_corpus",
                "change_corpus",
                "view_document",
                "add_document",
                "change_document",
                "view_span",
                "change_span",
            ],
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
