"""A fake of Call Karo AI's documented API, for `make run` and end-to-end tests (docs/architecture.md).

It can disagree with the product, as the real service does: it keeps its own list of agents
(``SANDBOX_CALLKARO_AGENTS``, not the CRM's table) and answers an unknown one 404 "Agent does not
exist"; it honours ``number_of_retries``/``gap_between_retries`` with later-try reports; and, through
``manage.py sandbox_faults callkaro``, it reports calls nobody asked for, another agent than the one
asked, non-``call_ended`` events, short calls and forced outcomes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare

from telephony.sandbox import sandbox_endpoint, sandbox_faults, schedule_webhooks

from .client import E164
from .config import get_effective_config
from .options import HHMM, LANGUAGES, PRIORITY_MAX, PRIORITY_MIN, RETRIES_MAX, RETRIES_MIN, SCHEDULE_AT_FORMAT
from .sandbox_reports import call_ended_payload, call_reports  # noqa: F401 - call_ended_payload: tests

PROVIDER = "callkaro"


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
