"""Invitations: invite by email, resend, revoke; read a link; accept it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from annotator.models import Invitation, Membership, Project
from annotator.services.people import new_account
from annotator.services.projects import set_membership

# The salt keeps an invitation's signature from being valid for any other signed
# value of the site (and theirs for it).
SIGNER_SALT = "annotator.invitation"


def valid_for() -> timedelta:
    return timedelta(days=settings.INVITATION_VALID_DAYS)


def link_token(invitation: Invitation) -> str:
    """The signed, timestamped token of the invitation's link: its id and key.

    Django's TimestampSigner: a changed character is a bad signature, an old
    timestamp is expired. A resend draws a new key, so earlier links stop working;
    the row's accepted_at makes a link single use."""
    signer = signing.TimestampSigner(salt=SIGNER_SALT)
    return signer.sign(f"{invitation.pk}.{invitation.key}")


class LinkState(StrEnum):
    VALID = "valid"
    TAMPERED = "tampered"  # not a link we signed (mistyped, cut short, altered)
    EXPIRED = "expired"
    REPLACED = "replaced"  # a newer email was sent; this link no longer works
    REVOKED = "revoked"
    USED = "used"


@dataclass(frozen=True)
class Link:
    state: LinkState
    invitation: Invitation | None = None

    @property
    def expires_at(self) -> datetime | None:
        return self.invitation and self.invitation.sent_at + valid_for()


def read_link(token: str) -> Link:
    """What a link's token says, checked in the order that tells the invitee most:
    tampered, then (for a signed one) revoked, used, replaced, expired."""
    signer = signing.TimestampSigner(salt=SIGNER_SALT)
    try:
        value = signer.unsign(token)
        pk, key = value.split(".", 1)
    except (signing.BadSignature, ValueError):
        return Link(LinkState.TAMPERED)
    invitation = (
        Invitation.objects.select_related("project", "invited_by").filter(pk=pk).first()
    )
    if invitation is None:  # its project was deleted
        return Link(LinkState.REVOKED)
    state = LinkState.VALID
    if invitation.revoked_at is not None:
        state = LinkState.REVOKED
    elif invitation.accepted_at is not None:
        state = LinkState.USED
    elif key != invitation.key:
        state = LinkState.REPLACED
    else:
        try:
            signer.unsign(token, max_age=valid_for())
        except signing.SignatureExpired:
            state = LinkState.EXPIRED
    return Link(state, invitation)


def existing_account(invitation: Invitation) -> AbstractUser | None:
    """The account the invitation's address belongs to, if any (then the invitee
    logs in as it to accept)."""
    return (
        get_user_model()
        .objects.filter(email__iexact=invitation.email)
        .order_by("-is_active", "pk")
        .first()
    )


def invite(*, project: Project, email: str, role: str, by) -> Invitation:
    """A pending invitation of `email` into `project` as `role` (not yet sent)."""
    email = get_user_model().objects.normalize_email(email).strip().lower()
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"'{role}' is not a role."})
    if project.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError(
            {"email": f"The account of {email} is already a member; change its role "
             "in the table above."}
        )  # fmt: skip
    try:
        with transaction.atomic():
            return Invitation.objects.create(
                project=project, email=email, role=role, invited_by=by
            )
    except IntegrityError:  # the partial unique constraint: one pending per address
        raise ValidationError(
            {"email": f"{email} already has a pending invitation to this project; "
             "resend it from the list."}
        ) from None  # fmt: skip


def renew(invitation: Invitation) -> Invitation:
    """Before a resend: a new key (earlier links stop working) and a fresh date."""
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError("Only a pending invitation can be resent.")
    invitation.key = Invitation._meta.get_field("key").default()
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["key", "sent_at"])
    return invitation


def revoke(invitation: Invitation) -> Invitation:
    """Its link stops working; accepted invitations stay as they are."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise ValidationError("This invitation was already accepted or revoked.")
    invitation.refresh_from_db()
    return invitation


def send_invitation(invitation: Invitation, link: str) -> None:
    """Email the link (Django's email backend; raises what the backend raises)."""
    context = {
        "invitation": invitation,
        "link": link,
        "days": settings.INVITATION_VALID_DAYS,
        "inviter": invitation.invited_by and invitation.invited_by.get_username(),
    }
    send_mail(
        subject=f"Invitation to {invitation.project.name}",
        message=render_to_string("annotator/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def _claim(invitation: Invitation, user: AbstractUser | None) -> None:
    """Mark the invitation accepted, if it still is pending, in one UPDATE.

    Two accepts of one link: on PostgreSQL the second waits for the first's row
    lock and then matches no row; SQLite runs them one after the other."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk,
        key=invitation.key,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        raise ValidationError("This invitation was already used or revoked.")


def _join(invitation: Invitation, user: AbstractUser) -> Membership:
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    return set_membership(project=invitation.project, user=user, role=invitation.role)


@transaction.atomic
def accept_as(*, invitation: Invitation, user: AbstractUser) -> Membership:
    """The invitee's existing account joins the project with the invited role."""
    if not user.is_active or (user.email or "").lower() != invitation.email:
        raise ValidationError(
            f"This invitation is for the account of {invitation.email}."
        )
    _claim(invitation, user)
    return _join(invitation, user)


@transaction.atomic
def accept_with_new_account(
    *, invitation: Invitation, username: str, password: str
) -> AbstractUser:
    """A new account for the invitee, a member of the project with the invited role.

    The invitation is claimed first, so a second accept of the link makes no account."""
    _claim(invitation, None)
    user = new_account(username=username, email=invitation.email, password=password)
    _join(invitation, user)
    return user


def suggested_username(email: str) -> str:
    """The address's local part, made a free, valid username (jo.smith, jo.smith2)."""
    User = get_user_model()
    local = email.split("@")[0].lower()
    base = "".join(c for c in local if c.isalnum() or c in "._-+")[:140]
    base = base or "user"
    taken = set(
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    )
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate
