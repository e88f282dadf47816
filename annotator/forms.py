"""HTML forms: corpus upload, project set-up and design, members (input shapes)."""

from __future__ import annotations

from django import forms

from annotator.upload_limits import CORPUS_IMPORT, PROJECT_RESTORE
from corpus.importing import SUPPORTED_SUFFIXES, ImportFailed, compile_patterns
from corpus.models import Corpus
from corpus.segmenting import Segmentation


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(SUPPORTED_SUFFIXES)})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        if self.required and not files:  # [] skipped FileField's own check
            raise forms.ValidationError(
                "Choose at least one file to import.", code="required"
            )
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class CorpusImportForm(forms.Form):
    corpus = forms.ModelChoiceField(
        queryset=Corpus.objects.all(),
        required=False,
        empty_label="— a new corpus —",
        help_text="Add to an existing corpus, or leave empty and name a new one.",
    )
    new_corpus_name = forms.CharField(max_length=200, required=False)
    files = MultipleFileField(
        help_text="One or more .txt files (title = first non-empty line), or a CSV / "
        "JSONL file with title, text, source, url, published, language; other "
        "columns are kept as metadata."
    )
    segmentation = forms.ChoiceField(
        choices=[(choice.value, choice.value) for choice in Segmentation],
        initial=Segmentation.PARAGRAPH.value,
        help_text="paragraph: blank lines; sentence: pySBD; line: one span per line; "
        "none: one span per document.",
    )
    exclude_patterns = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One regular expression per line; spans whose whole text matches are "
        "excluded from coding (page chrome such as 'Subscribe to EIR').",
    )
    language = forms.CharField(max_length=35, required=False, initial="en")

    def __init__(self, *args, corpora, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["corpus"].queryset = corpora  # access.visible_corpora

    def clean_files(self):
        files = self.cleaned_data["files"]
        for upload in files:
            if not upload.name.lower().endswith(SUPPORTED_SUFFIXES):
                raise forms.ValidationError(
                    f"{upload.name}: unsupported file type; use "
                    f"{', '.join(SUPPORTED_SUFFIXES)}."
                )
            CORPUS_IMPORT.check_size(upload)
        return files

    def clean_exclude_patterns(self) -> list[str]:
        patterns = [
            line.strip() for line in self.cleaned_data["exclude_patterns"].splitlines()
        ]
        patterns = [pattern for pattern in patterns if pattern]
        try:
            compile_patterns(patterns)  # the import's own engine and syntax
        except ImportFailed as error:
            problem = error.problem
            raise forms.ValidationError(f"Not a valid pattern: {problem}") from None
        return patterns

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("new_corpus_name") or "").strip()
        if not cleaned.get("corpus") and not name:
            self.add_error("new_corpus_name", "Choose a corpus or name a new one.")
        if not cleaned.get("corpus") and name and (problem := self.name_clash(name)):
            self.add_error("new_corpus_name", problem)
        return cleaned

    def name_clash(self, name: str) -> str:
        """Why `name` cannot be a new corpus's, or "".

        Names equal but for case are reserved (one name, one corpus to a reader).
        A corpus the manager may see is named; for any other clash one answer
        serves, so it tells the name of a hidden corpus from a merely reserved one
        no better than names' uniqueness forces.
        """
        visible = self.fields["corpus"].queryset.filter(name__iexact=name).first()
        if visible is not None:
            return f"A corpus named '{visible.name}' exists; choose it above."
        if Corpus.objects.filter(name__iexact=name).exists():
            return "That name is not available; choose another."
        return ""

    def job_options(self) -> dict:
        """What the import job needs besides the files (JSON: a corpus by id;
        a new corpus is made by the job, so a failed import leaves none)."""
        data = self.cleaned_data
        return {
            "corpus": data["corpus"].pk if data["corpus"] else None,
            "new_corpus_name": data["new_corpus_name"].strip(),
            "segmentation": data["segmentation"],
            "exclude_patterns": data["exclude_patterns"],
            "language": data["language"],
        }


