"""Campaign input: the builder form, settings parsed from a form or a JSON body, and the audience.

Also who may build and see campaigns (managers and admins: any; reps: their own), since the form's
choices and every campaign view depend on it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time

from crm.models import LeadSource, LeadStage, TeamMember
from crm.selectors import team_member_for

from . import audience as aud
from . import campaigns as svc
from .models import CallKaroAgent, CallKaroCampaign

UPLOAD_DIR = settings.VAR_DIR / "campaign_uploads"
DAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


def is_campaign_manager(user: AbstractBaseUser) -> bool:
    return user.has_perm("crm.manage_campaigns")


def require_builder(user: AbstractBaseUser) -> TeamMember | None:
    member = team_member_for(user)
    if not is_campaign_manager(user) and member is None:
        raise PermissionDenied("Only team members can build campaigns")
    return member


def campaigns_for(user: AbstractBaseUser) -> QuerySet[CallKaroCampaign]:
    qs = CallKaroCampaign.objects.select_related("agent", "created_by")
    if is_campaign_manager(user):
        return qs
    member = team_member_for(user)
    return qs.filter(created_by=member) if member else qs.none()


def agents_for(user: AbstractBaseUser) -> QuerySet[CallKaroAgent]:
    qs = CallKaroAgent.objects.filter(is_active=True)
    if is_campaign_manager(user):
        return qs
    member = team_member_for(user)
    return qs.filter(Q(team_members=member) | Q(team_members__isnull=True)).distinct()


def _gaps(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        raise svc.CampaignError("Retry gaps must be whole minutes, e.g. 30 or 30,60,120") from None


def _time(value: Any, default: dt.time, field: str) -> dt.time:
    if value in (None, ""):
        return default
    if isinstance(value, dt.time):
        return value
    try:
        parsed = parse_time(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise svc.CampaignError(f"{field} must be HH:MM")
    return parsed


def parse_when(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise svc.CampaignError("start_at must be an ISO date and time")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def settings_from_data(data: dict[str, Any], user: AbstractBaseUser) -> svc.CampaignSettings:
    """Campaign settings from a form's cleaned data or a JSON body. Raises CampaignError."""
    agent_id = str(data.get("agent_id") or data.get("agent") or "")
    agent = agents_for(user).filter(Q(agent_id=agent_id) | Q(pk=int(agent_id) if agent_id.isdigit() else None)).first()
    if agent is None:
        raise svc.CampaignError("Unknown or unavailable agent")
    try:
        campaign_settings = svc.CampaignSettings(
            name=str(data.get("name") or "").strip(),
            agent=agent,
            start_at=parse_when(data.get("start_at")),
            calling_hours_start=_time(data.get("calling_hours_start"), dt.time(9, 0), "calling_hours_start"),
            calling_hours_end=_time(data.get("calling_hours_end"), dt.time(21, 0), "calling_hours_end"),
            days_of_week=[int(d) for d in data.get("days_of_week") or []],
            time_zone=str(data.get("time_zone") or ""),
            retry_owner=str(data.get("retry_owner") or CallKaroCampaign.RetryOwner.SCHEDULER),
            max_retries=int(data.get("max_retries") or 0),
            retry_gaps_minutes=_gaps(data.get("retry_gaps_minutes")),
            priority=int(data.get("priority") or 0),
            pace_per_minute=int(data.get("pace_per_minute") or 10),
            max_concurrent=int(data.get("max_concurrent") or 5),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, svc.CampaignError):
            raise
        raise svc.CampaignError(f"Bad setting: {exc}") from None
    if campaign_settings.time_zone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(campaign_settings.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise svc.CampaignError("Unknown time zone") from None
    campaign_settings.validate()
    return campaign_settings


def lead_filter_for(data: dict[str, Any], user: AbstractBaseUser) -> aud.LeadFilter:
    lead_filter = aud.LeadFilter.from_json(data)
    if not is_campaign_manager(user):  # reps: their own leads whatever the filter says
        lead_filter = aud.LeadFilter(**{**lead_filter.__dict__, "assignee_id": None})
    return lead_filter


class CampaignAudience:
    """An audience ready to preview or launch, from a filter, a CSV or a JSON list."""

    def __init__(self, *, user: AbstractBaseUser, lead_filter: aud.LeadFilter | None = None, csv: Any = None):
        self.user, self.lead_filter, self.csv = user, lead_filter, csv
        self.errors: list[tuple[int | None, str]] = []
        if csv is not None:
            self.errors = list(csv.errors)

    def description(self) -> dict[str, Any]:
        if self.lead_filter is not None:
            return {"kind": "filter", "filter": self.lead_filter.as_json()}
        return {"kind": "csv", "rows": len(self.csv.rows), "bad_rows": len(self.csv.errors)}

    def members(self, *, create: bool):
        if self.lead_filter is not None:
            qs = aud.audience_filter_queryset(user=self.user, lead_filter=self.lead_filter)
            flagged = qs.filter(phone_invalid=True).values_list("phone", flat=True)[:200]
            self.errors = [(None, f"{phone} (flagged invalid)") for phone in flagged]
            return aud.audience_from_filter(qs)
        members, errors = aud.audience_from_csv(self.csv, user=self.user, create=create)
        self.errors = list(self.csv.errors) + errors
        return members

    def preview(self, campaign_settings: svc.CampaignSettings) -> svc.CampaignPreview:
        members = self.members(create=False)
        preview = svc.campaign_preview(audience=members, campaign_settings=campaign_settings, invalid=self.errors)
        if self.csv is not None:
            preview.duplicates += len(self.csv.duplicates)
            preview.count += len(self.csv.duplicates)
        return preview

    def launch(self, campaign_settings: svc.CampaignSettings) -> CallKaroCampaign:
        return svc.campaign_launch(
            user=self.user,
            campaign_settings=campaign_settings,
            audience=self.members(create=True),
            audience_description=self.description(),
        )


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
    calling_hours_start = forms.TimeField(initial=dt.time(9, 0), widget=forms.TimeInput(attrs={"type": "time"}))
    calling_hours_end = forms.TimeField(initial=dt.time(21, 0), widget=forms.TimeInput(attrs={"type": "time"}))
    days_of_week = forms.TypedMultipleChoiceField(
        choices=DAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: every day"
    )
    time_zone = forms.CharField(required=False, help_text="Blank: the lead's, else the project's")
    retry_owner = forms.ChoiceField(choices=CallKaroCampaign.RetryOwner.choices)
    max_retries = forms.IntegerField(min_value=0, max_value=10, initial=0)
    retry_gaps_minutes = forms.CharField(required=False, initial="30", help_text="Minutes: 30, or 30,60,120")
    priority = forms.IntegerField(min_value=-100, max_value=100, initial=0)
    pace_per_minute = forms.IntegerField(min_value=1, max_value=600, initial=10)
    max_concurrent = forms.IntegerField(min_value=1, max_value=200, initial=5)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents_for(user)
        if is_campaign_manager(user):
            self.fields["assignee_id"].queryset = TeamMember.objects.filter(is_active=True)
        else:
            del self.fields["assignee_id"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("audience_kind") == "csv" and not data.get("csv_file"):
            self.add_error("csv_file", "Choose a CSV file")
        upload = data.get("csv_file")
        if upload and upload.size > settings.CAMPAIGN_CSV_MAX_BYTES:
            self.add_error("csv_file", "The file is too large")
        return data


def builder_state(form: CampaignBuilderForm) -> dict[str, Any]:
    d = form.cleaned_data
    state: dict[str, Any] = {
        "name": d["name"],
        "agent": d["agent"].pk,
        "start_at": d["start_at"].isoformat() if d.get("start_at") else "",
        "calling_hours_start": d["calling_hours_start"].strftime("%H:%M"),
        "calling_hours_end": d["calling_hours_end"].strftime("%H:%M"),
        "days_of_week": d.get("days_of_week") or [],
        "time_zone": d.get("time_zone") or "",
        "retry_owner": d["retry_owner"],
        "max_retries": d["max_retries"],
        "retry_gaps_minutes": d.get("retry_gaps_minutes") or "",
        "priority": d["priority"],
        "pace_per_minute": d["pace_per_minute"],
        "max_concurrent": d["max_concurrent"],
        "audience_kind": d["audience_kind"],
    }
    if d["audience_kind"] == "csv":
        UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        with open(UPLOAD_DIR / f"{token}.csv", "wb") as out:
            for chunk in d["csv_file"].chunks():
                out.write(chunk)
        state["csv_token"] = token
    else:
        assignee = d.get("assignee_id")
        state["filter"] = aud.LeadFilter(
            stage=d.get("stage") or "",
            source=d.get("source") or "",
            assignee_id=assignee.pk if assignee else None,
            created_from=d.get("created_from"),
            created_to=d.get("created_to"),
            not_called_days=d.get("not_called_days"),
        ).as_json()
    return state


def audience_from_state(state: dict[str, Any], user: AbstractBaseUser) -> CampaignAudience:
    if state.get("audience_kind") == "csv":
        token = state.get("csv_token", "")
        if not token.isalnum():
            raise svc.CampaignError("The upload has expired; build the campaign again")
        try:
            data = (UPLOAD_DIR / f"{token}.csv").read_bytes()
        except FileNotFoundError:
            raise svc.CampaignError("The upload has expired; build the campaign again") from None
        return CampaignAudience(user=user, csv=aud.audience_csv_parse(data))
    return CampaignAudience(user=user, lead_filter=lead_filter_for(state.get("filter") or {}, user))
