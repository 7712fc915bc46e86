"""The eligibility facts of one dialled call, loaded with its row (``dial_checks.dial_row``).

The bulk path (``eligibility_facts.facts_for``) reads a chunk of leads in a few queries; a dial
has one lead, so the same facts come as annotations on the call-log read: the lead (joined), a
do-not-call hit, the lead's other calls (live, pending, latest AI call reached) per provider and
the calling policy. ``decide`` then runs on them unchanged: the same rule, no extra query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, Exists, OuterRef, Q, Subquery

from crm.models import DoNotCallEntry

from .calling_hours import Window, window_from
from .calls import calls
from .dial_checks import DialNeeds
from .eligibility_facts import LeadFacts, _e164
from .registry import call_log_model, get_provider, provider_names
from .status import LIVE_STATUSES, PENDING_STATUSES, CallStatus

#: Set on a row loaded by ``dial_row`` with these needs: the facts can be read from it.
MARK = "dial_policy_hours"
REACHED = (CallStatus.COMPLETED, *LIVE_STATUSES)


def live_q(now: dt.datetime) -> Q:
    """A call being dialled or on the line (queued counts: it is about to be dialled)."""
    plain = [s for s in (*PENDING_STATUSES, *LIVE_STATUSES) if s not in (CallStatus.SCHEDULED, CallStatus.INITIATED)]
    initiated_now = Q(status=CallStatus.INITIATED) & (Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now))
    return Q(status__in=plain) | initiated_now


def pending_q(now: dt.datetime) -> Q:
    """A call scheduled with us, or handed to the provider with a future ``schedule_at``."""
    return Q(status=CallStatus.SCHEDULED) | Q(status=CallStatus.INITIATED, scheduled_at__gt=now)


def _others(name: str, model: type) -> Any:
    """The same lead's calls in ``name``'s table, without the dialled one."""
    qs = calls(name).filter(lead_id=OuterRef("lead_id"))
    return qs.exclude(pk=OuterRef("pk")) if call_log_model(name) is model else qs


def eligibility_needs(model: type, now: dt.datetime) -> DialNeeds:
    """What ``eligibility.dial_check`` reads: the lead, and its facts as annotations."""
    from .models import CallingPolicy

    policy = CallingPolicy.objects.order_by("pk")
    annotations: dict[str, Any] = {
        MARK: Subquery(policy.values("calling_hours")[:1]),
        "dial_policy_gap": Subquery(policy.values("min_gap_hours")[:1]),
        "dial_dnc": Exists(DoNotCallEntry.objects.filter(phone=OuterRef("lead__phone"))),
    }
    for name in provider_names():
        others = _others(name, model)
        annotations[f"dial_live_{name}"] = Exists(others.filter(live_q(now)))
        annotations[f"dial_pending_{name}"] = Exists(others.filter(pending_q(now)))
        if getattr(get_provider(name), "places_ai_calls", False):
            latest = others.filter(status__in=REACHED, initiated_at__isnull=False).order_by("-initiated_at")
            annotations[f"dial_last_ai_{name}"] = Subquery(
                latest.values("initiated_at")[:1], output_field=DateTimeField()
            )
    return DialNeeds(related=("lead",), annotations=annotations)


def facts_of(call_log: Any) -> tuple[LeadFacts, Window, int | None]:
    """The lead's facts, the calling window and the policy's gap (hours) from a row loaded with the needs."""
    lead = call_log.lead
    names = provider_names()
    last_ai = [getattr(call_log, f"dial_last_ai_{n}", None) for n in names]
    facts = LeadFacts(
        lead.pk,
        name=lead.name,
        e164=_e164(lead.phone, lead.phone_invalid),
        stage=lead.stage,
        time_zone=lead.time_zone,
        do_not_call=lead.do_not_call or call_log.dial_dnc,
        live=any(getattr(call_log, f"dial_live_{n}") for n in names),
        pending=any(getattr(call_log, f"dial_pending_{n}") for n in names),
        last_ai_call_at=max((t for t in last_ai if t is not None), default=None),
    )
    return facts, window_from(getattr(call_log, MARK)), call_log.dial_policy_gap
