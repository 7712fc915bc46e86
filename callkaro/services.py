"""Writes for Call Karo configuration and AI agents. Secrets are encrypted before they touch the database."""

from __future__ import annotations

import json
import logging
import secrets as _secrets
from collections.abc import Iterable

from django.db import transaction

from crm import crypto
from crm.logging import register_secret
from crm.models import TeamMember

from .config import config_row, get_effective_config
from .models import CallKaroAgent, CallKaroConfig

logger = logging.getLogger(__name__)

#: The newest secret plus the one before it, so a sender still using the old one keeps working.
WEBHOOK_SECRETS_KEPT = 2


def _config_for_update() -> CallKaroConfig:
    """The single config row, locked; created on first save."""
    row = CallKaroConfig.objects.select_for_update().order_by("pk").first()
    if row is None:
        row = CallKaroConfig.objects.create()
    return row


@transaction.atomic
def config_save(
    *,
    api_key: str = "",
    clear_api_key: bool = False,
    default_agent_id: str,
    time_zone: str,
    is_enabled: bool,
    actor: TeamMember | None,
    metadata_fields: list[str] | None = None,
    campaign_api_version: str = "",
) -> CallKaroConfig:
    """Save the config page. A blank ``api_key`` keeps the saved one (the page never echoes it back);
    ``metadata_fields`` None keeps the saved choice (a form that did not show the field)."""
    row = _config_for_update()
    api_key = api_key.strip()
    key_changed = False
    if api_key:
        register_secret(api_key)
        row.api_key_encrypted = crypto.encrypt(api_key)
        row.api_key_last4 = api_key[-4:]
        key_changed = True
    elif clear_api_key:
        row.api_key_encrypted = ""
        row.api_key_last4 = ""
        key_changed = True
    row.default_agent_id = default_agent_id.strip()
    row.time_zone = time_zone
    row.is_enabled = is_enabled
    if metadata_fields is not None:
        row.metadata_fields = list(metadata_fields)
    row.campaign_api_version = campaign_api_version
    row.updated_by = actor
    row.save()
    logger.info(
        "Call Karo configuration saved by %s (API key %s)",
        actor or "system",
        ("changed, now ••••" + row.api_key_last4 if row.api_key_last4 else "cleared") if key_changed else "unchanged",
    )
    return row


@transaction.atomic
def webhook_secret_generate(*, actor: TeamMember | None) -> str:
    """Make a new webhook secret and put it first; the previous one stays valid until the next rotation.

    Returns the new secret in clear, once, so the page can show the URL to paste into Call Karo.
    """
    previous = get_effective_config().webhook_secrets  # saved ones, or the environment's
    row = _config_for_update()
    new = _secrets.token_urlsafe(32)
    register_secret(new)
    kept = [new, *[s for s in previous if s != new]][:WEBHOOK_SECRETS_KEPT]
    row.webhook_secrets_encrypted = crypto.encrypt(json.dumps(kept))
    row.updated_by = actor
    row.save(update_fields=["webhook_secrets_encrypted", "updated_by", "updated_at"])
    logger.info("Call Karo webhook tokens rotated by %s (%d kept)", actor or "system", len(kept))
    return new


@transaction.atomic
def webhook_secrets_retire_old(*, actor: TeamMember | None) -> int:
    """Keep only the newest saved secret, once Call Karo has been switched to it. Returns how many went."""
    row = config_row()
    if row is None or not row.webhook_secrets_encrypted:
        return 0
    row = _config_for_update()
    saved = list(json.loads(crypto.decrypt(row.webhook_secrets_encrypted)))
    if len(saved) <= 1:
        return 0
    row.webhook_secrets_encrypted = crypto.encrypt(json.dumps(saved[:1]))
    row.updated_by = actor
    row.save(update_fields=["webhook_secrets_encrypted", "updated_by", "updated_at"])
    return len(saved) - 1


def agent_create(
    *, agent_id: str, name: str, description: str = "", language: str = CallKaroAgent.Language.ENGLISH
) -> CallKaroAgent:
    agent = CallKaroAgent(agent_id=agent_id.strip(), name=name.strip(), description=description, language=language)
    agent.full_clean()
    agent.save()
    return agent


def agent_update(*, agent: CallKaroAgent, **fields: str) -> CallKaroAgent:
    allowed = {"agent_id", "name", "description", "language"}
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(f"Cannot set {key!r} on an agent here")
        setattr(agent, key, value.strip() if key in {"agent_id", "name"} else value)
    agent.full_clean()
    agent.save()
    return agent


def agent_set_active(*, agent: CallKaroAgent, is_active: bool) -> CallKaroAgent:
    """Disable rather than delete: past calls and campaigns keep pointing at the agent."""
    if agent.is_active != is_active:
        agent.is_active = is_active
        agent.save(update_fields=["is_active"])
    return agent


@transaction.atomic
def agent_assign(*, agent: CallKaroAgent, team_members: Iterable[TeamMember]) -> CallKaroAgent:
    """Set exactly who may use the agent (managers and admins may use every agent anyway)."""
    agent.team_members.set(list(team_members))
    return agent
