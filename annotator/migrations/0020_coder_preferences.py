# Each user's screen preferences: single-key shortcuts on or off (WCAG 2.1.4).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0019_password_reset_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CoderPreferences",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "letter_shortcuts",
                    models.BooleanField(
                        default=True,
                        help_text=(
                            "Letters, digits and ? act at once on the coding and "
                            "adjudication screens. Off: only Enter, Esc and the Alt+ "
                            "keys do."
                        ),
                        verbose_name="single-key shortcuts",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name_plural": "coder preferences",
            },
        ),
    ]
