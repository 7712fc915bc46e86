"""Reads across providers: a lead's calls from every provider's log (through ``calls``), in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from . import calls
from .outcome_words import (
    Turn,
    call_outcome_words,
    extracted_fields,
    human_call_legs,
    playable_recording,
    post_call_summary,
    transcript_turns,
)
from .status import CallStatus, is_final


@dataclass(frozen=True)
class CallHistoryItem:
    """One call, whichever provider placed it, in the shape the history fragment shows."""

    provider: str
    provider_label: str
    call_log_id: int
    status: str
    status_label: str
    is_final: bool
    raw_status: str
    duration: int | None
    agent: str
    team_member: str
    created_at: datetime
    scheduled_at: datetime | None
    transcript: str
    recording_url: str
    error: str
    provider_call_id: str
    #: Every try the provider reported (``telephony.attempts``): shown when there was more than one.
    tries: tuple = ()
    spoken_agent: str = ""
    outcome: str = ""
    summary: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    turns: tuple[Turn, ...] = ()
    legs: tuple[tuple[str, str], ...] = ()
    wrap_up_form: Any = None  # the wrap-up form, when this call still needs one (set by the page)

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.call_log_id}"

    @property
    def is_human(self) -> bool:
        return bool(self.legs)

    @property
    def needs_polling(self) -> bool:
        """Not final yet, and not a call scheduled well into the future (no point polling for it now)."""
        if self.is_final:
            return False
        if self.status == CallStatus.SCHEDULED and self.scheduled_at is not None:
            return self.scheduled_at <= timezone.now() + timedelta(minutes=5)
        return True


def _agent_label(log) -> str:
    agent = getattr(log, "agent", None)
    if agent is not None and not isinstance(agent, str):
        return str(agent)
    return getattr(log, "agent_number", "") or ""


def _other_agent_spoke(log) -> str:
    """The agent the provider says spoke, when it is not the one we asked for (a transfer)."""
    spoken = getattr(log, "spoken_agent_id", "") or ""
    agent = getattr(log, "agent", None)
    requested = getattr(agent, "agent_id", "") or (log.metadata_sent or {}).get("agent_id", "")
    return spoken if spoken and spoken != requested else ""


def call_history_for_lead(lead, limit: int = 50) -> list[CallHistoryItem]:
    """Newest first, at most ``limit``, from every provider in the registry (``calls.calls_for_lead``)."""
    labels = calls.provider_labels()
    return [
        CallHistoryItem(
            provider=name,
            provider_label=labels[name],
            call_log_id=log.pk,
            status=log.status,
            status_label=CallStatus(log.status).label,
            is_final=is_final(log.status),
            raw_status=log.raw_status,
            duration=log.duration_seconds,
            agent=_agent_label(log),
            team_member=log.team_member.name if log.team_member_id else "",
            created_at=log.created_at,
            scheduled_at=log.scheduled_at,
            transcript=getattr(log, "transcript", "") or "",
            recording_url=playable_recording(getattr(log, "recording_url", "") or ""),
            error=log.error_message,
            provider_call_id=log.provider_call_id or "",
            tries=tuple(getattr(log, "tries", None) or ()),
            spoken_agent=_other_agent_spoke(log),
            outcome=call_outcome_words(name, log),
            summary=post_call_summary(log) if hasattr(log, "post_call") else "",
            fields=tuple(extracted_fields(log)),
            turns=tuple(transcript_turns(getattr(log, "transcript", "") or "")),
            legs=tuple(human_call_legs(log)),
        )
        for name, log in calls.calls_for_lead(lead.pk, limit=limit)
    ]


#: Stored in a webhook event's headers when its secret came as ``?token=`` (the fallback) instead of
#: the ``X-Webhook-Token`` header: the secret then sits in every access log on the way.
QUERY_TOKEN_MARK = "token_via"
QUERY_TOKEN_RECENT = timedelta(days=7)


def webhook_query_token_last_seen(provider: str, *, now: datetime | None = None) -> datetime | None:
    """When an authenticated webhook last arrived with its secret in the URL (within a week), else None."""
    from .models import ProviderWebhookEvent

    since = (now or timezone.now()) - QUERY_TOKEN_RECENT
    rows = ProviderWebhookEvent.objects.filter(provider=provider, is_authenticated=True, received_at__gte=since)
    marked = rows.filter(**{f"headers__{QUERY_TOKEN_MARK}": "query"}).order_by("-received_at")
    return marked.values_list("received_at", flat=True).first()
