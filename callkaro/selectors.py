"""Reads for Call Karo configuration and AI agents."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from crm import crypto
from crm.selectors import team_member_for

from .config import config_row, get_effective_config
from .models import CallKaroAgent


def agent_list() -> QuerySet[CallKaroAgent]:
    """Every agent, for the config page."""
    return CallKaroAgent.objects.prefetch_related("team_members").order_by("-is_active", "name")


def agents_usable_by(user: AbstractBaseUser) -> QuerySet[CallKaroAgent]:
    """THE rule for which AI agents a user may use, shared by the call panel, the agents API and
    campaigns: active agents assigned to them plus the default; every active one for those who may
    call every lead (managers and admins)."""
    qs = CallKaroAgent.objects.filter(is_active=True).order_by("name")
    if user.has_perm("crm.view_all_leads") or user.has_perm("crm.configure_calling"):
        return qs
    default_id = get_effective_config().default_agent_id
    cond = Q(agent_id=default_id) if default_id else Q(pk__in=[])
    member = team_member_for(user)
    if member is not None:
        cond |= Q(team_members=member)
    return qs.filter(cond).distinct()


def agent_usable_by(user: AbstractBaseUser, agent_id: str) -> CallKaroAgent | None:
    """The active agent with this provider id, if the user may use it (``agents_usable_by``)."""
    return agents_usable_by(user).filter(agent_id=agent_id).first()


def agents_api_rows(user: AbstractBaseUser) -> list[dict]:
    """The agents a user may call with; the default agent (environment or config page) is listed even
    when no agent row exists for it, since every user may use it. A disabled row hides it."""
    default_id = get_effective_config().default_agent_id
    rows = [
        {"agent_id": a.agent_id, "name": a.name, "language": a.language, "is_default": a.agent_id == default_id}
        for a in agents_usable_by(user)
    ]
    if default_id and not CallKaroAgent.objects.filter(agent_id=default_id).exists():
        rows.insert(0, {"agent_id": default_id, "name": "Default agent", "language": "", "is_default": True})
    return rows


@dataclass(frozen=True)
class ConfigSummary:
    """What the config page may show about secrets: where they come from and a mask, never the value."""

    api_key_mask: str
    api_key_source: str  # "saved", "environment" or ""
    default_agent_id: str
    default_agent_source: str
    webhook_secret_count: int
    webhook_secret_source: str
    webhook_url_masked: str
    time_zone: str
    is_enabled: bool
    is_configured: bool
    base_url: str


def webhook_endpoint() -> str:
    """The webhook URL without any secret: the secret goes in the ``X-Webhook-Token`` header."""
    return f"{settings.SITE_URL.rstrip('/')}/callkaro-webhook/"


def webhook_url(token: str) -> str:
    """The fallback URL with ``?token=``, only for a sender that cannot set headers (the secret then
    shows in access logs on the way, so the header is the documented way)."""
    return f"{webhook_endpoint()}?token={token}"


def config_summary() -> ConfigSummary:
    row = config_row()
    effective = get_effective_config()
    if row is not None and row.api_key_encrypted:
        key_source, key_mask = "saved", "••••" + row.api_key_last4
    elif settings.CALLKARO_API_KEY:
        key_source, key_mask = "environment", crypto.mask(settings.CALLKARO_API_KEY)
    else:
        key_source, key_mask = "", ""
    if row is not None and row.default_agent_id:
        agent_source = "saved"
    else:
        agent_source = "environment" if settings.CALLKARO_DEFAULT_AGENT_ID else ""
    if row is not None and row.webhook_secrets_encrypted:
        secret_source = "saved"
    else:
        secret_source = "environment" if settings.CALLKARO_WEBHOOK_SECRET else ""
    newest = effective.webhook_secrets[0] if effective.webhook_secrets else ""
    return ConfigSummary(
        api_key_mask=key_mask,
        api_key_source=key_source,
        default_agent_id=effective.default_agent_id,
        default_agent_source=agent_source,
        webhook_secret_count=len(effective.webhook_secrets),
        webhook_secret_source=secret_source,
        webhook_url_masked=f"{webhook_endpoint()} + X-Webhook-Token: {crypto.mask(newest)}" if newest else "",
        time_zone=effective.time_zone,
        is_enabled=effective.is_enabled,
        is_configured=effective.is_configured,
        base_url=effective.base_url,
    )
