"""Move a project to a newer version of its codebook: carry codes, hand back the rest.

What a move does, in one transaction (``move_codebook``; ``preview_move`` says
the same without writing):

* the changes between the versions come from ``annotator.codebook_changes``:
  an annotation with a code on a removed or redefined category, or on a
  dimension whose shape changed, is to be coded again. Its codes as they were
  are kept in an ``AnnotationRevision`` (who moved it, when, both versions),
  its codes on those dimensions go, and its assignment waits for the same
  coder (``Assignment.Status.RECODE``): their next claim hands it back to them
  before any new span (``services.queue``), and their submit completes it;
* every other code is carried: labels are remapped to the newer version's
  dimensions and categories by key, set-based (one UPDATE per category, not
  per row); codes on a removed dimension go, kept in a revision like the
  codes made again (a label's dimension is always of its annotation's
  version);
* gold: rows on a removed or redefined category go (a reviewer decides again
  once the span is coded again); the rest are remapped like the labels. The
  move takes the project's next change number for every annotation it moves
  and is recorded as a ``DesignChange`` at that number, so gold is stale and
  its next refresh recomputes every span.

Submits and claims are held off for the move by locking the project's
memberships first, the lock every submit and claim takes first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from annotator.codebook_changes import CodebookChanges, codebook_changes
from annotator.codebooks import codebook_to_data
from annotator.gold.queue import rebuild_waiting
from annotator.models import (
    Annotation,
    Assignment,
    Category,
    Codebook,
    DesignChange,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    Label,
    Membership,
    Project,
)
from annotator.services.codebook_move_history import chunks, keep_old_codes
from annotator.services.queue import reopen_queues
from annotator.services.submits import next_change
from annotator.training import pool

Status = Assignment.Status
SHOWN = 200  # rows of the re-coding list a preview carries
Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class Recode:
    """One annotation to be coded again: whose, which span, which codes lost
    their meaning."""

    assignment_id: int
    span_id: int
    coder: str
    codes: tuple[str, ...]  # "dimension: category" of the codes that go


@dataclass
class MovePlan:
    """A move's effect, read before writing anything."""

    project: Project
    old: Codebook
    new: Codebook
    changes: CodebookChanges
    # Older version's ids → newer version's, for what is carried by key.
    dimensions: dict[int, int] = field(default_factory=dict)
    categories: dict[int, int] = field(default_factory=dict)
    recode_categories: dict[int, tuple[str, str]] = field(default_factory=dict)
    dropped: dict[int, str] = field(default_factory=dict)  # removed dimensions
    n_dropped: int = 0  # annotations with codes on a removed dimension
    n_annotations: int = 0
    n_recode: int = 0
    by_coder: list[tuple[str, int]] = field(default_factory=list)
    recodes: list[Recode] = field(default_factory=list)  # the first SHOWN

    def lines(self) -> list[str]:
        """The effect in words (the preview, and the design history's summary)."""
        n, r = self.n_annotations, self.n_recode
        lines = [
            f"{self.project.name} moves from version {self.old.version} to version "
            f"{self.new.version} of “{self.new.name}”.",
            f"{n - r:,} of {n:,} annotation{'s' if n != 1 else ''} keep their codes "
            "(remapped to the new version by key).",
        ]
        if r:
            coders = ", ".join(f"{name} {count:,}" for name, count in self.by_coder)
            lines.append(
                f"{r:,} annotation{'s' if r != 1 else ''} go back to the coders who "
                f"made them, to be coded again: {coders}."
            )
        else:
            lines.append("No annotation needs coding again.")
        if self.n_dropped:
            removed = ", ".join(sorted(self.dropped.values()))
            lines.append(
                f"{self.n_dropped:,} annotation{'s' if self.n_dropped != 1 else ''} "
                f"lose their codes on the removed dimension(s) {removed} (kept in "
                "their history)."
            )
        return lines

    def summary(self) -> str:
        return " ".join(self.lines())


def move_problem(project: Project, new: Codebook) -> str | None:
    """Why the project cannot move to ``new``, in words; None if it can."""
    old = project.codebook
    if new.family != old.family:
        return (
            f"“{new.name}” is another codebook (family {new.family}); a project "
            f"moves only between versions of its own ({old.family})."
        )
    if new.version <= old.version:
        return (
            f"Version {new.version} is not newer than the project's version "
            f"{old.version}: a project moves only forward."
        )
    return None


