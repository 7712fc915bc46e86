"""Campaign pages. Thin: parse, check permission, call a service.

Who may build: managers and admins (``crm.manage_campaigns``) for any leads; reps for their own
leads only, enforced on the server (the audience goes through ``lead_queryset_for``, an
assignee filter is ignored for reps, and a rep's CSV may not reach another member's lead).
A rep sees and controls only the campaigns they created. The form and input parsing are in
``forms_campaigns``; the JSON endpoints in ``views_campaigns_api``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from telephony.errors import ProviderConfigError, ProviderRejected, ProviderUnavailable

from . import campaigns as svc
from .forms_campaigns import (
    UPLOAD_DIR,
    CampaignBuilderForm,
    audience_from_state,
    builder_state,
    campaigns_for,
    require_builder,
    settings_from_data,
)
from .models import CallKaroCallLog, CallKaroCampaign

SESSION_KEY = "campaign_builder"


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    require_builder(request.user)
    rows = [(c, svc.campaign_progress(c)) for c in campaigns_for(request.user)[:100]]
    return render(request, "callkaro/campaigns/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    require_builder(request.user)
    if request.method == "POST":
        form = CampaignBuilderForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            request.session[SESSION_KEY] = builder_state(form)
            return redirect("callkaro:campaign_preview")
    else:
        form = CampaignBuilderForm(user=request.user, initial=request.session.get(SESSION_KEY))
    return render(request, "callkaro/campaigns/new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The figures before launch (nothing is written); POST confirms and launches."""
    require_builder(request.user)
    state = request.session.get(SESSION_KEY)
    if not state:
        return redirect("callkaro:campaign_new")
    try:
        campaign_settings = settings_from_data(state, request.user)
        audience = audience_from_state(state, request.user)
        if request.method == "POST":
            campaign = audience.launch(campaign_settings)
            request.session.pop(SESSION_KEY, None)
            if state.get("csv_token", "").isalnum():
                (UPLOAD_DIR / f"{state['csv_token']}.csv").unlink(missing_ok=True)
            messages.success(request, f"Campaign “{campaign.name}” launched with {campaign.total_leads} leads.")
            return redirect("callkaro:campaign_detail", pk=campaign.pk)
        preview = audience.preview(campaign_settings)
    except svc.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("callkaro:campaign_new")
    except (ProviderUnavailable, ProviderRejected, ProviderConfigError) as exc:
        messages.error(request, f"Could not create the campaign at Call Karo: {getattr(exc, 'message', exc)}")
        return redirect("callkaro:campaign_preview")
    context = {
        "preview": preview,
        "settings": campaign_settings,
        "state": state,
        "errors": preview.invalid_numbers[:100],
    }
    return render(request, "callkaro/campaigns/preview.html", context)


def _campaign_for(request: HttpRequest, pk: int) -> CallKaroCampaign:
    return get_object_or_404(campaigns_for(request.user), pk=pk)


def _detail_context(campaign: CallKaroCampaign) -> dict[str, Any]:
    calls = (
        CallKaroCallLog.objects.filter(campaign=campaign).select_related("lead").order_by("-updated_at", "-id")[:200]
    )
    return {"campaign": campaign, "progress": svc.campaign_progress(campaign), "calls": calls}


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    template = "callkaro/campaigns/_progress.html" if request.htmx else "callkaro/campaigns/detail.html"
    return render(request, template, _detail_context(campaign))


@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    if action == "pause":
        done = svc.campaign_pause(campaign=campaign)
    elif action == "resume":
        done = svc.campaign_resume(campaign=campaign)
    elif action == "cancel":
        svc.campaign_cancel(campaign=campaign)
        done = campaign.status == CallKaroCampaign.Status.CANCELLED
    else:
        raise Http404
    if not done:
        messages.error(request, f"The campaign is {campaign.get_status_display().lower()}: cannot {action} it.")
    if request.htmx:
        return render(request, "callkaro/campaigns/_progress.html", _detail_context(campaign))
    return redirect("callkaro:campaign_detail", pk=campaign.pk)
