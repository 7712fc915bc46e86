"""Starting a human click-to-call through Acefone, and its options fragment in the call panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from crm import selectors as crm_selectors
from crm.models import Lead, TeamMember
from telephony.base import CallOptions
from telephony.call_start import CallStartRefused
from telephony.forms import CallStartForm
from telephony.views import call_start_view

from .config import get_effective_config

#: Options only Call Karo has. Acefone cannot honour them, so asking for one is an error, never ignored.
AI_ONLY_FIELDS = ("agent_id", "schedule_at", "number_of_retries", "gap_between_retries", "priority")


class AcefoneCallStartForm(CallStartForm):
    """Only ``lead_id`` is Acefone's. The AI-only options are declared so that sending one fails by name."""

    agent_id = forms.Field(required=False)
    schedule_at = forms.Field(required=False)
    number_of_retries = forms.Field(required=False)
    gap_between_retries = forms.Field(required=False)
    priority = forms.Field(required=False)

    def clean(self) -> dict:
        data = super().clean()
        for name in AI_ONLY_FIELDS:
            if data.get(name) not in (None, "", []):
                self.add_error(name, "Acefone cannot do this; it is a Call Karo option.")
        return data


def _prepare(
    user: Any, lead: Lead, member: TeamMember | None, data: dict[str, Any]
) -> tuple[CallOptions, dict[str, Any]]:
    """Acefone rings the rep's own number first, so a rep without one cannot start a call."""
    if member is None or not member.acefone_agent_number:
        raise CallStartRefused(
            "You have no Acefone agent number yet; ask an admin to set it on the settings page.", status=503
        )
    return CallOptions(), {}


@require_POST
def initiate_call(request: HttpRequest) -> HttpResponse:
    return call_start_view(request, provider="acefone", form_class=AcefoneCallStartForm, prepare=_prepare)


@require_GET
def call_options(request: HttpRequest) -> HttpResponse:
    """The call panel's Acefone options: the rep's own number, which Acefone rings first."""
    lead = None
    if request.GET.get("lead", "").isdigit():
        lead = crm_selectors.lead_get_for_user(request.user, int(request.GET["lead"]))
    member = crm_selectors.team_member_for(request.user)
    context = {
        "lead": lead,
        "agent_number": member.acefone_agent_number if member else "",
        "token_set": bool(get_effective_config().api_token),
    }
    return render(request, "acefone/_call_options.html", context)
