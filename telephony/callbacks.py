"""A callback the customer asked for on a call: a follow-up for the lead's rep at that time, and, when
the outcome rule says so, an AI call scheduled then (moved inside calling hours)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm.models import FollowUp, Lead, LeadActivity
from crm.services import follow_up_create

from .base import CallOptions
from .calling_hours import inside_hours, next_opening
from .eligibility import AUTO_CALL
from .models import CallOutcomeRule
from .registry import get_provider

logger = logging.getLogger("telephony.callbacks")


def _provider_zone(provider: str) -> ZoneInfo:
    name = settings.CALLKARO_TIME_ZONE if provider == "callkaro" else settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def callback_time(value: Any, *, provider: str) -> dt.datetime | None:
    """The asked-for time: an ISO or ``YYYY-MM-DD HH:MM[:SS]`` value; without a zone, the provider's."""
    if not isinstance(value, str) or not value.strip():
        return None
    parsed = parse_datetime(value.strip())
    if parsed is None:
        return None
    return parsed.replace(tzinfo=_provider_zone(provider)) if timezone.is_naive(parsed) else parsed


def callback_apply(*, rule: CallOutcomeRule, call_log: Any, provider: str, lead: Lead) -> list[str]:
    """Create the follow-up (once per call) and, if the rule says so, the AI call. Returns what changed."""
    from .outcomes import _post_call_value

    at = callback_time(_post_call_value(call_log, rule.post_call_key), provider=provider)
    if at is None or at <= timezone.now():
        return []
    call_ref = f"{provider}:{call_log.pk}"
    owner = lead.assigned_to or getattr(call_log, "team_member", None)
    existed = FollowUp.objects.filter(lead=lead, call_ref=call_ref).exists()
    follow_up_create(
        lead=lead,
        due_at=at,
        owner=owner,
        note="Callback asked for on the AI call",
        source=FollowUp.Source.AI_CALLBACK,
        call_ref=call_ref,
        actor_label="AI call outcome",
    )
    changes = [] if existed else [f"follow_up={at.isoformat()}"]
    if rule.schedule_ai_call and not existed and getattr(get_provider(provider), "places_ai_calls", False):
        changes += _callback_call_schedule(call_log=call_log, provider=provider, lead=lead, at=at, owner=owner)
    return changes


def _callback_call_schedule(*, call_log: Any, provider: str, lead: Lead, at: dt.datetime, owner: Any) -> list[str]:
    from .services import CallNotAllowed, call_place

    when = at if inside_hours(lead.time_zone, at) else next_opening(lead.time_zone, at)
    agent = getattr(getattr(call_log, "agent", None), "agent_id", "") or ""
    options = CallOptions(agent_id=agent, schedule_at=when, metadata={"trigger": "callback"})
    try:
        outcome = call_place(
            provider=provider, lead=lead, team_member=owner, options=options, dispatch="async", purpose=AUTO_CALL
        )
    except CallNotAllowed as exc:
        LeadActivity.objects.create(
            lead=lead,
            kind=LeadActivity.Kind.CALL,
            actor_label="AI call outcome",
            call_ref=f"{provider}:{call_log.pk}",
            message=f"Callback AI call not scheduled: {exc.message}"[:300],
        )
        return []
    return [f"callback_call={outcome.call_log.pk}"]
