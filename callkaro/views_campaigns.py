"""Campaign pages and the two JSON endpoints. Thin: parse, check permission, call a service.

Who may build: managers and admins (``crm.manage_campaigns``) for any leads; reps for their own
leads only, enforced on the server (the audience goes through ``lead_queryset_for``, an
assignee filter is ignored for reps, and a rep's CSV may not reach another member's lead).
A rep sees and controls only the campaigns they created.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.models import LeadSource, LeadStage, TeamMember
from crm.selectors import lead_get_for_user, team_member_for
from crm.telephony.errors import ProviderConfigError, ProviderRejected, ProviderUnavailable

from . import audience as aud
from . import campaigns as svc
from .models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign

SESSION_KEY = "campaign_builder"
UPLOAD_DIR = settings.VAR_DIR / "campaign_uploads"
DAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


# --- Permissions and reads -----------------------------------------------------------------------


def _is_manager(user: AbstractBaseUser) -> bool:
    return user.has_perm("crm.manage_campaigns")


def _require_builder(user: AbstractBaseUser) -> TeamMember | None:
    member = team_member_for(user)
    if not _is_manager(user) and member is None:
        raise PermissionDenied("Only team members can build campaigns")
    return member


def campaigns_for(user: AbstractBaseUser) -> QuerySet[CallKaroCampaign]:
    qs = CallKaroCampaign.objects.select_related("agent", "created_by")
    if _is_manager(user):
        return qs
    member = team_member_for(user)
    return qs.filter(created_by=member) if member else qs.none()


def agents_for(user: AbstractBaseUser) -> QuerySet[CallKaroAgent]:
    qs = CallKaroAgent.objects.filter(is_active=True)
    if _is_manager(user):
        return qs
    member = team_member_for(user)
    return qs.filter(Q(team_members=member) | Q(team_members__isnull=True)).distinct()


# --- Settings, shared by the form and the JSON endpoint ------------------------------------------


def _gaps(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        raise svc.CampaignError("Retry gaps must be whole minutes, e.g. 30 or 30,60,120") from None


def _time(value: Any, default: dt.time, field: str) -> dt.time:
    if value in (None, ""):
        return default
    if isinstance(value, dt.time):
        return value
    try:
        parsed = parse_time(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise svc.CampaignError(f"{field} must be HH:MM")
    return parsed


def _when(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise svc.CampaignError("start_at must be an ISO date and time")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def settings_from_data(data: dict[str, Any], user: AbstractBaseUser) -> svc.CampaignSettings:
    """Campaign settings from a form's cleaned data or a JSON body. Raises CampaignError."""
    agent_id = str(data.get("agent_id") or data.get("agent") or "")
    agent = agents_for(user).filter(Q(agent_id=agent_id) | Q(pk=int(agent_id) if agent_id.isdigit() else None)).first()
    if agent is None:
        raise svc.CampaignError("Unknown or unavailable agent")
    try:
        campaign_settings = svc.CampaignSettings(
            name=str(data.get("name") or "").strip(),
            agent=agent,
            start_at=_when(data.get("start_at")),
            calling_hours_start=_time(data.get("calling_hours_start"), dt.time(9, 0), "calling_hours_start"),
            calling_hours_end=_time(data.get("calling_hours_end"), dt.time(21, 0), "calling_hours_end"),
            days_of_week=[int(d) for d in data.get("days_of_week") or []],
            time_zone=str(data.get("time_zone") or ""),
            retry_owner=str(data.get("retry_owner") or CallKaroCampaign.RetryOwner.SCHEDULER),
            max_retries=int(data.get("max_retries") or 0),
            retry_gaps_minutes=_gaps(data.get("retry_gaps_minutes")),
            priority=int(data.get("priority") or 0),
            pace_per_minute=int(data.get("pace_per_minute") or 10),
            max_concurrent=int(data.get("max_concurrent") or 5),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, svc.CampaignError):
            raise
        raise svc.CampaignError(f"Bad setting: {exc}") from None
    if campaign_settings.time_zone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(campaign_settings.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise svc.CampaignError("Unknown time zone") from None
    campaign_settings.validate()
    return campaign_settings


def _lead_filter(data: dict[str, Any], user: AbstractBaseUser) -> aud.LeadFilter:
    lead_filter = aud.LeadFilter.from_json(data)
    if not _is_manager(user):  # reps: their own leads whatever the filter says
        lead_filter = aud.LeadFilter(**{**lead_filter.__dict__, "assignee_id": None})
    return lead_filter


class _Audience:
    """An audience ready to preview or launch, from a filter, a CSV or a JSON list."""

    def __init__(self, *, user: AbstractBaseUser, lead_filter: aud.LeadFilter | None = None, csv: Any = None):
        self.user, self.lead_filter, self.csv = user, lead_filter, csv
        self.errors: list[tuple[int | None, str]] = []
        if csv is not None:
            self.errors = list(csv.errors)

    def description(self) -> dict[str, Any]:
        if self.lead_filter is not None:
            return {"kind": "filter", "filter": self.lead_filter.as_json()}
        return {"kind": "csv", "rows": len(self.csv.rows), "bad_rows": len(self.csv.errors)}

    def members(self, *, create: bool):
        if self.lead_filter is not None:
            qs = aud.audience_filter_queryset(user=self.user, lead_filter=self.lead_filter)
            flagged = qs.filter(phone_invalid=True).values_list("phone", flat=True)[:200]
            self.errors = [(None, f"{phone} (flagged invalid)") for phone in flagged]
            return aud.audience_from_filter(qs)
        members, errors = aud.audience_from_csv(self.csv, user=self.user, create=create)
        self.errors = list(self.csv.errors) + errors
        return members

    def preview(self, campaign_settings: svc.CampaignSettings) -> svc.CampaignPreview:
        members = self.members(create=False)
        preview = svc.campaign_preview(audience=members, campaign_settings=campaign_settings, invalid=self.errors)
        if self.csv is not None:
            preview.duplicates += len(self.csv.duplicates)
            preview.count += len(self.csv.duplicates)
        return preview

    def launch(self, campaign_settings: svc.CampaignSettings) -> CallKaroCampaign:
        return svc.campaign_launch(
            user=self.user,
            campaign_settings=campaign_settings,
            audience=self.members(create=True),
            audience_description=self.description(),
        )


def _audience_from_json(body: dict[str, Any], user: AbstractBaseUser) -> _Audience:
    spec = body.get("audience") or {}
    if not isinstance(spec, dict):
        raise svc.CampaignError("audience must be an object")
    if "rows" in spec:
        rows = spec["rows"]
        if not isinstance(rows, list) or not rows:
            raise svc.CampaignError("audience.rows must be a non-empty list")
        headers = sorted({k for r in rows if isinstance(r, dict) for k in r})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=headers)
        writer.writeheader()
        writer.writerows(r for r in rows if isinstance(r, dict))
        text = buf.getvalue()
        return _Audience(user=user, csv=aud.audience_csv_parse(text))
    if "lead_ids" in spec:
        raise svc.CampaignError("audience.lead_ids is not supported; use audience.filter or audience.rows")
    return _Audience(user=user, lead_filter=_lead_filter(spec.get("filter") or {}, user))


