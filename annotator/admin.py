"""The Django admin: codebooks (frozen once in use), projects, annotations, gold."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from rest_framework.authtoken.admin import TokenAdmin

from annotator.codebooks import new_codebook_version
from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Category,
    Codebook,
    DesignChange,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldRun,
    Invitation,
    Job,
    Label,
    Membership,
    Project,
)
from annotator.services import next_change
from annotator.services.people import set_active

TokenAdmin.raw_id_fields = ["user"]


class FrozenWhenInUse:
    """Versions with annotations are read-only: edit a new version instead."""

    def codebook_of(self, obj):
        return obj

    def has_change_permission(self, request, obj=None):
        if obj is not None and self.codebook_of(obj).is_in_use():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.codebook_of(obj).is_in_use():
            return False
        return super().has_delete_permission(request, obj)


class DimensionInline(admin.StackedInline):
    model = Dimension
    extra = 0
    show_change_link = True


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


@admin.register(Codebook)
class CodebookAdmin(FrozenWhenInUse, admin.ModelAdmin):
    list_display = ["name", "family", "version", "created_at"]
    inlines = [DimensionInline]
    actions = ["make_new_version"]

    @admin.action(description="Copy as a new editable version")
    def make_new_version(self, request, queryset):
        for codebook in queryset:
            copy = new_codebook_version(codebook)
            messages.success(request, f"Created {copy}.")


@admin.register(Dimension)
class DimensionAdmin(FrozenWhenInUse, admin.ModelAdmin):
    list_display = ["label", "key", "codebook", "level", "multiple", "required"]
    list_filter = ["codebook"]
    inlines = [CategoryInline]

    def codebook_of(self, obj):
        return obj.codebook


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "corpus", "codebook", "coders_per_span", "sample_share"]
    inlines = [MembershipInline]
    readonly_fields = ["total_codings", "corpus", "seed", "coders_per_span",
                       "sample_share", "order"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # The sample and queue are drawn at creation (the project form) and changed
        # on the project's design page, which adjusts the queue with them.
        return self.readonly_fields if obj else ["total_codings"]

    def has_add_permission(self, request):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["project", "coder", "span", "status", "claimed_at", "finished_at"]
    list_filter = ["project", "status"]
    raw_id_fields = ["span", "work_item", "coder"]


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0
    raw_id_fields = ["dimension", "category"]


class RevisionInline(admin.TabularInline):
    model = AnnotationRevision
    extra = 0
    readonly_fields = ["changed_by", "changed_at", "old", "new"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["assignment", "codebook", "uncertain", "seconds", "updated_at"]
    list_filter = ["codebook", "uncertain", "source"]
    raw_id_fields = ["assignment"]
    readonly_fields = ["source"]  # provenance: how the codes came, not an opinion
    inlines = [LabelInline, RevisionInline]

    def save_model(self, request, obj, form, change):
        # A hand edit (of the annotation or its labels, saved in the same
        # transaction) changes ratings: numbered like a submit, gold sees it.
        obj.change = next_change(obj.project_id)
        super().save_model(request, obj, form, change)


class ReadOnly:
    """Gold is written by annotator.gold only (rules, adjudication with history):
    the admin shows it, the adjudication screen changes it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GoldLabelCategoryInline(ReadOnly, admin.TabularInline):
    model = GoldLabelCategory
    extra = 0
    raw_id_fields = ["category"]


class GoldLabelRevisionInline(ReadOnly, admin.TabularInline):
    model = GoldLabelRevision
    extra = 0
    readonly_fields = ["changed_by", "changed_at", "old", "new"]


@admin.register(GoldLabel)
class GoldLabelAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["span", "dimension", "category", "method", "posterior",
                    "agreement", "decided_by", "decided_at"]  # fmt: skip
    list_filter = ["project", "method", "dimension"]
    raw_id_fields = ["span", "category", "run", "decided_by"]
    list_select_related = ["dimension", "category", "decided_by", "span"]
    inlines = [GoldLabelCategoryInline, GoldLabelRevisionInline]


@admin.register(GoldRun)
class GoldRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["project", "dimension", "methods", "n_decided", "n_undecided",
                    "converged", "watermark", "created_at"]  # fmt: skip
    list_filter = ["project"]


@admin.register(DesignChange)
class DesignChangeAdmin(ReadOnly, admin.ModelAdmin):
    """The history of design changes, written by services.design.change_design."""

    list_display = ["project", "changed_at", "changed_by", "summary"]
    list_filter = ["project"]
    readonly_fields = ["project", "changed_by", "changed_at", "before", "after",
                       "summary", "change"]  # fmt: skip


@admin.register(Job)
class JobAdmin(ReadOnly, admin.ModelAdmin):
    """Jobs as operators see them; only workers move their state (the job page
    and prune_jobs are the managers' and operators' tools)."""

    list_display = ["pk", "kind", "project", "state", "note", "requested_by",
                    "created_at", "finished_at", "worker", "attempt"]  # fmt: skip
    list_filter = ["kind", "state", "project"]
    list_select_related = ["project", "requested_by"]
    search_fields = ["note", "error", "worker"]
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Invitation)
class InvitationAdmin(ReadOnly, admin.ModelAdmin):
    """Invitations as operators see them; managers invite, resend and revoke on a
    project's members page (services/invitations.py keeps them single use)."""

    list_display = ["email", "project", "role", "invited_by", "sent_at",
                    "accepted_at", "accepted_by", "revoked_at"]  # fmt: skip
    list_filter = ["role", "project"]
    list_select_related = ["project", "invited_by", "accepted_by"]
    search_fields = ["email"]
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "key"]
    exclude = ["key"]  # the secret part of the link


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    """Django's user admin, but (de)activating goes through services.people:
    a deactivated account's claims return to the pool at once, as on the
    members page."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            set_active(user=obj, active=obj.is_active)
