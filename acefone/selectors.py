"""Reads for Acefone's part of the calling settings page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm import crypto
from crm.models import TeamMember

from .config import get_effective_config
from .forms import AcefoneSettingsForm


def team_members_for_numbers() -> QuerySet[TeamMember]:
    """Active members, for the agent-number table."""
    return TeamMember.objects.filter(is_active=True).select_related("user").order_by("name")


def config_context() -> dict[str, Any]:
    """What ``acefone/_config.html`` shows: the token as a mask (never the value), the maximum call
    length, and each rep's number."""
    config = get_effective_config()
    return {
        "token_mask": crypto.mask(config.api_token) if config.api_token else "",
        "token_source": config.token_source,
        "max_call_seconds": config.max_call_seconds,
        "settings_form": AcefoneSettingsForm(initial={"max_call_seconds": config.max_call_seconds}),
        "members": team_members_for_numbers(),
    }
