"""The call panel, its call-history fragment, and the call-start flow both providers' endpoints share.

The CRM core never imports a provider app: providers come from ``telephony.registry`` and their
pages are reached by URL name (``<provider>:call_options``, ``<provider>:initiate_call``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from telephony import registry
from telephony.base import CallOptions
from telephony.breaker import breaker_for
from telephony.errors import ProviderConfigError
from telephony.selectors import call_history_for_lead
from telephony.services import FALLBACK_PROVIDER, CallNotAllowed, call_place
from telephony.status import CallStatus

from . import selectors
from .models import Lead, TeamMember
from .views import lead_filters_from

logger = logging.getLogger(__name__)

PANEL_LEADS_PER_PAGE = 20


# --- the panel -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderChoice:
    name: str
    label: str
    options_url: str
    unavailable: bool


def _provider_choices() -> list[ProviderChoice]:
    """The providers the panel can switch between, with the URL of each one's options fragment."""
    choices = []
    for name, label in registry.provider_choices():
        try:
            url = reverse(f"{name}:call_options")
        except NoReverseMatch:
            continue
        choices.append(ProviderChoice(name, label, url, breaker_for(name).is_open()))
    return choices


@require_GET
def call_panel(request: HttpRequest) -> HttpResponse:
    form, filters = lead_filters_from(request)
    page = Paginator(selectors.lead_search(request.user, filters), PANEL_LEADS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    page_query = query.urlencode()  # paging keeps the selected lead open
    query.pop("lead", None)
    selected = None
    if request.GET.get("lead", "").isdigit():
        selected = selectors.lead_get_for_user(request.user, int(request.GET["lead"]))
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "page_query": page_query,
        "selected": selected,
    }
    if request.htmx and request.htmx.target == "panel-leads":
        return render(request, "crm/call_panel_leads.html", context)
    providers = _provider_choices()
    wanted = request.GET.get("provider", "")
    current = next((p for p in providers if p.name == wanted), None)
    if current is None:
        # AI first when it is up; otherwise the first provider that is.
        current = next((p for p in providers if not p.unavailable), providers[0] if providers else None)
    context.update({"providers": providers, "current_provider": current})
    if selected is not None:
        context.update(history_context(selected))
    return render(request, "crm/call_panel.html", context)


def history_context(lead: Lead) -> dict[str, Any]:
    history = call_history_for_lead(lead)
    return {
        "lead": lead,
        "history": history,
        "history_ready": True,
        "history_polling": any(item.needs_polling for item in history),
        "poll_seconds": settings.CALL_HISTORY_POLL_SECONDS,
    }


@require_GET
def call_history(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The history fragment; it re-polls itself while a call is not final, and stops after."""
    lead = selectors.lead_get_for_user(request.user, lead_id)
    return render(request, "crm/_call_history.html", history_context(lead))


# --- starting a call (shared by <provider>:initiate_call) ----------------------------------
class CallStartForm(forms.Form):
    """What every provider's call-start endpoint accepts; providers add their own fields."""

    lead_id = forms.IntegerField(min_value=1)


class CallStartRefused(Exception):
    """A provider-specific check said no (an agent the user may not use): HTTP ``status``."""

    def __init__(self, message: str, *, status: int = 403, field: str = "") -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


@dataclass
class CallStartResult:
    http_status: int
    ok: bool
    message: str
    call_log_id: int | None = None
    status: str | None = None
    provider_call_id: str | None = None
    fallback: str | None = None
    field: str = ""
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": self.ok,
            "call_log_id": self.call_log_id,
            "status": self.status,
            "provider_call_id": self.provider_call_id,
            "message": self.message,
        }
        if self.fallback:
            body["fallback"] = self.fallback
        if self.field:
            body["field"] = self.field
        if self.errors:
            body["errors"] = self.errors
        return body


#: CallNotAllowed codes -> HTTP status.
NOT_ALLOWED_STATUS = {"do_not_call": 409, "in_flight": 409, "invalid_number": 400, "not_configured": 503}

