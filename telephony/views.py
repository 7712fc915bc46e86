"""The call-start endpoint every provider shares: JSON for API callers, the panel's fragment for htmx."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm.models import Lead

from .call_start import CallStartResult, Prepare, call_start
from .calling_hours import zone_for
from .errors import ProviderConfigError
from .forms import CallStartForm
from .registry import get_provider
from .status import CallStatus


def _payload(request: HttpRequest) -> Any:
    """The posted fields (JSON object or form), or None when the body is not a JSON object."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return request.POST


def call_start_view(
    request: HttpRequest, *, provider: str, form_class: type[CallStartForm], prepare: Prepare
) -> HttpResponse:
    """JSON for API callers; for htmx, the call panel's result fragment (status 200, so htmx swaps it)."""
    result, lead = call_start(
        user=request.user, provider=provider, data=_payload(request), form_class=form_class, prepare=prepare
    )
    if not request.htmx:
        response = JsonResponse(result.as_json(), status=result.http_status)
    else:
        response = render(request, "crm/call_panel_result.html", _result_context(result, lead, provider))
        response["X-Call-Status"] = str(result.http_status)
        if result.call_log_id:
            response["HX-Trigger"] = "call-started"
    if result.http_status == 429:
        response["Retry-After"] = str(settings.CALL_START_RATE_WINDOW)
    return response


def _result_context(result: CallStartResult, lead: Lead | None, provider: str) -> dict[str, Any]:
    context: dict[str, Any] = {"result": result, "lead": lead, "provider": provider, "status_label": ""}
    if result.status:
        context["status_label"] = CallStatus(result.status).label
    if result.next_allowed_at and lead is not None and result.code in ("outside_hours", "min_gap"):
        context.update(_one_click(result, lead, provider))
    if result.fallback and lead is not None:
        try:
            context["fallback_url"] = reverse(f"{result.fallback}:initiate_call")
            context["fallback_label"] = get_provider(result.fallback).short_label
        except (NoReverseMatch, ProviderConfigError):
            pass
    return context


def _one_click(result: CallStartResult, lead: Lead, provider: str) -> dict[str, Any]:
    """The refused call's one-click way on: scheduled at the window's opening (AI), or confirmed (human)."""
    zone = zone_for(lead.time_zone)
    when = result.next_allowed_at.astimezone(zone)
    days = (when.date() - timezone.now().astimezone(zone).date()).days
    day = {0: "today", 1: "tomorrow"}.get(days, f"on {when:%d %b}")
    url = reverse(f"{provider}:initiate_call")
    if result.needs_confirmation:
        vals = {**result.resend, "confirm_outside_hours": "on"}
        return {"confirm_url": url, "confirm_vals": json.dumps(vals)}
    vals = {**result.resend, "when": "later", "schedule_at": when.isoformat()}
    return {
        "schedule_url": url,
        "schedule_vals": json.dumps(vals),
        "schedule_label": f"Schedule for {when:%H:%M} {day}",
    }
