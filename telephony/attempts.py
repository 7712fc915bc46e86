"""Every try a provider reports for one call, kept on its call log (``tries``), so a later try never
overwrites a human-visible outcome without a trace.

Call Karo may retry, reschedule or transfer a call on its own: each ``call_ended`` then carries a
``try_count`` (and often a ``callSid`` we never saw). Each report gets one entry, keyed by
(try, provider call id); a copy of the same report completes its entry. The call's headline outcome
is the latest try that reached the person, else the latest try (``try_takes_over``).
Only call logs with a ``tries`` field (Call Karo's) keep them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from .base import CallEvent
from .status import FINAL_STATUSES, CallStatus

#: Extras copied into an attempt's entry (what a person needs to see what that try did).
ENTRY_EXTRAS = (
    "hangup_reason",
    "spoken_agent_id",
    "next_call_scheduled",
    "converted",
    "disposition",
    "post_call",
    "recording_url",
    "call_link",
)
TRANSCRIPT_EXCERPT = 1000


def tracks_attempts(log: Any) -> bool:
    return any(f.name == "tries" for f in log._meta.concrete_fields)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def attempt_entry(event: CallEvent) -> dict[str, Any]:
    """One try's report as a JSON-ready entry."""
    entry: dict[str, Any] = {
        "try_count": event.try_count or 0,
        "call_sid": event.provider_call_id,
        "status": event.status,
        "raw_status": event.raw_status,
        "duration": event.duration,
        "ended_at": _plain(event.extras.get("ended_at") or event.occurred_at),
        "recorded_at": timezone.now().isoformat(),
    }
    for name in ENTRY_EXTRAS:
        value = event.extras.get(name)
        if value not in (None, "", {}, []):
            entry[name] = _plain(value)
    transcript = event.extras.get("transcript") or ""
    if transcript:
        entry["transcript_excerpt"] = transcript[:TRANSCRIPT_EXCERPT]
    return entry


def attempt_record(log: Any, event: CallEvent) -> bool:
    """Add this report's entry to ``log.tries`` (or fill in its entry from a richer copy); True if it changed.

    Only call reports (a final status) of logs that keep tries are recorded.
    """
    if not tracks_attempts(log) or not event.changes_call or event.status not in FINAL_STATUSES:
        return False
    new = attempt_entry(event)
    tries = [dict(entry) for entry in (log.tries or [])]
    for entry in tries:
        if (entry.get("try_count"), entry.get("call_sid")) == (new["try_count"], new["call_sid"]):
            missing = {k: v for k, v in new.items() if k != "recorded_at" and entry.get(k) in (None, "", {}, [])}
            if not missing:
                return False
            entry.update(missing)
            break
    else:
        tries.append(new)
    log.tries = sorted(tries, key=lambda entry: (entry.get("try_count") or 0, entry.get("recorded_at") or ""))
    return True


def try_takes_over(log: Any, try_count: int, status: str) -> bool:
    """Whether another try's report becomes the call's headline outcome (else it is only an attempt).

    The headline is the try that reached the person, the latest such; with none, the latest try.
    That order, (reached, try), is total, so reports arriving in any order end in the same call.
    """
    reached, log_reached = status == CallStatus.COMPLETED, log.status == CallStatus.COMPLETED
    if reached != log_reached:
        return reached
    return try_count > log.try_count
