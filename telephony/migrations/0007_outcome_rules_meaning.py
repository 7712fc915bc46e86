"""Installs whose outcome rules were already loaded get the new default rules (not interested,
callbacks, opt-out dispositions, DND refusals). An empty table keeps using the defaults in code."""

from django.db import migrations

NEW_RULES = [
    {
        "order": 35,
        "name": "Post-call: not interested → not interested",
        "post_call_key": "lead_status",
        "post_call_values": "not_interested|not interested|no_interest|cold",
        "set_stage": "not_interested",
    },
    {
        "order": 36,
        "name": "Post-call: callback asked for → follow-up for the rep",
        "post_call_key": "callback_time",
        "follow_up": True,
    },
    {
        "order": 42,
        "name": "Disposition: opt-out → do not call",
        "disposition": "do_not_call|do not call|dnd|opt_out|opt out|opted_out|unsubscribe",
        "set_flag": "do_not_call",
    },
    {
        "order": 43,
        "name": "Provider DND refusal → do not call",
        "hangup_reason": "DND|NCPR|DND_REGISTERED|CALLEE_DND",
        "set_flag": "do_not_call",
    },
]


def add_rules(apps, schema_editor):
    Rule = apps.get_model("telephony", "CallOutcomeRule")
    if not Rule.objects.exists():
        return
    for values in NEW_RULES:
        if not Rule.objects.filter(name=values["name"]).exists():
            Rule.objects.create(**values)


class Migration(migrations.Migration):
    dependencies = [("telephony", "0006_outcome_rule_disposition_callback")]
    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
