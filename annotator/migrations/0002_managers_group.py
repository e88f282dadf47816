"""The Managers group and its corpus permissions, so migrate alone sets up roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copies of annotator.access.MANAGERS_GROUP and MANAGERS_PERMISSIONS: a
# migration must keep doing what it did when it was written.
MANAGERS_GROUP = "Managers"
MANAGERS_PERMISSIONS = (
    "view_corpus",
    "add_corpus",
    "change_corpus",
    "view_document",
    "add_document",
    "change_document",
    "view_span",
    "change_span",
)


def create_managers(apps, schema_editor):
    # Django creates permissions after the last migration (post_migrate); on a fresh
    # database they do not exist yet, so make the corpus app's now.
    corpus = apps.get_app_config("corpus")
    # A migration state's app config has no models module, which makes
    # create_permissions skip it; the old value is put back (with the global
    # registry, as a test passes it, leaving None broke every later
    # content-type and permission creation for corpus in the process).
    previous = getattr(corpus, "models_module", None)
    corpus.models_module = True
    try:
        create_permissions(corpus, apps=apps, verbosity=0)
    finally:
        corpus.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="corpus", codename__in=MANAGERS_PERMISSIONS
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0001_initial"),
        ("corpus", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_managers, migrations.RunPython.noop),
    ]
