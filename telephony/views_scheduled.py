"""A lead's scheduled calls on the call panel and the lead page: list, cancel, move (htmx fragments)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crm import selectors as crm_selectors
from crm.models import Lead

from .errors import TelephonyError
from .registry import provider_names
from .scheduled import pending_scheduled_calls, scheduled_call_cancel, scheduled_call_move
from .services import CallNotAllowed


class ScheduledCallForm(forms.Form):
    provider = forms.ChoiceField(choices=())
    call_log_id = forms.IntegerField(min_value=1)
    scheduled_at = forms.DateTimeField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(name, name) for name in provider_names()]


def _fragment(request: HttpRequest, lead: Lead, message: str = "", error: str = "") -> HttpResponse:
    context = {
        "lead": lead,
        "scheduled": pending_scheduled_calls(lead.pk),
        "message": message,
        "error": error,
        "min_move": timezone.localtime(timezone.now() + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "telephony/_scheduled_call.html", context)


@require_GET
def scheduled_calls(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _fragment(request, crm_selectors.lead_get_for_user(request.user, lead_id))


@require_POST
def scheduled_call_change(request: HttpRequest, lead_id: int, action: str) -> HttpResponse:
    """``cancel`` or ``move`` one of the lead's waiting calls; answers with the refreshed fragment."""
    lead = crm_selectors.lead_get_for_user(request.user, lead_id)
    form = ScheduledCallForm(request.POST)
    if not form.is_valid() or action not in ("cancel", "move"):
        return _fragment(request, lead, error="Choose a scheduled call of this lead.")
    provider = form.cleaned_data["provider"]
    waiting = {(name, log.pk): log for name, log in pending_scheduled_calls(lead.pk)}
    call_log = waiting.get((provider, form.cleaned_data["call_log_id"]))
    if call_log is None:
        return _fragment(request, lead, error="That call is no longer waiting: it was placed or cancelled.")
    actor = crm_selectors.team_member_for(request.user)
    try:
        if action == "cancel":
            scheduled_call_cancel(provider=provider, call_log=call_log, reason="Cancelled by a person", actor=actor)
            return _fragment(request, lead, message="Scheduled call cancelled.")
        at = form.cleaned_data.get("scheduled_at")
        if at is None or at <= timezone.now():
            return _fragment(request, lead, error="Choose a time in the future.")
        scheduled_call_move(provider=provider, call_log=call_log, at=at, actor=actor)
        return _fragment(request, lead, message=f"Moved to {timezone.localtime(at):%d %b %H:%M}.")
    except (CallNotAllowed, TelephonyError) as exc:
        return _fragment(request, lead, error=getattr(exc, "message", "") or str(exc))
