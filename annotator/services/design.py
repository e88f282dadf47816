"""A project's design: can it be met; change k, the sample, the lease, the coders.

The rules, applied by change_design in one transaction and shown by preview_design
before anything is written:

- Raising k: every span in the reliability sample needs the new k codings; coders
  told "nothing left" look again (services.queue.reopen_queues).
- Lowering k: a sampled span's target becomes the new k, never below what it has
  taken (codings plus live claims). No coding or annotation is discarded: a span
  with more codings than now needed simply stays complete, and a live claim beyond
  the new k may finish (its coder would otherwise lose the work in hand). Should
  such a claim be given back instead, its place stays open for one more coder.
- Growing the share: each document's sample grows to its new size (drawn as in
  services.projects, stratified per document) by adding spans in a per-document
  order seeded by the project's seed and the document's rank: the same change on a
  like project adds the same spans, and growing in two steps ends where one step would.
- Shrinking the share: spans leave the sample in the reverse of that order, only
  spans with at most one coding or claim (they become single-coded spans). Spans
  with two or more stay in the sample, so agreement and gold keep every double
  coding (gold reads the sample as target > 1).
- k = 1 has no sample (as at creation): lowering k to 1 takes out every sampled
  span with at most one coding or claim; raising k from 1 draws the sample anew.
- The lease: new claims get the new length; claims already made keep their expiry.
- Coders may join or leave in the same change (services.design_coders): a
  leaving coder's open claims are released, their codings stay.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, PositiveSmallIntegerField, Q, Sum, Value
from django.db.models.functions import Greatest

from annotator.access import CODER
from annotator.models import DesignChange, Membership, Project, WorkItem
from annotator.services.design_coders import (
    CoderChange,
    apply_coder_change,
    coder_change,
)
from annotator.services.queue import reopen_queues
from annotator.services.queue_sql import DOCUMENT_SHIFT
from annotator.services.submits import next_change
from annotator.training import pool

MAX_CODERS_PER_SPAN = 10
MAX_LEASE_MINUTES = 24 * 60
BATCH = 5000
FIELDS = ("coders_per_span", "sample_share", "lease_minutes")


def design_problem(coders_per_span: int, n_coders: int) -> str | None:
    """Why k coders per span cannot be met by n coders; None if they can.

    The one rule behind the new-project form, create_project, change_design and
    the project page's warning.
    """
    if coders_per_span <= n_coders:
        return None
    k = coders_per_span
    return (
        f"{k} coder{'s' if k != 1 else ''} per span need{'s' if k == 1 else ''} "
        f"at least {k} coder{'s' if k != 1 else ''}; this project has {n_coders}."
    )


def coders_needed(project: Project, n_coders: int) -> int:
    """How many more coders the project needs before its design can be met."""
    return max(project.coders_per_span - n_coders, 0)


def n_coders(project: Project) -> int:
    return Membership.objects.filter(project=project, role=CODER).count()


def input_problems(
    coders_per_span: object, sample_share: object, lease_minutes: object
) -> dict[str, str]:
    """What is wrong with each new value (None: unchanged), by field name."""
    problems = {}
    if coders_per_span is not None and not _whole_up_to(
        coders_per_span, MAX_CODERS_PER_SPAN
    ):
        problems["coders_per_span"] = (
            f"Coders per span must be a whole number from 1 to {MAX_CODERS_PER_SPAN}; "
            f"got {coders_per_span!r}."
        )
    if sample_share is not None and (
        not isinstance(sample_share, (int, float))
        or isinstance(sample_share, bool)
        or not 0 < sample_share <= 1
    ):
        problems["sample_share"] = (
            "The reliability sample must be above 0% and at most 100%; got "
            + (
                f"{sample_share * 100:g}%."
                if isinstance(sample_share, (int, float))
                and not isinstance(sample_share, bool)
                else f"{sample_share!r}."
            )
        )
    if lease_minutes is not None and not _whole_up_to(lease_minutes, MAX_LEASE_MINUTES):
        problems["lease_minutes"] = (
            f"The lease must be a whole number of minutes from 1 to "
            f"{MAX_LEASE_MINUTES}; got {lease_minutes!r}."
        )
    return problems


@dataclass
class DesignEffect:
    """What a design change does to the queue (computed before it is applied)."""

    before: dict
    after: dict
    added: list[int] = field(default_factory=list)  # work items entering the sample
    removed: list[int] = field(default_factory=list)  # leaving it
    kept: int = 0  # would leave the sample but have two or more codings or claims
    more: int = 0  # codings the queue must now hand out in addition
    fewer: int = 0  # codings planned but no longer needed (none done is discarded)
    over: int = 0  # sampled spans whose codings and claims exceed the new k
    coders: CoderChange | None = None  # coders joining or leaving

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.coders and self.coders.changed)

    @property
    def targets_changed(self) -> bool:
        return bool(self.more or self.fewer or self.added or self.removed)

    def lines(self) -> list[str]:
        """The effect in words, one line per consequence."""
        b, a = self.before, self.after
        what = []
        if b["coders_per_span"] != a["coders_per_span"]:
            what.append(f"k {b['coders_per_span']} → {a['coders_per_span']}")
        if b["sample_share"] != a["sample_share"]:
            what.append(f"sample {b['sample_share']:.0%} → {a['sample_share']:.0%}")
        if b["lease_minutes"] != a["lease_minutes"]:
            what.append(f"lease {b['lease_minutes']} → {a['lease_minutes']} min")
        coders = self.coders.lines() if self.coders else []
        if not what:
            return coders or ["No change."]
        lines = [", ".join(what), *coders]
        if self.added or self.removed:
            lines.append(
                f"{len(self.added)} spans join the reliability sample, "
                f"{len(self.removed)} leave it."
            )
        if self.kept:
            lines.append(
                f"{self.kept} spans stay in the sample: they already have two or "
                "more codings (or claims)."
            )
        lines.append(
            f"{self.more} more codings to hand out; {self.fewer} planned codings "
            "no longer needed; 0 codings are discarded."
        )
        if self.over:
            lines.append(
                f"{self.over} spans keep the codings (or claims) they have beyond "
                "the new k."
            )
        if b["lease_minutes"] != a["lease_minutes"]:
            lines.append("Claims already made keep their expiry.")
        return lines

    @property
    def summary(self) -> str:
        return " ".join(self.lines())


def _whole_up_to(value: object, most: int) -> bool:
    """A whole number (not a bool) from 1 to ``most``."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most


