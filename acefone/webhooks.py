"""Acefone webhook bodies (built from its variables, see docs/webhooks.md) → normalised CallEvents.

Acefone rings the rep (agent) first, then the customer, so a missed call is either "the agent
did not answer" or "the customer did not answer"; ``agent_answered``/``customer_answered`` say which.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from telephony.base import CallEvent
from telephony.payload import WebhookPayloadError, as_datetime, as_id, as_int, as_str, as_url, digits, stable_key
from telephony.status import CallStatus

__all__ = ["WebhookPayloadError", "call_records_reconcile", "parse_payload"]

logger = logging.getLogger(__name__)
PROVIDER = "acefone"

#: Acefone's hang-up causes (FreeSWITCH/Q.850 names; the dashboard may spell them ``NormalClearing``),
#: read once the agent answered and the customer did not talk. ``cause_key`` normalises the spelling;
#: a cause not listed here leaves the missed call a no-answer, with the raw value kept.
HANGUP_CAUSE_STATUS: dict[str, str] = {
    "USER_BUSY": CallStatus.BUSY,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "NO_USER_RESPONSE": CallStatus.NO_ANSWER,
    "CALL_REJECTED": CallStatus.NO_ANSWER,
    "ORIGINATOR_CANCEL": CallStatus.NO_ANSWER,
    "NORMAL_CLEARING": CallStatus.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallStatus.NO_ANSWER,
    "ALLOTTED_TIMEOUT": CallStatus.NO_ANSWER,
    "UNALLOCATED_NUMBER": CallStatus.FAILED,
    "INVALID_NUMBER_FORMAT": CallStatus.FAILED,
    "NO_ROUTE_DESTINATION": CallStatus.FAILED,
    "NETWORK_OUT_OF_ORDER": CallStatus.FAILED,
    "NORMAL_TEMPORARY_FAILURE": CallStatus.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.FAILED,
}


def cause_key(value: Any) -> str:
    """``NormalClearing``, ``normal_clearing``, ``NORMAL CLEARING`` -> ``NORMAL_CLEARING``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", as_str(value, 60))
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def hangup_cause_stored(value: Any) -> str:
    """A known cause in its one spelling (so outcome rules match it); an unknown one exactly as sent."""
    key = cause_key(value)
    return key if key in HANGUP_CAUSE_STATUS else as_str(value, 60)


#: Values of our ``event`` field (the literal set per trigger in Acefone's dashboard).
ANSWERED_EVENTS = {"agent_answered", "answered", "call_answered"}
_KNOWN_KEYS = {"call_id", "uuid", "ref_id", "call_status", "custom_identifier", "hangup_cause", "call_to_number"}


def _zone() -> str:
    return settings.ACEFONE_TIME_ZONE or settings.TIME_ZONE


def _classify(item: dict[str, Any], kind: str) -> tuple[str, bool | None, bool | None]:
    """(status, agent_answered, customer_answered) for one Acefone event."""
    agent_number = as_str(item.get("answered_agent_number"))
    call_status = as_str(item.get("call_status")).lower()
    billsec = as_int(item.get("billsec"))
    cause = cause_key(item.get("hangup_cause"))
    if kind == "answered":
        # The agent picked up; Acefone now rings the customer.
        return CallStatus.RINGING, True, None
    if call_status not in {"answered", "missed"}:
        return CallStatus.UNKNOWN, (True if agent_number else None), None
    talked = (billsec or 0) > 0 if billsec is not None else call_status == "answered"
    if call_status == "answered" and talked:
        return CallStatus.COMPLETED, True, True
    if not agent_number:
        return CallStatus.NO_ANSWER, False, None  # the rep never picked up: the customer was not rung
    return HANGUP_CAUSE_STATUS.get(cause, CallStatus.NO_ANSWER), True, False


