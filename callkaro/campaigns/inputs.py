"""What a campaign is built from: its settings and its audience, read from a form's data or a JSON body.

Call Karo's limits (retries, gaps, priority, HH:MM) are ``callkaro.options``'s cleaners, never
written again here; the agent must pass ``callkaro.selectors.agents_usable_by``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from telephony.calling_hours import calling_window

from .. import options
from .. import selectors as callkaro_selectors
from ..models import CallKaroAgent, CallKaroCampaign
from .audience import CampaignAudience, LeadFilter, audience_csv_parse, lead_filter_for_user
from .calls import CampaignError


@dataclass(frozen=True)
class CampaignSettings:
    """A campaign's settings, as the builder or the JSON API gives them and as a draft row keeps them."""

    name: str
    agent: CallKaroAgent
    start_at: dt.datetime | None = None
    calling_hours_start: dt.time = dt.time(9, 0)
    calling_hours_end: dt.time = dt.time(21, 0)
    days_of_week: list[int] = field(default_factory=list)
    time_zone: str = ""
    retry_owner: str = CallKaroCampaign.RetryOwner.SCHEDULER
    max_retries: int = 0
    retry_gaps_minutes: list[int] = field(default_factory=list)
    priority: int = 0
    pace_per_minute: int = 10
    max_concurrent: int = 5

    def validate(self) -> None:
        if not self.name.strip():
            raise CampaignError("A campaign needs a name")
        if not self.agent.is_active:
            raise CampaignError("The agent is disabled")
        try:
            options.clean_priority(self.priority)
            options.clean_number_of_retries(self.max_retries)
            options.clean_gap_between_retries(list(self.retry_gaps_minutes))
        except options.CallKaroOptionsInvalid as exc:
            raise CampaignError(exc.message) from None
        if self.pace_per_minute < 1 or self.max_concurrent < 1:
            raise CampaignError("Pace and concurrency must be at least 1")
        if any(d not in range(7) for d in self.days_of_week):
            raise CampaignError("Days of the week are 0 (Monday) to 6 (Sunday)")
        window = calling_window()
        start, end = self.calling_hours_start, self.calling_hours_end
        if start >= end:
            raise CampaignError("The calling window must end after it starts on the same day (no overnight window)")
        if start < window.start or end > window.end:
            raise CampaignError(f"The calling window must lie inside the allowed calling hours ({window})")
        if self.retry_owner not in CallKaroCampaign.RetryOwner.values:
            raise CampaignError("Unknown retry owner")

    def row_fields(self) -> dict[str, Any]:
        """The campaign row's columns for these settings."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["days_of_week"] = sorted(set(self.days_of_week))
        fields["retry_gaps_minutes"] = list(self.retry_gaps_minutes)
        return fields

    @classmethod
    def from_campaign(cls, campaign: CallKaroCampaign) -> CampaignSettings:
        return cls(**{name: getattr(campaign, name) for name in cls.__dataclass_fields__})


def parse_when(value: Any) -> dt.datetime | None:
    """An ISO date and time; a naive one is read in the project's zone."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise CampaignError("start_at must be an ISO date and time")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _agent(data: dict[str, Any], user: AbstractBaseUser) -> CallKaroAgent:
    agent_id = str(data.get("agent_id") or data.get("agent") or "")
    by_pk = Q(pk=int(agent_id)) if agent_id.isdigit() else Q(pk__in=[])
    agent = callkaro_selectors.agents_usable_by(user).filter(Q(agent_id=agent_id) | by_pk).first()
    if agent is None:
        raise CampaignError("Unknown or unavailable agent")
    return agent


def settings_from_data(data: dict[str, Any], user: AbstractBaseUser) -> CampaignSettings:
    """Campaign settings from a form's cleaned data or a JSON body. Raises CampaignError."""
    agent = _agent(data, user)
    try:
        gaps = options.gaps_as_list(options.clean_gap_between_retries(data.get("retry_gaps_minutes")))
        start = options.parse_time_of_day(data.get("calling_hours_start"), "calling_hours_start")
        end = options.parse_time_of_day(data.get("calling_hours_end"), "calling_hours_end")
        campaign_settings = CampaignSettings(
            name=str(data.get("name") or "").strip(),
            agent=agent,
            start_at=parse_when(data.get("start_at")),
            calling_hours_start=start or dt.time(9, 0),
            calling_hours_end=end or dt.time(21, 0),
            days_of_week=[int(d) for d in data.get("days_of_week") or []],
            time_zone=str(data.get("time_zone") or ""),
            retry_owner=str(data.get("retry_owner") or CallKaroCampaign.RetryOwner.SCHEDULER),
            max_retries=options.clean_number_of_retries(data.get("max_retries")) or 0,
            retry_gaps_minutes=gaps,
            priority=options.clean_priority(data.get("priority")) or 0,
            pace_per_minute=int(data.get("pace_per_minute") or 10),
            max_concurrent=int(data.get("max_concurrent") or 5),
        )
    except options.CallKaroOptionsInvalid as exc:
        raise CampaignError(exc.message) from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CampaignError):
            raise
        raise CampaignError(f"Bad setting: {exc}") from None
    if campaign_settings.time_zone:
        try:
            ZoneInfo(campaign_settings.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CampaignError("Unknown time zone") from None
    campaign_settings.validate()
    return campaign_settings


def lead_filter_for(data: dict[str, Any], user: AbstractBaseUser) -> LeadFilter:
    """A lead filter from form data or JSON; a rep's assignee choice is dropped (their own leads only)."""
    return lead_filter_for_user(LeadFilter.from_json(data), user)


def audience_rows_csv(rows: Any) -> bytes:
    """The JSON API's ``audience.rows`` as the CSV an upload would have been (one audience format)."""
    if not isinstance(rows, list) or not rows:
        raise CampaignError("audience.rows must be a non-empty list")
    headers = sorted({k for r in rows if isinstance(r, dict) for k in r})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=headers)
    writer.writeheader()
    writer.writerows(r for r in rows if isinstance(r, dict))
    return buf.getvalue().encode()


def audience_spec_from_json(body: dict[str, Any], user: AbstractBaseUser) -> tuple[dict[str, Any], bytes | None]:
    """The JSON API's ``audience``: a description for the campaign row, and the CSV bytes if rows came."""
    spec = body.get("audience") or {}
    if not isinstance(spec, dict):
        raise CampaignError("audience must be an object")
    if "rows" in spec:
        return {"kind": "csv", "file_name": "api-rows.csv"}, audience_rows_csv(spec["rows"])
    if "lead_ids" in spec:
        raise CampaignError("audience.lead_ids is not supported; use audience.filter or audience.rows")
    return {"kind": "filter", "filter": lead_filter_for(spec.get("filter") or {}, user).as_json()}, None


def audience_from_spec(description: dict[str, Any], data: bytes | None, user: AbstractBaseUser) -> CampaignAudience:
    """An audience to preview without saving anything (the JSON API's ``"preview": true``)."""
    if data is not None:
        return CampaignAudience(user=user, csv=audience_csv_parse(data))
    return CampaignAudience(user=user, lead_filter=lead_filter_for(description.get("filter") or {}, user))
