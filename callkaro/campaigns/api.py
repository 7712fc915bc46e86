"""The two JSON campaign endpoints: ``POST /create-callkaro-campaign/`` and ``POST /schedule-campaign-call/``.

Thin: parse the body, check permission, call a service; errors come back as ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from crm.selectors import lead_get_for_user
from telephony.errors import ProviderConfigError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

from ..models import CallKaroCampaign
from . import services
from .api_form import builder_form_from_json, form_errors
from .audience import CampaignAudience
from .calls import CampaignError
from .inputs import CampaignSettings, audience_from_spec, parse_when, settings_from_data
from .permissions import require_builder
from .selectors import campaigns_for


def _preview_json(preview: services.CampaignPreview) -> dict[str, Any]:
    return {
        "count": preview.count,
        "eligible": preview.eligible,
        "invalid_numbers": [{"line": line, "error": msg} for line, msg in preview.invalid_numbers],
        "duplicates": preview.duplicates,
        "do_not_call": preview.do_not_call,
        "in_other_campaigns": preview.in_other_campaigns,
        "estimated_calls": preview.estimated_calls,
        "refused": preview.refused,
        "calling_minutes": preview.calling_minutes,
        "calling_days": preview.calling_days,
    }


def _campaign_json(campaign: CallKaroCampaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "status_reason": campaign.status_reason,
        "batch_id": campaign.batch_id,
        "total_leads": campaign.total_leads,
        "start_at": campaign.start_at.isoformat() if campaign.start_at else None,
    }


def _error(message: str, status: int = 400, **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message, **extra}, status=status)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise CampaignError("The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise CampaignError("The body must be a JSON object")
    return body


def _provider_error_response(exc: Exception) -> JsonResponse:
    if isinstance(exc, ProviderUnavailable):
        return _error(f"Call Karo is unavailable: {exc.message}", 503)
    if isinstance(exc, ProviderConfigError):
        return _error(str(exc), 409)
    return _error(f"Call Karo refused: {getattr(exc, 'message', exc)}", 502)


def _draft_then_launch(
    request: HttpRequest,
    campaign_settings: CampaignSettings,
    description: dict[str, Any],
    csv_data: bytes | None,
    audience: CampaignAudience,
) -> CallKaroCampaign:
    """The builder's path in one request: save a draft, launch it; a failed launch leaves no draft."""
    draft = services.campaign_draft_save(
        user=request.user, campaign_settings=campaign_settings, audience=description, csv_data=csv_data
    )
    try:
        return services.campaign_launch(user=request.user, campaign=draft, audience=audience)
    except Exception:
        services.campaign_draft_delete(campaign=draft)
        raise


@require_POST
def create_campaign(request: HttpRequest) -> JsonResponse:
    """``POST /create-callkaro-campaign/``: the builder as JSON. ``"preview": true`` writes nothing."""
    try:
        require_builder(request.user)
    except PermissionDenied as exc:
        return _error(str(exc), 403)
    try:
        body = _json_body(request)
        form = builder_form_from_json(body, request.user)
        if not form.is_valid():
            first, errors = form_errors(form)
            return _error(first, 400, errors=errors)
        campaign_settings = settings_from_data(form.settings_data(), request.user)
        description, csv_data = form.audience()
        if csv_data is not None:
            description["file_name"] = "api-rows.csv"
        audience = audience_from_spec(description, csv_data, request.user)
        if body.get("preview"):
            preview = services.audience_preview(audience=audience, campaign_settings=campaign_settings)
            return JsonResponse({"ok": True, "preview": _preview_json(preview)})
        campaign = _draft_then_launch(request, campaign_settings, description, csv_data, audience)
    except CampaignError as exc:
        return _error(str(exc))
    except (ProviderUnavailable, ProviderOutcomeUnknown, ProviderRejected, ProviderConfigError) as exc:
        return _provider_error_response(exc)
    bad = [{"line": line, "error": msg} for line, msg in audience.errors]
    return JsonResponse({"ok": True, "campaign": _campaign_json(campaign), "bad_rows": bad}, status=201)


@require_POST
def schedule_campaign_call(request: HttpRequest) -> JsonResponse:
    """``POST /schedule-campaign-call/`` ``{campaign_id, lead_id, scheduled_at?}``: add or (re)schedule one lead."""
    try:
        body = _json_body(request)
        campaign_id, lead_id = int(body.get("campaign_id") or 0), int(body.get("lead_id") or 0)
    except CampaignError as exc:
        return _error(str(exc))
    except (TypeError, ValueError):
        return _error("campaign_id and lead_id must be integers")
    if not campaign_id or not lead_id:
        return _error("campaign_id and lead_id are required")
    campaign = campaigns_for(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        return _error("No such campaign", 404)
    try:
        lead = lead_get_for_user(request.user, lead_id)
    except Http404:
        return _error("No such lead", 404)
    try:
        when = parse_when(body.get("scheduled_at"))
        row, created = services.campaign_call_schedule(
            user=request.user, campaign=campaign, lead=lead, scheduled_at=when
        )
    except CampaignError as exc:
        return _error(str(exc), 409 if "dialled" in str(exc) or "campaign is" in str(exc) else 400)
    return JsonResponse(
        {
            "ok": True,
            "created": created,
            "call_log_id": row.pk,
            "status": row.status,
            "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None,
        },
        status=201 if created else 200,
    )