def _parse_one(item: Any) -> CallEvent:
    if not isinstance(item, dict) or not (_KNOWN_KEYS & item.keys()):
        raise WebhookPayloadError("Not an Acefone event: expected the variables listed in docs/webhooks.md")
    zone = _zone()
    event_name = as_str(item.get("event") or item.get("trigger")).lower()
    has_end = bool(as_str(item.get("end_stamp")) or as_str(item.get("hangup_cause")))
    kind = "answered" if event_name in ANSWERED_EVENTS or (not event_name and not has_end) else "hangup"
    status, agent_answered, customer_answered = _classify(item, kind)
    billsec = as_int(item.get("billsec"))
    billsec = billsec if billsec is not None and 0 <= billsec < 10**7 else None
    duration = as_int(item.get("duration"))
    duration = duration if duration is not None and 0 <= duration < 10**7 else None
    started = as_datetime(item.get("start_stamp"), zone)
    answered = as_datetime(item.get("answer_stamp"), zone)
    ended = as_datetime(item.get("end_stamp"), zone)
    call_id = as_str(item.get("call_id"), 100)
    uuid = as_str(item.get("uuid"), 64)
    #: The click-to-call answer's ``ref_id`` is what we stored as the provider reference: match on it first.
    ref_id = as_str(item.get("ref_id"), 100)
    extras: dict[str, Any] = {
        "hangup_cause": hangup_cause_stored(item.get("hangup_cause")),
        "billsec": billsec,
        "agent_answered": agent_answered,
        "customer_answered": customer_answered,
        "recording_url": as_url(item.get("recording_url")),
        "call_uuid": uuid,
        # Hints for matching a call sent without custom_identifier (not stored on the log).
        "match_number": digits(item.get("call_to_number")),
        "match_agent_number": digits(item.get("answered_agent_number")),
        "match_time": started or answered or ended,
    }
    if customer_answered and answered:
        extras["answered_at"] = answered
    if kind == "hangup" and ended:
        extras["ended_at"] = ended
    raw_status = as_str(item.get("call_status"), 60) or kind
    return CallEvent(
        provider=PROVIDER,
        status=status,
        raw_status=raw_status,
        call_log_id=as_id(item.get("custom_identifier")),
        provider_call_id=ref_id or call_id or uuid,
        duration=billsec if billsec is not None else (duration if status == CallStatus.COMPLETED else 0),
        occurred_at=ended or answered or started,
        dedup_key=stable_key(
            "af",
            ref_id or call_id or uuid,
            as_str(item.get("custom_identifier")),
            kind,
            raw_status.lower(),
            digits(item.get("call_to_number")),
            billsec,
            extras["hangup_cause"],
            extras["recording_url"],
        ),
        extras=extras,
        raw=item,
    )


def parse_payload(payload: Any) -> list[CallEvent]:
    """Every event in an Acefone webhook body (one object, or a list of them)."""
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > 100:
        raise WebhookPayloadError("Expected between 1 and 100 events")
    return [_parse_one(item) for item in items]


#: Names the call-records API may use for the webhook variables (records are parsed like webhooks).
RECORD_ALIASES = {
    "call_to_number": ("client_number", "customer_number", "destination_number", "to_number"),
    "answered_agent_number": ("agent_number", "answered_agent"),
    "start_stamp": ("start_time", "date_time", "start_date"),
    "answer_stamp": ("answer_time",),
    "end_stamp": ("end_time", "end_date"),
    "call_status": ("status",),
    "recording_url": ("recording",),
    "custom_identifier": ("custom_id",),
}


def _record_as_event_body(record: dict[str, Any]) -> dict[str, Any]:
    body = {**record, "event": "hangup"}
    for name, aliases in RECORD_ALIASES.items():
        for alias in aliases:
            if body.get(name) in (None, "") and body.get(alias) not in (None, ""):
                body[name] = record[alias]
    return body


def call_records_reconcile(*, call_logs: list, fetch_records: Callable[..., list[dict]]) -> int:
    """Settle stuck Acefone calls from the call-records API; returns how many records changed a call.

    Records go through the same parser and the same forward-only apply as webhooks (matched by
    custom_identifier when present, else by number and time). Provider errors propagate: the
    caller then marks the calls ``unknown`` for a person to check. ``fetch_records(since, until, page,
    limit)`` is the provider's own call-records read, passed in so that parsing never imports the provider.
    """
    if not call_logs:
        return 0
    from telephony.errors import ProviderConfigError
    from telephony.events import call_event_apply

    since = min(log.created_at for log in call_logs) - timedelta(minutes=5)
    until = timezone.now()
    applied = 0
    for page in range(1, 21):
        try:
            records = fetch_records(since, until, page, 100) or []
        except ProviderConfigError as exc:
            logger.warning("Cannot reconcile stuck Acefone calls: %s", exc)
            return applied
        for record in records:
            if not isinstance(record, dict):
                continue
            try:
                events = parse_payload(_record_as_event_body(record))
            except WebhookPayloadError:
                continue
            for event in events:
                applied += call_event_apply(provider=PROVIDER, event=event) == "applied"
        if len(records) < 100:
            break
    return applied
