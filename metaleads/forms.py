"""Forms for the Meta lead-ads page and the import page. Validation here, writes in services."""

from __future__ import annotations

import re

from django import forms

from crm.forms import secret_field
from crm.models import LeadSource

from .models import MetaForm

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ConfigForm(forms.Form):
    app_secret = secret_field("App secret")
    clear_app_secret = forms.BooleanField(label="Remove the saved app secret", required=False)
    verify_token = secret_field("Verify token")
    clear_verify_token = forms.BooleanField(label="Remove the saved verify token", required=False)
    page_access_token = secret_field("Page access token (long-lived)")
    clear_page_access_token = forms.BooleanField(label="Remove the saved page token", required=False)
    graph_base_url = forms.URLField(
        label="Graph API base URL (with its version)", max_length=200, assume_scheme="https"
    )
    backfill_interval = forms.IntegerField(label="Backfill every (seconds)", min_value=60, max_value=86400)
    speed_to_lead_agent_id = forms.CharField(
        label="Speed-to-lead Call Karo agent id",
        required=False,
        max_length=100,
        help_text="Empty: new leads are not called automatically.",
    )
    metadata_answer_keys = forms.CharField(
        label="Form answers sent to the AI call as metadata",
        required=False,
        max_length=500,
        help_text="Question names, comma-separated (e.g. budget, preferred_time).",
    )

    def clean_speed_to_lead_agent_id(self) -> str:
        value = self.cleaned_data["speed_to_lead_agent_id"].strip()
        if value and not ID_RE.match(value):
            raise forms.ValidationError("Use the agent id exactly as Call Karo shows it.")
        return value

    def clean_metadata_answer_keys(self) -> list[str]:
        keys = [k.strip() for k in self.cleaned_data["metadata_answer_keys"].split(",") if k.strip()]
        return list(dict.fromkeys(k[:100] for k in keys))


class FormAddForm(forms.Form):
    form_id = forms.CharField(label="Lead form id", max_length=64)
    name = forms.CharField(label="Name", max_length=160, required=False)

    def clean_form_id(self) -> str:
        value = self.cleaned_data["form_id"].strip()
        if not ID_RE.match(value):
            raise forms.ValidationError("A Meta form id is digits (letters, digits, - _ . : accepted).")
        return value


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV or Excel (.xlsx) file")


IMPORT_FIELDS = (
    ("name", "Name", True),
    ("phone", "Phone", True),
    ("email", "Email", False),
    ("city", "City", False),
)


class ImportMappingForm(forms.Form):
    """Which column holds which field; the choices are the file's own headers."""

    source = forms.ChoiceField(choices=LeadSource.choices, initial=LeadSource.CSV_IMPORT)
    form = forms.ModelChoiceField(
        queryset=MetaForm.objects.all(),
        required=False,
        label="Assign like form",
        help_text="Its rota assigns the imported leads; empty: the 'Imported leads' rota.",
    )

    def __init__(self, *args, headers: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(str(i), h or f"Column {i + 1}") for i, h in enumerate(headers)]
        lowered = [h.strip().lower() for h in headers]
        for name, label, required in IMPORT_FIELDS:
            guess = next((str(i) for i, h in enumerate(lowered) if name in h or (name == "name" and "full" in h)), "")
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=f"{label} column", choices=choices, required=required, initial=guess
            )
