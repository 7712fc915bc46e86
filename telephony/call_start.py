"""Starting a call for a user, through any provider: rate limit, form, access, ``call_place``, one result.

Each provider's endpoint (``<provider>:initiate_call``) passes its form and a ``prepare`` function
that turns the cleaned data into CallOptions and call-log fields (or raises CallStartRefused).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crm import selectors
from crm.models import Lead, TeamMember

from .base import CallOptions
from .eligibility import REP_CLICK
from .errors import ProviderConfigError
from .forms import CallStartForm
from .ratelimit import call_start_rate_limited
from .registry import get_provider
from .services import CallNotAllowed, CallPlaceOutcome, call_place
from .status import CallStatus


class CallStartRefused(Exception):
    """A provider-specific check said no (an agent the user may not use): HTTP ``status``."""

    def __init__(self, message: str, *, status: int = 403, field: str = "") -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


@dataclass
class CallStartResult:
    """The answer to a call start, as the endpoint returns it (JSON, or the panel's fragment)."""

    http_status: int
    ok: bool
    message: str
    call_log_id: int | None = None
    status: str | None = None
    provider_call_id: str | None = None
    fallback: str | None = None
    field: str = ""
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    code: str = ""  # the eligibility reason code, when the rule refused the call
    next_allowed_at: Any = None  # when it could be placed instead (the one-click schedule)
    needs_confirmation: bool = False  # a human call outside hours: the rep may confirm and go ahead
    resend: dict[str, str] = dataclasses.field(default_factory=dict)  # the fields to post again (one-click)

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
        if self.code:
            body["code"] = self.code
        if self.next_allowed_at:
            body["next_allowed_at"] = self.next_allowed_at.isoformat()
        if self.needs_confirmation:
            body["needs_confirmation"] = True
        return body


#: CallNotAllowed codes -> HTTP status.
NOT_ALLOWED_STATUS = {
    "do_not_call": 409,
    "in_flight": 409,
    "invalid_number": 400,
    "not_configured": 503,
    "not_owner": 403,
}

#: ``prepare(user, lead, member, cleaned_data) -> (options, call-log fields)``; may raise CallStartRefused.
Prepare = Callable[[Any, Lead, TeamMember | None, dict[str, Any]], tuple[CallOptions, dict[str, Any]]]


def _fallback(provider: str) -> str | None:
    return get_provider(provider).fallback_provider or None


def call_start(
    *, user: Any, provider: str, data: Mapping[str, Any] | None, form_class: type[CallStartForm], prepare: Prepare
) -> tuple[CallStartResult, Lead | None]:
    """Validate, authorise, and hand the call to ``call_place``; returns the result and the lead.

    ``data`` is None when the request body was not valid JSON (counted against the rate limit all the same).
    """
    wait = call_start_rate_limited(user.pk)
    if wait is not None:
        return CallStartResult(429, False, f"Too many calls; try again in {wait} s."), None
    if data is None:
        return CallStartResult(400, False, "The request body is not valid JSON.", field="body"), None
    form = form_class(data)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        first = next(iter(errors))
        return CallStartResult(400, False, f"{first}: {errors[first][0]}", field=first, errors=errors), None
    cleaned = form.cleaned_data
    lead = selectors.lead_queryset_for(user).filter(pk=cleaned["lead_id"]).first()
    if lead is None:
        # The same answer for a missing lead and another rep's lead: existence is not confirmed.
        return CallStartResult(403, False, "You may not call this lead.", field="lead_id"), None
    member = selectors.team_member_for(user)
    try:
        options, log_fields = prepare(user, lead, member, cleaned)
        outcome = call_place(
            provider=provider,
            lead=lead,
            team_member=member,
            options=options,
            log_fields=log_fields,
            purpose=REP_CLICK,
            user=user,
            confirmed=bool(cleaned.get("confirm_outside_hours")),
        )
    except CallStartRefused as exc:
        return CallStartResult(exc.status, False, exc.message, field=exc.field), lead
    except CallNotAllowed as exc:
        status = NOT_ALLOWED_STATUS.get(exc.code, 409)
        fallback = _fallback(provider) if status == 503 else None
        return CallStartResult(
            status,
            False,
            str(exc),
            fallback=fallback,
            code=exc.code,
            next_allowed_at=exc.next_allowed_at,
            needs_confirmation=exc.needs_confirmation,
            resend=_resend(data),
        ), lead
    except ProviderConfigError as exc:
        return CallStartResult(503, False, str(exc), fallback=_fallback(provider)), lead
    return _placed_result(outcome), lead


def _resend(data: Mapping[str, Any]) -> dict[str, str]:
    """What the rep chose, so that "Schedule for 09:00" or "Call anyway" re-posts it in one click."""
    skip = {"csrfmiddlewaretoken", "schedule_at", "confirm_outside_hours"}
    return {key: str(data.get(key)) for key in data if key not in skip and data.get(key) not in (None, "")}


def _placed_result(outcome: CallPlaceOutcome) -> CallStartResult:
    log = outcome.call_log
    common = {
        "call_log_id": getattr(log, "pk", None),
        "status": outcome.status,
        "provider_call_id": (getattr(log, "provider_call_id", None) or None),
    }
    if outcome.ok:
        pending = outcome.status in {CallStatus.QUEUED, CallStatus.SCHEDULED}
        return CallStartResult(202 if pending else 200, True, outcome.message, **common)
    if outcome.status == CallStatus.UNKNOWN:
        # Sent, but no answer in time: it may be ringing. A webhook or reconciliation settles it.
        return CallStartResult(504, False, outcome.message, **common)
    if outcome.unavailable:
        return CallStartResult(503, False, outcome.message, fallback=outcome.fallback, **common)
    # The provider refused it (bad agent, bad number): shown to the user, never retried.
    return CallStartResult(422, False, outcome.message, **common)
