"""A job's stored file is its input (an upload) or its output (an archive)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0012_agreement_intervals'),
    ]

    operations = [
        migrations.AddField(
            model_name='jobfile',
            name='role',
            field=models.CharField(choices=[('input', 'input'), ('output', 'output')], default='input', max_length=6),
        ),
    ]
