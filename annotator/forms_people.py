"""HTML forms for people: an invitation, a new account (first manager, invitee)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from annotator.access_people import INVITABLE_ROLES


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(choices=INVITABLE_ROLES)


class AccountForm(forms.Form):
    """A username, an address and a password typed twice; the service checks the
    name is free and the password passes Django's validators."""

    # The service's password errors belong on the first box (views.base).
    SERVICE_FIELDS = {"password": "password1"}

    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autocapitalize": "none"}
    ))  # fmt: skip
    email = forms.EmailField(label="Email address", max_length=254)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class InviteeAccountForm(AccountForm):
    """The invitee's account: the address is the invitation's."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["email"]


class PreferencesForm(forms.Form):
    """A user's screen preferences (CoderPreferences); unticked means off."""

    letter_shortcuts = forms.BooleanField(
        label="Single-key shortcuts",
        required=False,
        help_text="Letters, digits and ? act at once on the coding and adjudication "
        "screens. Turn them off if you dictate, use a switch device or press keys by "
        "mistake: Enter, Esc and the Alt+ keys still work.",
    )
