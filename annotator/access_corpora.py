"""Who sees and imports corpora, and which: re-exported by annotator.access."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from annotator.models import Project
from corpus.models import Corpus

User = AbstractBaseUser | AnonymousUser


def can_see_corpora(user: User) -> bool:
    """Corpora and their documents: the Managers group's permission (and staff's
    superusers), through Django's permissions."""
    return user.has_perm("corpus.view_corpus")


def can_import_corpora(user: User) -> bool:
    return user.has_perm("corpus.add_document")


def visible_corpora(user: User) -> QuerySet[Corpus]:
    """The corpora a manager's work needs: those of the projects they are in, and
    those in no project yet (to build a project on) that they uploaded or that an
    operator imported for everyone (no uploader). Staff see all. A corpus outside
    these answers 404, as a project does."""
    if not can_see_corpora(user):
        return Corpus.objects.none()
    if user.is_staff:
        return Corpus.objects.all()
    mine = Project.objects.filter(memberships__user=user).values("corpus_id")
    unused = ~Q(pk__in=Project.objects.values("corpus_id"))
    return Corpus.objects.filter(
        Q(pk__in=mine) | (unused & (Q(created_by=user) | Q(created_by__isnull=True)))
    )
