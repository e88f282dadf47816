"""Accounts: first manager, command-line managers, deactivation; preferences."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.access import MANAGERS_GROUP
from annotator.models import CoderPreferences, Membership
from annotator.services.queue import release_claims_of


def _managers_group(*, lock: bool = False) -> Group:
    groups = Group.objects.select_for_update() if lock else Group.objects
    try:
        return groups.get(name=MANAGERS_GROUP)
    except Group.DoesNotExist:
        raise ValidationError(
            f"There is no '{MANAGERS_GROUP}' group: run `manage.py migrate` first."
        ) from None


def new_account(*, username: str, email: str, password: str) -> AbstractUser:
    """An active account with a checked username, address and password.

    Raises ValidationError naming the field (username, email, password)."""
    User = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["A username is required."]
    else:
        try:
            User.username_validator(username)
        except ValidationError as error:
            errors["username"] = error.messages
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = [f"The username '{username}' is taken."]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [f"'{email}' is not an email address."]
    user = User(username=username, email=User.objects.normalize_email(email))
    try:
        validate_password(password or "", user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same name taken between the check and the insert
        raise ValidationError(
            {"username": [f"The username '{username}' is taken."]}
        ) from None
    return user


@transaction.atomic
def create_manager(*, username: str, email: str, password: str) -> AbstractUser:
    """A manager: an account in the Managers group (sees and imports corpora, creates
    projects; a project's managers are its Manager members)."""
    group = _managers_group()
    user = new_account(username=username, email=email, password=password)
    user.groups.add(group)
    return user


@transaction.atomic
def create_first_manager(*, username: str, email: str, password: str) -> AbstractUser:
    """The first account of a new site, a manager; refused once any account exists.

    Two first-run forms sent at once: both lock the Managers group's row first, so
    the second waits, then sees the first's account and is refused (SQLite's
    IMMEDIATE transactions serialise them anyway)."""
    group = _managers_group(lock=True)
    if get_user_model().objects.exists():
        raise ValidationError("This site already has an account; log in instead.")
    user = new_account(username=username, email=email, password=password)
    user.groups.add(group)
    return user


@transaction.atomic
def set_active(*, user: AbstractUser, active: bool) -> AbstractUser:
    """Deactivate or reactivate an account. Its memberships and annotations stay;
    on deactivation the claims it holds return to the pool at once, as a lapsed
    lease does (a span to code again stays theirs). Django refuses an inactive
    account's login, session and API token.

    The account's membership rows are locked first, the lock its claims and
    submits take first, so a claim of theirs in flight finishes before or waits.
    """
    list(
        Membership.objects.filter(user=user)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    type(user).objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    if not active:
        release_claims_of(user, timezone.now())
    return user


def set_preferences(*, user, letter_shortcuts: bool) -> CoderPreferences:
    """Store the user's screen preferences (one row per user, made on first save)."""
    preferences, _ = CoderPreferences.objects.update_or_create(
        user=user, defaults={"letter_shortcuts": letter_shortcuts}
    )
    return preferences
