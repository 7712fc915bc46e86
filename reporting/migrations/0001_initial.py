"""The roll-up models moved from ``callkaro`` (see callkaro 0003); tables unchanged."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("calldailyrollup", "callrollupday")


def content_types_follow(apps, schema_editor):
    """Keep admin permissions and log entries pointing at the moved models on an existing database."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="callkaro", model__in=MOVED).update(app_label="reporting")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("callkaro", "0003_rollup_moved_to_reporting"),
        ("crm", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # State only: callkaro's migration 0002 created these tables, which keep their names.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CallRollupDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("day", models.DateField(unique=True)),
                        ("built_at", models.DateTimeField(blank=True, null=True)),
                        ("dirty_at", models.DateTimeField(blank=True, help_text="A call of this day changed after the build.", null=True)),
                    ],
                    options={"verbose_name": "call roll-up day", "db_table": "callkaro_callrollupday"},
                ),
                migrations.CreateModel(
                    name="CallDailyRollup",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("day", models.DateField()),
                        ("provider", models.CharField(max_length=5)),
                        ("outcome", models.CharField(choices=[("completed", "Completed"), ("no_answer", "No answer or busy"), ("failed", "Failed"), ("closed", "Other settled (cancelled, unknown)"), ("open", "Not settled yet")], max_length=10)),
                        ("hangup_reason", models.CharField(blank=True, max_length=40)),
                        ("calls", models.PositiveIntegerField(default=0)),
                        ("connected", models.PositiveIntegerField(default=0)),
                        ("conversions", models.PositiveIntegerField(default=0)),
                        ("talk_seconds", models.BigIntegerField(default=0)),
                        ("agent", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="callkaro.callkaroagent")),
                        ("campaign", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="callkaro.callkarocampaign")),
                        ("team_member", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="crm.teammember")),
                    ],
                    options={
                        "verbose_name": "call daily roll-up row",
                        "db_table": "callkaro_calldailyrollup",
                        "indexes": [models.Index(fields=["day", "provider"], name="ck_rollup_day_idx")],
                    },
                ),
            ]
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
