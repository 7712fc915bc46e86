"""The dashboard's roll-up models now belong to the ``reporting`` app.

State only: the tables keep their names (``db_table`` on the moved models), so no data moves.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("callkaro", "0002_dashboard_rollup")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CallDailyRollup"),
                migrations.DeleteModel(name="CallRollupDay"),
            ]
        )
    ]
