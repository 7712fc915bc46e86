"""Acefone's part of the calling settings page (``/callkaro-config/``): its token, maximum call length,
and each rep's agent number.

The page itself belongs to Call Karo; it shows ``acefone/_config.html`` through the provider's
``config_template``, so neither app imports the other. The POSTs come back to the same page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from crm.models import TeamMember
from crm.selectors import team_member_for

from . import services
from .forms import AcefoneSettingsForm, AgentNumberForm

#: The settings page these forms live on (a URL name, not an import of its app).
CONFIG_PAGE = "callkaro:config"


@permission_required("crm.configure_calling", raise_exception=True)
@require_POST
def set_agent_number(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(TeamMember, pk=member_id)
    form = AgentNumberForm(request.POST)
    if form.is_valid():
        services.agent_number_set(member=member, number=form.cleaned_data["acefone_agent_number"])
        messages.success(request, f"Acefone agent number for {member.name} saved.")
    else:
        messages.error(request, f"{member.name}: {form.errors['acefone_agent_number'][0]}")
    return redirect(CONFIG_PAGE)


@permission_required("crm.configure_calling", raise_exception=True)
@require_POST
def save_settings(request: HttpRequest) -> HttpResponse:
    form = AcefoneSettingsForm(request.POST)
    if form.is_valid():
        services.config_save(**form.cleaned_data, actor=team_member_for(request.user))
        messages.success(request, "Acefone settings saved.")
    else:
        errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
        messages.error(request, f"Acefone settings not saved: {errors}")
    return redirect(CONFIG_PAGE)
