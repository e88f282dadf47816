"""The agreement report's bootstrap intervals of large projects, as a background job left them."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0010_job_files'),
    ]

    operations = [
        migrations.CreateModel(
            name='AgreementIntervals',
            fields=[
                ('project', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='annotator.project')),
                ('watermark', models.BigIntegerField(blank=True, null=True)),
                ('seed', models.BigIntegerField()),
                ('n_resamples', models.PositiveIntegerField()),
                ('dimensions', models.JSONField(default=dict)),
                ('computed_at', models.DateTimeField()),
                ('codebook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='annotator.codebook')),
            ],
        ),
    ]
