"""Template context shared by every page: the signed-in member and what they may open."""

from __future__ import annotations

from django.http import HttpRequest

from .selectors import team_member_for


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_member": team_member_for(user),
        "can_configure": user.has_perm("crm.configure_calling"),
        "can_view_dashboard": user.has_perm("crm.view_dashboard"),
        "can_manage_campaigns": user.has_perm("crm.manage_campaigns"),
    }
