"""Call Karo webhook bodies → normalised CallEvents.

Call Karo sends no status: the outcome comes from ``hangup_reason`` and the duration, through
the one table below. Anything we don't recognise becomes ``unknown`` with the raw value kept.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings

from telephony.base import CallEvent
from telephony.payload import (
    WebhookPayloadError,
    as_bool,
    as_datetime,
    as_dict,
    as_id,
    as_int,
    as_str,
    as_url,
    stable_key,
)
from telephony.status import CallStatus

__all__ = ["HANGUP_REASON_STATUS", "SETTLING_EVENT", "WebhookPayloadError", "hangup_status", "parse_payload"]

PROVIDER = "callkaro"
#: A connected reason means the customer picked up; it is a completed call only with talk time.
CONNECTED = "connected"

#: The one mapping from ``hangup_reason`` to our status. DELETED_SCH_CALL_* is matched by prefix.
HANGUP_REASON_STATUS: dict[str, str] = {
    "CLIENT_INITIATED": CONNECTED,
    "PARTICIPANT_REMOVED": CONNECTED,
    "SESSION_TIMEOUT": CONNECTED,
    "USER_UNAVAILABLE": CallStatus.NO_ANSWER,
    "USER_UNRESPONSIVE": CallStatus.NO_ANSWER,
    "USER_REJECTED": CallStatus.NO_ANSWER,
    "VOICEMAIL_DETECTED": CallStatus.NO_ANSWER,
    "INVALID_PHONE_NUMBER": CallStatus.FAILED,
    # Outside the agent's calling window: nobody was reached; our retry policy decides what next.
    "OUTSIDE_TRIGGER_WINDOW": CallStatus.NO_ANSWER,
    "PRE_CALL_FN_FAILED": CallStatus.FAILED,
    "DELETED_SCH_CALL_": CallStatus.CANCELLED,
    "UNKNOWN": CallStatus.UNKNOWN,
}

#: The simple form from the original integration notes.
SIMPLE_STATUS: dict[str, str] = {
    "completed": CallStatus.COMPLETED,
    "failed": CallStatus.FAILED,
    "missed": CallStatus.NO_ANSWER,
    "no_answer": CallStatus.NO_ANSWER,
    "busy": CallStatus.BUSY,
    "cancelled": CallStatus.CANCELLED,
}


def hangup_status(reason: str, duration: int | None) -> str:
    """Our status for a hang-up reason; a connected reason without talk time is a no-answer."""
    key = reason.strip().upper()
    status = HANGUP_REASON_STATUS.get(key)
    if status is None and key.startswith("DELETED_SCH_CALL_"):
        status = HANGUP_REASON_STATUS["DELETED_SCH_CALL_"]
    if status == CONNECTED:
        return CallStatus.COMPLETED if (duration or 0) > 0 else CallStatus.NO_ANSWER
    return status or CallStatus.UNKNOWN


def _zone() -> str:
    """Read once per body, from the config cached in this process (no query per webhook)."""
    try:
        from .config import get_effective_config_cached

        return get_effective_config_cached().time_zone
    except Exception:  # noqa: BLE001 - a config problem must not lose the event
        return settings.CALLKARO_TIME_ZONE


def _ended_event(data: dict[str, Any], envelope: dict[str, Any], zone: str) -> CallEvent:
    duration = as_int(data.get("call_duration"))
    duration = duration if duration is not None and 0 <= duration < 10**7 else None
    reason = as_str(data.get("hangup_reason"), 40)
    metadata = as_dict(data.get("call_metadata"))
    try_count = as_int(data.get("try_count"))
    try_count = try_count if try_count is not None and 0 <= try_count < 1000 else None
    started = as_datetime(data.get("time"), zone)
    call_sid = as_str(data.get("callSid") or data.get("call_sid") or data.get("call_id"), 100)
    status = hangup_status(reason, duration)
    extras: dict[str, Any] = {
        "hangup_reason": reason,
        "transcript": as_str(data.get("transcription") or data.get("transcript")),
        "recording_url": as_url(data.get("recordingUrl") or data.get("recording_url")),
        "call_link": as_url(data.get("call_link")),
        "disposition": as_str(data.get("disposition_reason"), 300),
        "converted": as_bool(data.get("conversion_status")),
        "post_call": as_dict(data.get("post_call")),
        "post_call_detail": as_dict(data.get("post_call_detail")),
        # Call Karo may hand the call to another agent, or retry it on its own: both are kept.
        "spoken_agent_id": as_str(data.get("agent"), 100),
        "next_call_scheduled": as_bool(data.get("next_call_scheduled")),
    }
    # ``time`` is read as the call's start, so the end is start + talk time.
    if started is not None and status != CallStatus.UNKNOWN:
        extras["ended_at"] = started + timedelta(seconds=duration or 0)
        if status == CallStatus.COMPLETED:
            extras["answered_at"] = started
    # Account- and agent-level copies are byte-different (order, numbers as strings) but their
    # normalised fields are equal. The content is part of the key, so a later, richer delivery of
    # the same call (a transcript that was empty) is applied and fills in what is missing.
    content = json.dumps(
        [duration, {k: v for k, v in extras.items() if k not in ("ended_at", "answered_at")}],
        sort_keys=True,
        default=str,
    )
    key = stable_key(
        "ck",
        call_sid or f"log-{as_id(metadata.get('call_log_id'))}-{as_str(data.get('to'))}-{as_str(data.get('time'))}",
        try_count or 0,
        reason.upper(),
        hashlib.sha256(content.encode()).hexdigest(),
    )
    return CallEvent(
        provider=PROVIDER,
        status=status,
        raw_status=reason or as_str(envelope.get("event"), 60),
        call_log_id=as_id(metadata.get("call_log_id")),
        provider_call_id=call_sid,
        duration=duration,
        occurred_at=started,
        try_count=try_count,
        dedup_key=key[:200],
        extras=extras,
        raw=envelope,
    )


def _simple_event(item: dict[str, Any]) -> CallEvent:
    raw_status = as_str(item.get("status"), 60)
    duration = as_int(item.get("duration"))
    duration = duration if duration is not None and 0 <= duration < 10**7 else None
    status = SIMPLE_STATUS.get(raw_status.lower(), CallStatus.UNKNOWN)
    call_id = as_str(item.get("call_id"), 100)
    metadata = as_dict(item.get("call_metadata") or item.get("metadata"))
    return CallEvent(
        provider=PROVIDER,
        status=status,
        raw_status=raw_status,
        call_log_id=as_id(metadata.get("call_log_id") or item.get("call_log_id")),
        provider_call_id=call_id,
        duration=duration,
        dedup_key=stable_key("ck-simple", call_id, raw_status.lower(), duration),
        raw=item,
    )


#: The one event that settles a call. Every other event is stored and changes nothing.
SETTLING_EVENT = "call_ended"


def _informational_event(name: str, data: dict[str, Any], envelope: dict[str, Any]) -> CallEvent:
    """``call_started``, ``message_*``, ``template_sent`` or anything new: kept, never applied."""
    metadata = as_dict(data.get("call_metadata") or data.get("metadata"))
    call_sid = as_str(data.get("callSid") or data.get("call_sid"), 100)
    content = hashlib.sha256(json.dumps(envelope, sort_keys=True, default=str).encode()).hexdigest()
    return CallEvent(
        provider=PROVIDER,
        status=CallStatus.UNKNOWN,
        raw_status=name,
        call_log_id=as_id(metadata.get("call_log_id")),
        provider_call_id=call_sid,
        dedup_key=stable_key("ck-info", name, call_sid, content)[:200],
        raw=envelope,
        changes_call=False,
    )


def _parse_one(item: Any, zone: str) -> CallEvent:
    if not isinstance(item, dict):
        raise WebhookPayloadError("A Call Karo event must be a JSON object")
    data = item.get("data")
    name = as_str(item.get("event"), 60)
    if name and name.lower() != SETTLING_EVENT:
        return _informational_event(name, data if isinstance(data, dict) else {}, item)
    if isinstance(data, dict):
        return _ended_event(data, item, zone)
    if "callSid" in item or "hangup_reason" in item:  # the data object posted without its envelope
        return _ended_event(item, item, zone)
    if ("call_id" in item or "call_log_id" in item) and "status" in item:
        return _simple_event(item)
    raise WebhookPayloadError("Not a Call Karo event: expected {'event', 'data'} or {'call_id', 'status'}")


def parse_payload(payload: Any) -> list[CallEvent]:
    """Every event in a Call Karo webhook body (one object, or a list of them)."""
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > 100:
        raise WebhookPayloadError("Expected between 1 and 100 events")
    zone = _zone()
    return [_parse_one(item, zone) for item in items]
