"""The default disposition codes; admins edit them afterwards."""

from django.db import migrations

DEFAULTS = [
    ("converted", "Converted (deal agreed)", True, 5),
    ("interested", "Interested", False, 10),
    ("callback", "Call back later", False, 20),
    ("not_interested", "Not interested", False, 30),
    ("wrong_number", "Wrong number", False, 40),
    ("no_answer", "No answer", False, 50),
]


def seed(apps, schema_editor):
    Disposition = apps.get_model("telephony", "Disposition")
    for code, label, is_conversion, order in DEFAULTS:
        Disposition.objects.get_or_create(
            code=code, defaults={"label": label, "is_conversion": is_conversion, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("telephony", "0003_wrap_up")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
