"""Writes for Acefone's settings. The rep's number is a field of ``crm.TeamMember``; Acefone owns editing it."""

from __future__ import annotations

import logging

from django.db import transaction

from crm import crypto
from crm.logging import register_secret
from crm.models import TeamMember

from .models import AcefoneConfig

logger = logging.getLogger(__name__)


def agent_number_set(*, member: TeamMember, number: str) -> TeamMember:
    """The number or extension Acefone rings first when this member starts a click-to-call."""
    member.acefone_agent_number = number.strip()
    member.save(update_fields=["acefone_agent_number"])
    return member


@transaction.atomic
def config_save(
    *, api_token: str = "", clear_api_token: bool = False, max_call_seconds: int | None, actor: TeamMember | None
) -> AcefoneConfig:
    """Save Acefone's settings. A blank ``api_token`` keeps the saved one (the page never echoes it)."""
    row = AcefoneConfig.objects.select_for_update().order_by("pk").first() or AcefoneConfig()
    api_token = api_token.strip()
    if api_token:
        register_secret(api_token)
        row.api_token_encrypted = crypto.encrypt(api_token)
        row.api_token_last4 = api_token[-4:]
    elif clear_api_token:
        row.api_token_encrypted = ""
        row.api_token_last4 = ""
    row.max_call_seconds = max_call_seconds
    row.updated_by = actor
    row.save()
    logger.info(
        "Acefone configuration saved by %s (token %s, maximum call length %s)",
        actor or "system",
        "changed" if api_token else "cleared" if clear_api_token else "unchanged",
        max_call_seconds or "none",
    )
    return row
