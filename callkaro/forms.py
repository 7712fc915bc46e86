"""Forms for the Call Karo config page and for starting an AI call. Validation lives here, writes in services."""

from __future__ import annotations

import re
import zoneinfo

from django import forms
from django.utils import timezone

from crm.forms import secret_field
from crm.models import TeamMember
from telephony.calling_hours import window_parse
from telephony.forms import CallStartForm

from . import options
from .metadata import FIELD_CHOICES
from .models import CallKaroAgent
from .options import OptionField

#: A hidden input beside the metadata checkboxes: with none ticked, the admin chose to send no lead fields.
METADATA_SHOWN = "metadata_fields_shown"
AGENT_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class ConfigForm(forms.Form):
    api_key = secret_field("API key", max_length=300, help_text="Leave blank to keep the saved key.")
    clear_api_key = forms.BooleanField(
        label="Remove the saved key (use the server's own key, if it has one)", required=False
    )
    default_agent_id = forms.CharField(label="Default agent id", required=False, max_length=100)
    time_zone = forms.CharField(
        label="Call Karo account time zone",
        max_length=40,
        initial="Asia/Kolkata",
        help_text="Call Karo reads scheduled call times in this zone.",
    )
    is_enabled = forms.BooleanField(label="AI calling enabled", required=False, initial=True)
    metadata_fields = forms.MultipleChoiceField(
        label="Lead fields sent to the AI agent",
        choices=FIELD_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sent as call metadata, even when empty, so the agent's prompt and pre-call functions can use "
        "them. call_log_id and lead_id are always sent; notes never are.",
    )
    campaign_api_version = forms.ChoiceField(
        label="Campaign API",
        required=False,
        choices=[
            ("", "As set on the server"),
            ("v1", "v1: one agent per campaign"),
            ("v2", "v2: name only"),
        ],
    )

    def clean_metadata_fields(self) -> list[str] | None:
        """None (keep the saved choice) when the form did not show the checkboxes at all."""
        value = self.cleaned_data["metadata_fields"]
        if not value and not self.data.get(METADATA_SHOWN):
            return None
        return value

    calling_hours = forms.CharField(
        label="Calling hours",
        required=False,
        max_length=11,
        help_text="For example 10:00-19:00: inside 09:00-21:00 in the lead's time zone (narrower only). "
        "Blank: the server's setting.",
    )
    min_gap_hours = forms.IntegerField(
        label="Least hours between two AI calls to one lead",
        required=False,
        min_value=0,
        max_value=720,
        help_text="Blank: the server's setting (24 hours unless changed).",
    )

    def clean_calling_hours(self) -> str:
        value = self.cleaned_data["calling_hours"].strip()
        if value:
            try:
                value = str(window_parse(value))
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return value

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


class CallKaroCallStartForm(CallStartForm):
    """A rep's Call Karo options: the limits are ``CallKaroOptions``'s cleaners, checked before we
    create a call log; ``CallKaroOptions.from_data(form.cleaned_data)`` is then always valid."""

    agent_id = forms.CharField(required=False, max_length=100)
    when = forms.ChoiceField(required=False, choices=[("now", "Now"), ("later", "At a time")])
    schedule_at = forms.DateTimeField(required=False)
    language = forms.ChoiceField(required=False, choices=[("", "Agent's language"), *CallKaroAgent.Language.choices])
    number_of_retries = OptionField(options.clean_number_of_retries)
    # Keeps what was sent ("5", "5,10", 5 or [5, 10]) for the one gap parser.
    gap_between_retries = OptionField(options.clean_gap_between_retries)
    priority = OptionField(options.clean_priority)
    carry_over = OptionField(options.clean_carry_over)

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