def _at_least(n: int) -> Greatest:
    """A work item's target for n coders: never below what it has taken."""
    return Greatest(_small(n), F("taken"))


def _small(n: int) -> Value:
    return Value(n, output_field=PositiveSmallIntegerField())


def _values(project: Project) -> dict:
    return {name: getattr(project, name) for name in FIELDS}


def _sample_size(u: float, n_spans: int, share: float) -> int:
    """share × n, rounded up when u falls below the fraction (as at creation)."""
    exact = n_spans * share
    whole = int(exact)
    return whole + (1 if u < exact - whole else 0)


def _redraw(project: Project, share: float) -> tuple[list[tuple], list[tuple], int]:
    """Work items to add to and remove from the sample for `share`, per document.

    Each document's spans get one seeded order and one rounding draw, whatever
    the share: sizes grow with the share and spans join (or leave, in reverse)
    in the same order, so changes compose. Returns (added, removed, kept) with
    rows (id, target, taken); kept: spans that must stay though over the size.
    """
    rows = (
        WorkItem.objects.filter(project=project)
        .order_by("position")
        .values_list("id", "position", "in_sample", "target", "taken")
        .iterator(chunk_size=10_000)
    )
    added, removed, kept = [], [], 0
    # A document's rank in the project (its position's high bits), not its id:
    # the same corpus imported twice gets the same draw, as at creation.
    for rank, group in groupby(rows, key=lambda row: row[1] >> DOCUMENT_SHIFT):
        group = list(group)
        rng = random.Random(f"design-{project.seed}-{rank}")
        size = _sample_size(rng.random(), len(group), share)
        order = list(range(len(group)))
        rng.shuffle(order)
        sampled = sum(1 for row in group if row[2])
        if sampled < size:
            fresh = [group[i] for i in order if not group[i][2]][: size - sampled]
            added += [(row[0], row[3], row[4]) for row in fresh]
        elif sampled > size:
            excess = sampled - size
            for i in reversed(order):
                row = group[i]
                if excess and row[2] and row[4] <= 1:
                    removed.append((row[0], row[3], row[4]))
                    excess -= 1
            kept += excess
    return added, removed, kept


def _moves(
    project: Project, k: int, share: float
) -> tuple[list[tuple], list[tuple], int]:
    """Spans entering and leaving the sample for the new k and share."""
    k0, share0 = project.coders_per_span, project.sample_share
    if k == 1:
        if k0 == 1:
            return [], [], 0
        sampled = WorkItem.objects.filter(project=project, in_sample=True)
        removed = list(
            sampled.filter(taken__lte=1).values_list("id", "target", "taken")
        )
        return [], removed, sampled.filter(taken__gt=1).count()
    if k0 == 1 or share != share0:
        return _redraw(project, share)
    return [], [], 0


