"""People: invitations, password reset attempts, screen preferences."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from annotator.models.projects import Membership, Project

User = settings.AUTH_USER_MODEL


def new_invitation_key() -> str:
    """The random part of an invitation's link; a resend draws a new one, so the
    links sent before stop working."""
    return secrets.token_urlsafe(16)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Neither accepted nor revoked (an expired one is pending: resend it)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """One invitation. Its link is signed (services/invitations.py); this row makes
    it single use: accepting sets `accepted_at` in one conditional UPDATE."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(help_text="Stored lower-cased.")
    role = models.CharField(max_length=10, choices=Membership.Role)
    key = models.CharField(max_length=32, default=new_invitation_key)
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            # One open invitation per address and project: a second is a resend.
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} in {self.project}"

    @property
    def expires_at(self):
        """When the link last sent stops working (INVITATION_VALID_DAYS after it)."""
        return self.sent_at + timedelta(days=settings.INVITATION_VALID_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.expires_at < timezone.now()


class PasswordResetAttempt(models.Model):
    """One password reset request let through, kept for the rate limit's window.

    In the database rather than a cache: every web process counts the same rows
    (settings has no shared cache). The address is kept only as a keyed digest
    (services/password_resets.py): the limit needs equality, not the address.
    """

    email_digest = models.CharField(max_length=64)
    client_ip = models.CharField(max_length=45, help_text="As auth_backends reads it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email_digest", "created_at"]),
            models.Index(fields=["client_ip", "created_at"]),
            # The pruning's: rows older than the window go on every request.
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"reset from {self.client_ip} at {self.created_at:%Y-%m-%d %H:%M}"


class CoderPreferencesQuerySet(models.QuerySet):
    def of(self, user) -> CoderPreferences:
        """The user's preferences; the defaults (unsaved) if they never set any."""
        return self.filter(user=user).first() or CoderPreferences(user=user)


class CoderPreferences(models.Model):
    """How one user wants the keyboard screens (coding, adjudication) to behave.

    Single-key shortcuts (a letter, digit or "?" acts at once) help most coders and
    hinder some: speech-input users, whose dictated words would fire them, and
    anyone who mistypes. WCAG 2.1.4 asks that they can be turned off.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    letter_shortcuts = models.BooleanField(
        "single-key shortcuts",
        default=True,
        help_text="Letters, digits and ? act at once on the coding and adjudication "
        "screens. Off: only Enter, Esc and the Alt+ keys do.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CoderPreferencesQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "coder preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
