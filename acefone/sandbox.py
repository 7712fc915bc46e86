"""A fake of Acefone's documented API, for `make run` and end-to-end tests (docs/architecture.md)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare

from telephony.models import SandboxRequest
from telephony.sandbox import pick_outcome, sandbox_endpoint, schedule_webhooks, send_twice

from .client import DIGITS
from .config import get_effective_config

PROVIDER = "acefone"
CALLER_ID = "918069000001"


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"success": False, "message": message}, status=status)


def _unauthenticated(request: HttpRequest) -> JsonResponse | None:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    expected = get_effective_config().api_token
    if not expected or not token or not constant_time_compare(token, expected):
        return error(401, "Unauthorized: invalid or missing token")
    return None


def _stamp(value: datetime) -> str:
    return value.astimezone(ZoneInfo(settings.ACEFONE_TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def call_events(body: dict, outcome: str, rng: random.Random | None = None) -> list[dict[str, Any]]:
    """The "answered by agent" and "hangup" bodies we document (docs/webhooks.md).

    The hangup body's shape is ``tests/fixtures/providers/acefone_hangup.json``.
    """
    rng = rng or random.Random()
    start = datetime.now(ZoneInfo(settings.ACEFONE_TIME_ZONE))
    base = {
        "call_id": f"{start.timestamp():.0f}.{rng.randint(10000000, 99999999)}",
        "uuid": str(uuid.uuid4()),
        "direction": "outbound",
        "call_to_number": str(body.get("destination_number", "")),
        "caller_id_number": str(body.get("caller_id") or CALLER_ID),
        "start_stamp": _stamp(start),
        "custom_identifier": str(body.get("custom_identifier", "")),
    }
    if outcome == "answered":
        answer = start + timedelta(seconds=rng.randint(4, 12))
        billsec = rng.randint(30, 300)
        end = answer + timedelta(seconds=billsec)
        answered = {
            **base,
            "answered_agent_number": str(body.get("agent_number", "")),
            "answer_stamp": _stamp(answer),
            "call_status": "answered",
        }
        hangup = {
            **answered,
            "end_stamp": _stamp(end),
            "duration": str(int((end - start).total_seconds())),
            "billsec": str(billsec),
            "hangup_cause": "NORMAL_CLEARING",
            "recording_url": f"https://recordings.example.invalid/{base['call_id']}.mp3",
        }
        return [answered, hangup]
    end = start + timedelta(seconds=rng.randint(20, 45))
    return [
        {
            **base,
            "answered_agent_number": "",
            "end_stamp": _stamp(end),
            "duration": str(int((end - start).total_seconds())),
            "billsec": "0",
            "call_status": "missed",
            "hangup_cause": rng.choice(["NO_ANSWER", "USER_BUSY", "CALL_REJECTED"]),
            "recording_url": "",
        }
    ]


def webhook_url() -> str:
    url = f"{settings.SITE_URL.rstrip('/')}/acefone-webhook/"
    return f"{url}?token={settings.ACEFONE_WEBHOOK_SECRET}" if settings.ACEFONE_WEBHOOK_SECRET else url


@sandbox_endpoint(PROVIDER, error=error)
def click_to_call(request: HttpRequest, body: Any) -> JsonResponse:
    """``POST /v1/click_to_call``: rings the agent, then the customer; events follow as webhooks."""
    if denied := _unauthenticated(request):
        return denied
    if not isinstance(body, dict) or "_unparsed" in body:
        return error(400, "Request body must be JSON")
    if not body.get("agent_number") or not body.get("destination_number"):
        return error(400, "agent_number and destination_number are required")
    if not DIGITS.match(str(body["destination_number"])):
        return error(400, "Invalid destination_number: digits only, without '+'")
    events = call_events(body, pick_outcome(PROVIDER))
    payloads = [event for event in events for _ in range(2 if send_twice() else 1)]
    schedule_webhooks(PROVIDER, payloads)
    # Acefone sometimes answers with a ref_id: the product keeps it as the provider reference.
    ref_id = events[0]["call_id"]
    return JsonResponse({"success": True, "message": "Originate successfully queued", "ref_id": ref_id})


@sandbox_endpoint(PROVIDER, methods=("GET",), error=error)
def call_records(request: HttpRequest, body: Any) -> JsonResponse:
    """``GET /v1/call/records``: the click-to-call requests this sandbox accepted, newest first."""
    if denied := _unauthenticated(request):
        return denied
    try:
        page = max(1, int(request.GET.get("page", 1)))
        limit = min(1000, max(1, int(request.GET.get("limit", 100))))
    except ValueError:
        return error(400, "page and limit must be integers")
    rows = SandboxRequest.objects.filter(
        provider=PROVIDER, path__startswith=request.path.replace("call/records", "click_to_call"), response_status=200
    )
    results = [
        {
            "call_to_number": (row.body or {}).get("destination_number", ""),
            "agent_number": (row.body or {}).get("agent_number", ""),
            "custom_identifier": (row.body or {}).get("custom_identifier", ""),
            "start_stamp": _stamp(row.created_at),
        }
        for row in rows[(page - 1) * limit : page * limit]
    ]
    return JsonResponse({"success": True, "results": results, "count": rows.count()})
