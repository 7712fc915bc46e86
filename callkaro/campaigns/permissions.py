"""Who may build, see and control campaigns: managers and admins any; reps their own, for their own leads.

Checked on the server by every campaign view, form and service that takes a user.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from crm.models import TeamMember
from crm.selectors import team_member_for


def is_campaign_manager(user: AbstractBaseUser) -> bool:
    """May build from every lead and control every campaign (``crm.manage_campaigns``)."""
    return user.has_perm("crm.manage_campaigns")


def require_builder(user: AbstractBaseUser) -> TeamMember | None:
    """The user's team member, if they may build campaigns at all; PermissionDenied otherwise."""
    member = team_member_for(user)
    if not is_campaign_manager(user) and member is None:
        raise PermissionDenied("Only team members can build campaigns")
    return member
