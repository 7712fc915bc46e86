"""Forms for Acefone's part of the calling settings page. Validation here, writes in services."""

from __future__ import annotations

import re

from django import forms

from crm.forms import secret_field

from .config import MAX_CALL_SECONDS, MIN_CALL_SECONDS

AGENT_NUMBER_RE = re.compile(r"^\+?\d{3,20}$")


class AgentNumberForm(forms.Form):
    """The number or extension Acefone rings first for one team member (blank clears it)."""

    acefone_agent_number = forms.CharField(label="Acefone agent number", required=False, max_length=20)

    def clean_acefone_agent_number(self) -> str:
        value = self.cleaned_data["acefone_agent_number"].replace(" ", "").strip()
        if value and not AGENT_NUMBER_RE.match(value):
            raise forms.ValidationError("Digits only (an optional leading +), 3 to 20 of them.")
        return value


class AcefoneSettingsForm(forms.Form):
    """The API token (kept encrypted, never shown again) and the maximum call length."""

    api_token = secret_field("Acefone API token", help_text="Leave blank to keep the saved token.")
    clear_api_token = forms.BooleanField(
        label="Remove the saved token (use the one set on the server, if any)", required=False
    )
    max_call_seconds = forms.IntegerField(
        label="Maximum call length (seconds)",
        required=False,
        min_value=MIN_CALL_SECONDS,
        max_value=MAX_CALL_SECONDS,
        help_text="Acefone disconnects a call after this long. Leave empty for no limit (recommended).",
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("api_token") and data.get("clear_api_token"):
            self.add_error("clear_api_token", "Either enter a new token or remove the saved one, not both.")
        return data
