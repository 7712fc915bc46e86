"""A fake of the Graph API endpoints lead ads use, for `make run` and tests (PROVIDER_SANDBOX only).

Leads come from ``MetaSandboxLead`` rows, written by ``meta_simulate_leads`` before it posts the
signed deliveries; some deliveries are never sent, so only the backfill can find those leads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare

from telephony.sandbox import sandbox_endpoint

from .config import get_effective_config
from .models import MetaSandboxLead

PROVIDER = "meta"
PAGE_SIZE_MAX = 100
DEMO_FORMS = {
    "900000000000001": ("2BHK enquiry (sandbox)", "100000000000001"),
    "900000000000002": ("Site visit booking (sandbox)", "100000000000001"),
}


def error(status: int, message: str, code: int | None = None) -> JsonResponse:
    codes = {400: 100, 401: 190, 403: 10, 404: 803, 429: 80005}
    body = {"error": {"message": message, "type": "OAuthException", "code": code or codes.get(status, 1)}}
    return JsonResponse(body, status=status)


def _unauthenticated(request: HttpRequest) -> JsonResponse | None:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    expected = get_effective_config().page_access_token
    if not expected or not token or not constant_time_compare(token, expected):
        return error(400, "Error validating access token: the session is invalid", code=190)
    return None


def graph_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _since(request: HttpRequest) -> datetime | None:
    try:
        rules = json.loads(request.GET.get("filtering") or "[]")
    except ValueError:
        return None
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and rule.get("field") == "time_created" and rule.get("operator") == "GREATER_THAN":
            return datetime.fromtimestamp(int(rule["value"]), tz=UTC)
    return None


@sandbox_endpoint(PROVIDER, methods=("GET",), error=error)
def graph_object(request: HttpRequest, body: Any, object_id: str) -> JsonResponse:
    """``GET /{leadgen_id}`` (a lead) or ``GET /{form_id}`` (a form's name)."""
    if denied := _unauthenticated(request):
        return denied
    if object_id in DEMO_FORMS:
        name, page_id = DEMO_FORMS[object_id]
        return JsonResponse({"id": object_id, "name": name, "page_id": page_id})
    lead = MetaSandboxLead.objects.filter(leadgen_id=object_id).first()
    if lead is None:
        return error(400, f"Unsupported get request. Object with ID '{object_id}' does not exist", code=100)
    return JsonResponse(lead.data)


@sandbox_endpoint(PROVIDER, methods=("GET",), error=error)
def form_leads(request: HttpRequest, body: Any, form_id: str) -> JsonResponse:
    """``GET /{form_id}/leads``: newest first, cursor paging, ``time_created`` filter."""
    if denied := _unauthenticated(request):
        return denied
    try:
        limit = min(max(int(request.GET.get("limit", 25)), 1), PAGE_SIZE_MAX)
        offset = int(request.GET.get("after") or 0)
    except ValueError:
        return error(400, "Invalid limit or cursor")
    leads = MetaSandboxLead.objects.filter(form_id=form_id).order_by("-created_time", "-id")
    since = _since(request)
    if since is not None:
        leads = leads.filter(created_time__gt=since)
    rows = [lead.data for lead in leads[offset : offset + limit + 1]]
    body_out: dict[str, Any] = {"data": rows[:limit]}
    if rows:
        body_out["paging"] = {"cursors": {"before": str(offset), "after": str(offset + len(rows[:limit]))}}
        if len(rows) > limit:
            body_out["paging"]["next"] = request.build_absolute_uri() + f"&after={offset + limit}"
    return JsonResponse(body_out)