def _plan(project: Project, new: Codebook) -> MovePlan:
    old = project.codebook
    problem = move_problem(project, new)
    if problem:
        raise ValidationError(problem)
    changes = codebook_changes(codebook_to_data(old), codebook_to_data(new))
    plan = MovePlan(project, old, new, changes)
    new_dimensions = {d.key: d.pk for d in Dimension.objects.filter(codebook=new)}
    new_categories = {
        (d, c): pk
        for d, c, pk in Category.objects.filter(dimension__codebook=new).values_list(
            "dimension__key", "key", "pk"
        )
    }
    for pk, d_key in Dimension.objects.filter(codebook=old).values_list("pk", "key"):
        if d_key in new_dimensions:
            plan.dimensions[pk] = new_dimensions[d_key]
        else:
            plan.dropped[pk] = d_key
    for pk, d_key, c_key in Category.objects.filter(
        dimension__codebook=old
    ).values_list("pk", "dimension__key", "key"):
        if (d_key, c_key) in changes.recode:
            plan.recode_categories[pk] = (d_key, c_key)
        elif (d_key, c_key) in new_categories:
            plan.categories[pk] = new_categories[(d_key, c_key)]
    moved = Annotation.objects.filter(project=project, codebook=old)
    plan.n_annotations = moved.count()
    plan.n_dropped = _with_dropped_codes(project, plan).count()
    recoded = _recoded(project, plan)
    per_coder = Counter(
        dict(
            recoded.values("assignment__coder_id")
            .order_by()
            .annotate(n=Count("pk"))
            .values_list("assignment__coder_id", "n")
        )
    )
    names = dict(
        get_user_model()
        .objects.filter(pk__in=list(per_coder))
        .values_list("pk", "username")
    )
    plan.n_recode = sum(per_coder.values())
    plan.by_coder = sorted(
        ((names.get(pk, str(pk)), n) for pk, n in per_coder.items()),
        key=lambda row: (-row[1], row[0]),
    )
    codes: dict[int, list[str]] = {}
    shown = recoded.order_by("assignment__span_id", "assignment__coder_id")
    shown = list(
        shown.values_list(
            "pk", "assignment_id", "assignment__span_id", "assignment__coder_id"
        )[:SHOWN]  # fmt: skip
    )
    for annotation_id, category_id in Label.objects.filter(
        annotation_id__in=[row[0] for row in shown],
        category_id__in=list(plan.recode_categories),
    ).values_list("annotation_id", "category_id"):
        d_key, c_key = plan.recode_categories[category_id]
        codes.setdefault(annotation_id, []).append(f"{d_key}: {c_key}")
    plan.recodes = [
        Recode(assignment, span, names.get(coder, str(coder)),
               tuple(sorted(codes.get(pk, ()))))
        for pk, assignment, span, coder in shown
    ]  # fmt: skip
    return plan


def _old_with_labels(project: Project, plan: MovePlan, **labels):
    """The project's annotations under the older version with a label matching
    ``labels``."""
    return Annotation.objects.filter(
        project=project,
        codebook=plan.old,
        pk__in=Label.objects.filter(project=project, **labels).values("annotation_id"),
    )


def _recoded(project: Project, plan: MovePlan):
    """Those with a code whose meaning changed."""
    return _old_with_labels(project, plan, category_id__in=list(plan.recode_categories))


def _with_dropped_codes(project: Project, plan: MovePlan):
    """Those with a code on a removed dimension."""
    return _old_with_labels(project, plan, dimension_id__in=list(plan.dropped))


def preview_move(project: Project, new: Codebook) -> MovePlan:
    """What ``move_codebook`` would do, nothing written; ValidationError if it
    is refused."""
    return _plan(project, new)


def no_progress(done: int, total: int | None, words: str) -> None:
    """The progress of a move nobody watches (a test, a shell)."""


MOVE_STEPS = 7  # the progress calls of move_codebook: a job counts these


