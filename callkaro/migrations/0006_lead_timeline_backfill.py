"""Fill the leads' call timeline (crm 0006) from the Call Karo calls already stored: one set-based UPDATE."""

from django.db import migrations

from telephony.lead_timeline import lead_timeline_backfill_table


def backfill(apps, schema_editor):
    lead_timeline_backfill_table(
        lead_table=apps.get_model("crm", "Lead")._meta.db_table,
        call_table=apps.get_model("callkaro", "CallKaroCallLog")._meta.db_table,
        human=False,  # an AI agent's calls (CallKaroProvider.asks_wrap_up is False)
        connection=schema_editor.connection,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("callkaro", "0005_call_tries_metadata_fields_campaign_api"),
        ("crm", "0006_lead_timeline"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
