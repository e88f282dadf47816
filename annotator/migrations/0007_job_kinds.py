"""Jobs of every kind (imports, archives, restores, agreement); a job may have no project."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0006_jobs'),
    ]

    operations = [
        migrations.AddField(
            model_name='job',
            name='result',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='job',
            name='kind',
            field=models.CharField(choices=[('gold_refresh', 'gold refresh'), ('corpus_import', 'corpus import'), ('archive', 'project archive'), ('restore', 'project restore'), ('agreement', 'agreement report')], max_length=20),
        ),
        migrations.AlterField(
            model_name='job',
            name='project',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='annotator.project'),
        ),
    ]
