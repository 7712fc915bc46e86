"""Forms for Acefone's part of the calling settings page. Validation here, writes in services."""

from __future__ import annotations

import re

from django import forms

AGENT_NUMBER_RE = re.compile(r"^\+?\d{3,20}$")


class AgentNumberForm(forms.Form):
    """The number or extension Acefone rings first for one team member (blank clears it)."""

    acefone_agent_number = forms.CharField(label="Acefone agent number", required=False, max_length=20)

    def clean_acefone_agent_number(self) -> str:
        value = self.cleaned_data["acefone_agent_number"].replace(" ", "").strip()
        if value and not AGENT_NUMBER_RE.match(value):
            raise forms.ValidationError("Digits only (an optional leading +), 3 to 20 of them.")
        return value
