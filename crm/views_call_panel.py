"""The call panel page, its lead list and its call-history fragment.

The CRM core never imports a provider app: providers come from ``telephony.registry`` and their
pages are reached by URL name (``<provider>:call_options``, ``<provider>:initiate_call``); starting
a call is ``telephony.views.call_start_view``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from telephony import calls, registry
from telephony.breaker import breaker_for
from telephony.outcome_words import call_outcome_words
from telephony.selectors import call_history_for_lead
from telephony.status import CallStatus, is_final
from telephony.wrap_up import WRAP_UP_WINDOW, WrapUpForm, wrap_up_providers, wrapped_call_refs

from . import selectors
from .models import Lead
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


def history_context(lead: Lead, *, form_for: tuple[str, Any] | None = None) -> dict[str, Any]:
    """The history fragment's context; ``form_for`` = (call ref, bound form) re-shows a refused wrap-up."""
    history = with_wrap_up_forms(call_history_for_lead(lead), lead, form_for=form_for)
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


def with_wrap_up_forms(history: list, lead: Lead, *, form_for: tuple[str, Any] | None = None) -> list:
    """Attach a wrap-up form to each human call not yet wrapped up (one query for the lead's wrap-ups)."""
    human = set(wrap_up_providers())
    if not any(item.provider in human for item in history):
        return history
    done = wrapped_call_refs(lead.pk)
    since = timezone.now() - WRAP_UP_WINDOW
    out = []
    for item in history:
        asks = item.provider in human and item.ref not in done and item.created_at >= since
        if asks and item.status not in ("queued", "scheduled"):
            prefix = f"wrap-{item.provider}-{item.call_log_id}"
            form = form_for[1] if form_for and form_for[0] == item.ref else WrapUpForm(prefix=prefix)
            item = replace(item, wrap_up_form=form)
        out.append(item)
    return out


@require_GET
def call_status(request: HttpRequest, provider: str, call_log_id: int) -> HttpResponse:
    """The call result line after a click: it re-polls itself until the call is final, in words."""
    if provider not in registry.provider_names():
        raise Http404("No such call")
    log = calls.calls(provider, pk=call_log_id).first()
    if log is None:
        raise Http404("No such call")
    selectors.lead_get_for_user(request.user, log.lead_id)
    context = {
        "provider": provider,
        "call_log_id": call_log_id,
        "status": log.status,
        "status_label": CallStatus(log.status).label,
        "words": call_outcome_words(provider, log),
        "final": is_final(log.status),
        "poll_seconds": settings.CALL_HISTORY_POLL_SECONDS,
    }
    return render(request, "crm/_call_status.html", context)
