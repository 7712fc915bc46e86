"""Campaign pages. Thin: parse, check permission, call a service.

Who may build: managers and admins (``crm.manage_campaigns``) for any leads; reps for their own
leads only, enforced on the server (``permissions``, ``audience``). A rep sees and controls only the
campaigns they created. The builder saves a DRAFT campaign; preview reads it; launch flips it.
The JSON endpoints are in ``api``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from telephony.errors import ProviderConfigError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

from ..models import CallKaroCampaign
from . import lifecycle, services, uploads
from .audience import CampaignAudience
from .calls import CampaignError
from .forms import CampaignBuilderForm
from .inputs import CampaignSettings, settings_from_data
from .permissions import require_builder
from .selectors import campaign_progress, campaign_recent_calls, campaigns_for

Status = CallKaroCampaign.Status


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    require_builder(request.user)
    rows = [(c, campaign_progress(c)) for c in campaigns_for(request.user)[:100]]
    return render(request, "callkaro/campaigns/list.html", {"rows": rows})


def _builder(request: HttpRequest, draft: CallKaroCampaign | None) -> HttpResponse:
    """New or edited draft: a valid form is saved as a DRAFT row, then previewed."""
    require_builder(request.user)
    if request.method == "POST":
        form = CampaignBuilderForm(request.POST, request.FILES, user=request.user, draft=draft)
        if form.is_valid():
            try:
                campaign_settings = settings_from_data(form.settings_data(), request.user)
                audience, csv_data = form.audience()
                draft = services.campaign_draft_save(
                    user=request.user,
                    campaign_settings=campaign_settings,
                    audience=audience,
                    csv_data=csv_data,
                    draft=draft,
                )
                uploads.audience_parse_if_large(campaign=draft, data=csv_data)
            except CampaignError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("callkaro:campaign_preview", pk=draft.pk)
    else:
        form = CampaignBuilderForm(user=request.user, draft=draft)
    return render(request, "callkaro/campaigns/new.html", {"form": form, "draft": draft})


@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


def _draft_for(request: HttpRequest, pk: int) -> CallKaroCampaign:
    return get_object_or_404(campaigns_for(request.user), pk=pk, status=Status.DRAFT)


@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _builder(request, _draft_for(request, pk))


@require_http_methods(["GET", "POST"])
def campaign_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The figures of a draft before launch (nothing is written); POST launches it."""
    campaign = get_object_or_404(campaigns_for(request.user), pk=pk)
    if campaign.status != Status.DRAFT:
        return redirect("callkaro:campaign_detail", pk=campaign.pk)
    if request.method == "GET" and campaign.audience.get("kind") == "csv" and uploads.parse_state(campaign):
        waiting = _parse_progress(request, campaign)
        if waiting is not None:
            return waiting
    try:
        audience = CampaignAudience.for_campaign(campaign, request.user)
        if request.method == "POST":
            campaign = services.campaign_launch(user=request.user, campaign=campaign, audience=audience)
            messages.success(request, f"Campaign “{campaign.name}” launched with {campaign.total_leads} leads.")
            return redirect("callkaro:campaign_detail", pk=campaign.pk)
        campaign_settings = CampaignSettings.from_campaign(campaign)
        preview = uploads.stored_preview(campaign) or services.audience_preview(
            audience=audience, campaign_settings=campaign_settings
        )
    except (CampaignError, ValueError, OSError) as exc:  # ValueError/OSError: the draft's upload is gone
        messages.error(request, str(exc))
        campaign.refresh_from_db()
        if campaign.status != Status.DRAFT:  # launched meanwhile (a second click)
            return redirect("callkaro:campaign_detail", pk=campaign.pk)
        return redirect("callkaro:campaign_edit", pk=campaign.pk)
    except (ProviderUnavailable, ProviderOutcomeUnknown, ProviderRejected, ProviderConfigError) as exc:
        messages.error(request, f"Could not create the campaign at Call Karo: {getattr(exc, 'message', exc)}")
        return redirect("callkaro:campaign_preview", pk=campaign.pk)
    context = {
        "campaign": campaign,
        "preview": preview,
        "settings": campaign_settings,
        "errors": preview.invalid_numbers[:100],
    }
    return render(request, "callkaro/campaigns/preview.html", context)


def _parse_progress(request: HttpRequest, campaign: CallKaroCampaign) -> HttpResponse | None:
    """While the worker reads a large upload: its progress bar (htmx polls it); None once it is done."""
    state = uploads.parse_state(campaign)
    if state.get("state") not in uploads.RUNNING and state.get("state") != "failed":
        if request.htmx:
            return HttpResponse(headers={"HX-Refresh": "true"})  # done: reload the page with the figures
        return None
    context = {"campaign": campaign, "parse": state}
    template = "callkaro/campaigns/_parse_progress.html" if request.htmx else "callkaro/campaigns/parsing.html"
    return render(request, template, context)


@require_POST
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an abandoned draft (only drafts; only by someone who may see the campaign)."""
    campaign = get_object_or_404(campaigns_for(request.user), pk=pk)
    if services.campaign_draft_delete(campaign=campaign):
        messages.success(request, f"Draft “{campaign.name}” deleted.")
    else:
        messages.error(request, "Only a draft can be deleted; cancel a launched campaign instead.")
    return redirect("callkaro:campaign_list")


def _campaign_for(request: HttpRequest, pk: int) -> CallKaroCampaign:
    return get_object_or_404(campaigns_for(request.user), pk=pk)


def _detail_context(request: HttpRequest, campaign: CallKaroCampaign) -> dict:
    calls = campaign_recent_calls(campaign, user=request.user)
    return {"campaign": campaign, "progress": campaign_progress(campaign), "calls": calls}


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    if campaign.status == Status.DRAFT:
        return redirect("callkaro:campaign_preview", pk=campaign.pk)
    template = "callkaro/campaigns/_progress.html" if request.htmx else "callkaro/campaigns/detail.html"
    return render(request, template, _detail_context(request, campaign))


@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    if action == "pause":
        done = lifecycle.campaign_pause(campaign=campaign)
    elif action == "resume":
        done = lifecycle.campaign_resume(campaign=campaign)
    elif action == "cancel":
        lifecycle.campaign_cancel(campaign=campaign)
        done = campaign.status == CallKaroCampaign.Status.CANCELLED
    else:
        raise Http404
    if not done:
        messages.error(request, f"The campaign is {campaign.get_status_display().lower()}: cannot {action} it.")
    if request.htmx:
        return render(request, "callkaro/campaigns/_progress.html", _detail_context(request, campaign))
    return redirect("callkaro:campaign_detail", pk=campaign.pk)


@require_GET
@permission_required("crm.view_dashboard", raise_exception=True)
def campaigns_paused(request: HttpRequest) -> HttpResponse:
    """The dashboard's list of paused campaigns with the reason (a revoked key, calling off, an agent gone)."""
    paused = CallKaroCampaign.objects.filter(status=CallKaroCampaign.Status.PAUSED).order_by("-updated_at")[:20]
    return render(request, "callkaro/campaigns/_paused.html", {"campaigns": paused})
