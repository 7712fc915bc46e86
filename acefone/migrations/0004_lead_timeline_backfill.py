"""Fill the leads' call timeline (crm 0006) from the Acefone calls already stored: one set-based UPDATE."""

from django.db import migrations

from telephony.lead_timeline import lead_timeline_backfill_table


def backfill(apps, schema_editor):
    lead_timeline_backfill_table(
        lead_table=apps.get_model("crm", "Lead")._meta.db_table,
        call_table=apps.get_model("acefone", "AcefoneCallLog")._meta.db_table,
        human=True,  # a rep's calls (AcefoneProvider.asks_wrap_up): also the first human call
        connection=schema_editor.connection,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("acefone", "0003_call_converted"),
        ("crm", "0006_lead_timeline"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
