"""A fake of Call Karo AI's documented API, for `make run` and end-to-end tests (docs/architecture.md).

It can disagree with the product, as the real service does: it keeps its own list of agents
(``SANDBOX_CALLKARO_AGENTS``, not the CRM's table) and answers an unknown one 404 "Agent does not
exist"; it honours ``number_of_retries``/``gap_between_retries`` with later-try reports; and, through
``manage.py sandbox_faults callkaro``, it reports calls nobody asked for, another agent than the one
asked, non-``call_ended`` events, short calls and forced outcomes.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare

from telephony.sandbox import sandbox_endpoint, sandbox_faults, schedule_webhooks

from .client import E164
from .config import get_effective_config
from .options import HHMM, LANGUAGES, PRIORITY_MAX, PRIORITY_MIN, RETRIES_MAX, RETRIES_MIN, SCHEDULE_AT_FORMAT
from .sandbox_reports import call_reports

PROVIDER = "callkaro"
FROM_NUMBER = "918069000000"
TRANSCRIPTS = [
    "AI: Namaste, am I speaking with {name}? User: Yes. AI: You enquired about a 2BHK in Whitefield. "
    "User: Yes, I'd like to see it this weekend. AI: I have booked a site visit for Saturday.",
    "AI: Hello {name}, this is about your enquiry. User: I am busy, call me later. AI: Sure, I will call back.",
    "AI: Hi {name}, calling about the flat you enquired about. User: Not interested any more. AI: Understood.",
]


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": "error", "message": message}, status=status)


def _unauthenticated(request: HttpRequest) -> JsonResponse | None:
    config = get_effective_config()
    key = request.headers.get("X-API-KEY", "")
    if not config.api_key or not key or not constant_time_compare(key, config.api_key):
        return error(403, "Invalid or missing API key")
    return None


def _agent_exists(agent_id: str) -> bool:
    """The fake account's own agents (settings), never the CRM's table: the two may disagree."""
    if sandbox_faults(PROVIDER).get("unknown_agent"):
        return False
    return agent_id in settings.SANDBOX_CALLKARO_AGENTS


def _invalid_options(body: dict) -> str | None:
    retries = body.get("number_of_retries")
    if retries is not None and (not isinstance(retries, int) or not RETRIES_MIN <= retries <= RETRIES_MAX):
        return f"number_of_retries must be between {RETRIES_MIN} and {RETRIES_MAX}"
    priority = body.get("priority")
    if priority is not None and (not isinstance(priority, int) or not PRIORITY_MIN <= priority <= PRIORITY_MAX):
        return f"priority must be between {PRIORITY_MIN} and {PRIORITY_MAX}"
    if body.get("language") and body["language"] not in LANGUAGES:
        return "Unsupported language"
    for name in ("min_trigger_time", "max_trigger_time"):
        if body.get(name) and not HHMM.match(str(body[name])):
            return f"{name} must be HH:MM"
    if body.get("schedule_at"):
        try:
            datetime.strptime(body["schedule_at"], SCHEDULE_AT_FORMAT)
        except (TypeError, ValueError):
            return "schedule_at must be YYYY-MM-DDTHH:MM:SS"
    return None


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


def webhook_url() -> str:
    secrets_ = get_effective_config().webhook_secrets
    url = f"{settings.SITE_URL.rstrip('/')}/callkaro-webhook/"
    return f"{url}?token={secrets_[0]}" if secrets_ else url


@sandbox_endpoint(PROVIDER, error=error)
def outbound(request: HttpRequest, body: Any) -> JsonResponse:
    """``POST /call/outbound``: checks key, fields, number and agent, then simulates the call."""
    if denied := _unauthenticated(request):
        return denied
    if not isinstance(body, dict) or "_unparsed" in body:
        return error(400, "Request body must be JSON")
    if not body.get("to_number") or not body.get("agent_id"):
        return error(400, "to_number and agent_id are required")
    if not E164.match(str(body["to_number"])):
        return error(400, "Invalid phone number: to_number must be E.164, e.g. +919812345678")
    if problem := _invalid_options(body):
        return error(400, problem)
    if not _agent_exists(str(body["agent_id"])):
        return error(404, "Agent does not exist")
    call_sid = secrets.token_hex(12)
    for delay, payloads in call_reports(body, call_sid, sandbox_faults(PROVIDER)):
        schedule_webhooks(PROVIDER, payloads, delay=delay)
    return JsonResponse({"status": "done", "message": "Call queued successfully", "call_sid": call_sid})


def _campaign(request: HttpRequest, body: Any, *, needs_agent: bool) -> JsonResponse:
    if denied := _unauthenticated(request):
        return denied
    if not isinstance(body, dict) or not str(body.get("name", "")).strip():
        return error(400, "name is required")
    if needs_agent:
        if not body.get("agent_id"):
            return error(400, "agent_id is required")
        if not _agent_exists(str(body["agent_id"])):
            return error(404, "Agent does not exist")
    return JsonResponse({"batch_id": secrets.token_hex(12), "message": "Campaign created", "status": "success"})


@sandbox_endpoint(PROVIDER, error=error)
def campaign_v1(request: HttpRequest, body: Any) -> JsonResponse:
    return _campaign(request, body, needs_agent=True)


@sandbox_endpoint(PROVIDER, error=error)
def campaign_v2(request: HttpRequest, body: Any) -> JsonResponse:
    return _campaign(request, body, needs_agent=False)


@sandbox_endpoint(PROVIDER, error=error)
def delete_schedule_call(request: HttpRequest, body: Any) -> JsonResponse:
    if denied := _unauthenticated(request):
        return denied
    agent_id = request.GET.get("agent_id", "")
    if not agent_id:
        return error(400, "agent_id is required")
    if not isinstance(body, dict) or not body.get("to_number"):
        return error(400, "to_number is required")
    if not _agent_exists(agent_id):
        return error(404, "Agent does not exist")
    return JsonResponse({"status": "success", "message": "Scheduled call deleted"})
