"""What the Call Karo sandbox posts back after a call: every report and event, in the real service's ways.

One call can produce: ``call_started``; the first try's ``call_ended``; later tries' reports (new
``callSid``, ``try_count`` 1..N, ``next_call_scheduled`` on all but the last) when ``number_of_retries``
asks for them or the ``later_tries`` fault forces them, spaced by ``gap_between_retries`` (each
minute lasting ``SANDBOX_RETRY_MINUTE_SECONDS`` here); message events; and a report for a call
nobody asked for. The faults in ``telephony.sandbox.FAULT_KEYS`` switch each on.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from telephony.sandbox import pick_outcome, send_twice

from .config import get_effective_config

FROM_NUMBER = "918069000000"
TRANSCRIPTS = [
    "AI: Namaste, am I speaking with {name}? User: Yes. AI: You enquired about a 2BHK in Whitefield. "
    "User: Yes, I'd like to see it this weekend. AI: I have booked a site visit for Saturday.",
    "AI: Hello {name}, this is about your enquiry. User: I am busy, call me later. AI: Sure, I will call back.",
    "AI: Hi {name}, calling about the flat you enquired about. User: Not interested any more. AI: Understood.",
]


def call_ended_payload(body: dict, call_sid: str, outcome: str, rng: random.Random | None = None) -> dict[str, Any]:
    """A plausible ``call_ended`` webhook for the simulated call.

    Its shape is the documented one in ``tests/fixtures/providers/callkaro_call_ended.json``.
    """
    rng = rng or random.Random()
    metadata = body.get("metadata") or {}
    name = str(metadata.get("lead_name") or metadata.get("name") or "there")
    data: dict[str, Any] = {
        "callSid": call_sid,
        "name": "outbound-scheduled" if body.get("schedule_at") else "outbound-api",
        "agent": body.get("agent_id", ""),
        "from": FROM_NUMBER,
        "to": str(body.get("to_number", "")).lstrip("+"),
        "time": datetime.now(ZoneInfo(get_effective_config().time_zone)).strftime("%Y-%m-%d %H:%M:%S"),
        "batchId": body.get("batch_id", ""),
        "call_metadata": metadata,
        "try_count": 0,
        "recordingUrl": "",
        "call_duration": 0,
        "transcription": "",
        "post_call": {},
        "post_call_detail": {},
        "disposition_reason": "",
        "conversion_status": False,
        "next_call_scheduled": False,
        "call_link": f"https://callkaro.example.invalid/dashboard/call-history?call_id={call_sid}",
    }
    if outcome == "connected":
        converted = rng.random() < 0.4
        transcript = TRANSCRIPTS[0 if converted else rng.randrange(1, len(TRANSCRIPTS))].format(name=name)
        lead_status = "interested" if converted else rng.choice(["call_back", "not_interested"])
        data.update(
            hangup_reason=rng.choice(["CLIENT_INITIATED", "PARTICIPANT_REMOVED"]),
            call_duration=rng.randint(35, 240),
            recordingUrl=f"https://recordings.example.invalid/{call_sid}.mp3",
            transcription=transcript,
            post_call={"lead_status": lead_status},
            post_call_detail={"lead_status": {"value": lead_status, "comment": "Simulated by the sandbox"}},
            disposition_reason="Interested, site visit requested" if converted else "Asked for a call back",
            conversion_status=converted,
        )
    elif outcome == "voicemail":
        data.update(hangup_reason="VOICEMAIL_DETECTED", call_duration=rng.randint(4, 20))
    elif outcome == "rejected":
        data.update(hangup_reason="USER_REJECTED")
    else:
        data.update(hangup_reason=rng.choice(["USER_UNAVAILABLE", "USER_UNRESPONSIVE"]))
    return {"event": "call_ended", "data": data}


PROVIDER = "callkaro"
SHORT_CALL_SECONDS = 5
#: What an agent's post-call analysis holds when the call was too short to analyse: its defaults.
DEFAULT_POST_CALL = {"lead_status": "not_interested", "do_not_call": False}


def _gaps(body: dict) -> list[int]:
    gap = body.get("gap_between_retries")
    gaps = gap if isinstance(gap, list) else [gap] if isinstance(gap, int) else []
    return [g for g in gaps if isinstance(g, int) and g > 0] or [1]


def _short(event: dict) -> dict:
    event["data"].update(
        hangup_reason="CLIENT_INITIATED",
        call_duration=SHORT_CALL_SECONDS,
        post_call=dict(DEFAULT_POST_CALL),
        post_call_detail={},
        conversion_status=False,
        disposition_reason="",
    )
    return event


def _info(name: str, data: dict) -> dict:
    keep = ("callSid", "agent", "from", "to", "call_metadata", "batchId")
    return {"event": name, "data": {k: data[k] for k in keep if k in data}}


def _later_tries(body: dict, first: dict, faults: dict, rng: random.Random) -> list[tuple[float, dict]]:
    forced = faults.get("later_tries")
    count = int(forced) if forced else int(body.get("number_of_retries") or 0)
    if first["data"]["call_duration"] > 0 and not forced:
        return []
    gaps, minute = _gaps(body), settings.SANDBOX_RETRY_MINUTE_SECONDS
    delay, reports = settings.SANDBOX_WEBHOOK_DELAY, []
    for try_count in range(1, count + 1):
        delay += gaps[min(try_count - 1, len(gaps) - 1)] * minute
        outcome = pick_outcome(PROVIDER, rng)
        report = call_ended_payload(body, secrets.token_hex(12), outcome, rng)
        report["data"]["try_count"] = try_count
        report["data"]["next_call_scheduled"] = try_count < count and outcome != "connected"
        if faults.get("other_agent"):
            report["data"]["agent"] = str(faults["other_agent"])
        reports.append((delay, report))
        if outcome == "connected":
            break
    return reports


def _unsolicited(body: dict, rng: random.Random) -> dict:
    """A report for a call this account never asked about (another integration, a manual dial)."""
    stranger = {"to_number": f"+9198{rng.randint(10000000, 99999999)}", "agent_id": body.get("agent_id", "")}
    return call_ended_payload(stranger, secrets.token_hex(12), "connected", rng)


def call_reports(
    body: dict, call_sid: str, faults: dict, rng: random.Random | None = None
) -> list[tuple[float, list[dict]]]:
    """(delay in seconds, payloads posted in order) for one accepted ``POST /call/outbound``."""
    rng = rng or random.Random()
    outcome = str(faults.get("outcome") or pick_outcome(PROVIDER, rng))
    first = call_ended_payload(body, call_sid, outcome, rng)
    if faults.get("short_call"):
        first = _short(first)
    if faults.get("other_agent"):
        first["data"]["agent"] = str(faults["other_agent"])
    later = _later_tries(body, first, faults, rng)
    first["data"]["next_call_scheduled"] = bool(later)
    payloads = [first, first] if send_twice() else [first]
    if faults.get("extra_events"):
        payloads = [
            _info("call_started", first["data"]),
            *payloads,
            _info("message_sent", first["data"]),
            _info("template_sent", first["data"]),
        ]
    if faults.get("unsolicited_report"):
        payloads.append(_unsolicited(body, rng))
    return [(settings.SANDBOX_WEBHOOK_DELAY, payloads), *[(delay, [report]) for delay, report in later]]
