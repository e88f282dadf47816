"""The machine coder's options, on the design page: a manager switches suggestions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from annotator import access
from annotator.machine_forms import MachineOptionsForm, options_context
from annotator.services import machine_options
from annotator.views.base import HtmxHttpRequest, add_service_errors, partial, see_other

REFUSAL = "Only the project's managers can change its machine coder options."
TEMPLATE = "annotator/machine_options.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_machine_options(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Show the options; POST switches them (303 to the design page without JS,
    the partial again for htmx)."""
    project = access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )
    # An unchecked box posts nothing: a POST binds the form even when empty.
    posted = request.POST if request.method == "POST" else None
    form = MachineOptionsForm(posted, project=project)
    notice = ""
    if request.method == "POST" and form.is_valid():
        try:
            change = machine_options.change_machine_options(
                project, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, change.summary)
                return see_other(request, reverse("project-design", args=[project.pk]))
            project.refresh_from_db()
            notice, form = change.summary, None
    context = {"project": project, "machine_notice": notice}
    context |= options_context(project, form)
    return render(request, partial(request, TEMPLATE, "machine-options"), context)
