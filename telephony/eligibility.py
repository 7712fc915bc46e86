"""The one eligibility rule: may this lead be called now, through this provider, by this user, and if
not, why and when (calling policy, docs/architecture.md).

Every surface asks here: a rep's click (``call_place``), campaign preview and launch, the dial-time
check (``dial_check``, registered in ``TelephonyConfig.ready``), the JSON APIs and new-lead
auto-calls. ``eligibility_many`` gathers the facts for a whole chunk in a few queries; the decision
itself (``decide``) is one pure function, so a single lead and a 50,000-row campaign obey the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.utils import timezone

from crm.models import LeadStage

from .calling_hours import Window, calling_window, inside_hours, next_opening
from .eligibility_facts import LeadFacts, facts_for, parsed_number

REP_CLICK, SCHEDULED, CAMPAIGN, AUTO_CALL, API = "rep_click", "scheduled", "campaign", "auto_call", "api"
PURPOSES = (REP_CLICK, SCHEDULED, CAMPAIGN, AUTO_CALL, API)
#: Stages a person closed: campaigns and auto-calls leave them alone; a rep may still call by hand.
CLOSED_STAGES = frozenset({LeadStage.CONVERTED, LeadStage.NOT_INTERESTED, LeadStage.DEAD})
BY_HAND = frozenset({REP_CLICK, SCHEDULED, API})

#: Reason code -> the message a person reads ({name} is the lead's name).
REASONS: dict[str, str] = {
    "no_lead": "The lead no longer exists.",
    "not_owner": "{name} is not among the leads this call may reach (reassigned or another member's).",
    "do_not_call": "{name} is on the do-not-call list.",
    "no_number": "{name} has no valid phone number.",
    "closed_stage": "{name} is {stage}: campaigns and automatic calls leave closed leads alone.",
    "country_not_allowed": "{name}'s number is outside the countries AI calls may reach.",
    "landline": "{name}'s number is an Indian landline: AI calls go to mobiles only.",
    "in_flight": "{name} already has a call queued or in progress.",
    "pending_call": "{name} already has a call scheduled or pending.",
    "min_gap": "{name} had an AI call less than {gap} h ago.",
    "outside_hours": "Outside calling hours ({window}) in {name}'s time zone.",
}


@dataclass(frozen=True)
class Eligibility:
    """The answer. ``next_allowed_at``: when a refused call could be placed (hours, gap), if known;
    ``needs_confirmation``: a person may still go ahead (a human call outside hours)."""

    allowed: bool
    reason_code: str = ""
    message: str = ""
    next_allowed_at: dt.datetime | None = None
    needs_confirmation: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Eligibility(True)


def provider_places_ai_calls(provider: str) -> bool:
    """Whether ``provider``'s calls are AI calls (the country and landline rules apply to them)."""
    from .registry import get_provider

    return bool(getattr(get_provider(provider), "places_ai_calls", False))


def number_refusal(e164: str, *, ai: bool) -> str:
    """Country and number-type rules: "" when the number may be dialled by this kind of call."""
    if not ai or not e164:
        return ""
    parsed = parsed_number(e164)
    if parsed is None:
        return "country_not_allowed"
    region = phonenumbers.region_code_for_number(parsed) or ""
    allowed = {c.strip().upper() for c in settings.CALLING_ALLOWED_COUNTRIES if c.strip()}
    if region.upper() not in allowed:
        return "country_not_allowed"
    if region == "IN" and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        return "landline"
    return ""


def _refuse(code: str, facts: LeadFacts, **extra: Any) -> Eligibility:
    values = {"name": facts.name or "The lead", "stage": facts.stage_label.lower(), **extra}
    message = REASONS[code].format(**{k: values.get(k, "") for k in ("name", "stage", "gap", "window")})
    return Eligibility(False, code, message, extra.get("next_allowed_at"), bool(extra.get("confirm")))


