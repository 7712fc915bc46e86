"""The admin's calling settings page: Call Karo's settings and agents, then each other provider's
fragment (``TelephonyProvider.config_template``). Thin: forms validate, services write.

Secrets never go back to the browser: the API key is shown as a mask, and the full webhook URL
only once, in the response to the POST that generated its secret (never stored in the session).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.logging import redact
from crm.selectors import team_member_for
from telephony.errors import (
    ProviderConfigError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from telephony.policy import calling_policy_save, calling_policy_values
from telephony.registry import get_provider, provider_names
from telephony.selectors import webhook_query_token_last_seen
from telephony.webhooks import TOKEN_HEADER

from . import selectors, services
from .config import config_row
from .forms import AgentAssignForm, AgentForm, ConfigForm
from .metadata import DEFAULT_FIELDS
from .models import CallKaroAgent

configure_required = permission_required("crm.configure_calling", raise_exception=True)


def _config_initial() -> dict:
    """Only values saved on this page; the environment's show as placeholders, so saving never copies them."""
    row = config_row()
    policy = calling_policy_values()
    if row is None:
        return {
            "time_zone": selectors.config_summary().time_zone,
            "is_enabled": True,
            "metadata_fields": list(DEFAULT_FIELDS),
            **policy,
        }
    return {
        "default_agent_id": row.default_agent_id,
        "time_zone": row.time_zone,
        "is_enabled": row.is_enabled,
        "metadata_fields": list(DEFAULT_FIELDS) if row.metadata_fields is None else row.metadata_fields,
        "campaign_api_version": row.campaign_api_version,
        **policy,
    }


def _provider_sections() -> list[dict]:
    """Every other provider's settings fragment, asked through the registry (no provider app imports another)."""
    sections = []
    for name in provider_names():
        provider = get_provider(name)
        if name != "callkaro" and provider.config_template:
            sections.append({"template": provider.config_template, **provider.config_context()})
    return sections


def _query_token_warnings() -> list[dict]:
    """Providers whose webhooks recently sent the secret as ``?token=`` (visible in access logs)."""
    warnings = []
    for name in provider_names():
        seen = webhook_query_token_last_seen(name)
        if seen is not None:
            warnings.append({"provider": get_provider(name).label, "seen": seen})
    return warnings


def _render_config(
    request: HttpRequest,
    *,
    config_form: ConfigForm | None = None,
    agent_form: AgentForm | None = None,
    status: int = 200,
    **extra,
) -> HttpResponse:
    summary = selectors.config_summary()
    config_form = config_form or ConfigForm(initial=_config_initial())
    config_form.fields["default_agent_id"].widget.attrs["placeholder"] = summary.default_agent_id or "none"
    context = {
        "summary": summary,
        "config_form": config_form,
        "agent_form": agent_form or AgentForm(),
        "agents": selectors.agent_list(),
        "provider_sections": _provider_sections(),
        "query_token_warnings": _query_token_warnings(),
        **extra,
    }
    response = render(request, "callkaro/config.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@configure_required
@require_GET
def config(request: HttpRequest) -> HttpResponse:
    return _render_config(request)


@configure_required
@require_POST
def save_config(request: HttpRequest) -> HttpResponse:
    form = ConfigForm(request.POST)
    if not form.is_valid():
        return _render_config(request, config_form=form, status=400)
    data = dict(form.cleaned_data)
    calling_policy_save(calling_hours=data.pop("calling_hours"), min_gap_hours=data.pop("min_gap_hours"))
    services.config_save(**data, actor=team_member_for(request.user))
    messages.success(request, "Call Karo settings saved.")
    return redirect("callkaro:config")


@configure_required
@require_POST
def generate_webhook_secret(request: HttpRequest) -> HttpResponse:
    secret = services.webhook_secret_generate(actor=team_member_for(request.user))
    return _render_config(
        request,
        new_webhook_url=selectors.webhook_url(secret),
        new_webhook_secret=secret,
        webhook_endpoint=selectors.webhook_endpoint(),
        token_header=TOKEN_HEADER,
    )


@configure_required
@require_POST
def retire_webhook_secrets(request: HttpRequest) -> HttpResponse:
    retired = services.webhook_secrets_retire_old(actor=team_member_for(request.user))
    messages.success(request, f"{retired} older webhook secret(s) retired." if retired else "Nothing to retire.")
    return redirect("callkaro:config")


@configure_required
@require_POST
def test_connection(request: HttpRequest) -> HttpResponse:
    """A harmless authenticated request to Call Karo; shows success or the provider's own error."""
    try:
        get_provider("callkaro").check_credentials()
        ok, message = True, "Connected: Call Karo accepted the API key."
    except ProviderConfigError as exc:
        ok, message = False, f"Not configured: {exc}"
    except ProviderRejected as exc:
        code = f" (HTTP {exc.status_code})" if exc.status_code else ""
        ok, message = False, f"Call Karo refused the request{code}: {exc.message}"
    except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:
        ok, message = False, f"Call Karo could not be reached: {exc.message}"
    message = redact(message)
    if request.htmx:
        return render(request, "callkaro/_test_connection.html", {"ok": ok, "message": message})
    (messages.success if ok else messages.error)(request, message)
    return redirect("callkaro:config")


@configure_required
@require_POST
def add_agent(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST)
    if not form.is_valid():
        return _render_config(request, agent_form=form, status=400)
    agent = services.agent_create(**form.cleaned_data)
    messages.success(request, f"Agent {agent.name} added.")
    return redirect("callkaro:config")


@configure_required
@require_http_methods(["GET", "POST"])
def edit_agent(request: HttpRequest, pk: int) -> HttpResponse:
    agent = get_object_or_404(CallKaroAgent, pk=pk)
    form = AgentForm(request.POST or None, instance=CallKaroAgent.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        services.agent_update(agent=agent, **form.cleaned_data)
        messages.success(request, f"Agent {agent.name} saved.")
        return redirect("callkaro:config")
    assign_form = AgentAssignForm(initial={"team_members": agent.team_members.all()})
    status = 400 if request.method == "POST" else 200
    return render(
        request, "callkaro/config_agent.html", {"agent": agent, "form": form, "assign_form": assign_form}, status=status
    )


@configure_required
@require_POST
def set_agent_active(request: HttpRequest, pk: int) -> HttpResponse:
    agent = get_object_or_404(CallKaroAgent, pk=pk)
    active = request.POST.get("is_active") in {"1", "true", "on"}
    services.agent_set_active(agent=agent, is_active=active)
    messages.success(request, f"Agent {agent.name} {'enabled' if active else 'disabled'}.")
    return redirect("callkaro:config")


@configure_required
@require_POST
def assign_agent(request: HttpRequest, pk: int) -> HttpResponse:
    agent = get_object_or_404(CallKaroAgent, pk=pk)
    form = AgentAssignForm(request.POST)
    if not form.is_valid():
        form_edit = AgentForm(instance=agent)
        return render(
            request,
            "callkaro/config_agent.html",
            {"agent": agent, "form": form_edit, "assign_form": form},
            status=400,
        )
    services.agent_assign(agent=agent, team_members=form.cleaned_data["team_members"])
    messages.success(request, f"Agent {agent.name} assigned to {len(form.cleaned_data['team_members'])} member(s).")
    return redirect("callkaro:config")


@require_GET
@never_cache
def agents_api(request: HttpRequest) -> JsonResponse:
    """The agents the signed-in user may call with (every logged-in user may ask)."""
    return JsonResponse(selectors.agents_api_rows(request.user), safe=False)
