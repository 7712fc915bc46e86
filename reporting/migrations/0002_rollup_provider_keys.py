"""The roll-up names providers by their key (``callkaro``, ``acefone``) instead of words of its own.

The roll-up is derived data: its rows are dropped and every day is marked dirty, so those days are
counted live (never wrong) until the next ``reporting.rollup_refresh`` rebuilds them under the keys.
"""

from django.db import migrations, models
from django.utils import timezone


def rollup_rebuild_later(apps, schema_editor):
    """Both ways: rows under the other naming are dropped, and their days counted live until rebuilt."""
    apps.get_model("reporting", "CallDailyRollup").objects.all().delete()
    apps.get_model("reporting", "CallRollupDay").objects.update(dirty_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="calldailyrollup",
            name="provider",
            field=models.CharField(help_text="The provider key (callkaro, acefone).", max_length=20),
        ),
        migrations.RunPython(rollup_rebuild_later, rollup_rebuild_later),
    ]
