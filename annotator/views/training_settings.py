"""The training settings page: a manager sets the gate, the test and hidden checks."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from annotator import access
from annotator.models import Project
from annotator.services import training_settings as settings_service
from annotator.views.base import HtmxHttpRequest, add_service_errors, partial, see_other

REFUSAL = "Only the project's managers can change its training settings."
HISTORY = 50


def _share(label: str, least: str, help_text: str) -> forms.FloatField:
    # The service checks the value and says what is wrong in words; the form only
    # shapes the input (the browser's min and max are hints).
    attrs = {"step": "0.01", "min": least, "max": "1"}
    return forms.FloatField(
        label=label, widget=forms.NumberInput(attrs=attrs), help_text=help_text
    )


class TrainingSettingsForm(forms.Form):
    """The seven settings; the service (services.training_settings) checks them."""

    certification_gate = forms.ChoiceField(
        label="Certification gate",
        choices=Project.Gate.choices,
        help_text="Off: anyone may code. Warn: uncertified coders may code but are "
        "reminded to take the test. Require: a coder codes only after passing the "
        "certification test or being certified by hand. Default: off.",
    )
    certification_min_alpha = _share(
        "Test: Krippendorff's α at least (−1 to 1)",
        "-1",
        "A test passes when the coder's α with the reference codes reaches this on "
        "every dimension. 0.80 is the usual floor for drawing conclusions; 0.667 "
        "at the lowest for tentative ones. Default: 0.80.",
    )
    certification_min_percent = forms.FloatField(
        required=False,
        label="Test: percent agreement at least (0–1, optional)",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        help_text="Also require this share of test items coded as the reference, on "
        "every dimension (0.9 = 90%). Percent agreement ignores chance, so it is "
        "never enough alone. Default: empty, not required.",
    )
    certification_items = forms.IntegerField(
        label="Items in one test",
        widget=forms.NumberInput(attrs={"min": "0"}),
        help_text="How many test items one attempt draws, unseen ones first. "
        "0 means every test item. Default: 0.",
    )
    check_rate = forms.IntegerField(
        label="Hidden checks: about 1 in how many claims",
        widget=forms.NumberInput(attrs={"min": "0"}),
        help_text="0 turns hidden checks off; N serves a check item about once in "
        f"N claims (the suggested rate is {settings_service.SUGGESTED_CHECK_RATE}). "
        "Coders cannot tell a check from real work; their answers never enter "
        "agreement, gold or exports. Default: 0 (off).",
    )
    check_window = forms.IntegerField(
        label="Rolling window (checks)",
        widget=forms.NumberInput(attrs={"min": str(settings_service.MIN_CHECK_WINDOW)}),
        help_text="A coder's accuracy on checks is taken over their latest this "
        f"many checks (at least {settings_service.MIN_CHECK_WINDOW}). Default: 20.",
    )
    check_min_accuracy = _share(
        "Alert when check accuracy falls below (0–1)",
        "0",
        "Reviewers see an alert on the project page, the coders page and the API "
        "when a coder's rolling accuracy on a dimension falls below this, once "
        f"{settings_service.MIN_CHECK_WINDOW} checks are in the window. "
        "Default: 0.80.",
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        kwargs.setdefault("initial", settings_service.values(project))
        super().__init__(*args, **kwargs)

    def changes(self) -> dict:
        return dict(self.cleaned_data)


def _project(request: HtmxHttpRequest, project_id: int) -> Project:
    return access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_training_settings(
    request: HtmxHttpRequest, project_id: int
) -> HttpResponse:
    """Show the settings and their history; POST applies a change (303 back)."""
    project = _project(request, project_id)
    form = TrainingSettingsForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            change = settings_service.change_training_settings(
                project, by=request.user, **form.changes()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, change.summary)
            url = reverse("project-training-settings", args=[project.pk])
            return see_other(request, url)
    counts = settings_service.reference_counts(project)
    context = {
        "project": project,
        "form": form,
        "counts": counts,
        "warnings": settings_service.warnings(
            project, settings_service.values(project), counts
        ),
        "history": settings_service.history(project)[:HISTORY],
    }
    return render(
        request,
        partial(request, "annotator/training_settings.html", "settings-form"),
        context,
    )
