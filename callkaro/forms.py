"""Forms for the Call Karo config page and for starting an AI call. Validation lives here, writes in services."""

from __future__ import annotations

import json
import re
import zoneinfo

from django import forms
from django.utils import timezone

from crm.models import TeamMember
from telephony.forms import CallStartForm

from .models import CallKaroAgent

AGENT_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
ACEFONE_NUMBER_RE = re.compile(r"^\+?\d{3,20}$")


class ConfigForm(forms.Form):
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=300,
        strip=True,
        # render_value=False: the saved key is never sent back to the browser, not even in a form field.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave blank to keep the saved key.",
    )
    clear_api_key = forms.BooleanField(
        label="Remove the saved key (fall back to CALLKARO_API_KEY from the environment)", required=False
    )
    default_agent_id = forms.CharField(label="Default agent id", required=False, max_length=100)
    time_zone = forms.CharField(
        label="Call Karo account time zone", max_length=40, initial="Asia/Kolkata", help_text="Used for schedule_at."
    )
    is_enabled = forms.BooleanField(label="AI calling enabled", required=False, initial=True)

    def clean_default_agent_id(self) -> str:
        value = self.cleaned_data["default_agent_id"].strip()
        if value and not AGENT_ID_RE.match(value):
            raise forms.ValidationError("Use the agent id exactly as Call Karo shows it (letters, digits, - _ . :).")
        return value

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError("Unknown time zone; use a name such as Asia/Kolkata.") from None
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("api_key") and data.get("clear_api_key"):
            self.add_error("clear_api_key", "Either enter a new key or remove the saved one, not both.")
        return data


class AgentForm(forms.ModelForm):
    class Meta:
        model = CallKaroAgent
        fields = ["agent_id", "name", "language", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_agent_id(self) -> str:
        value = self.cleaned_data["agent_id"].strip()
        if not AGENT_ID_RE.match(value):
            raise forms.ValidationError("Use the agent id exactly as Call Karo shows it (letters, digits, - _ . :).")
        return value


class AgentAssignForm(forms.Form):
    team_members = forms.ModelMultipleChoiceField(
        queryset=TeamMember.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team_members"].queryset = TeamMember.objects.filter(is_active=True).order_by("name")


class AcefoneNumberForm(forms.Form):
    acefone_agent_number = forms.CharField(label="Acefone agent number", required=False, max_length=20)

    def clean_acefone_agent_number(self) -> str:
        value = self.cleaned_data["acefone_agent_number"].replace(" ", "").strip()
        if value and not ACEFONE_NUMBER_RE.match(value):
            raise forms.ValidationError("Digits only (an optional leading +), 3 to 20 of them.")
        return value


def _gap_value(raw) -> int | list[int] | None:
    """``gap_between_retries`` is minutes, one int or a list (``5`` or ``5,10`` or ``[5, 10]``)."""
    if raw in (None, "", []):
        return None
    if isinstance(raw, bool):
        raise forms.ValidationError("Give minutes as a whole number or a list of them.")
    if isinstance(raw, int):
        values = [raw]
    elif isinstance(raw, list):
        values = raw
    else:
        text = str(raw).strip()
        if text.startswith("["):
            try:
                values = json.loads(text)
            except ValueError:
                raise forms.ValidationError("Give minutes as a whole number or a list of them.") from None
        else:
            values = [part.strip() for part in text.split(",") if part.strip()]
    try:
        ints = [int(v) for v in values if not isinstance(v, bool)]
    except (TypeError, ValueError):
        raise forms.ValidationError("Give minutes as a whole number or a list of them.") from None
    if len(ints) != len(values) or not ints or any(v < 1 or v > 1440 for v in ints) or len(ints) > 10:
        raise forms.ValidationError("Each gap is 1 to 1440 minutes, at most 10 of them.")
    single = not isinstance(raw, list) and len(ints) == 1 and not str(raw).strip().startswith("[")
    return ints[0] if single and "," not in str(raw) else ints


class CallKaroCallStartForm(CallStartForm):
    """Call Karo's documented limits (design 5), checked before we create a call log."""

    agent_id = forms.CharField(required=False, max_length=100)
    when = forms.ChoiceField(required=False, choices=[("now", "Now"), ("later", "At a time")])
    schedule_at = forms.DateTimeField(required=False)
    language = forms.ChoiceField(required=False, choices=[("", "Agent's language"), *CallKaroAgent.Language.choices])
    number_of_retries = forms.IntegerField(required=False, min_value=0, max_value=10)
    # A plain Field keeps what was sent ("5", "5,10", 5 or [5, 10]); clean_gap_between_retries parses it.
    gap_between_retries = forms.Field(required=False)
    priority = forms.IntegerField(required=False, min_value=-100, max_value=100)

    def clean_gap_between_retries(self) -> int | list[int] | None:
        return _gap_value(self.cleaned_data.get("gap_between_retries"))

    def clean_schedule_at(self):
        value = self.cleaned_data.get("schedule_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("when") == "now":
            data["schedule_at"] = None
        elif data.get("when") == "later" and not data.get("schedule_at") and "schedule_at" not in self.errors:
            self.add_error("schedule_at", "Choose when to call.")
        return data
