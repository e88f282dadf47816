"""Exact gold freshness: a per-project change counter numbers annotation writes.

GoldRun.watermark changes meaning (a timestamp taken before commit -> the change
number read), so the old values are dropped. Projects that already have
annotations get a counter at 1, above every existing run's (now empty) watermark
and every annotation's change 0: their gold is recomputed once, in full.
"""

import django.db.models.deletion
from django.db import migrations, models


def count_existing(apps, schema_editor):
    Annotation = apps.get_model("annotator", "Annotation")
    ChangeCounter = apps.get_model("annotator", "ChangeCounter")
    projects = Annotation.objects.values_list("project_id", flat=True).distinct()
    ChangeCounter.objects.bulk_create(
        ChangeCounter(project_id=project_id, n=1) for project_id in projects
    )


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0002_managers_group'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChangeCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('n', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='annotation',
            name='change',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RemoveField(model_name='goldrun', name='watermark'),
        migrations.AddField(
            model_name='goldrun',
            name='watermark',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='annotation',
            index=models.Index(fields=['project', 'change'], name='annotator_a_project_b43af8_idx'),
        ),
        migrations.AddField(
            model_name='changecounter',
            name='project',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='annotator.project'),
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