# --- projects ------------------------------------------------------------------------


# Rule chains offered on the form (any order is valid in the admin): the key is the
# comma-joined method list that Project.gold_methods stores.
GOLD_RULES = [
    ("unanimous,single", "unanimous, then single coder; reviewers settle the rest"),
    ("unanimous,single,majority", "… then majority"),
    ("unanimous,single,model", "… then Dawid–Skene model"),
    ("unanimous,single,majority,model", "… then majority, then Dawid–Skene model"),
]


class ProjectForm(forms.Form):
    """A new project's name, material, coding design and first members."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    corpus = forms.ModelChoiceField(queryset=Corpus.objects.order_by("name"))
    codebook = forms.ModelChoiceField(
        queryset=None, help_text="Annotations record the version they were made under."
    )
    coders_per_span = forms.IntegerField(
        label="Coders per span (k)",
        min_value=1,
        max_value=50,
        initial=2,
        help_text="How many coders code each span in the reliability sample; needs "
        "at least that many coders below (or none yet: add them later on the "
        "Members page).",
    )
    sample_share = forms.DecimalField(
        label="Reliability sample (%)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=100,
        help_text="Share of spans coded by k coders (drawn per document); the rest "
        "get one coder each.",
    )
    order = forms.ChoiceField(choices=[], initial="document")
    seed = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        initial=1,
        help_text="Seeds the sample and the random order: same seed, same draw.",
    )
    lease_minutes = forms.IntegerField(
        min_value=1,
        max_value=24 * 60,
        initial=30,
        help_text="An unsubmitted claim returns to the pool after this.",
    )
    gold_rules = forms.ChoiceField(
        label="Gold standard rules",
        choices=GOLD_RULES,
        initial=GOLD_RULES[0][0],
        help_text="Tried in order; the first that decides a span sets its gold code. "
        "Spans no rule decides go to the reviewers' adjudication queue.",
    )
    gold_min_share = forms.DecimalField(
        label="Majority: winning share above (%)",
        min_value=0,
        max_value=99,
        decimal_places=2,
        initial=50,
    )
    gold_min_posterior = forms.DecimalField(
        label="Model: minimum posterior (%)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=90,
    )
    coders = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    reviewers = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, corpora, users, **kwargs) -> None:
        """`corpora`, `users`: what the manager may choose (access.visible_corpora,
        access_people.addable_users)."""
        from annotator.models import Codebook, Project

        super().__init__(*args, **kwargs)
        self.fields["corpus"].queryset = corpora.order_by("name")
        self.fields["codebook"].queryset = Codebook.objects.order_by(
            "family", "-version"
        )
        self.fields["order"].choices = Project.Order.choices
        self.fields["coders"].queryset = users
        self.fields["reviewers"].queryset = users

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("coders") or []) & set(cleaned.get("reviewers") or [])
        if both:
            names = ", ".join(sorted(user.get_username() for user in both))
            self.add_error(
                "reviewers", f"{names}: a member is either a coder or a reviewer."
            )
        return cleaned

    def design(self) -> dict:
        """Keyword arguments for services.create_project (share as a fraction)."""
        data = self.cleaned_data
        members = {user: "coder" for user in data["coders"]}
        members.update({user: "reviewer" for user in data["reviewers"]})
        return {
            "name": data["name"].strip(),
            "description": data["description"].strip(),
            "corpus": data["corpus"],
            "codebook": data["codebook"],
            "coders_per_span": data["coders_per_span"],
            "sample_share": float(data["sample_share"]) / 100,
            "order": data["order"],
            "seed": data["seed"],
            "lease_minutes": data["lease_minutes"],
            "members": members,
            "gold_methods": data["gold_rules"].split(","),
            "gold_min_share": float(data["gold_min_share"]) / 100,
            "gold_min_posterior": float(data["gold_min_posterior"]) / 100,
        }


class MemberForm(forms.Form):
    """Add a member, change a member's role, or remove a member."""

    OPERATIONS = [("add", "add"), ("change", "change role"), ("remove", "remove")]

    op = forms.ChoiceField(choices=OPERATIONS, widget=forms.HiddenInput)
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[], required=False)

    def __init__(self, *args, project, users, **kwargs) -> None:
        """`users`: whom the manager may name (access_people.addable_users)."""
        from annotator.models import Membership

        super().__init__(*args, **kwargs)
        self.project = project
        self.users = users
        self.fields["role"].choices = Membership.Role.choices

    def clean(self):
        cleaned = super().clean()
        username = (cleaned.get("username") or "").strip()
        op = cleaned.get("op")
        if not username or not op:
            return cleaned
        user = self.users.filter(username=username).first()
        if user is None:
            # One answer for "no such account" and "not one you may see".
            self.add_error(
                "username",
                f"No user named '{username}' that you can add; to bring in "
                "someone new, invite them by email below.",
            )
            return cleaned
        cleaned["user"] = user
        is_member = self.project.memberships.filter(user=user).exists()
        if op == "add" and is_member:
            self.add_error("username", f"{username} is already a member.")
        if op in ("change", "remove") and not is_member:
            self.add_error("username", f"{username} is not a member.")
        if op in ("add", "change") and not cleaned.get("role"):
            self.add_error("role", "Choose a role.")
        return cleaned