def _effect(project: Project, after: dict) -> DesignEffect:
    k = after["coders_per_span"]
    added, removed, kept = _moves(project, k, after["sample_share"])
    effect = DesignEffect(before=_values(project), after=after, kept=kept)
    effect.added = [row[0] for row in added]
    effect.removed = [row[0] for row in removed]
    # Spans in the sample now: target → max(k, taken), counted in SQL.
    new = _at_least(k)
    stay = WorkItem.objects.filter(project=project, in_sample=True).aggregate(
        more=Sum(_small(k) - F("target"), filter=Q(target__lt=k), default=0),
        fewer=Sum(F("target") - new, filter=Q(target__gt=k), default=0),
        over=Count("pk", filter=Q(taken__gt=k)),
    )
    effect.more, effect.fewer, effect.over = stay["more"], stay["fewer"], stay["over"]
    for _, target, taken in removed:
        # Counted above as staying in the sample; it goes to max(1, taken) instead.
        effect.more -= max(max(k, taken) - target, 0)
        effect.fewer -= max(target - max(k, taken), 0)
        effect.fewer += target - max(1, taken)
        effect.over -= taken > k
    for _, target, taken in added:
        effect.more += max(k, taken) - target
    return effect


def _after(project: Project, changes: dict) -> dict:
    problems = input_problems(*(changes.get(name) for name in FIELDS))
    if problems:
        raise ValidationError(problems)
    after = _values(project)
    after.update({name: value for name, value in changes.items() if value is not None})
    if after["sample_share"] != project.sample_share:
        after["sample_share"] = float(after["sample_share"])
    return after


def _check_coders(project: Project, after: dict, coders: CoderChange) -> None:
    """k changed beyond the coders there will be is refused; fewer coders than
    an unchanged k is what the project page warns of, and allowed."""
    k = after["coders_per_span"]
    if k != project.coders_per_span:
        problem = design_problem(k, coders.after)
        if problem:
            raise ValidationError({"coders_per_span": problem})


def preview_design(
    project: Project,
    *,
    coders_per_span: int | None = None,
    sample_share: float | None = None,
    lease_minutes: int | None = None,
    add_coders: Sequence = (),
    remove_coders: Sequence = (),
) -> DesignEffect:
    """What change_design would do with these values; nothing is written."""
    changes = {
        "coders_per_span": coders_per_span,
        "sample_share": sample_share,
        "lease_minutes": lease_minutes,
    }
    after = _after(project, changes)
    coders = coder_change(project, add_coders, remove_coders)
    _check_coders(project, after, coders)
    effect = _effect(project, after)
    effect.coders = coders
    return effect


def _update_in_batches(ids: list[int], **values) -> None:
    for at in range(0, len(ids), BATCH):
        WorkItem.objects.filter(id__in=ids[at : at + BATCH]).update(**values)


@transaction.atomic
def change_design(
    project: Project,
    *,
    coders_per_span: int | None = None,
    sample_share: float | None = None,
    lease_minutes: int | None = None,
    add_coders: Sequence = (),
    remove_coders: Sequence = (),
    by=None,
) -> DesignChange:
    """Change k, the sample share and the lease of a project that exists (the
    rules are in this module's docstring); None leaves a value as it is.

    Lock order, as in the queue: the project's memberships first (every claim,
    submit, skip and removal takes its coder's row first, so none is half-way
    through while the queue changes, and two design changes wait for each other),
    then the work items, the change counter, and the project row last (where
    release_claims bumps the queue version).
    """
    list(
        Membership.objects.filter(project=project)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    project = Project.objects.get(pk=project.pk)  # as it is now that we hold them
    changes = {
        "coders_per_span": coders_per_span,
        "sample_share": sample_share,
        "lease_minutes": lease_minutes,
    }
    after = _after(project, changes)
    coders = coder_change(project, add_coders, remove_coders)
    _check_coders(project, after, coders)
    if after == _values(project) and not coders.changed:
        raise ValidationError("Nothing to change: the design is already so.")
    # First, as the members page would: a leaving coder's claims go back before
    # the targets are computed from what each span has taken.
    apply_coder_change(project, coders, by=by)
    effect = _effect(project, after)
    effect.coders = coders
    k = after["coders_per_span"]
    _update_in_batches(effect.added, in_sample=True)
    _update_in_batches(effect.removed, in_sample=False, target=_at_least(1))
    new = _at_least(k)
    WorkItem.objects.filter(project=project, in_sample=True).exclude(target=new).update(
        target=new
    )
    change = next_change(project.pk) if effect.targets_changed else None
    Project.objects.filter(pk=project.pk).update(
        total_codings=F("total_codings") + effect.more - effect.fewer, **after
    )
    project.lease_minutes = after["lease_minutes"]
    pool.sync_pool(project)  # a hidden check's lease is the study's
    if effect.more:
        reopen_queues([project.pk])
    return DesignChange.objects.create(
        project=project,
        changed_by=by,
        before=effect.before,
        after=after,
        summary=effect.summary,
        change=change,
    )
