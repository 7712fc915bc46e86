"""Reads for Acefone's part of the calling settings page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from crm import crypto
from crm.models import TeamMember


def team_members_for_numbers() -> QuerySet[TeamMember]:
    """Active members, for the agent-number table."""
    return TeamMember.objects.filter(is_active=True).select_related("user").order_by("name")


def config_context() -> dict[str, Any]:
    """What ``acefone/_config.html`` shows: the token as a mask (never the value) and each rep's number."""
    return {
        "token_mask": crypto.mask(settings.ACEFONE_API_TOKEN),
        "members": team_members_for_numbers(),
    }
