"""The manager's form to certify a coder by hand, or withdraw it, with a note."""

from __future__ import annotations

from django import forms


class CertifyForm(forms.Form):
    CERTIFY, WITHDRAW = "certify", "withdraw"

    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            (CERTIFY, "Certify this coder (they may code real spans)"),
            (WITHDRAW, "Withdraw their certification"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note (required: why; the coder and the reviewers read it)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