def decide(
    facts: LeadFacts,
    *,
    purpose: str,
    ai: bool,
    at: dt.datetime | None,
    window: Window | None = None,
    gap: dt.timedelta | None = None,
    confirmed: bool = False,
) -> Eligibility:
    """The rule, on facts already gathered (no queries), in the order a person would ask.

    With no ``at``, only the rules that hold whatever the moment: what a campaign settles for its
    audience at launch. The moment's rules (a call live or pending, the gap, the hours) come last,
    and the dial-time check asks them just before each dial.
    """
    if not facts.exists:
        return _refuse("no_lead", facts)
    if not facts.visible:
        return _refuse("not_owner", facts)
    if facts.do_not_call:
        return _refuse("do_not_call", facts)
    if not facts.e164:
        return _refuse("no_number", facts)
    if purpose not in BY_HAND and facts.stage in CLOSED_STAGES:
        return _refuse("closed_stage", facts)
    number = number_refusal(facts.e164, ai=ai)
    if number:
        return _refuse(number, facts)
    if at is None:
        return ALLOWED
    if facts.live:
        return _refuse("in_flight", facts)
    if facts.pending and purpose not in (REP_CLICK, API):
        return _refuse("pending_call", facts)  # a rep's call now supersedes a pending one instead
    if ai and facts.last_ai_call_at and at - facts.last_ai_call_at < gap:
        later = facts.last_ai_call_at + gap
        if not inside_hours(facts.time_zone, later, window):
            later = next_opening(facts.time_zone, later, window)
        return _refuse("min_gap", facts, gap=int(gap.total_seconds() // 3600), next_allowed_at=later)
    if not inside_hours(facts.time_zone, at, window):
        opening = next_opening(facts.time_zone, at, window)
        if not ai:
            if confirmed:
                return ALLOWED
            return _refuse("outside_hours", facts, window=str(window), next_allowed_at=opening, confirm=True)
        return _refuse("outside_hours", facts, window=str(window), next_allowed_at=opening)
    return ALLOWED


def min_gap() -> dt.timedelta:
    from .models import CallingPolicy

    return gap_from(CallingPolicy.objects.values_list("min_gap_hours", flat=True).first())


def gap_from(policy_hours: int | None) -> dt.timedelta:
    """The minimum gap between AI calls for the policy row's value (None: the setting's)."""
    return dt.timedelta(hours=settings.CALL_MIN_GAP_HOURS if policy_hours is None else policy_hours)


def eligibility_many(
    leads: Iterable[Any],
    *,
    provider: str,
    user: Any = None,
    purpose: str,
    at: dt.datetime | None = None,
    exclude_call: tuple[str, int] | None = None,
    confirmed: bool = False,
    moment: bool = True,
) -> dict[int, Eligibility]:
    """The rule for many leads (ids or Lead rows), by lead id, in a handful of queries.

    ``moment=False``: the standing rules only (``decide`` with no ``at``), so neither the leads'
    calls nor the calling policy are read.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown purpose {purpose!r}")
    ai = provider_places_ai_calls(provider)
    if not moment:
        facts = facts_for(leads, user=user, since=None)
        return {lead_id: decide(f, purpose=purpose, ai=ai, at=None) for lead_id, f in facts.items()}
    at = at or timezone.now()
    window, gap = calling_window(), min_gap()
    facts = facts_for(leads, user=user, since=at - gap, exclude_call=exclude_call)
    return {
        lead_id: decide(f, purpose=purpose, ai=ai, at=at, window=window, gap=gap, confirmed=confirmed)
        for lead_id, f in facts.items()
    }


def call_eligibility(
    *,
    lead: Any,
    provider: str,
    user: Any = None,
    purpose: str,
    at: dt.datetime | None = None,
    exclude_call: tuple[str, int] | None = None,
    confirmed: bool = False,
) -> Eligibility:
    """May ``lead`` be called at ``at`` (now by default) through ``provider``, by ``user``, for ``purpose``?"""
    lead_id = getattr(lead, "pk", lead)
    answers = eligibility_many(
        [lead],
        provider=provider,
        user=user,
        purpose=purpose,
        at=at,
        exclude_call=exclude_call,
        confirmed=confirmed,
    )
    return answers[lead_id]


def purpose_of(call_log: Any) -> str:
    """Why a stored call exists, read back from the row (the dial-time check has only the row)."""
    if getattr(call_log, "campaign_id", None):
        return CAMPAIGN
    if (call_log.metadata_sent or {}).get("trigger") in ("speed_to_lead", "callback"):
        return AUTO_CALL
    return SCHEDULED if call_log.scheduled_at else REP_CLICK


def dial_check(call_log: Any) -> str | None:
    """Pre-dial check: the same rule, re-asked just before the dial (the lead may have changed).

    A human call's hours were confirmed by the rep when placed, so it is not asked again.
    """
    from .registry import call_log_model, provider_names

    provider = next((name for name in provider_names() if isinstance(call_log, call_log_model(name))), "")
    if not provider:
        return None
    from . import dial_facts

    if hasattr(call_log, dial_facts.MARK):  # loaded by the dispatch with its facts: decided with no query
        facts, window, gap_hours = dial_facts.facts_of(call_log)
        answer = decide(
            facts,
            purpose=purpose_of(call_log),
            ai=provider_places_ai_calls(provider),
            at=timezone.now(),
            window=window,
            gap=gap_from(gap_hours),
            confirmed=True,
        )
        return None if answer.allowed else answer.message
    answer = call_eligibility(
        lead=call_log.lead_id,
        provider=provider,
        purpose=purpose_of(call_log),
        exclude_call=(provider, call_log.pk),
        confirmed=True,
    )
    return None if answer.allowed else answer.message