Prepare = Callable[[HttpRequest, Lead, TeamMember | None, dict[str, Any]], tuple[CallOptions, dict[str, Any]]]


def rate_limited(user_id: int) -> int | None:
    """Fixed one-minute window per user in the shared cache. Returns seconds to wait when over."""
    limit, window = settings.CALL_START_RATE_LIMIT, settings.CALL_START_RATE_WINDOW
    now = int(timezone.now().timestamp())
    bucket = now // window
    key = f"callstart:rate:{user_id}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return window - (now % window) or 1
    return None


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("Send a JSON object")
        return data
    return request.POST


def call_start_result(
    request: HttpRequest, *, provider: str, form_class: type[CallStartForm], prepare: Prepare
) -> tuple[CallStartResult, Lead | None]:
    """Validate, authorise, and hand the call to ``call_place``; returns the result and the lead."""
    wait = rate_limited(request.user.pk)
    if wait is not None:
        return CallStartResult(429, False, f"Too many calls; try again in {wait} s."), None
    try:
        data = _payload(request)
    except ValueError:
        return CallStartResult(400, False, "The request body is not valid JSON.", field="body"), None
    form = form_class(data)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        first = next(iter(errors))
        return CallStartResult(400, False, f"{first}: {errors[first][0]}", field=first, errors=errors), None
    cleaned = form.cleaned_data
    lead = selectors.lead_queryset_for(request.user).filter(pk=cleaned["lead_id"]).first()
    if lead is None:
        # The same answer for a missing lead and another rep's lead: existence is not confirmed.
        return CallStartResult(403, False, "You may not call this lead.", field="lead_id"), None
    member = selectors.team_member_for(request.user)
    try:
        options, log_fields = prepare(request, lead, member, cleaned)
        outcome = call_place(provider=provider, lead=lead, team_member=member, options=options, log_fields=log_fields)
    except CallStartRefused as exc:
        return CallStartResult(exc.status, False, exc.message, field=exc.field), lead
    except CallNotAllowed as exc:
        status = NOT_ALLOWED_STATUS.get(exc.code, 409)
        fallback = FALLBACK_PROVIDER.get(provider) if status == 503 else None
        return CallStartResult(status, False, str(exc), fallback=fallback), lead
    except ProviderConfigError as exc:
        return CallStartResult(503, False, str(exc), fallback=FALLBACK_PROVIDER.get(provider)), lead
    log = outcome.call_log
    common = {
        "call_log_id": getattr(log, "pk", None),
        "status": outcome.status,
        "provider_call_id": (getattr(log, "provider_call_id", None) or None),
    }
    if outcome.ok:
        pending = outcome.status in {CallStatus.QUEUED, CallStatus.SCHEDULED}
        return CallStartResult(202 if pending else 200, True, outcome.message, **common), lead
    if outcome.status == CallStatus.UNKNOWN:
        # Sent, but no answer in time: it may be ringing. A webhook or reconciliation settles it.
        return CallStartResult(504, False, outcome.message, **common), lead
    # CallPlaceOutcome names a fallback only for Call Karo; for the others, the breaker's failure
    # count (reset by any answer, even a refusal) tells "unavailable" from "refused".
    if outcome.fallback or breaker_for(provider).failures() > 0:
        return CallStartResult(503, False, outcome.message, fallback=outcome.fallback, **common), lead
    # The provider refused it (bad agent, bad number): shown to the user, never retried.
    return CallStartResult(422, False, outcome.message, **common), lead


def call_start_view(
    request: HttpRequest, *, provider: str, form_class: type[CallStartForm], prepare: Prepare
) -> HttpResponse:
    """JSON for API callers; for htmx, the call panel's result fragment (status 200, so htmx swaps it)."""
    result, lead = call_start_result(request, provider=provider, form_class=form_class, prepare=prepare)
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
    if result.fallback and lead is not None:
        try:
            context["fallback_url"] = reverse(f"{result.fallback}:initiate_call")
            context["fallback_label"] = registry.get_provider(result.fallback).label.split(" (")[0]
        except (NoReverseMatch, ProviderConfigError):
            pass
    return context
