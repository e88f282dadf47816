"""The pre-registration helper: how many units a reliability sample needs."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement.sample_size import plan
from annotator.views.base import HtmxHttpRequest

PAGE = "annotator/sample_size.html"
FRAGMENT = "annotator/_sample_size.html"
REFUSAL = "Only people who may create projects plan their samples here."


class SampleSizeForm(forms.Form):
    """The plan's assumptions; a corpus and sample share (in %) are optional."""

    target_alpha = forms.DecimalField(
        label="Target α (what you expect)", min_value=Decimal("0.01"),
        max_value=Decimal("0.99"), decimal_places=3, initial=Decimal("0.9"),
    )  # fmt: skip
    min_alpha = forms.DecimalField(
        label="Minimum acceptable α", min_value=Decimal("0.01"),
        max_value=Decimal("0.99"), decimal_places=3, initial=Decimal("0.8"),
    )  # fmt: skip
    # Capped: the power answer simulates 800,000 units per new question, and
    # 50 categories x 20 coders took 9 s of a request (review of issue 17).
    categories = forms.IntegerField(
        label="Categories (assumed equally common)", min_value=2, max_value=20,
        initial=2,
    )  # fmt: skip
    coders = forms.IntegerField(
        label="Coders per unit", min_value=2, max_value=10, initial=2
    )
    corpus = forms.ModelChoiceField(queryset=None, required=False, label="Corpus")
    sample_share = forms.DecimalField(
        label="Reliability sample (% of spans)", required=False,
        min_value=Decimal("0.1"), max_value=Decimal("100"), decimal_places=2,
    )  # fmt: skip
    embedded = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, corpora, **kwargs):
        kwargs.setdefault("auto_id", "plan_%s")
        super().__init__(*args, **kwargs)
        self.fields["corpus"].queryset = corpora

    def clean(self):
        cleaned = super().clean()
        target, minimum = cleaned.get("target_alpha"), cleaned.get("min_alpha")
        if target is not None and minimum is not None and minimum > target:
            self.add_error("min_alpha", "The minimum α cannot exceed the target α.")
        return cleaned


@access.login_required
@access.requires(access.can_create_projects, REFUSAL)
@require_GET
def sample_size(request: HtmxHttpRequest) -> HttpResponse:
    """The plan for the assumptions asked (the defaults when none are): a page,
    or with htmx the fragment the new-project form embeds. Bad input: 400."""
    corpora = access.visible_corpora(request.user).annotate(
        n_spans=Count("documents__spans")
    )
    # Assumptions not asked take their defaults (the first view, or the
    # new-project form's first load with only its corpus and share).
    asked = {
        name: field.initial
        for name, field in SampleSizeForm.base_fields.items()
        if field.initial is not None
    }
    asked.update(request.GET.dict())
    form = SampleSizeForm(asked, corpora=corpora)
    context: dict = {"form": form, "embedded": request.GET.get("embedded") == "True"}
    status = 200
    data = form.cleaned_data if form.is_valid() else None
    if data is None:
        status = 400
    if data is not None:
        answer = plan(
            float(data["target_alpha"]),
            float(data["min_alpha"]),
            int(data["categories"]),
            int(data["coders"]),
        )
        context["plan"] = answer
        corpus, share = data.get("corpus"), data.get("sample_share")
        if corpus is not None and share:
            context["sampled"] = {
                "share": share,
                "spans": corpus.n_spans,
                "units": round(corpus.n_spans * float(share) / 100),
            }
    template = FRAGMENT if request.htmx else PAGE
    return render(request, template, context, status=status)