def _preview_json(preview: svc.CampaignPreview) -> dict[str, Any]:
    return {
        "count": preview.count,
        "eligible": preview.eligible,
        "invalid_numbers": [{"line": line, "error": msg} for line, msg in preview.invalid_numbers],
        "duplicates": preview.duplicates,
        "do_not_call": preview.do_not_call,
        "in_other_campaigns": preview.in_other_campaigns,
        "estimated_calls": preview.estimated_calls,
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
        raise svc.CampaignError("The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise svc.CampaignError("The body must be a JSON object")
    return body


def _provider_error_response(exc: Exception) -> JsonResponse:
    if isinstance(exc, ProviderUnavailable):
        return _error(f"Call Karo is unavailable: {exc.message}", 503)
    if isinstance(exc, ProviderConfigError):
        return _error(str(exc), 409)
    return _error(f"Call Karo refused: {getattr(exc, 'message', exc)}", 502)


# --- JSON endpoints ------------------------------------------------------------------------------


@require_POST
def create_campaign(request: HttpRequest) -> JsonResponse:
    """``POST /create-callkaro-campaign/``: the builder as JSON. ``"preview": true`` writes nothing."""
    try:
        _require_builder(request.user)
    except PermissionDenied as exc:
        return _error(str(exc), 403)
    try:
        body = _json_body(request)
        campaign_settings = settings_from_data(body, request.user)
        audience = _audience_from_json(body, request.user)
        if body.get("preview"):
            return JsonResponse({"ok": True, "preview": _preview_json(audience.preview(campaign_settings))})
        campaign = audience.launch(campaign_settings)
    except svc.CampaignError as exc:
        return _error(str(exc))
    except (ProviderUnavailable, ProviderRejected, ProviderConfigError) as exc:
        return _provider_error_response(exc)
    bad = [{"line": line, "error": msg} for line, msg in audience.errors]
    return JsonResponse({"ok": True, "campaign": _campaign_json(campaign), "bad_rows": bad}, status=201)


@require_POST
def schedule_campaign_call(request: HttpRequest) -> JsonResponse:
    """``POST /schedule-campaign-call/`` ``{campaign_id, lead_id, scheduled_at?}``: add or (re)schedule one lead."""
    try:
        body = _json_body(request)
        campaign_id, lead_id = int(body.get("campaign_id") or 0), int(body.get("lead_id") or 0)
    except svc.CampaignError as exc:
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
        when = _when(body.get("scheduled_at"))
        row, created = svc.campaign_call_schedule(user=request.user, campaign=campaign, lead=lead, scheduled_at=when)
    except svc.CampaignError as exc:
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


# --- Pages ---------------------------------------------------------------------------------------


class CampaignBuilderForm(forms.Form):
    name = forms.CharField(max_length=160)
    agent = forms.ModelChoiceField(queryset=CallKaroAgent.objects.none())
    audience_kind = forms.ChoiceField(choices=[("filter", "Lead filter"), ("csv", "CSV upload")], initial="filter")
    stage = forms.ChoiceField(choices=[("", "Any stage"), *LeadStage.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *LeadSource.choices], required=False)
    assignee_id = forms.ModelChoiceField(queryset=TeamMember.objects.none(), required=False, empty_label="Anyone")
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    not_called_days = forms.IntegerField(required=False, min_value=1, label="Not called in N days")
    csv_file = forms.FileField(required=False, label="CSV (phone, name, extra columns)")
    start_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Empty: now"
    )
    calling_hours_start = forms.TimeField(initial=dt.time(9, 0), widget=forms.TimeInput(attrs={"type": "time"}))
    calling_hours_end = forms.TimeField(initial=dt.time(21, 0), widget=forms.TimeInput(attrs={"type": "time"}))
    days_of_week = forms.TypedMultipleChoiceField(
        choices=DAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: every day"
    )
    time_zone = forms.CharField(required=False, help_text="Blank: the lead's, else the project's")
    retry_owner = forms.ChoiceField(choices=CallKaroCampaign.RetryOwner.choices)
    max_retries = forms.IntegerField(min_value=0, max_value=10, initial=0)
    retry_gaps_minutes = forms.CharField(required=False, initial="30", help_text="Minutes: 30, or 30,60,120")
    priority = forms.IntegerField(min_value=-100, max_value=100, initial=0)
    pace_per_minute = forms.IntegerField(min_value=1, max_value=600, initial=10)
    max_concurrent = forms.IntegerField(min_value=1, max_value=200, initial=5)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents_for(user)
        if _is_manager(user):
            self.fields["assignee_id"].queryset = TeamMember.objects.filter(is_active=True)
        else:
            del self.fields["assignee_id"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("audience_kind") == "csv" and not data.get("csv_file"):
            self.add_error("csv_file", "Choose a CSV file")
        upload = data.get("csv_file")
        if upload and upload.size > settings.CAMPAIGN_CSV_MAX_BYTES:
            self.add_error("csv_file", "The file is too large")
        return data


def _builder_state(form: CampaignBuilderForm) -> dict[str, Any]:
    d = form.cleaned_data
    state: dict[str, Any] = {
        "name": d["name"],
        "agent": d["agent"].pk,
        "start_at": d["start_at"].isoformat() if d.get("start_at") else "",
        "calling_hours_start": d["calling_hours_start"].strftime("%H:%M"),
        "calling_hours_end": d["calling_hours_end"].strftime("%H:%M"),
        "days_of_week": d.get("days_of_week") or [],
        "time_zone": d.get("time_zone") or "",
        "retry_owner": d["retry_owner"],
        "max_retries": d["max_retries"],
        "retry_gaps_minutes": d.get("retry_gaps_minutes") or "",
        "priority": d["priority"],
        "pace_per_minute": d["pace_per_minute"],
        "max_concurrent": d["max_concurrent"],
        "audience_kind": d["audience_kind"],
    }
    if d["audience_kind"] == "csv":
        UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        with open(UPLOAD_DIR / f"{token}.csv", "wb") as out:
            for chunk in d["csv_file"].chunks():
                out.write(chunk)
        state["csv_token"] = token
    else:
        assignee = d.get("assignee_id")
        state["filter"] = aud.LeadFilter(
            stage=d.get("stage") or "",
            source=d.get("source") or "",
            assignee_id=assignee.pk if assignee else None,
            created_from=d.get("created_from"),
            created_to=d.get("created_to"),
            not_called_days=d.get("not_called_days"),
        ).as_json()
    return state


def _audience_from_state(state: dict[str, Any], user: AbstractBaseUser) -> _Audience:
    if state.get("audience_kind") == "csv":
        token = state.get("csv_token", "")
        if not token.isalnum():
            raise svc.CampaignError("The upload has expired; build the campaign again")
        try:
            data = (UPLOAD_DIR / f"{token}.csv").read_bytes()
        except FileNotFoundError:
            raise svc.CampaignError("The upload has expired; build the campaign again") from None
        return _Audience(user=user, csv=aud.audience_csv_parse(data))
    return _Audience(user=user, lead_filter=_lead_filter(state.get("filter") or {}, user))


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require_builder(request.user)
    rows = [(c, svc.campaign_progress(c)) for c in campaigns_for(request.user)[:100]]
    return render(request, "callkaro/campaigns/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    _require_builder(request.user)
    if request.method == "POST":
        form = CampaignBuilderForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            request.session[SESSION_KEY] = _builder_state(form)
            return redirect("callkaro:campaign_preview")
    else:
        form = CampaignBuilderForm(user=request.user, initial=request.session.get(SESSION_KEY))
    return render(request, "callkaro/campaigns/new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The figures before launch (nothing is written); POST confirms and launches."""
    _require_builder(request.user)
    state = request.session.get(SESSION_KEY)
    if not state:
        return redirect("callkaro:campaign_new")
    try:
        campaign_settings = settings_from_data(state, request.user)
        audience = _audience_from_state(state, request.user)
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
