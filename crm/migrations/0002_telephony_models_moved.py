"""The webhook inbox, the outcome rules and the sandbox log now belong to the ``telephony`` app.

State only: the tables keep their names (``db_table`` on the moved models), so no data moves.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CallOutcomeRule"),
                migrations.DeleteModel(name="SandboxRequest"),
                migrations.DeleteModel(name="ProviderWebhookEvent"),
            ]
        )
    ]
