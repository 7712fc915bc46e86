"""Starting an AI call (JSON or htmx) and the AI options fragment of the call panel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from crm import selectors as crm_selectors
from crm.models import Lead, TeamMember
from telephony.breaker import breaker_for
from telephony.call_start import CallStartRefused
from telephony.views import call_start_view

from . import selectors
from .config import get_effective_config
from .forms import CallKaroCallStartForm
from .models import CallKaroAgent
from .options import LIMITS, CallKaroOptions


def _prepare(
    user: Any, lead: Lead, member: TeamMember | None, data: dict[str, Any]
) -> tuple[CallKaroOptions, dict[str, Any]]:
    """Resolve the agent the user may use (or the default); the form has already checked the limits."""
    default_id = get_effective_config().default_agent_id
    agent_id = data.get("agent_id") or default_id
    if not agent_id:
        raise CallStartRefused("Choose an AI agent: no default agent is configured.", status=400, field="agent_id")
    agent = selectors.agent_usable_by(user, agent_id)
    # The default may be an id known only from the environment (no row); any other id needs an
    # active agent row the user may use, and a disabled default is refused like any other.
    if agent is None and (agent_id != default_id or CallKaroAgent.objects.filter(agent_id=agent_id).exists()):
        raise CallStartRefused("You may not use this AI agent.", status=403, field="agent_id")
    language = data.get("language") or (agent.language if agent else "")
    return CallKaroOptions.from_data(data, agent_id=agent_id, language=language), {}


@require_POST
def initiate_call(request: HttpRequest) -> HttpResponse:
    return call_start_view(request, provider="callkaro", form_class=CallKaroCallStartForm, prepare=_prepare)


@require_GET
def call_options(request: HttpRequest) -> HttpResponse:
    """The call panel's AI options: agent picker, language, now or later, retries and priority."""
    lead = None
    if request.GET.get("lead", "").isdigit():
        lead = crm_selectors.lead_get_for_user(request.user, int(request.GET["lead"]))
    config = get_effective_config()
    agents = list(selectors.agents_usable_by(request.user))
    context = {
        "lead": lead,
        "agents": agents,
        "default_agent_id": config.default_agent_id,
        # A default known only by id (from the environment, no agent row) is offered as such.
        "default_agent_bare": bool(config.default_agent_id)
        and not CallKaroAgent.objects.filter(agent_id=config.default_agent_id).exists(),
        "configured": config.is_configured,
        "breaker_open": breaker_for("callkaro").is_open(),
        "languages": CallKaroCallStartForm.base_fields["language"].choices,
        "initial": CallKaroOptions(agent_id=config.default_agent_id).to_initial(),
        "limits": LIMITS,
    }
    return render(request, "callkaro/_call_options.html", context)
