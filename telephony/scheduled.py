"""A scheduled call never locks a lead: it can be cancelled, moved, or superseded by a rep's call now."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone

from crm.models import LeadActivity, TeamMember

from .calls import calls
from .eligibility import SCHEDULED, call_eligibility
from .errors import TelephonyError
from .registry import provider_names
from .services import CallNotAllowed, call_cancel
from .status import CallStatus

logger = logging.getLogger("telephony.scheduled")


def pending_scheduled_calls(lead_id: int) -> list[tuple[str, Any]]:
    """The lead's calls waiting for a later time (held by us, or handed to the provider with a schedule)."""
    now = timezone.now()
    found: list[tuple[str, Any]] = []
    for name in provider_names():
        qs = calls(name, lead_id=lead_id).filter(
            Q(status=CallStatus.SCHEDULED) | Q(status=CallStatus.INITIATED, scheduled_at__gt=now)
        )
        found += [(name, log) for log in qs.order_by("scheduled_at", "id")]
    return found


def scheduled_call_cancel(*, provider: str, call_log: Any, reason: str, actor: TeamMember | None = None) -> bool:
    """Cancel one pending call with its reason (withdrawn at the provider where it was handed over)."""
    call_cancel(provider=provider, call_log=call_log)
    call_log.refresh_from_db()
    if call_log.status != CallStatus.CANCELLED:
        return False
    type(call_log).objects.filter(pk=call_log.pk).update(skip_reason=reason[:200])
    LeadActivity.objects.create(
        lead_id=call_log.lead_id,
        kind=LeadActivity.Kind.CALL,
        actor=actor,
        call_ref=f"{provider}:{call_log.pk}",
        message=f"Scheduled call cancelled: {reason}"[:300],
    )
    return True


def lead_pending_calls_supersede(*, lead_id: int, reason: str) -> int:
    """A rep's call now wins over the lead's pending scheduled or campaign calls; returns how many went."""
    cancelled = 0
    for provider, log in pending_scheduled_calls(lead_id):
        try:
            cancelled += scheduled_call_cancel(provider=provider, call_log=log, reason=reason)
        except (TelephonyError, CallNotAllowed) as exc:
            logger.warning("Could not withdraw %s call %s: %s", provider, log.pk, exc)
    return cancelled


def scheduled_call_move(*, provider: str, call_log: Any, at: dt.datetime, actor: TeamMember | None = None) -> Any:
    """Move a call we still hold to another time, inside the rules (CallNotAllowed otherwise)."""
    if call_log.status != CallStatus.SCHEDULED:
        raise CallNotAllowed("Only a call still waiting for its time can be moved", code="in_flight")
    answer = call_eligibility(
        lead=call_log.lead_id, provider=provider, purpose=SCHEDULED, at=at, exclude_call=(provider, call_log.pk)
    )
    if not answer.allowed:
        raise CallNotAllowed(answer.message, code=answer.reason_code, next_allowed_at=answer.next_allowed_at)
    moved = (
        type(call_log)
        .objects.filter(pk=call_log.pk, status=CallStatus.SCHEDULED)
        .update(scheduled_at=at, updated_at=timezone.now())
    )
    if not moved:
        raise CallNotAllowed("The call has just started and can no longer be moved", code="in_flight")
    LeadActivity.objects.create(
        lead_id=call_log.lead_id,
        kind=LeadActivity.Kind.CALL,
        actor=actor,
        call_ref=f"{provider}:{call_log.pk}",
        message=f"Scheduled call moved to {timezone.localtime(at):%d %b %H:%M}",
    )
    call_log.refresh_from_db()
    return call_log
