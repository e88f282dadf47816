"""The machine coder's options form, and what the design page needs to show it."""

from __future__ import annotations

from django import forms

from annotator.models import Project
from annotator.services import machine_options


class MachineOptionsForm(forms.Form):
    """The options; the service (services.machine_options) checks and records them."""

    machine_suggestions = forms.BooleanField(
        required=False,
        label="Suggest the machine coder's codes on the coding screen",
        help_text="Pre-selects the machine coder's codes, marked with their "
        "probability, for spans outside the reliability sample; never in the "
        "sample, practice, the certification test or hidden checks. Each annotation "
        "records whether it was shown a suggestion and kept it, so anchoring can "
        "be measured. Default: off.",
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        kwargs.setdefault("initial", machine_options.values(project))
        super().__init__(*args, **kwargs)


def options_context(project: Project, form: MachineOptionsForm | None = None) -> dict:
    """What the options partial needs; the design page includes it too."""
    return {
        "machine_form": form or MachineOptionsForm(project=project),
        "machine_waiting": (
            machine_options.suggestions_waiting(project)
            if project.machine_suggestions
            else ""
        ),
        # Checks never carry a suggestion; only sample spans hide them among
        # spans without one (README, "Suggestions on the coding screen").
        "checks_stand_out": project.machine_suggestions
        and project.check_rate > 0
        and project.sample_share == 0,
    }
