"""The wrap-up a rep sends after a human call (``telephony.wrap_up``); answers with the call history."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from telephony import calls
from telephony.wrap_up import WrapUpForm, call_wrap_up, wrap_up_providers

from . import selectors
from .views_call_panel import history_context


@require_POST
def call_wrap_up_view(request: HttpRequest, provider: str, call_log_id: int) -> HttpResponse:
    if provider not in wrap_up_providers():
        raise Http404("No such call")
    call_log = calls.calls(provider, pk=call_log_id).first()
    if call_log is None:
        raise Http404("No such call")
    lead = selectors.lead_get_for_user(request.user, call_log.lead_id)
    ref = f"{provider}:{call_log_id}"
    form = WrapUpForm(request.POST, prefix=f"wrap-{provider}-{call_log_id}")
    if form.is_valid():
        data = form.cleaned_data
        call_wrap_up(
            provider=provider,
            call_log=call_log,
            member=selectors.team_member_for(request.user),
            disposition=data["disposition"],
            note=data["note"],
            follow_up_at=data["follow_up_at"],
            stage=data["stage"],
        )
        if not request.htmx:
            messages.success(request, "Call wrapped up.")
        form_for = None
    else:
        form_for = (ref, form)
    if request.htmx:
        return render(request, "crm/_call_history.html", history_context(lead, form_for=form_for))
    if form_for:
        messages.error(request, "The wrap-up was not saved: " + " ".join(e for es in form.errors.values() for e in es))
    return redirect(f"{reverse('crm:call_panel')}?lead={lead.pk}")
