"""Authentication that knows about team members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .models import TeamMember


class TeamMemberBackend(ModelBackend):
    """Django's model backend, plus: a user whose team member is switched off is nobody.

    It refuses their login, and ``get_user`` (run on every request with a session) returns None,
    so a session still open becomes anonymous and the login-required middleware sends it to the
    login page. ``team_member_set_active`` also deactivates the user and deletes their sessions;
    this covers the flag flipped any other way (a bulk update, the shell). The member is loaded
    with the user, in the same query.
    """

    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        try:
            return user.team_member.is_active
        except TeamMember.DoesNotExist:
            return True  # a bare superuser made with createsuperuser

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        try:
            user = User._default_manager.select_related("team_member").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
