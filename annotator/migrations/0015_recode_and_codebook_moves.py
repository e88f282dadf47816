"""Assignments to code again after a codebook change; design changes record moves."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0014_invitations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="assignment",
            name="status",
            field=models.CharField(
                choices=[
                    ("claimed", "claimed"),
                    ("completed", "completed"),
                    ("skipped", "skipped"),
                    ("expired", "expired"),
                    ("recode", "to code again"),
                ],
                default="claimed",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="designchange",
            name="before",
            field=models.JSONField(
                help_text="coders_per_span, sample_share, lease_minutes; or the "
                "codebook"
            ),
        ),
    ]