class DesignForm(forms.Form):
    """An existing project's design: k, the sample share (in %), the lease, coders.

    The bounds here shape the input; services.design checks the values and says
    what a change does to the queue.
    """

    coders_per_span = forms.IntegerField(
        label="Coders per span (k)",
        min_value=1,
        help_text="Coders per span in the reliability sample; at most the number "
        "of coders.",
    )
    sample_share = forms.DecimalField(
        label="Reliability sample (%)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        help_text="Growing it draws more spans per document; shrinking it keeps "
        "spans that already have two or more codings.",
    )
    lease_minutes = forms.IntegerField(
        label="Lease (minutes)",
        min_value=1,
        help_text="Applies to new claims; claims already made keep their expiry.",
    )

    add_coders = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Add coders",
        help_text="They code from their next claim on.",
    )
    remove_coders = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Remove coders",
        help_text="Their open claims go back to the pool; their codings stay.",
    )

    def __init__(self, *args, project, users, **kwargs) -> None:
        """`users`: whom the manager may name (access_people.addable_users)."""
        from annotator.models import Membership
        from annotator.services.design import MAX_CODERS_PER_SPAN, MAX_LEASE_MINUTES

        kwargs.setdefault(
            "initial",
            {
                "coders_per_span": project.coders_per_span,
                "sample_share": round(project.sample_share * 100, 2),
                "lease_minutes": project.lease_minutes,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["coders_per_span"].widget.attrs["max"] = MAX_CODERS_PER_SPAN
        self.fields["lease_minutes"].widget.attrs["max"] = MAX_LEASE_MINUTES
        coders = Membership.objects.filter(project=project, role="coder")
        self.fields["add_coders"].queryset = users.exclude(
            pk__in=coders.values("user_id")
        )
        self.fields["remove_coders"].queryset = users.model.objects.filter(
            pk__in=coders.values("user_id")
        ).order_by("username")

    def changes(self) -> dict:
        """Keyword arguments for services.change_design (share as a fraction);
        only the fields changed (a share shown rounded must not count as new)."""
        data = self.cleaned_data
        values = {
            "coders_per_span": data["coders_per_span"],
            "sample_share": float(data["sample_share"]) / 100,
            "lease_minutes": data["lease_minutes"],
            "add_coders": list(data["add_coders"]),
            "remove_coders": list(data["remove_coders"]),
        }
        return {name: values[name] for name in self.changed_data}


class ArchiveRestoreForm(forms.Form):
    archive = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": ".gz"}),
        help_text="A project-….jsonl.gz file written by 'Archive this project' or "
        "'manage.py archive_project'.",
    )

    def clean_archive(self):
        archive = self.cleaned_data["archive"]
        PROJECT_RESTORE.check_size(archive)
        return archive
