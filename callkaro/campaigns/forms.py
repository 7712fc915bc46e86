"""The campaign builder form. Call Karo's limits come from ``callkaro.options``; the agent choices
from ``callkaro.selectors.agents_usable_by``; the settings are read by ``inputs.settings_from_data``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from crm.models import LeadSource, LeadStage, TeamMember
from telephony.calling_hours import calling_window

from .. import options
from .. import selectors as callkaro_selectors
from ..models import CallKaroAgent, CallKaroCampaign
from ..options import OptionField
from .audience import LeadFilter, csv_upload_problem
from .permissions import is_campaign_manager

HH_MM = {"invalid": "Use a time such as 09:30."}
DAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


def _number(low: int, high: int) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high})


class CampaignBuilderForm(forms.Form):
    name = forms.CharField(max_length=160)
    agent = forms.ModelChoiceField(queryset=CallKaroAgent.objects.none())
    audience_kind = forms.ChoiceField(choices=[("filter", "Lead filter"), ("csv", "CSV upload")], initial="filter")
    stage = forms.ChoiceField(choices=[("", "Any stage"), *LeadStage.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *LeadSource.choices], required=False)
    assignee_id = forms.ModelChoiceField(queryset=TeamMember.objects.none(), required=False, empty_label="Anyone")
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    not_called_days = forms.IntegerField(required=False, min_value=1, label="Not called in N days")
    csv_file = forms.FileField(required=False, label="CSV (phone, name, extra columns)")
    start_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Empty: now"
    )
    calling_hours_start = forms.TimeField(
        initial=dt.time(9, 0), widget=forms.TimeInput(attrs={"type": "time"}), error_messages=HH_MM
    )
    calling_hours_end = forms.TimeField(
        initial=dt.time(21, 0), widget=forms.TimeInput(attrs={"type": "time"}), error_messages=HH_MM
    )
    days_of_week = forms.TypedMultipleChoiceField(
        choices=DAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: every day"
    )
    time_zone = forms.CharField(required=False, help_text="Blank: the lead's, else the project's")
    retry_owner = forms.ChoiceField(choices=CallKaroCampaign.RetryOwner.choices)
    max_retries = OptionField(
        options.clean_number_of_retries, initial=0, widget=_number(options.RETRIES_MIN, options.RETRIES_MAX)
    )
    retry_gaps_minutes = OptionField(
        options.clean_gap_between_retries, initial="30", help_text="Minutes: 30, or 30,60,120"
    )
    priority = OptionField(
        options.clean_priority, initial=0, widget=_number(options.PRIORITY_MIN, options.PRIORITY_MAX)
    )
    pace_per_minute = forms.IntegerField(min_value=1, max_value=600, initial=10)
    max_concurrent = forms.IntegerField(min_value=1, max_value=200, initial=5)

    def __init__(
        self, *args: Any, user: AbstractBaseUser, draft: CallKaroCampaign | None = None, **kwargs: Any
    ) -> None:
        if draft is not None and "initial" not in kwargs:
            kwargs["initial"] = builder_initial(draft)
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.fields["agent"].queryset = callkaro_selectors.agents_usable_by(user)
        if is_campaign_manager(user):
            self.fields["assignee_id"].queryset = TeamMember.objects.filter(is_active=True)
        else:
            del self.fields["assignee_id"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_upload = self.draft is not None and bool(self.draft.audience_file)
        if data.get("audience_kind") == "csv" and not data.get("csv_file") and not has_upload:
            self.add_error("csv_file", "Choose a CSV file")
        upload = data.get("csv_file")
        if upload and upload.size > settings.CAMPAIGN_CSV_MAX_BYTES:
            self.add_error("csv_file", "The file is too large")
        elif upload:
            problem = csv_upload_problem(upload.read(64 * 1024))
            upload.seek(0)
            if problem:
                self.add_error("csv_file", problem)
        self._check_window(data)
        return data

    def _check_window(self, data: dict[str, Any]) -> None:
        """Campaign hours lie inside the calling hours in force (never overnight)."""
        start, end = data.get("calling_hours_start"), data.get("calling_hours_end")
        if start is None or end is None:
            return
        window = calling_window()
        if start >= end:
            self.add_error("calling_hours_end", "End after the start, on the same day (no overnight window).")
        elif start < window.start or end > window.end:
            self.add_error("calling_hours_end", f"Calling hours must lie inside {window} (the allowed hours).")

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError("Unknown time zone; use a name such as Asia/Kolkata.") from None
        return value

    def settings_data(self) -> dict[str, Any]:
        """The cleaned data in the shape ``inputs.settings_from_data`` reads (the same as the JSON API's)."""
        d = dict(self.cleaned_data)
        d["agent"] = d["agent"].pk
        d["retry_gaps_minutes"] = options.gaps_as_list(d.get("retry_gaps_minutes"))
        return d

    def audience(self) -> tuple[dict[str, Any], bytes | None]:
        """The audience description for the draft row, and the uploaded CSV's bytes if a file came."""
        d = self.cleaned_data
        if d["audience_kind"] == "csv":
            upload = d.get("csv_file")
            if upload is None:  # keep the draft's file
                return {"kind": "csv"}, None
            return {"kind": "csv", "file_name": upload.name[:200]}, b"".join(upload.chunks())
        assignee = d.get("assignee_id")
        lead_filter = LeadFilter(
            stage=d.get("stage") or "",
            source=d.get("source") or "",
            assignee_id=assignee.pk if assignee else None,
            created_from=d.get("created_from"),
            created_to=d.get("created_to"),
            not_called_days=d.get("not_called_days"),
        )
        return {"kind": "filter", "filter": lead_filter.as_json()}, None


def builder_initial(campaign: CallKaroCampaign) -> dict[str, Any]:
    """The builder's values for a draft being edited."""
    lead_filter = LeadFilter.from_json(campaign.audience.get("filter") or {})
    return {
        "name": campaign.name,
        "agent": campaign.agent_id,
        "audience_kind": campaign.audience.get("kind") or "filter",
        "stage": lead_filter.stage,
        "source": lead_filter.source,
        "assignee_id": lead_filter.assignee_id,
        "created_from": lead_filter.created_from,
        "created_to": lead_filter.created_to,
        "not_called_days": lead_filter.not_called_days,
        "start_at": campaign.start_at,
        "calling_hours_start": campaign.calling_hours_start,
        "calling_hours_end": campaign.calling_hours_end,
        "days_of_week": campaign.days_of_week,
        "time_zone": campaign.time_zone,
        "retry_owner": campaign.retry_owner,
        "max_retries": campaign.max_retries,
        "retry_gaps_minutes": ",".join(str(g) for g in campaign.retry_gaps_minutes),
        "priority": campaign.priority,
        "pace_per_minute": campaign.pace_per_minute,
        "max_concurrent": campaign.max_concurrent,
    }
