"""Coders joining or leaving as part of a design change: counted, said, applied.

services.design previews and applies them with k, the sample and the lease, so
the design page shows one effect for the whole change. A joining member becomes
a coder (a reviewer changes role); a leaving coder's open claims and the spans
waiting for them to code again go back to the pool and every coding they
submitted stays (services.projects.remove_member).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count

from annotator.access import CODER
from annotator.models import Annotation, Assignment, Membership, Project


@dataclass
class Leaving:
    username: str
    open_claims: int
    codings: int
    to_code_again: int = 0  # spans waiting for them after a codebook move

    def line(self) -> str:
        claims = f"{self.open_claims} open claim{'s' if self.open_claims != 1 else ''}"
        again = self.to_code_again
        recodes = (
            f"; {again} span{'s' if again != 1 else ''} to code again handed to "
            "other coders"
            if again
            else ""
        )
        return (
            f"Coder {self.username} leaves: their {claims} released{recodes}; their "
            f"{self.codings} submitted coding{'s' if self.codings != 1 else ''} stay."
        )


@dataclass
class CoderChange:
    """Who joins and who leaves, and how many coders there are then."""

    before: int
    joining: list = field(default_factory=list)  # users
    leaving: list[Leaving] = field(default_factory=list)
    leaving_users: list = field(default_factory=list)

    @property
    def after(self) -> int:
        return self.before + len(self.joining) - len(self.leaving)

    @property
    def changed(self) -> bool:
        return bool(self.joining or self.leaving)

    def lines(self) -> list[str]:
        lines = []
        if self.joining:
            names = ", ".join(sorted(u.get_username() for u in self.joining))
            lines.append(f"Joining as coders: {names}.")
        lines += [leaving.line() for leaving in self.leaving]
        if self.changed:
            lines.append(f"{self.before} coders → {self.after}.")
        return lines


def coder_change(
    project: Project, add: Sequence = (), remove: Sequence = ()
) -> CoderChange:
    """What adding `add` and removing `remove` (users) would do; checks that
    those added are not coders yet and those removed are."""
    coders = set(
        Membership.objects.filter(project=project, role=CODER).values_list(
            "user_id", flat=True
        )
    )
    problems = {}
    already = sorted(u.get_username() for u in add if u.pk in coders)
    if already:
        problems["add_coders"] = f"Already coders here: {', '.join(already)}."
    not_coders = sorted(u.get_username() for u in remove if u.pk not in coders)
    if not_coders:
        problems["remove_coders"] = f"Not coders here: {', '.join(not_coders)}."
    both = sorted(u.get_username() for u in set(add) & set(remove))
    if both:
        problems["remove_coders"] = f"Both added and removed: {', '.join(both)}."
    if problems:
        raise ValidationError(problems)
    change = CoderChange(before=len(coders), joining=list(add))
    ids = [u.pk for u in remove]
    claims, recodes = (
        dict(
            assignments.filter(project=project, coder_id__in=ids)
            .order_by()
            .values("coder_id")
            .annotate(n=Count("pk"))
            .values_list("coder_id", "n")
        )
        for assignments in (
            Assignment.objects.live(),
            Assignment.objects.filter(status=Assignment.Status.RECODE),
        )
    )
    codings = dict(
        Annotation.objects.filter(project=project, assignment__coder_id__in=ids)
        .order_by()
        .values("assignment__coder_id")
        .annotate(n=Count("pk"))
        .values_list("assignment__coder_id", "n")
    )
    for user in sorted(remove, key=lambda u: u.get_username()):
        change.leaving.append(
            Leaving(
                user.get_username(),
                claims.get(user.pk, 0),
                codings.get(user.pk, 0),
                recodes.get(user.pk, 0),
            )
        )
        change.leaving_users.append(user)
    return change


def apply_coder_change(project: Project, change: CoderChange, *, by=None) -> None:
    """Make the joining members coders and remove the leaving ones (in the
    caller's transaction, after it has locked the memberships)."""
    from annotator.services.projects import remove_member, set_membership

    for user in change.joining:
        set_membership(project=project, user=user, role=CODER, by=by)
    for user in change.leaving_users:
        remove_member(project=project, user=user, by=by)