@transaction.atomic
def move_codebook(
    *, project: Project, new: Codebook, by, progress: Progress = no_progress
) -> DesignChange:
    """Move the project to ``new`` (a later version of its codebook), all or
    nothing; returns the record of it (on the design page's history).

    ``progress(done, total, words)`` hears each step, in words with its counts
    (a job's ``JobProgress``)."""
    progress(0, MOVE_STEPS, "waiting for the coders' submits to finish")
    list(
        Membership.objects.filter(project=project)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    project = (
        Project.objects.select_for_update()
        .select_related("codebook")
        .get(pk=project.pk)
    )
    progress(1, MOVE_STEPS, "reading what the move changes")
    plan = _plan(project, new)
    recoded = _recoded(project, plan)
    recoded_ids = list(recoded.values_list("pk", flat=True))
    change = next_change(project.pk)
    dropped_ids = list(
        _with_dropped_codes(project, plan)
        .exclude(pk__in=recoded_ids)
        .values_list("pk", flat=True)
    )
    kept = len(recoded_ids) + len(dropped_ids)
    progress(2, MOVE_STEPS, f"keeping old codes of {kept:,} annotations")
    keep_old_codes(plan, sorted(recoded_ids + dropped_ids), by)
    _drop_changed_codes(project, plan, recoded_ids)
    # A label's dimension is of its annotation's version (the archive checks it):
    # codes on a removed dimension go with the move, kept in the revisions above.
    Label.objects.filter(project=project, dimension_id__in=list(plan.dropped)).delete()
    progress(3, MOVE_STEPS, f"moving codes of {plan.n_annotations:,} annotations")
    _carry_labels(project, plan)
    progress(4, MOVE_STEPS, "moving gold labels")
    _carry_gold(project, plan)
    Annotation.objects.filter(project=project, codebook=plan.old).update(
        codebook=new, change=change
    )
    _move_checks(project, plan, by)
    progress(5, MOVE_STEPS, f"handing {len(recoded_ids):,} annotations back to coders")
    if recoded_ids:
        for part in chunks(recoded_ids):
            Assignment.objects.filter(annotation__in=part).update(status=Status.RECODE)
        reopen_queues([project.pk])
    Project.objects.filter(pk=project.pk).update(codebook=new)
    project.codebook = new  # the reviewers' queue reads the new version's dimensions
    pool.sync_pool(project)  # hidden checks follow the version (items of the old wait)
    progress(6, MOVE_STEPS, "rebuilding the reviewers' queue")
    rebuild_waiting(project)
    progress(MOVE_STEPS, MOVE_STEPS, "moved")
    return DesignChange.objects.create(
        project=project,
        changed_by=by if by is not None and by.is_authenticated else None,
        before={"codebook": plan.old.family, "version": plan.old.version},
        after={"codebook": new.family, "version": new.version},
        summary=plan.summary(),
        change=change,
    )


def _move_checks(project: Project, plan: MovePlan, by) -> None:
    """The study's hidden-check answers (its pool's annotations) move with it, so
    a coder's recent work shows one version whatever was a check; codes carry by
    key as the study's do, a changed or removed one goes (kept in a revision).
    None is handed back to code again: a check was scored when answered
    (training.checks), and its change number stays, so it is not scored again."""
    pool_pk = pool.pool_id(project)
    if pool_pk is None:
        return
    checks = Project(pk=pool_pk)
    changed = {
        *_recoded(checks, plan).values_list("pk", flat=True),
        *_with_dropped_codes(checks, plan).values_list("pk", flat=True),
    }
    keep_old_codes(plan, sorted(changed), by)
    _drop_changed_codes(checks, plan, sorted(changed))
    Label.objects.filter(project=checks, dimension_id__in=list(plan.dropped)).delete()
    _carry_labels(checks, plan)
    Annotation.objects.filter(project=checks, codebook=plan.old).update(
        codebook=plan.new
    )


def _drop_changed_codes(project: Project, plan: MovePlan, recoded: list[int]) -> None:
    """Codes on a dimension where the annotation had a changed category go: the
    coder codes that dimension again (a multi-choice one as a whole)."""
    by_dimension: dict[str, list[int]] = {}
    for pk, (d_key, _) in plan.recode_categories.items():
        by_dimension.setdefault(d_key, []).append(pk)
    old_dimensions = dict(
        Dimension.objects.filter(codebook=plan.old).values_list("key", "pk")
    )
    for d_key, category_ids in by_dimension.items():
        touched = Label.objects.filter(
            project=project, category_id__in=category_ids
        ).values("annotation_id")
        Label.objects.filter(
            project=project,
            dimension_id=old_dimensions[d_key],
            annotation_id__in=touched,
        ).delete()


def _carry_labels(project: Project, plan: MovePlan) -> None:
    """Remap the rest by key: one UPDATE per category of the older version."""
    dimension_of = dict(
        Category.objects.filter(pk__in=list(plan.categories)).values_list(
            "pk", "dimension_id"
        )
    )
    for old_id, new_id in plan.categories.items():
        Label.objects.filter(project=project, category_id=old_id).update(
            category_id=new_id, dimension_id=plan.dimensions[dimension_of[old_id]]
        )


def _carry_gold(project: Project, plan: MovePlan) -> None:
    """Gold on a changed category goes; the rest is remapped like the labels."""
    changed = list(plan.recode_categories)
    stale = list(
        GoldLabel.objects.filter(project=project)
        .filter(
            Q(category_id__in=changed)
            | Q(
                pk__in=GoldLabelCategory.objects.filter(category_id__in=changed).values(
                    "gold_label_id"
                )
            )
        )
        .values_list("pk", flat=True)
    )
    for part in chunks(stale):
        GoldLabelCategory.objects.filter(gold_label_id__in=part).delete()
        GoldLabelRevision.objects.filter(gold_label_id__in=part).delete()
        GoldLabel.objects.filter(pk__in=part).delete()
    for old_id, new_id in plan.categories.items():
        GoldLabel.objects.filter(project=project, category_id=old_id).update(
            category_id=new_id
        )
        GoldLabelCategory.objects.filter(
            gold_label__project=project, category_id=old_id
        ).update(category_id=new_id)
    for old_id, new_id in plan.dimensions.items():
        GoldLabel.objects.filter(project=project, dimension_id=old_id).update(
            dimension_id=new_id, codebook_id=plan.new.pk
        )
